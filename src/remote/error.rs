//! Why an image by name could not be read: [`RegistryError`] for a registry
//! (its HTTP status and message, credentials, TLS and connections, digests,
//! caps), [`EngineError`] for a local engine (its socket, its HTTP status and
//! message, the export stream). Each names the registry and repository, or
//! the engine and its socket, and keeps the typed cause as its `source`; a
//! cap reached is a [`Exceeded`] (`exceeded()` says which). References and
//! credentials have their own: [`super::reference::ReferenceError`],
//! [`super::auth::AuthError`].

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use super::auth::AuthError;
use super::EngineKind;
use crate::digest::Digest;
use crate::limits::Exceeded;
use crate::source::SourceError;

/// The registry, and the repository when the request was about one:
/// `registry r.example, repository o/app`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub registry: String,
    pub repository: Option<String>,
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "registry {}", self.registry)?;
        if let Some(r) = &self.repository {
            write!(f, ", repository {r}")?;
        }
        Ok(())
    }
}

/// Why a registry did not give what was asked.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// It answered with an error status (after authentication and retries).
    #[error("{place}: {what}: HTTP {status}{}", status_detail(*.status, .message.as_deref(), .sent.as_deref(), &place.registry))]
    Status {
        place: Place,
        /// What was asked: `manifest latest`, `blob sha256:…`, `GET /v2/`.
        what: String,
        status: u16,
        /// The first `errors[].message` of the registry's JSON body.
        message: Option<String>,
        /// For a 401 or 403: which credentials went with the request.
        sent: Option<Box<Sent>>,
    },

    /// The request did not get an answer: DNS, connection, TLS, timeout.
    #[error("registry {registry} ({base}), repository {repository}: {source}{}", transport_hint(.source))]
    Transport {
        registry: String,
        /// `https://host:port` or `http://host:port`.
        base: String,
        repository: String,
        #[source]
        source: Box<ureq::Error>,
    },

    /// A `--ca-file` (or `SSL_CERT_FILE`) that cannot be read.
    #[error("{}: {source}", .path.display())]
    CaFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("{}: no PEM certificate in it", .path.display())]
    NoCertificate { path: PathBuf },

    /// The registry asked for credentials and reading them failed.
    #[error("registry {registry} asks for credentials: {source}")]
    Credentials {
        registry: String,
        #[source]
        source: Arc<AuthError>,
    },

    #[error("registry {registry}: its Bearer challenge names no realm")]
    NoRealm { registry: String },

    #[error("registry {registry}: token service {realm}: {source}")]
    TokenTransport {
        registry: String,
        realm: String,
        #[source]
        source: Box<ureq::Error>,
    },

    #[error("registry {registry}: token service {realm} answered with no JSON: {source}")]
    TokenJson {
        registry: String,
        realm: String,
        #[source]
        source: serde_json::Error,
    },

    #[error("registry {registry}: token service {realm} gave no token")]
    NoToken { registry: String, realm: String },

    /// The body of an answer could not be read.
    #[error("{place}: {what}: reading the response failed: {source}")]
    Read {
        place: Place,
        what: String,
        #[source]
        source: std::io::Error,
    },

    /// A JSON answer (manifest, config, list page) over its byte cap.
    #[error("{place}: {what}: the response is over the {cap}-byte limit for a JSON document")]
    TooBig {
        place: Place,
        what: String,
        /// The size its `Content-Length` claimed, when it sent one.
        size: Option<u64>,
        cap: usize,
    },

    /// A manifest or small blob whose bytes do not hash to its digest.
    #[error("{place}: {what} does not match its digest: it hashes to {got}")]
    DigestMismatch {
        place: Place,
        what: String,
        got: Digest,
    },

    /// The reference names something other than an image index or manifest.
    #[error("{place}: {reference} is a manifest of media type {media_type:?}, not an image index or image manifest archscan can read ({})", .accepted.join(", "))]
    MediaType {
        place: Place,
        reference: String,
        media_type: String,
        accepted: &'static [&'static str],
    },

    /// The `index.json` that stands for the registry's answer could not be written.
    #[error("{place}: cannot write the index.json for its answer: {source}")]
    Synthesize {
        place: Place,
        #[source]
        source: serde_json::Error,
    },

    /// A registry that does not offer `/v2/_catalog`.
    #[error("registry {registry} does not list its repositories (GET /v2/_catalog: HTTP {status}); name each repository instead, as registry:{registry}/REPOSITORY:*")]
    NoCatalog { registry: String, status: u16 },

    /// A tag list or catalog page that is not JSON.
    #[error("{place}: {what} answered with no JSON: {source}")]
    ListJson {
        place: Place,
        what: String,
        #[source]
        source: serde_json::Error,
    },

    /// A tag list or catalog page of the wrong shape.
    #[error("{place}: {what}: `{key}` {problem}")]
    ListShape {
        place: Place,
        what: String,
        key: &'static str,
        /// `is not a list`, `holds a non-string`.
        problem: &'static str,
    },

    /// A tag list or catalog longer than archscan walks.
    #[error("{place}: {what}: more than {max} entries")]
    ListTooLong {
        place: Place,
        what: String,
        max: usize,
    },

    /// The blob's `Content-Length` is not its descriptor's size.
    #[error("the registry sends {got} bytes for blob {digest}, its descriptor says {want}")]
    BlobLength { digest: Digest, got: u64, want: u64 },

    /// The blob stream ended before its descriptor's size.
    #[error("blob {digest} is {got} bytes, its descriptor says {want}")]
    BlobShort { digest: Digest, got: u64, want: u64 },

    #[error("blob {digest} is larger than its descriptor's {want} bytes")]
    BlobLong { digest: Digest, want: u64 },

    #[error("blob {digest} does not match its digest: its bytes hash to {got}")]
    BlobDigest { digest: Digest, got: Digest },

    /// A resumed blob whose registry ignored the range and sent less.
    #[error("the blob {digest} ended early when resumed")]
    BlobResumedShort { digest: Digest },

    #[error("the connection dropped at byte {at} of blob {digest} ({resumes} resumptions failed): {source}")]
    BlobDropped {
        digest: Digest,
        at: u64,
        resumes: u32,
        #[source]
        source: std::io::Error,
    },
}

impl RegistryError {
    /// The cap reached, if that is why the registry's answer was refused.
    pub fn exceeded(&self) -> Option<Exceeded> {
        match self {
            RegistryError::TooBig { size, cap, .. } => Some(Exceeded::JsonBytes {
                size: size.unwrap_or((*cap as u64).saturating_add(1)),
                cap: *cap,
            }),
            RegistryError::ListTooLong { max, .. } => Some(Exceeded::Entries(*max as u64)),
            _ => None,
        }
    }

    /// The HTTP status the registry answered with, if it answered so.
    pub fn status(&self) -> Option<u16> {
        match self {
            RegistryError::Status { status, .. } | RegistryError::NoCatalog { status, .. } => {
                Some(*status)
            }
            _ => None,
        }
    }
}

/// Which credentials went with a request the registry refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sent {
    /// None: the Docker config has none for this registry (`config`: the
    /// file looked in, if `DOCKER_CONFIG` or `HOME` names one).
    Nothing { config: Option<PathBuf> },
    /// These, from the Docker config: `auths["r"] (user u) in FILE`.
    Credentials { from: String },
}

/// `: not found (manifest unknown)`: what a status means, and what to try.
fn status_detail(
    status: u16,
    message: Option<&str>,
    sent: Option<&Sent>,
    registry: &str,
) -> String {
    let login = format!("`docker login {registry}`");
    let reason = match (status, sent) {
        (401, Some(Sent::Nothing { config: Some(file) })) => format!(
            "unauthorized: no credentials for {registry} in {}; log in with {login}",
            file.display()
        ),
        (401, Some(Sent::Nothing { config: None })) => format!(
            "unauthorized: no Docker config to take credentials from (neither DOCKER_CONFIG nor HOME is set); log in with {login}"
        ),
        (401, Some(Sent::Credentials { from })) => format!(
            "unauthorized: the credentials from {from} were refused; log in again with {login}"
        ),
        (401, None) => format!(
            "unauthorized: log in with {login} or check the credentials in the Docker config"
        ),
        (403, Some(Sent::Credentials { from })) => {
            format!("forbidden: the credentials from {from} may not pull this repository")
        }
        (403, Some(Sent::Nothing { .. })) => format!(
            "forbidden (no credentials were sent): log in with {login} if this repository needs them"
        ),
        (403, None) => "forbidden: these credentials may not pull this repository".to_string(),
        (404, _) => "not found".to_string(),
        (429, _) => "too many requests".to_string(),
        _ => String::new(),
    };
    let sep = if reason.is_empty() { "" } else { ": " };
    let detail = message.map(|m| format!(" ({m})")).unwrap_or_default();
    format!("{sep}{reason}{detail}")
}

/// What to try after a transport error.
fn transport_hint(e: &ureq::Error) -> &'static str {
    match e {
        ureq::Error::Timeout(_) => {
            " (the registry sent nothing in time, after retries; --timeout SECONDS raises the limit)"
        }
        ureq::Error::HostNotFound => " (no address for this host name in /etc/hosts or DNS)",
        ureq::Error::ConnectionFailed => " (nothing answers on that port)",
        ureq::Error::Io(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
            " (nothing answers on that port)"
        }
        _ => "",
    }
}

/// An engine, by kind and socket: `docker engine at /var/run/docker.sock`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineAt {
    pub kind: EngineKind,
    pub socket: PathBuf,
}

impl fmt::Display for EngineAt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} engine at {}",
            self.kind.as_str(),
            self.socket.display()
        )
    }
}

/// What archscan asked an engine for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EngineStep {
    /// `GET /images/{name}/json`.
    Inspect(String),
    /// `GET /images/{name}/get`.
    Export(String),
}

impl fmt::Display for EngineStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EngineStep::Inspect(name) => write!(f, "inspecting {name}"),
            EngineStep::Export(name) => write!(f, "exporting {name}"),
        }
    }
}

/// Why a local engine that answers did not give the image.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// `DOCKER_HOST` or `CONTAINER_HOST` (or a docker context) names no unix socket.
    #[error("{var}={host}: archscan talks to a local engine over a unix:// socket only")]
    NotUnix { var: String, host: String },

    /// The current docker context's metadata cannot be read.
    #[error("docker context {name}: {}: {source}", .path.display())]
    ContextRead {
        name: String,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("docker context {name}: {}: {source}", .path.display())]
    ContextJson {
        name: String,
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },

    #[error("docker context {name}: no Docker host in {}", .path.display())]
    ContextNoHost { name: String, path: PathBuf },

    /// The request failed on the socket, or the answer is not HTTP.
    #[error("{engine}: {step}: {source}")]
    Request {
        engine: EngineAt,
        step: EngineStep,
        #[source]
        source: std::io::Error,
    },

    /// The engine answered with an error status.
    #[error("{engine}: {step}: HTTP {status}: {message}")]
    Status {
        engine: EngineAt,
        step: EngineStep,
        status: u16,
        /// The `message` of its JSON error, else the start of the body.
        message: String,
    },

    /// The exported stream is not an image archive archscan reads.
    #[error("{engine}: {source}")]
    Export {
        engine: EngineAt,
        #[source]
        source: Box<SourceError>,
    },
}

impl EngineError {
    /// The cap reached, if that is why the export was refused.
    pub fn exceeded(&self) -> Option<Exceeded> {
        match self {
            EngineError::Export { source, .. } => source.exceeded(),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn place() -> Place {
        Place {
            registry: "r.example".into(),
            repository: Some("o/app".into()),
        }
    }

    #[test]
    fn status_errors_name_registry_repository_status_and_what_to_try() {
        let e = RegistryError::Status {
            place: place(),
            what: "manifest 1".into(),
            status: 404,
            message: Some("manifest unknown".into()),
            sent: None,
        };
        assert_eq!(
            e.to_string(),
            "registry r.example, repository o/app: manifest 1: HTTP 404: not found (manifest unknown)"
        );
        assert_eq!(e.status(), Some(404));
        // A 401 or 403 says which credentials went with the request.
        let refused = |status, sent: Option<Sent>| {
            RegistryError::Status {
                place: place(),
                what: "manifest 1".into(),
                status,
                message: None,
                sent: sent.map(Box::new),
            }
            .to_string()
        };
        assert_eq!(
            refused(401, None),
            "registry r.example, repository o/app: manifest 1: HTTP 401: unauthorized: log in with `docker login r.example` or check the credentials in the Docker config"
        );
        assert_eq!(
            refused(
                401,
                Some(Sent::Nothing {
                    config: Some("/home/u/.docker/config.json".into())
                })
            ),
            "registry r.example, repository o/app: manifest 1: HTTP 401: unauthorized: no credentials for r.example in /home/u/.docker/config.json; log in with `docker login r.example`"
        );
        let from = r#"auths["r.example"] (user u) in /c/config.json"#;
        assert_eq!(
            refused(
                401,
                Some(Sent::Credentials { from: from.into() })
            ),
            format!("registry r.example, repository o/app: manifest 1: HTTP 401: unauthorized: the credentials from {from} were refused; log in again with `docker login r.example`")
        );
        assert_eq!(
            refused(
                403,
                Some(Sent::Credentials { from: from.into() })
            ),
            format!("registry r.example, repository o/app: manifest 1: HTTP 403: forbidden: the credentials from {from} may not pull this repository")
        );
        assert!(
            refused(403, Some(Sent::Nothing { config: None })).contains("no credentials were sent")
        );
        let e = RegistryError::Status {
            place: Place {
                registry: "r.example".into(),
                repository: None,
            },
            what: "GET /v2/_catalog".into(),
            status: 500,
            message: None,
            sent: None,
        };
        assert_eq!(
            e.to_string(),
            "registry r.example: GET /v2/_catalog: HTTP 500"
        );
    }

    #[test]
    fn a_refused_connection_says_nothing_answers() {
        let refused = ureq::Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionRefused));
        assert_eq!(transport_hint(&refused), " (nothing answers on that port)");
        let reset = ureq::Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionReset));
        assert_eq!(transport_hint(&reset), "");
    }

    #[test]
    fn caps_are_exceeded() {
        let e = RegistryError::TooBig {
            place: place(),
            what: "manifest 1".into(),
            size: Some(9000),
            cap: 4096,
        };
        assert_eq!(
            e.exceeded(),
            Some(Exceeded::JsonBytes {
                size: 9000,
                cap: 4096
            })
        );
        let e = RegistryError::ListTooLong {
            place: place(),
            what: "tag list".into(),
            max: 10,
        };
        assert_eq!(e.exceeded(), Some(Exceeded::Entries(10)));
        let e = RegistryError::NoCatalog {
            registry: "r.example".into(),
            status: 404,
        };
        assert_eq!(e.exceeded(), None);
        assert!(e.to_string().contains("registry:r.example/REPOSITORY:*"));
    }

    #[test]
    fn engine_errors_name_the_engine_and_step() {
        let e = EngineError::Status {
            engine: EngineAt {
                kind: EngineKind::Podman,
                socket: "/run/podman/podman.sock".into(),
            },
            step: EngineStep::Export("alpine".into()),
            status: 500,
            message: "boom".into(),
        };
        assert_eq!(
            e.to_string(),
            "podman engine at /run/podman/podman.sock: exporting alpine: HTTP 500: boom"
        );
    }
}
