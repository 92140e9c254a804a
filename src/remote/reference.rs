//! Image references (`nginx`, `ghcr.io/o/app:1.2@sha256:…`), parsed and
//! normalised as the Docker reference grammar says: a first component that
//! holds a `.` or `:`, is `localhost`, or has upper-case letters is a
//! registry, else the registry is `docker.io`; official Docker Hub images live
//! under `library/`; with neither tag nor digest the tag is `latest`.

use std::fmt;

/// The registry of references that name none.
pub const DOCKER_HUB: &str = "docker.io";
/// Where Docker Hub's registry API answers.
pub const DOCKER_HUB_API: &str = "registry-1.docker.io";
/// The key Docker Hub credentials are stored under in the Docker config.
pub const DOCKER_HUB_AUTH_KEY: &str = "https://index.docker.io/v1/";

/// Longest repository path (registry included) the grammar allows.
const NAME_MAX: usize = 255;

/// Why a word is not an image reference (the Docker reference grammar).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReferenceError {
    #[error("empty image reference")]
    Empty,
    #[error("invalid tag {tag:?} in image reference {reference:?}")]
    Tag { tag: String, reference: String },
    #[error("image reference {0:?} has no name")]
    NoName(String),
    #[error("invalid registry {registry:?} in image reference {reference:?}")]
    Registry { registry: String, reference: String },
    #[error("invalid image reference {0:?}: repository name must be lowercase")]
    Uppercase(String),
    #[error("invalid image reference {0:?}")]
    Repository(String),
    #[error("invalid image reference {reference:?}: the name is longer than {max} characters")]
    TooLong { reference: String, max: usize },
    #[error("invalid digest {0:?}: expected algorithm:hex")]
    DigestForm(String),
    #[error("unsupported digest algorithm {algorithm:?} in {digest:?}")]
    DigestAlgorithm { algorithm: String, digest: String },
    #[error("invalid digest {digest:?}: {algorithm} takes {hex_digits} lower-case hex digits")]
    DigestHex {
        digest: String,
        algorithm: &'static str,
        hex_digits: usize,
    },
}

/// A normalised image reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// `docker.io`, `ghcr.io`, `localhost:5000`, `[::1]:5000`.
    pub registry: String,
    /// `library/nginx`, `o/app`.
    pub repository: String,
    /// `latest` when the reference gave neither tag nor digest.
    pub tag: Option<String>,
    /// `sha256:<hex>`.
    pub digest: Option<String>,
}

impl Reference {
    /// Parses a reference the way `docker pull` does.
    pub fn parse(s: &str) -> Result<Reference, ReferenceError> {
        if s.is_empty() {
            return Err(ReferenceError::Empty);
        }
        let (rest, digest) = match s.split_once('@') {
            Some((r, d)) => (r, Some(parse_digest(d)?)),
            None => (s, None),
        };
        // A tag follows the last `:` that comes after the last `/` (a `:`
        // before it is a registry port).
        let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match rest[last_slash..].rfind(':') {
            Some(i) => {
                let at = last_slash + i;
                (&rest[..at], Some(&rest[at + 1..]))
            }
            None => (rest, None),
        };
        if let Some(t) = tag {
            if !valid_tag(t) {
                return Err(ReferenceError::Tag {
                    tag: t.to_string(),
                    reference: s.to_string(),
                });
            }
        }
        if name.is_empty() {
            return Err(ReferenceError::NoName(s.to_string()));
        }
        let (registry, path) = match name.split_once('/') {
            Some((first, remainder)) if is_registry(first) => (first.to_string(), remainder),
            _ => (DOCKER_HUB.to_string(), name),
        };
        let registry = if registry == "index.docker.io" {
            DOCKER_HUB.to_string()
        } else {
            registry
        };
        if !valid_registry(&registry) {
            return Err(ReferenceError::Registry {
                registry,
                reference: s.to_string(),
            });
        }
        if path.is_empty() || !path.split('/').all(valid_component) {
            if path.bytes().any(|b| b.is_ascii_uppercase()) {
                return Err(ReferenceError::Uppercase(s.to_string()));
            }
            return Err(ReferenceError::Repository(s.to_string()));
        }
        let repository = if registry == DOCKER_HUB && !path.contains('/') {
            format!("library/{path}")
        } else {
            path.to_string()
        };
        if registry.len() + 1 + repository.len() > NAME_MAX {
            return Err(ReferenceError::TooLong {
                reference: s.to_string(),
                max: NAME_MAX,
            });
        }
        let tag = match (tag, &digest) {
            (Some(t), _) => Some(t.to_string()),
            (None, Some(_)) => None,
            (None, None) => Some("latest".to_string()),
        };
        Ok(Reference {
            registry,
            repository,
            tag,
            digest,
        })
    }

    /// `docker.io/library/nginx` (no tag or digest).
    pub fn name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    /// The digest if there is one, else the tag: what a manifest request asks for.
    pub fn manifest_ref(&self) -> &str {
        self.digest
            .as_deref()
            .or(self.tag.as_deref())
            .unwrap_or("latest")
    }

    /// The host (and port) the registry's API answers on.
    pub fn api_host(&self) -> &str {
        if self.registry == DOCKER_HUB {
            DOCKER_HUB_API
        } else {
            &self.registry
        }
    }

    /// The host name alone (no port, no brackets).
    pub fn hostname(&self) -> &str {
        host_of(&self.registry)
    }

    /// Is the registry on this machine (`localhost`, 127.0.0.0/8, `::1`)?
    pub fn is_loopback(&self) -> bool {
        is_loopback_host(self.hostname())
    }
}

impl fmt::Display for Reference {
    /// The full normalised form: `docker.io/library/nginx:latest`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.name())?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

/// The host of `host[:port]` or `[v6]:port`.
pub fn host_of(registry: &str) -> &str {
    if let Some(rest) = registry.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    registry.split(':').next().unwrap_or(registry)
}

/// `localhost`, an address in 127.0.0.0/8, or `::1`.
pub fn is_loopback_host(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") || host.to_ascii_lowercase().ends_with(".localhost") {
        return true;
    }
    match host.parse::<std::net::IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => false,
    }
}

/// Does the first path component name a registry?
fn is_registry(first: &str) -> bool {
    first.contains('.')
        || first.contains(':')
        || first == "localhost"
        || first.bytes().any(|b| b.is_ascii_uppercase())
}

fn valid_registry(r: &str) -> bool {
    if let Some(rest) = r.strip_prefix('[') {
        // [v6]:port
        let Some((addr, after)) = rest.split_once(']') else {
            return false;
        };
        if addr.parse::<std::net::Ipv6Addr>().is_err() {
            return false;
        }
        return after.is_empty() || after.strip_prefix(':').is_some_and(valid_port);
    }
    let (host, port) = match r.split_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (r, None),
    };
    let host_ok = !host.is_empty()
        && host.split('.').all(|label| {
            !label.is_empty()
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        });
    host_ok && port.is_none_or(valid_port)
}

fn valid_port(p: &str) -> bool {
    !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit())
}

/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`
fn valid_component(c: &str) -> bool {
    let b = c.as_bytes();
    let alnum = |x: u8| x.is_ascii_lowercase() || x.is_ascii_digit();
    if b.is_empty() || !alnum(b[0]) || !alnum(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if alnum(b[i]) {
            i += 1;
            continue;
        }
        // A separator run: `.`, `_`, `__` or any number of `-`.
        let start = i;
        while i < b.len() && !alnum(b[i]) {
            i += 1;
        }
        let sep = &c[start..i];
        let ok = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|x| x == b'-');
        if !ok {
            return false;
        }
    }
    true
}

/// `[\w][\w.-]{0,127}`
fn valid_tag(t: &str) -> bool {
    let b = t.as_bytes();
    let word = |x: u8| x.is_ascii_alphanumeric() || x == b'_';
    !b.is_empty()
        && b.len() <= 128
        && word(b[0])
        && b.iter().all(|&x| word(x) || x == b'.' || x == b'-')
}

/// `algorithm:hex`, with sha256 and sha512 checked for their lengths.
fn parse_digest(d: &str) -> Result<String, ReferenceError> {
    let Some((alg, hex)) = d.split_once(':') else {
        return Err(ReferenceError::DigestForm(d.to_string()));
    };
    let (algorithm, want) = match alg {
        "sha256" => ("sha256", 64),
        "sha512" => ("sha512", 128),
        _ => {
            return Err(ReferenceError::DigestAlgorithm {
                algorithm: alg.to_string(),
                digest: d.to_string(),
            })
        }
    };
    if hex.len() != want
        || !hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(ReferenceError::DigestHex {
            digest: d.to_string(),
            algorithm,
            hex_digits: want,
        });
    }
    Ok(d.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn normalises_as_docker_does() {
        let cases: &[(&str, &str)] = &[
            ("nginx", "docker.io/library/nginx:latest"),
            ("nginx:1.27", "docker.io/library/nginx:1.27"),
            ("library/nginx", "docker.io/library/nginx:latest"),
            ("docker.io/nginx", "docker.io/library/nginx:latest"),
            ("index.docker.io/nginx", "docker.io/library/nginx:latest"),
            ("bitnami/redis:7", "docker.io/bitnami/redis:7"),
            ("ghcr.io/o/app", "ghcr.io/o/app:latest"),
            ("localhost/app", "localhost/app:latest"),
            ("localhost:5000/app:v1", "localhost:5000/app:v1"),
            ("127.0.0.1:5000/a/b/c:x", "127.0.0.1:5000/a/b/c:x"),
            ("[::1]:5000/app", "[::1]:5000/app:latest"),
            ("Registry/app", "Registry/app:latest"),
            ("a__b/c--d:t_1.2-3", "docker.io/a__b/c--d:t_1.2-3"),
        ];
        for (input, want) in cases {
            let r = Reference::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(r.to_string(), *want, "{input}");
        }
    }

    #[test]
    fn digests() {
        let r = Reference::parse(&format!("ghcr.io/o/app@{D}")).unwrap();
        assert_eq!(r.tag, None);
        assert_eq!(r.digest.as_deref(), Some(D));
        assert_eq!(r.manifest_ref(), D);
        let r = Reference::parse(&format!("nginx:1@{D}")).unwrap();
        assert_eq!(r.to_string(), format!("docker.io/library/nginx:1@{D}"));
        assert_eq!(r.manifest_ref(), D);
    }

    #[test]
    fn rejects_what_docker_rejects() {
        for bad in [
            "",
            "Nginx",
            "nginx:",
            "nginx:-x",
            "nginx@sha256:abc",
            "nginx@md5:0123",
            "a//b",
            "-a",
            "a-",
            "a...b",
            "a/b:t/c",
            "host:port/app",
            "UPPER.io/App",
            "has space",
            ":tag",
        ] {
            assert!(Reference::parse(bad).is_err(), "{bad:?} should not parse");
        }
        let long = format!("r.io/{}", "a".repeat(260));
        assert!(matches!(
            Reference::parse(&long),
            Err(ReferenceError::TooLong { max: NAME_MAX, .. })
        ));
    }

    #[test]
    fn errors_say_which_part_is_wrong() {
        assert_eq!(Reference::parse(""), Err(ReferenceError::Empty));
        assert_eq!(
            Reference::parse("Nginx"),
            Err(ReferenceError::Uppercase("Nginx".into()))
        );
        assert!(matches!(
            Reference::parse("nginx:-x"),
            Err(ReferenceError::Tag { .. })
        ));
        let e = Reference::parse("nginx@sha256:abc").unwrap_err();
        assert_eq!(
            e.to_string(),
            r#"invalid digest "sha256:abc": sha256 takes 64 lower-case hex digits"#
        );
        assert!(matches!(
            Reference::parse("nginx@md5:0123"),
            Err(ReferenceError::DigestAlgorithm { .. })
        ));
    }

    #[test]
    fn hosts() {
        let r = Reference::parse("nginx").unwrap();
        assert_eq!(r.api_host(), DOCKER_HUB_API);
        assert!(!r.is_loopback());
        for l in [
            "localhost:5000/a",
            "127.0.0.2:1/a",
            "[::1]:5000/a",
            "localhost/a",
        ] {
            assert!(Reference::parse(l).unwrap().is_loopback(), "{l}");
        }
        let r = Reference::parse("[::1]:5000/a").unwrap();
        assert_eq!(r.hostname(), "::1");
        assert!(!Reference::parse("192.0.2.2:5000/a").unwrap().is_loopback());
    }
}
