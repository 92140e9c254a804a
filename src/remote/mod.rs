//! Images by name: what an input word means (a path, or an image reference
//! for the local engine or a registry), and opening the image it names as a
//! [`Source`] like any archive.
//!
//! archscan goes online only here, and only for `registry:REF` and for bare
//! references that no local engine has (`--offline` forbids both). A path
//! never becomes a network request: a word that exists, starts with `/`, `./`
//! or `../`, or ends like an archive is a path. The engine is asked over its
//! unix socket ([`engine`]); a registry over HTTPS ([`registry`]).

pub mod auth;
pub mod engine;
pub mod error;
pub mod reference;
pub mod registry;
pub mod resolve;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

use crate::limits::Limits;
use crate::meter::Meter;
use crate::platform::Platform;
use crate::progress::Reporter;
use crate::source::Source;
use crate::source::SourceError;
pub use auth::AuthError;
pub use engine::Absence;
pub use error::{EngineError, RegistryError};
pub use reference::{Reference, ReferenceError};

pub use crate::source::BlobStore;

/// Why an input word could not be opened: a file that cannot be read, a
/// word that is neither a path nor a reference, or an engine or registry
/// that does not give the image.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(transparent)]
    Source(SourceError),
    #[error(transparent)]
    Usage(#[from] ClassifyError),
    #[error("{input}: --offline: reading from a registry needs the network")]
    Offline { input: String },
    #[error("{input}: {source}")]
    Registry {
        input: String,
        #[source]
        source: Box<RegistryError>,
    },
    #[error("{input}: {source}")]
    Engine {
        input: String,
        #[source]
        source: Box<EngineError>,
    },
    /// `docker:REF` or `podman:REF` and that engine does not have it.
    #[error("{input}: {absence}; try `{} pull {text}` first, or registry:{reference} to read it from its registry", .kind.as_str())]
    NotInEngine {
        input: String,
        kind: EngineKind,
        text: String,
        reference: Box<Reference>,
        absence: Absence,
    },
    /// A bare reference that no file, engine or registry has.
    #[error("{input}: no such file, and the image {reference} was not found: {}. To read a file, give its path (./{text}); to read an image, `docker save {text} -o image.tar`, or write registry:{reference} or docker:{text} to ask one source", join(.tried))]
    NotFound {
        input: String,
        text: String,
        reference: Box<Reference>,
        /// What each lookup of `--source` said, in order.
        tried: Vec<Tried>,
    },
}

impl OpenError {
    /// The cap of [`Limits`] reached, if that is why the input is unreadable.
    pub fn exceeded(&self) -> Option<crate::limits::Exceeded> {
        match self {
            OpenError::Source(e) => e.exceeded(),
            OpenError::Registry { source, .. } => source.exceeded(),
            OpenError::Engine { source, .. } => source.exceeded(),
            OpenError::NotFound { tried, .. } => tried.iter().find_map(Tried::exceeded),
            OpenError::Usage(_) | OpenError::Offline { .. } | OpenError::NotInEngine { .. } => None,
        }
    }
}

/// What one lookup of a bare reference said.
#[derive(Debug, thiserror::Error)]
pub enum Tried {
    #[error(transparent)]
    Engine(EngineError),
    #[error("{0}")]
    EngineAbsent(Absence),
    #[error("the registry was not asked (--offline)")]
    RegistryOffline,
    #[error(transparent)]
    Registry(RegistryError),
}

impl Tried {
    pub fn exceeded(&self) -> Option<crate::limits::Exceeded> {
        match self {
            Tried::Engine(e) => e.exceeded(),
            Tried::Registry(e) => e.exceeded(),
            Tried::EngineAbsent(_) | Tried::RegistryOffline => None,
        }
    }
}

fn join(tried: &[Tried]) -> String {
    tried
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// Why an input word is neither a path nor a reference archscan takes.
#[derive(Debug, thiserror::Error)]
pub enum ClassifyError {
    /// `docker://REF`: a registry or the local engine?
    #[error("{word}: `docker://` is ambiguous here: write registry:{rest} for a registry, or docker:{rest} for the local Docker Engine")]
    DockerScheme { word: String, rest: String },
    /// `docker:REF`, `podman:REF` or `registry:REF` with no valid reference.
    #[error("{word}: {source}")]
    Reference {
        word: String,
        #[source]
        source: ReferenceError,
    },
}

/// Where an image came from, for the report's `source.origin`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Origin {
    /// `registry`, `docker` or `podman`.
    pub kind: String,
    /// The reference, normalised (`docker.io/library/nginx:latest`).
    pub reference: String,
    /// The registry's manifest or index digest; the engine's image ID.
    pub digest: Option<String>,
    /// `https://host:port` or the engine's socket.
    pub endpoint: String,
}

/// Where a bare reference is looked up, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    Engine,
    Registry,
}

impl Lookup {
    /// `engine,registry` (the `--source` value).
    pub fn parse_list(s: &str) -> std::result::Result<Vec<Lookup>, String> {
        let mut out = Vec::new();
        for w in s.split(',').map(str::trim).filter(|w| !w.is_empty()) {
            let l = match w {
                "engine" | "daemon" | "local" => Lookup::Engine,
                "registry" | "remote" => Lookup::Registry,
                other => {
                    return Err(format!(
                        "--source {other}: expected engine or registry (e.g. engine,registry)"
                    ))
                }
            };
            if !out.contains(&l) {
                out.push(l);
            }
        }
        if out.is_empty() {
            return Err("--source: name at least one of engine, registry".into());
        }
        Ok(out)
    }
}

/// Options for images by name.
#[derive(Debug, Clone)]
pub struct RemoteOptions {
    /// Where bare references are looked up (`--source`).
    pub order: Vec<Lookup>,
    /// No network at all (`--offline`).
    pub offline: bool,
    /// Hosts reached over HTTPS without verification, then HTTP
    /// (`--insecure-registry`); loopback hosts always are.
    pub insecure_registries: Vec<String>,
    /// Extra CA certificates (`--ca-file`).
    pub ca_file: Option<PathBuf>,
    pub connect_timeout: Duration,
    pub response_timeout: Duration,
    /// The first pause between retries (doubling after each).
    pub backoff: Duration,
    /// Entries asked for per page of a tag list or catalog (`n`).
    pub list_page: usize,
}

impl Default for RemoteOptions {
    fn default() -> RemoteOptions {
        RemoteOptions {
            order: vec![Lookup::Engine, Lookup::Registry],
            offline: false,
            insecure_registries: Vec::new(),
            ca_file: None,
            connect_timeout: Duration::from_secs(15),
            response_timeout: Duration::from_secs(60),
            backoff: Duration::from_millis(250),
            list_page: 1000,
        }
    }
}

/// The engines `docker:` and `podman:` name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EngineKind {
    Docker,
    Podman,
}

impl EngineKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EngineKind::Docker => "docker",
            EngineKind::Podman => "podman",
        }
    }
}

/// What an input word names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A file, directory or `-` (also `docker-archive:`, `oci-archive:`, `oci:`).
    Path(String),
    /// `docker:REF` or `podman:REF`: only that local engine.
    Engine(EngineKind, String, Reference),
    /// `registry:REF`: only the registry.
    Registry(Reference),
    /// A bare reference: the engine, then the registry (`--source`).
    Bare(String, Reference),
}

/// What an input path ends with when it names an image archive (a word
/// ending so is a path, never a reference; `--recursive` collects these).
pub const ARCHIVE_SUFFIXES: &[&str] = &[".tar", ".tgz", ".tar.gz", ".tar.zst", ".tar.xz"];

/// Tells what an input word names.
pub fn classify(word: &str) -> std::result::Result<Input, ClassifyError> {
    if word == "-" || Path::new(word).exists() {
        return Ok(Input::Path(word.to_string()));
    }
    for prefix in ["docker-archive:", "oci-archive:", "oci:"] {
        if let Some(p) = word.strip_prefix(prefix) {
            return Ok(Input::Path(p.to_string()));
        }
    }
    let engine = [
        ("docker:", EngineKind::Docker),
        ("podman:", EngineKind::Podman),
    ];
    for (prefix, kind) in engine {
        if let Some(r) = word.strip_prefix(prefix) {
            if let Some(rest) = r.strip_prefix("//") {
                return Err(ClassifyError::DockerScheme {
                    word: word.to_string(),
                    rest: rest.to_string(),
                });
            }
            let reference = Reference::parse(r).map_err(bad_reference(word))?;
            return Ok(Input::Engine(kind, r.to_string(), reference));
        }
    }
    if let Some(r) = word.strip_prefix("registry:") {
        let r = r.strip_prefix("//").unwrap_or(r);
        let reference = Reference::parse(r).map_err(bad_reference(word))?;
        return Ok(Input::Registry(reference));
    }
    let path_like = word.starts_with('/')
        || word.starts_with("./")
        || word.starts_with("../")
        || word == "."
        || word == ".."
        || ARCHIVE_SUFFIXES.iter().any(|s| word.ends_with(s));
    if path_like {
        return Ok(Input::Path(word.to_string()));
    }
    match Reference::parse(word) {
        Ok(r) => Ok(Input::Bare(word.to_string(), r)),
        // Neither a path nor a reference: the missing-file error says it best.
        Err(_) => Ok(Input::Path(word.to_string())),
    }
}

fn bad_reference(word: &str) -> impl FnOnce(ReferenceError) -> ClassifyError + '_ {
    move |source| ClassifyError::Reference {
        word: word.to_string(),
        source,
    }
}

/// Opens what an input word names. A path opens as before, with no network
/// code on its way; a reference is looked up as [`classify`] and the options
/// say.
pub fn open(
    word: &str,
    opts: &RemoteOptions,
    target: Option<&Platform>,
    limits: &Limits,
    meter: &Meter,
    progress: &Reporter,
) -> Result<(Source, Option<Origin>), OpenError> {
    let input = classify(word)?;
    let input_word = || word.to_string();
    match input {
        Input::Path(p) => Source::open(&p, limits, meter, progress)
            .map(|s| (s, None))
            .map_err(OpenError::Source),
        Input::Registry(r) => {
            if opts.offline {
                return Err(OpenError::Offline {
                    input: input_word(),
                });
            }
            open_registry(word, &r, opts, limits, meter).map_err(|source| OpenError::Registry {
                input: input_word(),
                source: Box::new(source),
            })
        }
        Input::Engine(kind, text, r) => {
            match engine::open(&[kind], &text, &r, target, limits, meter, progress) {
                Ok(engine::Lookup::Found(s, origin)) => Ok((*s, Some(origin))),
                Ok(engine::Lookup::Absent(absence)) => Err(OpenError::NotInEngine {
                    input: input_word(),
                    kind,
                    text,
                    reference: Box::new(r),
                    absence,
                }),
                Err(source) => Err(OpenError::Engine {
                    input: input_word(),
                    source: Box::new(source),
                }),
            }
        }
        Input::Bare(text, r) => {
            let mut tried = Vec::new();
            for lookup in &opts.order {
                match lookup {
                    Lookup::Engine => {
                        let kinds = [EngineKind::Docker, EngineKind::Podman];
                        match engine::open(&kinds, &text, &r, target, limits, meter, progress) {
                            Ok(engine::Lookup::Found(s, origin)) => return Ok((*s, Some(origin))),
                            Ok(engine::Lookup::Absent(why)) => tried.push(Tried::EngineAbsent(why)),
                            Err(e) => tried.push(Tried::Engine(e)),
                        }
                    }
                    Lookup::Registry if opts.offline => tried.push(Tried::RegistryOffline),
                    Lookup::Registry => match open_registry(word, &r, opts, limits, meter) {
                        Ok(found) => return Ok(found),
                        Err(e) => tried.push(Tried::Registry(e)),
                    },
                }
            }
            Err(OpenError::NotFound {
                input: input_word(),
                text,
                reference: Box::new(r),
                tried,
            })
        }
    }
}

fn open_registry(
    word: &str,
    r: &Reference,
    opts: &RemoteOptions,
    limits: &Limits,
    meter: &Meter,
) -> std::result::Result<(Source, Option<Origin>), RegistryError> {
    let (blobs, origin) = registry::RegistryBlobs::open(r, opts, limits)?;
    Ok((
        Source::from_blobs(word, Box::new(blobs), meter),
        Some(origin),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_paths_or_references() {
        let path = |w: &str| Input::Path(w.to_string());
        assert_eq!(classify("-").unwrap(), path("-"));
        assert_eq!(classify("Cargo.toml").unwrap(), path("Cargo.toml"));
        for w in [
            "/nope/image",
            "./nginx",
            "../nginx",
            "nginx.tar",
            "nginx.tgz",
            "nginx.tar.gz",
            "nginx.tar.zst",
            "nginx.tar.xz",
            "ngnix-typo.tar",
        ] {
            assert_eq!(classify(w).unwrap(), path(w), "{w}");
        }
        // Not a reference either: a path, so the error says it is missing.
        assert_eq!(classify("Image File").unwrap(), path("Image File"));
        match classify("nginx:1.27").unwrap() {
            Input::Bare(t, r) => {
                assert_eq!(t, "nginx:1.27");
                assert_eq!(r.to_string(), "docker.io/library/nginx:1.27");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            classify("localhost:5000/app").unwrap(),
            Input::Bare(..)
        ));
    }

    #[test]
    fn explicit_prefixes() {
        assert_eq!(
            classify("oci-archive:x.tar").unwrap(),
            Input::Path("x.tar".into())
        );
        assert_eq!(
            classify("docker-archive:/a/b").unwrap(),
            Input::Path("/a/b".into())
        );
        assert_eq!(classify("oci:dir").unwrap(), Input::Path("dir".into()));
        match classify("registry:localhost:5000/a:1").unwrap() {
            Input::Registry(r) => assert_eq!(r.to_string(), "localhost:5000/a:1"),
            other => panic!("{other:?}"),
        }
        match classify("podman:alpine").unwrap() {
            Input::Engine(EngineKind::Podman, t, r) => {
                assert_eq!(t, "alpine");
                assert_eq!(r.repository, "library/alpine");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            classify("docker:nginx").unwrap(),
            Input::Engine(EngineKind::Docker, ..)
        ));
        let e = classify("docker://nginx").unwrap_err();
        assert!(matches!(e, ClassifyError::DockerScheme { .. }), "{e:?}");
        assert!(e.to_string().contains("registry:nginx"), "{e}");
        assert!(matches!(
            classify("registry:Bad Ref"),
            Err(ClassifyError::Reference {
                source: ReferenceError::Uppercase(_),
                ..
            })
        ));
    }

    #[test]
    fn a_bare_reference_nobody_has_says_what_each_source_said_and_what_to_try() {
        let r = Reference::parse("nginx:1").unwrap();
        let e = OpenError::NotFound {
            input: "nginx:1".into(),
            text: "nginx:1".into(),
            reference: Box::new(r.clone()),
            tried: vec![
                Tried::EngineAbsent(Absence::NoEngine(vec!["/var/run/docker.sock".into()])),
                Tried::RegistryOffline,
            ],
        };
        assert_eq!(
            e.to_string(),
            "nginx:1: no such file, and the image docker.io/library/nginx:1 was not found: no local engine answers (tried /var/run/docker.sock); the registry was not asked (--offline). To read a file, give its path (./nginx:1); to read an image, `docker save nginx:1 -o image.tar`, or write registry:docker.io/library/nginx:1 or docker:nginx:1 to ask one source"
        );
        assert_eq!(e.exceeded(), None);
        let e = OpenError::NotInEngine {
            input: "podman:nginx:1".into(),
            kind: EngineKind::Podman,
            text: "nginx:1".into(),
            reference: Box::new(r),
            absence: Absence::NoImage {
                engines: vec![error::EngineAt {
                    kind: EngineKind::Podman,
                    socket: "/run/podman/podman.sock".into(),
                }],
                image: "nginx:1".into(),
            },
        };
        assert_eq!(
            e.to_string(),
            "podman:nginx:1: the podman engine at /run/podman/podman.sock has no image nginx:1; try `podman pull nginx:1` first, or registry:docker.io/library/nginx:1 to read it from its registry"
        );
    }

    #[test]
    fn source_order() {
        assert_eq!(
            Lookup::parse_list("registry, engine").unwrap(),
            vec![Lookup::Registry, Lookup::Engine]
        );
        assert_eq!(Lookup::parse_list("engine").unwrap(), vec![Lookup::Engine]);
        assert!(Lookup::parse_list("cloud").is_err());
        assert!(Lookup::parse_list("").is_err());
    }
}
