//! The local engine: the Docker Engine API over its unix socket, and
//! Podman's compatible service. The image is exported with
//! `GET /images/{name}/get` and its tar stream goes through the stream
//! reader as it arrives (no temporary file).
//!
//! Sockets, in order: `DOCKER_HOST` (unix://), the current `docker context`
//! (`DOCKER_CONTEXT` or the config's `currentContext`, e.g. Docker Desktop's
//! `desktop-linux`), `/var/run/docker.sock`; for Podman `CONTAINER_HOST`,
//! `$XDG_RUNTIME_DIR/podman/podman.sock`, `/run/podman/podman.sock`.
//!
//! HTTP/1.1 is written by hand here: three GET requests with
//! `Connection: close` over a local socket, which is less code than a
//! transport for an HTTP crate.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;
use sha2::Digest as _;

use super::error::{EngineAt, EngineError, EngineStep};
use super::reference::Reference;
use super::{EngineKind, Origin};
use crate::limits::Limits;
use crate::platform::Platform;
use crate::source::Source;

/// The first Engine API version whose image export takes `platform`.
const EXPORT_PLATFORM_API: (u32, u32) = (1, 48);

/// One socket that may hold an engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub kind: EngineKind,
    pub socket: PathBuf,
    /// Where the socket was found (`DOCKER_HOST`, `docker context X`, …).
    pub why: String,
}

fn unix_path(host: &str, var: &str) -> Result<PathBuf, EngineError> {
    match host.strip_prefix("unix://") {
        Some(p) if !p.is_empty() => Ok(PathBuf::from(p)),
        _ => Err(EngineError::NotUnix {
            var: var.to_string(),
            host: host.to_string(),
        }),
    }
}

/// The sockets of the engines asked about, in order.
pub fn candidates(kinds: &[EngineKind]) -> Result<Vec<Candidate>, EngineError> {
    let mut out = Vec::new();
    let env = |n: &str| std::env::var(n).ok().filter(|v| !v.is_empty());
    for kind in kinds {
        match kind {
            EngineKind::Docker => {
                if let Some(h) = env("DOCKER_HOST") {
                    out.push(Candidate {
                        kind: *kind,
                        socket: unix_path(&h, "DOCKER_HOST")?,
                        why: "DOCKER_HOST".into(),
                    });
                    continue;
                }
                if let Some((name, host)) = current_context()? {
                    out.push(Candidate {
                        kind: *kind,
                        socket: unix_path(&host, &format!("docker context {name}"))?,
                        why: format!("docker context {name}"),
                    });
                    continue;
                }
                out.push(Candidate {
                    kind: *kind,
                    socket: PathBuf::from("/var/run/docker.sock"),
                    why: "default".into(),
                });
            }
            EngineKind::Podman => {
                if let Some(h) = env("CONTAINER_HOST") {
                    out.push(Candidate {
                        kind: *kind,
                        socket: unix_path(&h, "CONTAINER_HOST")?,
                        why: "CONTAINER_HOST".into(),
                    });
                    continue;
                }
                if let Some(x) = env("XDG_RUNTIME_DIR") {
                    out.push(Candidate {
                        kind: *kind,
                        socket: PathBuf::from(x).join("podman/podman.sock"),
                        why: "XDG_RUNTIME_DIR".into(),
                    });
                }
                out.push(Candidate {
                    kind: *kind,
                    socket: PathBuf::from("/run/podman/podman.sock"),
                    why: "default".into(),
                });
            }
        }
    }
    Ok(out)
}

/// The current docker context other than `default`, and its Docker host.
fn current_context() -> Result<Option<(String, String)>, EngineError> {
    let name = match std::env::var("DOCKER_CONTEXT")
        .ok()
        .filter(|v| !v.is_empty())
    {
        Some(n) => n,
        None => match super::auth::docker_config()
            .and_then(|c| c.get("currentContext")?.as_str().map(str::to_string))
        {
            Some(n) => n,
            None => return Ok(None),
        },
    };
    if name == "default" {
        return Ok(None);
    }
    let dir = match std::env::var_os("DOCKER_CONFIG").filter(|d| !d.is_empty()) {
        Some(d) => PathBuf::from(d),
        None => match std::env::var_os("HOME") {
            Some(h) => PathBuf::from(h).join(".docker"),
            None => return Ok(None),
        },
    };
    let id = hex(&sha2::Sha256::digest(name.as_bytes()));
    let meta = dir.join("contexts/meta").join(id).join("meta.json");
    let bytes = match std::fs::read(&meta) {
        Ok(b) => b,
        Err(source) => {
            return Err(EngineError::ContextRead {
                name,
                path: meta,
                source,
            })
        }
    };
    let v: Value = match serde_json::from_slice(&bytes) {
        Ok(v) => v,
        Err(source) => {
            return Err(EngineError::ContextJson {
                name,
                path: meta,
                source,
            })
        }
    };
    let Some(host) = v.pointer("/Endpoints/docker/Host").and_then(Value::as_str) else {
        return Err(EngineError::ContextNoHost { name, path: meta });
    };
    Ok(Some((name, host.to_string())))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A response: status, headers (lower-case names) and the body.
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Box<dyn Read + Send>,
}

impl Response {
    fn text(mut self, limit: u64) -> String {
        let mut s = Vec::new();
        let _ = (&mut self.body).take(limit).read_to_end(&mut s);
        String::from_utf8_lossy(&s).into_owned()
    }
}

/// One GET over a unix socket.
#[cfg(unix)]
pub fn get(socket: &std::path::Path, path: &str, timeout: Duration) -> io::Result<Response> {
    let mut stream = std::os::unix::net::UnixStream::connect(socket)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nUser-Agent: archscan/{}\r\nAccept: */*\r\nConnection: close\r\n\r\n",
        env!("CARGO_PKG_VERSION")
    )?;
    stream.flush()?;
    let mut reader = BufReader::with_capacity(64 * 1024, stream);
    let status_line = read_line(&mut reader)?;
    let mut parts = status_line.split_whitespace();
    let version = parts.next().unwrap_or("");
    let status: u16 = parts
        .next()
        .and_then(|s| s.parse().ok())
        .filter(|_| version.starts_with("HTTP/1."))
        .ok_or_else(|| bad(format!("not an HTTP response: {status_line:?}")))?;
    let mut headers = Vec::new();
    loop {
        let line = read_line(&mut reader)?;
        if line.is_empty() {
            break;
        }
        if headers.len() > 200 {
            return Err(bad("too many response headers".into()));
        }
        if let Some((k, v)) = line.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    let find = |n: &str| {
        headers
            .iter()
            .find(|(k, _)| k == n)
            .map(|(_, v): &(String, String)| v.clone())
    };
    let chunked =
        find("transfer-encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    let body: Box<dyn Read + Send> = if chunked {
        Box::new(Chunked {
            inner: reader,
            left: 0,
            done: false,
        })
    } else if let Some(n) = find("content-length").and_then(|v| v.parse::<u64>().ok()) {
        Box::new(Exact {
            inner: reader.take(n),
            left: n,
        })
    } else {
        Box::new(reader)
    };
    Ok(Response {
        status,
        headers,
        body,
    })
}

#[cfg(not(unix))]
pub fn get(_socket: &std::path::Path, _path: &str, _timeout: Duration) -> io::Result<Response> {
    Err(io::Error::other(
        "local engines are reached over unix sockets",
    ))
}

fn bad(what: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what)
}

/// A header line, without its CRLF, at most 16 KiB.
fn read_line(r: &mut impl BufRead) -> io::Result<String> {
    let mut buf = Vec::new();
    r.take(16 * 1024).read_until(b'\n', &mut buf)?;
    if !buf.ends_with(b"\n") {
        return Err(bad("the engine closed the connection mid-header".into()));
    }
    while buf.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
        buf.pop();
    }
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

/// A `Content-Length` body that must arrive whole.
struct Exact<R> {
    inner: io::Take<R>,
    left: u64,
}

impl<R: Read> Read for Exact<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 && self.left > 0 && !buf.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("the engine closed the connection {} bytes early", self.left),
            ));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

/// `Transfer-Encoding: chunked`.
struct Chunked<R> {
    inner: R,
    left: u64,
    done: bool,
}

impl<R: BufRead> Read for Chunked<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.done || buf.is_empty() {
            return Ok(0);
        }
        if self.left == 0 {
            let line = read_line(&mut self.inner)?;
            let size = line.split(';').next().unwrap_or("").trim();
            let size = u64::from_str_radix(size, 16)
                .map_err(|_| bad(format!("bad chunk size {line:?}")))?;
            if size == 0 {
                // Trailers, then the end.
                while !read_line(&mut self.inner)?.is_empty() {}
                self.done = true;
                return Ok(0);
            }
            self.left = size;
        }
        let want = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the engine closed the connection mid-chunk",
            ));
        }
        self.left -= n as u64;
        if self.left == 0 {
            let end = read_line(&mut self.inner)?;
            if !end.is_empty() {
                return Err(bad("a chunk does not end with CRLF".into()));
            }
        }
        Ok(n)
    }
}

/// `/images/{name}` with the name's reserved characters escaped (its `/`
/// and `:` stay, as the Docker CLI sends them).
fn image_path(name: &str) -> String {
    let mut out = String::from("/images/");
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'/' | b':' | b'@' | b'.' | b'_' | b'-') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn api_version(v: &str) -> Option<(u32, u32)> {
    let (a, b) = v.split_once('.')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

/// What the engines said.
pub enum Lookup {
    Found(Box<Source>, Origin),
    /// No engine answered, or none has the image.
    Absent(Absence),
}

/// Why no engine gave the image, when none failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Absence {
    /// No engine answers on the sockets tried.
    NoEngine(Vec<PathBuf>),
    /// The engines that answer do not have the image.
    NoImage {
        engines: Vec<EngineAt>,
        image: String,
    },
}

impl std::fmt::Display for Absence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Absence::NoEngine(sockets) => {
                let tried: Vec<String> = sockets.iter().map(|s| s.display().to_string()).collect();
                write!(f, "no local engine answers (tried {})", tried.join(", "))
            }
            Absence::NoImage { engines, image } => {
                for (i, e) in engines.iter().enumerate() {
                    let sep = if i == 0 { "" } else { "; " };
                    write!(f, "{sep}the {e} has no image {image}")?;
                }
                Ok(())
            }
        }
    }
}

/// How long a short request (ping, version, inspect) may take.
const SHORT: Duration = Duration::from_secs(10);
/// The export may take a while to start for a big image.
const LONG: Duration = Duration::from_secs(600);

/// Looks the image up in each engine that answers; exports it from the first
/// that has it.
pub fn open(
    kinds: &[EngineKind],
    text: &str,
    reference: &Reference,
    target: Option<&Platform>,
    limits: &Limits,
    meter: &crate::meter::Meter,
    progress: &crate::progress::Reporter,
) -> Result<Lookup, EngineError> {
    let mut lacking = Vec::new();
    let mut silent = Vec::new();
    for c in candidates(kinds)? {
        let engine = EngineAt {
            kind: c.kind,
            socket: c.socket,
        };
        if !answers(&engine.socket) {
            silent.push(engine.socket);
            continue;
        }
        let api = api_version_of(&engine.socket);
        let Inspected::Present { id } = inspect(&engine, text)? else {
            lacking.push(engine);
            continue;
        };
        let export = export(&engine, text, target, api)?;
        let display = format!("{}:{text}", engine.kind.as_str());
        let source = match Source::from_stream(&display, export.body, limits, meter, progress) {
            Ok(s) => s,
            Err(e) => {
                return Err(EngineError::Export {
                    engine,
                    source: Box::new(e),
                })
            }
        };
        let origin = Origin {
            kind: engine.kind.as_str().to_string(),
            reference: reference.to_string(),
            digest: id,
            endpoint: format!("unix://{}", engine.socket.display()),
        };
        return Ok(Lookup::Found(Box::new(source), origin));
    }
    if lacking.is_empty() {
        return Ok(Lookup::Absent(Absence::NoEngine(silent)));
    }
    Ok(Lookup::Absent(Absence::NoImage {
        engines: lacking,
        image: text.to_string(),
    }))
}

/// Does an engine answer `GET /_ping` on this socket? A missing or stale
/// socket file, or anything but 200, is no engine.
fn answers(socket: &std::path::Path) -> bool {
    socket.exists() && get(socket, "/_ping", SHORT).is_ok_and(|r| r.status == 200)
}

/// The engine's API version (`GET /version`), when it says.
fn api_version_of(socket: &std::path::Path) -> Option<(u32, u32)> {
    get(socket, "/version", SHORT)
        .ok()
        .filter(|r| r.status == 200)
        .and_then(|r| serde_json::from_str::<Value>(&r.text(1 << 20)).ok())
        .and_then(|v| v.get("ApiVersion")?.as_str().and_then(api_version))
}

/// What `GET /images/{name}/json` said.
enum Inspected {
    Absent,
    /// The engine has the image; its ID when the answer holds one.
    Present {
        id: Option<String>,
    },
}

/// Asks an engine whether it has the image (404 is no).
fn inspect(engine: &EngineAt, text: &str) -> Result<Inspected, EngineError> {
    let step = || EngineStep::Inspect(text.to_string());
    let resp =
        get(&engine.socket, &format!("{}/json", image_path(text)), SHORT).map_err(|source| {
            EngineError::Request {
                engine: engine.clone(),
                step: step(),
                source,
            }
        })?;
    match resp.status {
        200 => {
            let id = serde_json::from_str::<Value>(&resp.text(16 << 20))
                .ok()
                .and_then(|v| v.get("Id")?.as_str().map(str::to_string));
            Ok(Inspected::Present { id })
        }
        404 => Ok(Inspected::Absent),
        _ => Err(status_error(engine, step(), resp)),
    }
}

/// `/images/{name}/get`, with `?platform=` when there is a target and the
/// engine's API takes it.
fn export_path(text: &str, target: Option<&Platform>, api: Option<(u32, u32)>) -> String {
    let mut path = format!("{}/get", image_path(text));
    if let (Some(t), Some(v)) = (target, api) {
        if v >= EXPORT_PLATFORM_API {
            let mut p = serde_json::Map::new();
            p.insert("os".into(), Value::String(t.os.to_string()));
            p.insert("architecture".into(), Value::String(t.arch.to_string()));
            if let Some(var) = &t.variant {
                p.insert("variant".into(), Value::String(var.to_string()));
            }
            let json = Value::Object(p).to_string();
            path.push_str(&format!("?platform={}", super::auth::urlencode(&json)));
        }
    }
    path
}

/// Starts the export: of the target's platform when the engine takes one,
/// else (or when it refuses the filter) of the whole image.
fn export(
    engine: &EngineAt,
    text: &str,
    target: Option<&Platform>,
    api: Option<(u32, u32)>,
) -> Result<Response, EngineError> {
    let step = || EngineStep::Export(text.to_string());
    let request = |path: &str| {
        get(&engine.socket, path, LONG).map_err(|source| EngineError::Request {
            engine: engine.clone(),
            step: step(),
            source,
        })
    };
    let plain = export_path(text, None, None);
    let path = export_path(text, target, api);
    let mut resp = request(&path)?;
    if resp.status != 200 && path != plain {
        // The image has no such platform (or the daemon refuses the
        // filter): export all of it, and every platform is judged
        // against the target, as for an archive.
        resp = request(&plain)?;
    }
    if resp.status != 200 {
        return Err(status_error(engine, step(), resp));
    }
    Ok(resp)
}

/// An engine's error status, with its message.
fn status_error(engine: &EngineAt, step: EngineStep, resp: Response) -> EngineError {
    let status = resp.status;
    let body = resp.text(64 * 1024);
    EngineError::Status {
        engine: engine.clone(),
        step,
        status,
        message: engine_message(&body),
    }
}

/// The `message` of an engine's JSON error, else the body.
fn engine_message(body: &str) -> String {
    serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v.get("message")?.as_str().map(str::to_string))
        .unwrap_or_else(|| body.trim().chars().take(300).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunked_bodies() {
        let raw = b"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nTrailer: x\r\n\r\n";
        let mut c = Chunked {
            inner: &raw[..],
            left: 0,
            done: false,
        };
        let mut out = String::new();
        c.read_to_string(&mut out).unwrap();
        assert_eq!(out, "hello world");
        let cut = b"5\r\nhel";
        let mut c = Chunked {
            inner: &cut[..],
            left: 0,
            done: false,
        };
        assert!(c.read_to_string(&mut String::new()).is_err());
    }

    #[test]
    fn image_paths_and_versions() {
        assert_eq!(
            image_path("docker.io/library/nginx:1.27"),
            "/images/docker.io/library/nginx:1.27"
        );
        assert_eq!(image_path("a b"), "/images/a%20b");
        assert_eq!(api_version("1.41"), Some((1, 41)));
        assert!(api_version("1.48").unwrap() >= EXPORT_PLATFORM_API);
        assert_eq!(api_version("x"), None);
    }

    #[test]
    fn docker_host_must_be_a_unix_socket() {
        assert_eq!(
            unix_path("unix:///run/x.sock", "DOCKER_HOST").unwrap(),
            PathBuf::from("/run/x.sock")
        );
        assert!(matches!(
            unix_path("tcp://1.2.3.4:2375", "DOCKER_HOST"),
            Err(EngineError::NotUnix { .. })
        ));
    }
}
