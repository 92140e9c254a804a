//! Images by name, against real components started here: Debian's
//! `docker-registry` (the distribution project's registry) on a free port
//! with its own storage, loaded with the fixtures by `skopeo copy`; Basic auth
//! over TLS with a test CA; Bearer tokens from a small issuer in this file;
//! a `docker-credential-*` helper on PATH; `podman system service` as the
//! local engine; and a fake registry that misbehaves on purpose (dropped
//! connections, wrong digests, 401s, unknown media types, a 10 GiB claim).
//!
//! `scripts/install-test-deps.sh` (run by `.ci/run`) installs the tools; a
//! test whose tool is missing runs that script, and says it was skipped, and
//! why, only when the tool still is not there.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_archscan");

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

// ---------------------------------------------------------------- helpers

fn have(cmd: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {cmd}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Runs the install script once per test process when a tool is missing.
pub(crate) fn tools(cmds: &[&str]) -> Result<(), String> {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    if cmds.iter().all(|c| have(c)) {
        return Ok(());
    }
    INSTALLED.get_or_init(|| {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/install-test-deps.sh");
        let _ = Command::new("bash").arg(script).status();
    });
    match cmds.iter().find(|c| !have(c)) {
        None => Ok(()),
        Some(c) => Err(format!(
            "`{c}` is not installed and scripts/install-test-deps.sh could not install it"
        )),
    }
}

macro_rules! require {
    ($($cmd:expr),+) => {
        if let Err(why) = tools(&[$($cmd),+]) {
            eprintln!("skipped: {why}");
            return;
        }
    };
}

/// A directory removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let p = std::env::temp_dir().join(format!(
            "archscan-remote-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A service process, killed when dropped; a watchdog shell also kills it
/// if this test process dies first.
struct Service(Child);

impl Service {
    fn spawn(program: &str, args: &[&str], log: &Path) -> Service {
        let mut script = String::from("\"$@\" & pid=$!; ");
        script.push_str(&format!(
            "while kill -0 {} 2>/dev/null && kill -0 $pid 2>/dev/null; do sleep 1; done; kill $pid 2>/dev/null; wait $pid",
            std::process::id()
        ));
        let log = std::fs::File::create(log).unwrap();
        let child = Command::new("sh")
            .args(["-c", &script, "sh", program])
            .args(args)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        Service(child)
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        // Killing the shell ends its loop; the child is killed by pid below.
        let _ = Command::new("pkill")
            .args(["-P", &self.0.id().to_string()])
            .status();
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port(ip: &str) -> u16 {
    TcpListener::bind((ip, 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_for_port(addr: &str, log: &Path) {
    let start = Instant::now();
    while TcpStream::connect(addr).is_err() {
        if start.elapsed() > Duration::from_secs(20) {
            panic!(
                "nothing listens on {addr}:\n{}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub(crate) struct Run {
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Run {
    /// The report of the (one) input: JSON schema 2's `inputs[0]`.
    fn json(&self) -> Value {
        let doc: Value = serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}\n{}", self.stdout, self.stderr));
        doc["inputs"][0].clone()
    }
}

/// Runs archscan with a clean environment for the network: no proxies, an
/// empty Docker config, no engine (unless `env` gives them).
pub(crate) fn archscan(args: &[&str], env: &[(&str, String)]) -> Run {
    let home = TempDir::new("home");
    let cwd = TempDir::new("cwd");
    let tmp = TempDir::new("tmp");
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .current_dir(cwd.path())
        .env("TMPDIR", tmp.path())
        .env("HOME", home.path())
        .env("DOCKER_CONFIG", home.path().join(".docker"))
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .env("CONTAINER_HOST", "unix:///nonexistent/podman.sock")
        .env_remove("XDG_RUNTIME_DIR")
        .env_remove("DOCKER_CONTEXT");
    for v in [
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "ALL_PROXY",
        "all_proxy",
        "NO_PROXY",
        "no_proxy",
        "SSL_CERT_FILE",
    ] {
        cmd.env_remove(v);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    // Nothing is written: not in the working directory, not in TMPDIR, not
    // in HOME.
    for d in [&cwd, &tmp, &home] {
        let left: Vec<_> = std::fs::read_dir(d.path()).unwrap().collect();
        assert!(left.is_empty(), "archscan {args:?} wrote {left:?}");
    }
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// What must be equal between two reports of the same image: everything
/// but names and digests (a registry push may recompress layers, which
/// changes their digests and the manifest's) and the dynamic-section details
/// (see [`scrub`]).
fn comparable(report: &Value) -> Value {
    let mut images = Vec::new();
    for img in report["images"].as_array().cloned().unwrap_or_default() {
        let mut img = img;
        if let Some(o) = img.as_object_mut() {
            for k in ["name", "refs", "manifest_digest", "config_digest"] {
                o.remove(k);
            }
        }
        images.push(scrub(img));
    }
    serde_json::json!({
        "images": images,
        "serves": report["serves"],
        "errors": report["errors"],
    })
}

/// Replaces hex runs of 12 or more characters (digests, short digests,
/// member names) with `H`.
fn scrub(v: Value) -> Value {
    match v {
        Value::String(s) => {
            let mut out = String::new();
            let mut run = String::new();
            for c in s.chars() {
                if c.is_ascii_hexdigit() && !c.is_ascii_uppercase() {
                    run.push(c);
                } else {
                    out.push_str(if run.len() >= 12 { "H" } else { &run });
                    run.clear();
                    out.push(c);
                }
            }
            out.push_str(if run.len() >= 12 { "H" } else { &run });
            Value::String(out)
        }
        Value::Array(a) => Value::Array(a.into_iter().map(scrub).collect()),
        Value::Object(o) => Value::Object(
            o.into_iter()
                // The layer digest changes when a push recompresses. A file's
                // soname and needed libraries come from its dynamic section,
                // which the streamed identification of a compressed layer
                // may not keep (a `.tar.gz` of the same archive loses them
                // the same way): they are not part of the verdict.
                .filter(|(k, _)| k != "layer_digest" && k != "soname" && k != "needed")
                .map(|(k, v)| (k, scrub(v)))
                .collect(),
        ),
        other => other,
    }
}

// ---------------------------------------------------------------- registry

pub(crate) struct Registry {
    _service: Service,
    pub(crate) host: String,
    dir: TempDir,
}

impl Registry {
    /// A registry on `ip` with `extra` YAML (tls, auth) and its storage in
    /// `storage` (a fresh directory when `None`).
    pub(crate) fn start(ip: &str, extra: &str, storage: Option<&Path>) -> Registry {
        let dir = TempDir::new("registry");
        let port = free_port(ip);
        let host = format!("{ip}:{port}");
        let data = storage
            .map(Path::to_path_buf)
            .unwrap_or_else(|| dir.path().join("data"));
        let config = format!(
            "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: {host}\n{extra}",
            data.display()
        );
        let cfg = dir.path().join("config.yml");
        std::fs::write(&cfg, config).unwrap();
        let log = dir.path().join("registry.log");
        let service = Service::spawn("docker-registry", &["serve", cfg.to_str().unwrap()], &log);
        wait_for_port(&host, &log);
        Registry {
            _service: service,
            host,
            dir,
        }
    }

    fn storage(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// `skopeo copy` of an archive into this (open) registry.
    pub(crate) fn push(&self, source: &str, repo: &str, extra: &[&str]) {
        let dest = format!("docker://{}/{repo}", self.host);
        let out = Command::new("skopeo")
            .args(["copy", "--quiet", "--dest-tls-verify=false"])
            .args(extra)
            .args([source, &dest])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "skopeo copy {source} {dest}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Fixtures pushed for the registry-vs-archive comparison: (file, transport,
/// repository, copy every platform).
const PUSHED: &[(&str, &str, &str, bool)] = &[
    ("amd64-ok.tar", "docker-archive", "fx/amd64-ok:1", false),
    (
        "arm64-correct.tar",
        "docker-archive",
        "fx/arm64-correct:1",
        false,
    ),
    (
        "go-arm64-in-amd64.tar",
        "docker-archive",
        "fx/go-arm64:1",
        false,
    ),
    ("i386-in-amd64.tar", "docker-archive", "fx/i386:1", false),
    (
        "multi-platform-8.oci-archive.tar",
        "oci-archive",
        "fx/multi:1",
        true,
    ),
    (
        "same-binary-across-platforms.oci-archive.tar",
        "oci-archive",
        "fx/same:1",
        true,
    ),
    (
        "s390x-zstd.oci-archive.tar",
        "oci-archive",
        "fx/s390x:1",
        true,
    ),
    (
        "whiteouts.oci-archive.tar",
        "oci-archive",
        "fx/whiteouts:1",
        true,
    ),
    (
        "variant-mismatch.oci-archive.tar",
        "oci-archive",
        "fx/variant:1",
        true,
    ),
    (
        "platform-disagreement.oci-archive.tar",
        "oci-archive",
        "fx/disagree:1",
        true,
    ),
];

fn assert_same_report(archive: &Path, reference: &str, args: &[&str], env: &[(&str, String)]) {
    let a = archive.to_str().unwrap();
    let mut file_args = vec![a, "--format", "json"];
    file_args.extend_from_slice(args);
    let from_file = archscan(&file_args, &[]);
    let mut reg_args = vec![reference, "--format", "json"];
    reg_args.extend_from_slice(args);
    let from_registry = archscan(&reg_args, env);
    assert_eq!(
        from_file.code, from_registry.code,
        "{reference}: exit codes differ\n{}\n{}",
        from_file.stderr, from_registry.stderr
    );
    let (f, r) = (from_file.json(), from_registry.json());
    assert_eq!(
        comparable(&f),
        comparable(&r),
        "{reference} reports differently from {a}"
    );
    assert!(
        !r["images"].as_array().unwrap().is_empty(),
        "{reference}: no image"
    );
}

#[test]
fn registry_reports_equal_archive_reports() {
    require!("docker-registry", "skopeo");
    let reg = Registry::start("127.0.0.1", "", None);
    for (file, transport, repo, all) in PUSHED {
        let src = format!("{transport}:{}", fixture(file).display());
        let extra: &[&str] = if *all { &["--all"] } else { &[] };
        reg.push(&src, repo, extra);
    }
    for (file, _, repo, _) in PUSHED {
        let reference = format!("registry:{}/{repo}", reg.host);
        assert_same_report(&fixture(file), &reference, &[], &[]);
        // --platform keeps its meaning: every image judged, one selected.
        assert_same_report(
            &fixture(file),
            &reference,
            &["--platform", "linux/arm64"],
            &[],
        );
    }
    // A bare reference with no engine reaches the registry too, and the
    // report says where the image came from.
    let bare = format!("{}/fx/multi:1", reg.host);
    let run = archscan(&[&bare, "--format", "json"], &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let origin = &run.json()["source"]["origin"];
    assert_eq!(origin["kind"], "registry");
    assert_eq!(origin["reference"], bare.as_str());
    assert_eq!(origin["endpoint"], format!("http://{}", reg.host).as_str());
    assert!(origin["digest"].as_str().unwrap().starts_with("sha256:"));
    // The text says where from, not the layout the blobs are read as.
    let text = archscan(&[&bare], &[]);
    let head: Vec<&str> = text.stdout.lines().take(2).collect();
    assert_eq!(
        head[0],
        format!("{bare}  (registry http://{})", reg.host),
        "{}",
        text.stdout
    );
    assert_eq!(
        head[1],
        format!(
            "image: {bare}, digest {}",
            origin["digest"].as_str().unwrap()
        ),
        "{}",
        text.stdout
    );
    // The same by digest.
    let by_digest = format!(
        "registry:{}/fx/multi@{}",
        reg.host,
        origin["digest"].as_str().unwrap()
    );
    assert_same_report(
        &fixture("multi-platform-8.oci-archive.tar"),
        &by_digest,
        &[],
        &[],
    );
    // A broken credential helper does not matter to an anonymous registry.
    let dir = TempDir::new("cfg");
    let cfg = docker_config(dir.path(), r#"{"credsStore": "archscan-no-such-helper"}"#);
    let run = archscan(&[&bare, "-q"], &[("DOCKER_CONFIG", cfg)]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    // --offline refuses, and so does --source engine without an engine.
    let run = archscan(&[&bare, "--offline"], &[]);
    assert_eq!(run.code, 2);
    assert!(run.stdout.contains("--offline"), "{}", run.stdout);
    let run = archscan(&[&format!("registry:{bare}"), "--offline"], &[]);
    assert_eq!(run.code, 2);
    let run = archscan(&[&bare, "--source", "engine"], &[]);
    assert_eq!(run.code, 2);
    assert!(run.stdout.contains("docker save"), "{}", run.stdout);
}

#[test]
fn gzip_and_zstd_layers_from_the_registry() {
    require!("docker-registry", "skopeo");
    // Two registries: skopeo would reuse one's blobs for the other.
    let gz = Registry::start("127.0.0.1", "", None);
    let reg = Registry::start("127.0.0.1", "", None);
    let src = format!("docker-archive:{}", fixture("amd64-ok.tar").display());
    gz.push(&src, "fx/gzip:1", &["--dest-compress-format", "gzip"]);
    reg.push(
        &src,
        "fx/zstd:1",
        // Docker's schema 2 has no zstd layer type: an OCI manifest.
        &[
            "--format",
            "oci",
            "--dest-compress-format",
            "zstd",
            "--dest-compress",
        ],
    );
    for reference in [
        format!("registry:{}/fx/gzip:1", gz.host),
        format!("registry:{}/fx/zstd:1", reg.host),
    ] {
        assert_same_report(&fixture("amd64-ok.tar"), &reference, &[], &[]);
    }
    // Check the push really made zstd layers.
    let manifest = Command::new("skopeo")
        .args([
            "inspect",
            "--raw",
            "--tls-verify=false",
            &format!("docker://{}/fx/zstd:1", reg.host),
        ])
        .output()
        .unwrap();
    let m = String::from_utf8_lossy(&manifest.stdout);
    assert!(m.contains("zstd"), "{m}");
}

#[test]
fn missing_image_tag_and_repository_name_the_registry() {
    require!("docker-registry", "skopeo");
    let reg = Registry::start("127.0.0.1", "", None);
    let src = format!("docker-archive:{}", fixture("amd64-ok.tar").display());
    reg.push(&src, "fx/a:1", &[]);
    let run = archscan(&[&format!("registry:{}/fx/a:nope", reg.host)], &[]);
    assert_eq!(run.code, 2);
    let line = run
        .stdout
        .lines()
        .find(|l| l.contains("HTTP 404"))
        .unwrap_or_else(|| panic!("{}", run.stdout));
    assert!(line.contains(&format!("registry {}", reg.host)), "{line}");
    assert!(line.contains("repository fx/a"), "{line}");
    // A bare reference found nowhere names both lookups and what to try.
    let run = archscan(&[&format!("{}/fx/none:1", reg.host)], &[]);
    assert_eq!(run.code, 2);
    assert!(
        run.stdout.contains("no local engine answers"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("HTTP 404"), "{}", run.stdout);
    assert!(run.stdout.contains("docker save"), "{}", run.stdout);
}

#[test]
fn a_typo_in_an_archive_name_never_goes_online() {
    let run = archscan(&["ngnix-latest.tar"], &[]);
    assert_eq!(run.code, 2);
    assert!(
        run.stdout.contains("No such file"),
        "{}{}",
        run.stdout,
        run.stderr
    );
    let run = archscan(&["./nginx"], &[]);
    assert_eq!(run.code, 2);
    assert!(run.stdout.contains("No such file"), "{}", run.stdout);
}

// ---------------------------------------------------------------- TLS and auth

/// A non-loopback address of this machine (certificates are then verified).
fn outside_ip() -> Option<String> {
    let s = std::net::UdpSocket::bind("0.0.0.0:0").ok()?;
    s.connect("192.0.2.1:9").ok()?;
    let ip = s.local_addr().ok()?.ip();
    (!ip.is_loopback() && !ip.is_unspecified()).then(|| ip.to_string())
}

fn sh(script: &str, dir: &Path) {
    let out = Command::new("sh")
        .args(["-c", script])
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{script}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A test CA and a server certificate for `ip`, in `dir`.
fn make_certs(dir: &Path, ip: &str) {
    sh(
        &format!(
            "openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=archscan-test-ca 2>/dev/null && \
             openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN={ip} 2>/dev/null && \
             printf 'subjectAltName=IP:{ip}\\nbasicConstraints=CA:FALSE\\n' > ext.cnf && \
             openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 -extfile ext.cnf 2>/dev/null"
        ),
        dir,
    );
}

fn docker_config(dir: &Path, json: &str) -> String {
    let d = dir.join("docker-config");
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join("config.json"), json).unwrap();
    d.to_string_lossy().into_owned()
}

#[test]
fn basic_auth_over_tls_with_a_ca_file() {
    require!("docker-registry", "skopeo", "htpasswd", "openssl");
    let Some(ip) = outside_ip() else {
        eprintln!("skipped: this machine has no non-loopback address for a verified TLS registry");
        return;
    };
    let open = Registry::start("127.0.0.1", "", None);
    let src = format!("docker-archive:{}", fixture("arm64-correct.tar").display());
    open.push(&src, "fx/private:1", &[]);
    let dir = TempDir::new("tls");
    make_certs(dir.path(), &ip);
    sh(
        "htpasswd -Bbc htpasswd alice s3cret 2>/dev/null",
        dir.path(),
    );
    let d = dir.path().display();
    let extra = format!(
        "  tls:\n    certificate: {d}/server.pem\n    key: {d}/server.key\nauth:\n  htpasswd:\n    realm: test-realm\n    path: {d}/htpasswd\n"
    );
    let reg = Registry::start(&ip, &extra, Some(&open.storage()));
    let reference = format!("registry:{}/fx/private:1", reg.host);
    let ca = format!("{d}/ca.pem");

    // Not trusted without the CA.
    let run = archscan(&[&reference], &[]);
    assert_eq!(run.code, 2);
    assert!(
        run.stdout.to_lowercase().contains("certificate")
            || run.stdout.to_lowercase().contains("issuer"),
        "{}",
        run.stdout
    );
    // Trusted with it, but no credentials: 401, one clear line.
    let run = archscan(&[&reference, "--ca-file", &ca], &[]);
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(run.stdout.contains("HTTP 401"), "{}", run.stdout);
    assert!(
        run.stdout.contains(&format!("registry {}", reg.host)),
        "{}",
        run.stdout
    );
    // It says that none were found, and how to log in.
    assert!(
        run.stdout.contains(&format!(
            "unauthorized: no credentials for {host} in ",
            host = reg.host
        )) && run
            .stdout
            .contains(&format!("log in with `docker login {}`", reg.host)),
        "{}",
        run.stdout
    );
    // SSL_CERT_FILE works as a trust store too.
    let auth = base64::engine::general_purpose::STANDARD.encode("alice:s3cret");
    let cfg = docker_config(
        dir.path(),
        &format!(r#"{{"auths": {{"{}": {{"auth": "{auth}"}}}}}}"#, reg.host),
    );
    let env = [("DOCKER_CONFIG", cfg.clone())];
    assert_same_report(
        &fixture("arm64-correct.tar"),
        &reference,
        &["--ca-file", &ca],
        &env,
    );
    let env = [("DOCKER_CONFIG", cfg), ("SSL_CERT_FILE", ca.clone())];
    assert_same_report(&fixture("arm64-correct.tar"), &reference, &[], &env);
    // Wrong password: 401 again.
    let bad = base64::engine::general_purpose::STANDARD.encode("alice:wrong");
    let cfg = docker_config(
        dir.path(),
        &format!(r#"{{"auths": {{"{}": {{"auth": "{bad}"}}}}}}"#, reg.host),
    );
    let run = archscan(
        &[&reference, "--ca-file", &ca],
        &[("DOCKER_CONFIG", cfg.clone())],
    );
    assert_eq!(run.code, 2);
    assert!(run.stdout.contains("HTTP 401"), "{}", run.stdout);
    // It names the credentials that were refused: entry, user and file.
    let from = format!(
        "the credentials from auths[\"{}\"] (user alice) in {}/config.json were refused",
        reg.host, cfg
    );
    assert!(run.stdout.contains(&from), "{from}\n{}", run.stdout);
}

/// A token issuer (distribution's token spec): checks Basic credentials,
/// answers with an RS256 JWT whose x5c is the self-signed signing cert the
/// registry trusts.
struct TokenIssuer {
    url: String,
    requests: Arc<Mutex<Vec<String>>>,
}

fn b64url(b: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

fn start_token_issuer(
    dir: &Path,
    service: &str,
    user: &str,
    pass: &str,
    refresh: &str,
) -> TokenIssuer {
    let refresh = refresh.to_string();
    sh(
        "openssl req -x509 -newkey rsa:2048 -nodes -keyout token.key -out token.pem -days 2 -subj /CN=archscan-token 2>/dev/null && openssl x509 -in token.pem -outform der -out token.der",
        dir,
    );
    let der = std::fs::read(dir.join("token.der")).unwrap();
    let x5c = base64::engine::general_purpose::STANDARD.encode(der);
    let key = dir.join("token.key");
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/token", listener.local_addr().unwrap());
    let requests = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&requests);
    let want = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"))
    );
    let service = service.to_string();
    let dir = dir.to_path_buf();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let Some((target, headers)) = read_request(&mut conn) else {
                continue;
            };
            seen.lock().unwrap().push(target.clone());
            // GET with Basic credentials, or the OAuth2 refresh-token grant
            // (POST, a form) that identity tokens use.
            let form = headers.get(":body").cloned().unwrap_or_default();
            let query: HashMap<String, String> = target
                .split_once('?')
                .map(|(_, q)| q)
                .unwrap_or("")
                .split('&')
                .chain(form.split('&'))
                .filter_map(|kv| kv.split_once('='))
                .map(|(k, v)| (k.to_string(), percent_decode(v)))
                .collect();
            let refreshed = query.get("grant_type").map(String::as_str) == Some("refresh_token")
                && query.get("refresh_token") == Some(&refresh);
            if headers.get("authorization") != Some(&want) && !refreshed {
                let _ = respond(&mut conn, 401, &[], b"{\"details\":\"bad credentials\"}");
                continue;
            }
            let scope = query.get("scope").cloned().unwrap_or_default();
            let mut parts = scope.splitn(3, ':');
            let (kind, name, actions) = (
                parts.next().unwrap_or(""),
                parts.next().unwrap_or(""),
                parts.next().unwrap_or(""),
            );
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs();
            let header = serde_json::json!({"typ": "JWT", "alg": "RS256", "x5c": [x5c]});
            let claims = serde_json::json!({
                "iss": "archscan-test-issuer",
                "sub": "alice",
                "aud": service,
                "exp": now + 300,
                "nbf": now - 10,
                "iat": now,
                "jti": format!("{now}-{}", seen.lock().unwrap().len()),
                "access": [{"type": kind, "name": name, "actions": actions.split(',').collect::<Vec<_>>()}],
            });
            let signing_input = format!(
                "{}.{}",
                b64url(header.to_string().as_bytes()),
                b64url(claims.to_string().as_bytes())
            );
            let input_file = dir.join(format!("jwt-{}", seen.lock().unwrap().len()));
            std::fs::write(&input_file, &signing_input).unwrap();
            let sig = Command::new("openssl")
                .args(["dgst", "-sha256", "-sign"])
                .arg(&key)
                .arg(&input_file)
                .output()
                .unwrap();
            let token = format!("{signing_input}.{}", b64url(&sig.stdout));
            let body = if refreshed {
                serde_json::json!({"access_token": token, "expires_in": 300})
            } else {
                serde_json::json!({"token": token, "expires_in": 300})
            }
            .to_string();
            let _ = respond(
                &mut conn,
                200,
                &[("Content-Type", "application/json")],
                body.as_bytes(),
            );
        }
    });
    TokenIssuer { url, requests }
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(if b[i] == b'+' { b' ' } else { b[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn bearer_tokens_with_a_credential_helper() {
    require!("docker-registry", "skopeo", "openssl");
    let open = Registry::start("127.0.0.1", "", None);
    let src = format!(
        "oci-archive:{}",
        fixture("multi-platform-8.oci-archive.tar").display()
    );
    open.push(&src, "fx/tokened:1", &["--all"]);
    let dir = TempDir::new("token");
    let issuer = start_token_issuer(
        dir.path(),
        "archscan-test",
        "bob",
        "hunter2",
        "refresh-token-of-bob",
    );
    let d = dir.path().display();
    let extra = format!(
        "auth:\n  token:\n    realm: {}\n    service: archscan-test\n    issuer: archscan-test-issuer\n    rootcertbundle: {d}/token.pem\n",
        issuer.url
    );
    let reg = Registry::start("127.0.0.1", &extra, Some(&open.storage()));
    let reference = format!("registry:{}/fx/tokened:1", reg.host);

    // Anonymous: the issuer refuses, the error says so.
    let run = archscan(&[&reference], &[]);
    assert_eq!(run.code, 2);
    assert!(run.stdout.contains("HTTP 401"), "{}", run.stdout);
    assert!(run.stdout.contains("token service"), "{}", run.stdout);
    assert!(
        run.stdout
            .contains(&format!("no credentials for {} in ", reg.host)),
        "{}",
        run.stdout
    );

    // A docker-credential helper on PATH answers for this registry.
    let bin = dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let helper = bin.join("docker-credential-archscantest");
    std::fs::write(
        &helper,
        format!(
            "#!/bin/sh\n[ \"$1\" = get ] || exit 1\nread server\n[ \"$server\" = \"{}\" ] || {{ echo 'credentials not found in native keychain'; exit 1; }}\necho '{{\"ServerURL\":\"'$server'\",\"Username\":\"bob\",\"Secret\":\"hunter2\"}}'\n",
            reg.host
        ),
    )
    .unwrap();
    sh(&format!("chmod +x {}", helper.display()), dir.path());
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let cfg = docker_config(
        dir.path(),
        &format!(r#"{{"credHelpers": {{"{}": "archscantest"}}}}"#, reg.host),
    );
    let env = [("DOCKER_CONFIG", cfg), ("PATH", path.clone())];
    assert_same_report(
        &fixture("multi-platform-8.oci-archive.tar"),
        &reference,
        &[],
        &env,
    );
    let asked = issuer.requests.lock().unwrap().clone();
    assert!(
        asked
            .iter()
            .any(|r| r.contains("scope=repository%3Afx%2Ftokened%3Apull")),
        "{asked:?}"
    );
    // An identity token (ACR's `identitytoken`) is exchanged with the
    // refresh-token grant.
    let cfg = docker_config(
        dir.path(),
        &format!(
            r#"{{"auths": {{"{}": {{"auth": "MDAwMDAwMDAtMDAwMC0wMDAwLTAwMDAtMDAwMDAwMDAwMDAwOg==", "identitytoken": "refresh-token-of-bob"}}}}}}"#,
            reg.host
        ),
    );
    let run = archscan(&[&reference, "-q"], &[("DOCKER_CONFIG", cfg)]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    // credsStore works the same way.
    let cfg = docker_config(dir.path(), r#"{"credsStore": "archscantest"}"#);
    let env = [("DOCKER_CONFIG", cfg), ("PATH", path)];
    let run = archscan(&[&reference], &env);
    assert_eq!(run.code, 0, "{}", run.stdout);
}

// ---------------------------------------------------------------- faults

/// One HTTP request: its target and lower-case headers.
fn read_request(conn: &mut TcpStream) -> Option<(String, HashMap<String, String>)> {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(10)));
    let mut r = BufReader::new(conn.try_clone().ok()?);
    let mut line = String::new();
    r.read_line(&mut line).ok()?;
    let target = line.split_whitespace().nth(1)?.to_string();
    let mut headers = HashMap::new();
    loop {
        let mut h = String::new();
        r.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    if let Some(n) = headers
        .get("content-length")
        .and_then(|n| n.parse::<u64>().ok())
    {
        // The body (a token request's form), under a key no header has.
        let mut body = String::new();
        let _ = (&mut r).take(n.min(1 << 20)).read_to_string(&mut body);
        headers.insert(":body".into(), body);
    }
    Some((target, headers))
}

fn respond(
    conn: &mut TcpStream,
    status: u16,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    conn.write_all(head.as_bytes())?;
    conn.write_all(body)?;
    conn.flush()
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Fault {
    /// None: a well-behaved registry.
    None,
    /// The first GET of each layer sends half the blob and closes.
    DropOnce,
    /// Every GET of a layer does.
    DropAlways,
    /// A layer's bytes do not hash to its digest.
    WrongDigest,
    /// Every request: 401 with a Basic challenge.
    Unauthorized,
    /// The manifest has a media type archscan does not know.
    UnknownMediaType,
    /// The manifest claims a 10 GiB layer.
    HugeLayerClaim,
    /// The first two requests for each path answer 503, then 429.
    Busy,
    /// Layer requests are read and never answered.
    Stall,
}

/// A registry in this process serving the OCI layout `layout` as
/// repository `fx/fake`, tag `1`, with a fault.
fn fake_registry(layout: &Path, fault: Fault) -> (String, Arc<AtomicUsize>) {
    let index: Value =
        serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
    let top = index["manifests"][0]["digest"]
        .as_str()
        .unwrap()
        .to_string();
    let blob = |d: &str| {
        std::fs::read(
            layout
                .join("blobs/sha256")
                .join(d.trim_start_matches("sha256:")),
        )
        .unwrap()
    };
    let mut manifest = blob(&top);
    let parsed: Value = serde_json::from_slice(&manifest).unwrap();
    let layers: Vec<String> = parsed["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["digest"].as_str().unwrap().to_string())
        .collect();
    let mut media_type = parsed["mediaType"]
        .as_str()
        .unwrap_or("application/vnd.oci.image.manifest.v1+json")
        .to_string();
    match fault {
        Fault::UnknownMediaType => {
            let mut v = parsed.clone();
            v.as_object_mut().unwrap().remove("mediaType");
            manifest = serde_json::to_vec(&v).unwrap();
            media_type = "application/vnd.example.thing.v1+json".into();
        }
        Fault::HugeLayerClaim => {
            let mut v = parsed.clone();
            v["layers"][0]["size"] = Value::from(10u64 << 30);
            manifest = serde_json::to_vec(&v).unwrap();
        }
        _ => {}
    }
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let host = listener.local_addr().unwrap().to_string();
    let layout = layout.to_path_buf();
    let served = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&served);
    let drops: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let layout = layout.clone();
            let manifest = manifest.clone();
            let media_type = media_type.clone();
            let layers = layers.clone();
            let drops = Arc::clone(&drops);
            let count = Arc::clone(&count);
            std::thread::spawn(move || {
                let Some((target, headers)) = read_request(&mut conn) else {
                    return;
                };
                count.fetch_add(1, Ordering::Relaxed);
                if fault == Fault::Unauthorized {
                    let _ = respond(
                        &mut conn,
                        401,
                        &[("WWW-Authenticate", "Basic realm=\"fake\"")],
                        br#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}"#,
                    );
                    return;
                }
                if fault == Fault::Busy {
                    let mut m = drops.lock().unwrap();
                    let n = m.entry(target.clone()).or_insert(0);
                    *n += 1;
                    let status = match *n {
                        1 => Some(503),
                        2 => Some(429),
                        _ => None,
                    };
                    drop(m);
                    if let Some(status) = status {
                        let _ = respond(&mut conn, status, &[("Retry-After", "0")], b"{}");
                        return;
                    }
                }
                if target == "/v2/" {
                    let _ = respond(&mut conn, 200, &[], b"{}");
                    return;
                }
                let Some(rest) = target.strip_prefix("/v2/fx/fake/") else {
                    let _ = respond(&mut conn, 404, &[], b"{}");
                    return;
                };
                if rest == "manifests/1" || rest.starts_with("manifests/sha256:") {
                    let _ = respond(&mut conn, 200, &[("Content-Type", &media_type)], &manifest);
                    return;
                }
                let Some(d) = rest.strip_prefix("blobs/") else {
                    let _ = respond(&mut conn, 404, &[], b"{}");
                    return;
                };
                let Ok(mut bytes) = std::fs::read(
                    layout
                        .join("blobs/sha256")
                        .join(d.trim_start_matches("sha256:")),
                ) else {
                    let _ = respond(&mut conn, 404, &[], b"{}");
                    return;
                };
                let is_layer = layers.iter().any(|l| l == d);
                if is_layer && fault == Fault::Stall {
                    std::thread::sleep(Duration::from_secs(60));
                    return;
                }
                if is_layer && fault == Fault::WrongDigest {
                    let last = bytes.len() - 1;
                    bytes[last] ^= 0xff;
                }
                let range = headers
                    .get("range")
                    .and_then(|r| r.strip_prefix("bytes="))
                    .and_then(|r| r.trim_end_matches('-').parse::<usize>().ok());
                let dropping = is_layer
                    && match fault {
                        Fault::DropAlways => true,
                        Fault::DropOnce => {
                            let mut m = drops.lock().unwrap();
                            let n = m.entry(d.to_string()).or_insert(0);
                            *n += 1;
                            *n == 1
                        }
                        _ => false,
                    };
                if dropping {
                    let from = range.unwrap_or(0);
                    let part = &bytes[from..];
                    let head = format!(
                        "HTTP/1.1 {} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        if from > 0 { 206 } else { 200 },
                        part.len()
                    );
                    let _ = conn.write_all(head.as_bytes());
                    let _ = conn.write_all(&part[..part.len() / 2]);
                    let _ = conn.flush();
                    let _ = conn.shutdown(std::net::Shutdown::Both);
                    return;
                }
                match range {
                    Some(from) if from <= bytes.len() => {
                        let _ = respond(&mut conn, 206, &[], &bytes[from..]);
                    }
                    _ => {
                        let _ = respond(&mut conn, 200, &[], &bytes);
                    }
                }
            });
        }
    });
    (host, served)
}

#[test]
fn faults_give_clear_errors_and_write_nothing() {
    // Every run of `archscan` here also checks it wrote nothing (see
    // [`archscan`]).
    let layout = fixture("oci-layout-arm-v7");

    // A connection dropped mid-layer once is resumed with Range.
    let (host, _) = fake_registry(&layout, Fault::DropOnce);
    assert_same_report(&layout, &format!("registry:{host}/fx/fake:1"), &[], &[]);
    // A Windows image's foreign base layer is not fetched (its vendor
    // serves it): skipped with a note, as from an archive.
    let win = TempDir::new("win");
    sh(
        &format!(
            "tar -xf {}",
            fixture("windows-pe.oci-archive.tar").display()
        ),
        win.path(),
    );
    let (host, _) = fake_registry(win.path(), Fault::None);
    assert_same_report(
        &fixture("windows-pe.oci-archive.tar"),
        &format!("registry:{host}/fx/fake:1"),
        &[],
        &[],
    );
    // A busy registry (503, then 429) is asked again.
    let (host, served) = fake_registry(&layout, Fault::Busy);
    assert_same_report(&layout, &format!("registry:{host}/fx/fake:1"), &[], &[]);
    assert!(served.load(Ordering::Relaxed) >= 12);

    let cases: &[(Fault, &[&str])] = &[
        (Fault::DropAlways, &["connection dropped", "blob sha256:"]),
        (Fault::WrongDigest, &["does not match its digest"]),
        (
            Fault::Unauthorized,
            &["HTTP 401", "repository fx/fake", "authentication required"],
        ),
        (
            Fault::UnknownMediaType,
            &["application/vnd.example.thing.v1+json", "media type"],
        ),
        (Fault::HugeLayerClaim, &["10737418240"]),
        (Fault::Stall, &["timeout", "repository fx/fake"]),
    ];
    for (fault, want) in cases {
        let (host, _) = fake_registry(&layout, *fault);
        let start = Instant::now();
        let run = archscan(
            &[&format!("registry:{host}/fx/fake:1"), "--timeout", "1"],
            &[],
        );
        assert_eq!(run.code, 2, "{fault:?}: {}\n{}", run.stdout, run.stderr);
        for w in *want {
            assert!(
                run.stdout.contains(w),
                "{fault:?}: no {w:?} in\n{}",
                run.stdout
            );
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{fault:?} took {:?}",
            start.elapsed()
        );
    }
}

// ---------------------------------------------------------------- engine

#[test]
fn podman_service_as_the_local_engine() {
    require!("podman");
    let dir = TempDir::new("podman");
    let d = dir.path();
    let sock = d.join("podman.sock");
    let storage = |cmd: &mut Command| {
        cmd.args([
            "--root",
            d.join("root").to_str().unwrap(),
            "--runroot",
            d.join("runroot").to_str().unwrap(),
            "--storage-driver",
            "vfs",
            "--tmpdir",
            d.join("tmp").to_str().unwrap(),
        ]);
    };
    let fixtures = ["amd64-ok.tar", "go-arm64-in-amd64.tar"];
    for f in fixtures {
        let mut cmd = Command::new("podman");
        storage(&mut cmd);
        let out = cmd
            .args(["load", "-q", "-i", fixture(f).to_str().unwrap()])
            .output()
            .unwrap();
        if !out.status.success() {
            eprintln!(
                "skipped: podman cannot run here: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            return;
        }
    }
    let log = d.join("service.log");
    let mut args: Vec<String> = Vec::new();
    for (k, v) in [
        ("--root", d.join("root")),
        ("--runroot", d.join("runroot")),
        ("--tmpdir", d.join("tmp")),
    ] {
        args.push(k.into());
        args.push(v.to_string_lossy().into_owned());
    }
    args.extend(["--storage-driver".into(), "vfs".into()]);
    args.extend([
        "system".into(),
        "service".into(),
        "--time=0".into(),
        format!("unix://{}", sock.display()),
    ]);
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let _service = Service::spawn("podman", &argv, &log);
    let start = Instant::now();
    while !sock.exists() {
        if start.elapsed() > Duration::from_secs(30) {
            panic!(
                "podman system service did not start:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let host = format!("unix://{}", sock.display());
    let env = [("DOCKER_HOST", host.clone())];
    for (f, name) in [
        ("amd64-ok.tar", "archscan/amd64-ok"),
        ("go-arm64-in-amd64.tar", "archscan/go-arm64-in-amd64"),
    ] {
        assert_same_report(&fixture(f), &format!("docker:{name}"), &[], &env);
        // A bare reference: the engine has it, the registry is never asked.
        assert_same_report(&fixture(f), name, &["--offline"], &env);
    }
    let run = archscan(&["docker:archscan/amd64-ok", "--format", "json"], &env);
    let origin = &run.json()["source"]["origin"];
    assert_eq!(origin["kind"], "docker");
    assert_eq!(origin["endpoint"], host.as_str());
    let text = archscan(&["docker:archscan/amd64-ok"], &env);
    assert!(
        text.stdout
            .starts_with(&format!("docker:archscan/amd64-ok  (Docker engine {host})\nimage: docker.io/archscan/amd64-ok:latest, image ID sha256:")),
        "{}",
        text.stdout
    );
    assert!(
        origin["digest"]
            .as_str()
            .unwrap_or("")
            .starts_with("sha256:"),
        "{origin}"
    );
    // Without DOCKER_HOST, the current docker context names the socket (as
    // Docker Desktop's desktop-linux context does).
    let cfg = d.join("docker-config");
    let id: String = {
        use sha2::Digest as _;
        sha2::Sha256::digest(b"desktop-linux")
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    };
    let meta = cfg.join("contexts/meta").join(id);
    std::fs::create_dir_all(&meta).unwrap();
    std::fs::write(
        meta.join("meta.json"),
        format!(
            r#"{{"Name":"desktop-linux","Metadata":{{}},"Endpoints":{{"docker":{{"Host":"{host}","SkipTLSVerify":false}}}}}}"#
        ),
    )
    .unwrap();
    std::fs::write(
        cfg.join("config.json"),
        r#"{"auths":{},"currentContext":"desktop-linux"}"#,
    )
    .unwrap();
    let env = [
        ("DOCKER_HOST", String::new()),
        ("DOCKER_CONFIG", cfg.to_string_lossy().into_owned()),
    ];
    assert_same_report(
        &fixture("amd64-ok.tar"),
        "docker:archscan/amd64-ok",
        &[],
        &env,
    );
    // Podman's own socket variable works for podman:.
    let env = [("CONTAINER_HOST", host.clone())];
    assert_same_report(
        &fixture("amd64-ok.tar"),
        "podman:archscan/amd64-ok",
        &[],
        &env,
    );
    // An image the engine does not have.
    let run = archscan(&["docker:archscan/nope"], &[("DOCKER_HOST", host)]);
    assert_eq!(run.code, 2);
    assert!(run.stdout.contains("has no image"), "{}", run.stdout);
}

// ---------------------------------------------------------------- proxies

/// An HTTP proxy (CONNECT tunnels and absolute-form requests) that records
/// what it was asked to reach.
fn start_proxy() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let log = Arc::clone(&seen);
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(client) = conn else { continue };
            let log = Arc::clone(&log);
            std::thread::spawn(move || {
                let mut reader = BufReader::new(client.try_clone().unwrap());
                let mut head = Vec::new();
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let end = line == "\r\n";
                    head.push(line);
                    if end {
                        break;
                    }
                }
                let first: Vec<String> = head[0].split_whitespace().map(str::to_string).collect();
                let (method, target) = (first[0].clone(), first[1].clone());
                log.lock().unwrap().push(format!("{method} {target}"));
                let (authority, request) = if method == "CONNECT" {
                    (target.clone(), None)
                } else {
                    let rest = target.strip_prefix("http://").unwrap_or(&target);
                    let (auth, path) = rest.split_once('/').unwrap_or((rest, ""));
                    let mut req = format!("{method} /{path} {}\r\n", first[2]);
                    for h in &head[1..] {
                        req.push_str(h);
                    }
                    (auth.to_string(), Some(req))
                };
                let Ok(mut upstream) = TcpStream::connect(&authority) else {
                    return;
                };
                let mut client_w = client.try_clone().unwrap();
                match request {
                    None => {
                        let _ = client_w.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n");
                    }
                    Some(req) => {
                        let _ = upstream.write_all(req.as_bytes());
                    }
                }
                let mut up_r = upstream.try_clone().unwrap();
                let t = std::thread::spawn(move || {
                    let _ = std::io::copy(&mut up_r, &mut client_w);
                    let _ = client_w.shutdown(std::net::Shutdown::Write);
                });
                let _ = std::io::copy(&mut reader, &mut upstream);
                let _ = upstream.shutdown(std::net::Shutdown::Write);
                let _ = t.join();
            });
        }
    });
    (url, seen)
}

#[test]
fn proxies_from_the_environment_and_no_proxy() {
    let layout = fixture("oci-layout-arm-v7");
    let (host, _) = fake_registry(&layout, Fault::None);
    let (proxy, seen) = start_proxy();
    let reference = format!("registry:{host}/fx/fake:1");
    let env = [
        ("HTTPS_PROXY", proxy.clone()),
        ("HTTP_PROXY", proxy.clone()),
    ];
    assert_same_report(&layout, &reference, &[], &env);
    let asked = seen.lock().unwrap().clone();
    assert!(
        asked.iter().any(|a| a.contains(&host)),
        "the proxy saw {asked:?}"
    );
    // NO_PROXY lists the host: the proxy is not asked.
    seen.lock().unwrap().clear();
    let env = [
        ("HTTPS_PROXY", proxy.clone()),
        ("HTTP_PROXY", proxy),
        ("NO_PROXY", "example.com,127.0.0.1".to_string()),
    ];
    assert_same_report(&layout, &reference, &[], &env);
    assert!(
        seen.lock().unwrap().is_empty(),
        "{:?}",
        seen.lock().unwrap()
    );
}

// ------------------------------------------------- Docker Engine's platform

/// A Docker Engine API stand-in on a unix socket (no Docker Engine can run
/// here; Podman's compatible service above is the real engine test). It
/// answers as dockerd does for `ApiVersion` `api`: `_ping`, `version`, the
/// image inspect, and the export, which streams `archive`. With `refuse`, an
/// export that names a platform is answered 404 (as dockerd does when the
/// image lacks that platform). Every request line is recorded.
#[cfg(unix)]
fn fake_docker_engine(
    sock: &Path,
    api: &'static str,
    archive: PathBuf,
    refuse: bool,
) -> Arc<Mutex<Vec<String>>> {
    use std::os::unix::net::UnixListener;
    let listener = UnixListener::bind(sock).unwrap();
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let log = seen.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { return };
            let mut reader = BufReader::new(conn.try_clone().unwrap());
            let mut line = String::new();
            if reader.read_line(&mut line).is_err() {
                continue;
            }
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                    break;
                }
            }
            let target = line.split_whitespace().nth(1).unwrap_or("").to_string();
            log.lock().unwrap().push(target.clone());
            let (path, query) = target.split_once('?').unwrap_or((&target, ""));
            let (status, body): (&str, Vec<u8>) = if path == "/_ping" {
                ("200 OK", b"OK".to_vec())
            } else if path == "/version" {
                (
                    "200 OK",
                    format!(r#"{{"ApiVersion":"{api}"}}"#).into_bytes(),
                )
            } else if path.ends_with("/json") {
                (
                    "200 OK",
                    format!(r#"{{"Id":"sha256:{}"}}"#, "ab".repeat(32)).into_bytes(),
                )
            } else if path.ends_with("/get") && refuse && query.contains("platform=") {
                (
                    "404 Not Found",
                    br#"{"message":"no match for platform in manifest"}"#.to_vec(),
                )
            } else if path.ends_with("/get") {
                ("200 OK", std::fs::read(&archive).unwrap())
            } else {
                ("404 Not Found", br#"{"message":"page not found"}"#.to_vec())
            };
            let _ = write!(
                conn,
                "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nApi-Version: {api}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = conn.write_all(&body);
        }
    });
    seen
}

/// The export requests the engine was sent.
fn exports(seen: &Arc<Mutex<Vec<String>>>) -> Vec<String> {
    seen.lock()
        .unwrap()
        .iter()
        .filter(|t| t.contains("/get"))
        .cloned()
        .collect()
}

/// `--platform` is passed to the export as Docker's API 1.48 (Docker 28,
/// `docker save --platform`) defines it: a JSON-encoded OCI platform in the
/// `platform` query parameter; an older engine is not sent it; an engine that
/// has no such platform gets a plain export, judged as an archive is.
#[cfg(unix)]
#[test]
fn docker_engine_export_takes_the_platform_from_api_1_48() {
    let archive = fixture("containerd-multiplatform.tar");
    for (api, refuse) in [("1.48", false), ("1.47", false), ("1.51", true)] {
        let dir = TempDir::new("engine");
        let sock = dir.path().join("docker.sock");
        let seen = fake_docker_engine(&sock, api, archive.clone(), refuse);
        let env = [("DOCKER_HOST", format!("unix://{}", sock.display()))];
        let args = ["--platform", "linux/arm64"];
        assert_same_report(&archive, "docker:example/app:1.0", &args, &env);
        let sent = exports(&seen);
        let with_platform: Vec<Value> = sent
            .iter()
            .filter_map(|t| t.split_once("?platform="))
            .map(|(_, q)| serde_json::from_str(&percent_decode(q)).unwrap())
            .collect();
        let expected = serde_json::json!({"os": "linux", "architecture": "arm64"});
        match (api, refuse) {
            ("1.47", _) => {
                assert!(with_platform.is_empty(), "API {api}: {sent:?}");
                assert_eq!(sent, ["/images/example/app:1.0/get"], "API {api}");
            }
            (_, false) => assert_eq!(with_platform, [expected], "API {api}: {sent:?}"),
            (_, true) => {
                assert_eq!(with_platform, [expected], "API {api}: {sent:?}");
                assert_eq!(
                    sent.last().map(String::as_str),
                    Some("/images/example/app:1.0/get"),
                    "API {api}: a refused platform falls back to the whole image"
                );
            }
        }
    }
}
