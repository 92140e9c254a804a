//! Registry credentials and challenges: the Docker config (`DOCKER_CONFIG` or
//! `~/.docker/config.json`: `credHelpers`, `credsStore`, `auths` with
//! `auth`, `username`/`password` or `identitytoken`), the
//! `docker-credential-*` helper protocol (`get`, the server on stdin, JSON on
//! stdout), and the `WWW-Authenticate` challenge grammar.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use base64::Engine as _;
use serde_json::Value;

use super::reference::{DOCKER_HUB, DOCKER_HUB_AUTH_KEY};

/// Why the credentials for a registry could not be read: a Docker config
/// entry that does not decode, or a credential helper that failed.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// An `auths` entry's `auth` is not base64 of `user:password`.
    #[error("the Docker config's auth for {registry} is not {expected}")]
    ConfigAuth {
        registry: String,
        /// `valid base64`, `UTF-8` or `user:password`.
        expected: &'static str,
    },
    #[error("invalid credential helper name {0:?}")]
    HelperName(String),
    #[error("cannot run the credential helper {program}: {source}")]
    HelperSpawn {
        program: String,
        #[source]
        source: std::io::Error,
    },
    #[error("credential helper {program}: {source}")]
    HelperWait {
        program: String,
        #[source]
        source: std::io::Error,
    },
    /// The helper exited with a failure (other than "credentials not found").
    #[error("credential helper {program} failed for {server}: {said}")]
    HelperFailed {
        program: String,
        server: String,
        /// What it wrote on stdout and stderr.
        said: String,
    },
    #[error("credential helper {program} answered with no JSON: {source}")]
    HelperJson {
        program: String,
        #[source]
        source: serde_json::Error,
    },
}

/// What a registry login left behind.
#[derive(Clone, PartialEq, Eq)]
pub enum Credential {
    Basic {
        username: String,
        password: String,
    },
    /// An OAuth2 refresh token (ACR's `identitytoken`, a helper's `<token>` user).
    IdentityToken(String),
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credential::Basic { username, .. } => write!(f, "Basic({username}, ***)"),
            Credential::IdentityToken(_) => write!(f, "IdentityToken(***)"),
        }
    }
}

impl Credential {
    /// The `Authorization` value of Basic auth, when this is a password.
    pub fn basic_header(&self) -> Option<String> {
        match self {
            Credential::Basic { username, password } => Some(format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"))
            )),
            Credential::IdentityToken(_) => None,
        }
    }
}

/// Credentials and where the Docker config keeps them, for messages:
/// `auths["r.example"] (user u)`, `credHelpers: docker-credential-ecr-login`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub credential: Credential,
    pub from: String,
}

/// The Docker config file archscan reads (`$DOCKER_CONFIG/config.json`, else
/// `~/.docker/config.json`), whether or not it exists.
pub fn config_file() -> Option<PathBuf> {
    config_dir().map(|d| d.join("config.json"))
}

/// The Docker config directory.
fn config_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("DOCKER_CONFIG").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(d));
    }
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(|h| PathBuf::from(h).join(".docker"))
}

/// The Docker config (`config.json`), when there is a readable one.
pub fn docker_config() -> Option<Value> {
    let path = config_file()?;
    let bytes = std::fs::read(path).ok()?;
    if bytes.len() > 4 << 20 {
        return None;
    }
    serde_json::from_slice(&bytes).ok()
}

/// The keys a registry's credentials may be stored under.
fn keys_for(registry: &str) -> Vec<String> {
    if registry == DOCKER_HUB {
        return vec![
            DOCKER_HUB_AUTH_KEY.to_string(),
            "index.docker.io".to_string(),
            "docker.io".to_string(),
            "https://index.docker.io/v1".to_string(),
            "registry-1.docker.io".to_string(),
        ];
    }
    vec![
        registry.to_string(),
        format!("https://{registry}"),
        format!("http://{registry}"),
        format!("https://{registry}/v1/"),
        format!("https://{registry}/v2/"),
    ]
}

/// The server name a credential helper is asked about.
fn helper_server(registry: &str) -> String {
    if registry == DOCKER_HUB {
        DOCKER_HUB_AUTH_KEY.to_string()
    } else {
        registry.to_string()
    }
}

/// Credentials for a registry, from the Docker config: its `credHelpers`
/// entry, else its `credsStore`, else an `auths` entry. `Ok(None)` when
/// there are none (anonymous access is tried).
pub fn lookup(registry: &str) -> Result<Option<Found>, AuthError> {
    let Some(config) = docker_config() else {
        return Ok(None);
    };
    let file = config_file().map(|f| f.display().to_string());
    Ok(lookup_in(&config, registry)?.map(|f| Found {
        from: match &file {
            Some(file) => format!("{} in {file}", f.from),
            None => f.from,
        },
        credential: f.credential,
    }))
}

pub fn lookup_in(config: &Value, registry: &str) -> Result<Option<Found>, AuthError> {
    let keys = keys_for(registry);
    let found = |credential, from| Some(Found { credential, from });
    if let Some(helpers) = config.get("credHelpers").and_then(Value::as_object) {
        if let Some(h) = keys
            .iter()
            .find_map(|k| helpers.get(k.as_str()).and_then(Value::as_str))
        {
            let from = format!("credHelpers: docker-credential-{h}");
            return Ok(run_helper(h, &helper_server(registry))?.and_then(|c| found(c, from)));
        }
    }
    if let Some(store) = config
        .get("credsStore")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
    {
        if let Some(c) = run_helper(store, &helper_server(registry))? {
            return Ok(found(c, format!("credsStore: docker-credential-{store}")));
        }
    }
    let Some(auths) = config.get("auths").and_then(Value::as_object) else {
        return Ok(None);
    };
    let Some((key, entry)) = keys
        .iter()
        .find_map(|k| auths.get(k.as_str()).map(|e| (k, e)))
    else {
        return Ok(None);
    };
    let s = |k: &str| {
        entry
            .get(k)
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty())
    };
    let from = |what: &str| format!("auths[{key:?}] ({what})");
    if let Some(t) = s("identitytoken") {
        return Ok(found(
            Credential::IdentityToken(t.to_string()),
            from("identity token"),
        ));
    }
    if let (Some(u), Some(p)) = (s("username"), s("password")) {
        return Ok(found(
            Credential::Basic {
                username: u.to_string(),
                password: p.to_string(),
            },
            from(&format!("user {u}")),
        ));
    }
    if let Some(a) = s("auth") {
        let bad = |expected| AuthError::ConfigAuth {
            registry: registry.to_string(),
            expected,
        };
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(a.trim())
            .map_err(|_| bad("valid base64"))?;
        let text = String::from_utf8(decoded).map_err(|_| bad("UTF-8"))?;
        let Some((u, p)) = text.split_once(':') else {
            return Err(bad("user:password"));
        };
        return Ok(found(
            Credential::Basic {
                username: u.to_string(),
                password: p.to_string(),
            },
            from(&format!("user {u}")),
        ));
    }
    Ok(None)
}

/// Runs `docker-credential-NAME get` with the server on stdin.
fn run_helper(name: &str, server: &str) -> Result<Option<Credential>, AuthError> {
    if name.is_empty() || name.contains(['/', '\\']) {
        return Err(AuthError::HelperName(name.to_string()));
    }
    let program = format!("docker-credential-{name}");
    let mut child = Command::new(&program)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| AuthError::HelperSpawn {
            program: program.clone(),
            source,
        })?;
    if let Some(mut stdin) = child.stdin.take() {
        // A helper that exits without reading is judged by its exit below.
        let _ = stdin.write_all(server.as_bytes());
    }
    let out = child
        .wait_with_output()
        .map_err(|source| AuthError::HelperWait {
            program: program.clone(),
            source,
        })?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        let said = format!("{stdout} {}", String::from_utf8_lossy(&out.stderr));
        if said.to_ascii_lowercase().contains("credentials not found") {
            return Ok(None);
        }
        return Err(AuthError::HelperFailed {
            program,
            server: server.to_string(),
            said: said.trim().to_string(),
        });
    }
    let v: Value = serde_json::from_str(stdout.trim())
        .map_err(|source| AuthError::HelperJson { program, source })?;
    let user = v.get("Username").and_then(Value::as_str).unwrap_or("");
    let secret = v.get("Secret").and_then(Value::as_str).unwrap_or("");
    if secret.is_empty() {
        return Ok(None);
    }
    if user == "<token>" {
        return Ok(Some(Credential::IdentityToken(secret.to_string())));
    }
    Ok(Some(Credential::Basic {
        username: user.to_string(),
        password: secret.to_string(),
    }))
}

/// One `WWW-Authenticate` challenge: its scheme and parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    pub scheme: String,
    pub params: Vec<(String, String)>,
}

impl Challenge {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Parses `Scheme k="v", k2=v2` (the first challenge of the header).
    pub fn parse(header: &str) -> Option<Challenge> {
        let header = header.trim();
        let (scheme, mut rest) = match header.split_once(char::is_whitespace) {
            Some((s, r)) => (s, r.trim_start()),
            None => (header, ""),
        };
        if scheme.is_empty() {
            return None;
        }
        let mut params = Vec::new();
        while !rest.is_empty() {
            let Some(eq) = rest.find('=') else { break };
            let key = rest[..eq].trim().trim_start_matches(',').trim().to_string();
            rest = &rest[eq + 1..];
            let value;
            if let Some(q) = rest.strip_prefix('"') {
                let mut v = String::new();
                let mut chars = q.char_indices();
                let mut end = q.len();
                while let Some((i, c)) = chars.next() {
                    match c {
                        '\\' => {
                            if let Some((_, n)) = chars.next() {
                                v.push(n);
                            }
                        }
                        '"' => {
                            end = i + 1;
                            break;
                        }
                        _ => v.push(c),
                    }
                }
                value = v;
                rest = &q[end.min(q.len())..];
            } else {
                let end = rest.find(',').unwrap_or(rest.len());
                value = rest[..end].trim().to_string();
                rest = &rest[end..];
            }
            rest = rest.trim_start().trim_start_matches(',').trim_start();
            if !key.is_empty() {
                params.push((key, value));
            }
        }
        Some(Challenge {
            scheme: scheme.to_string(),
            params,
        })
    }
}

/// `application/x-www-form-urlencoded` / query-string escaping.
pub fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges() {
        let c = Challenge::parse(
            r#"Bearer realm="https://auth.example/token",service="reg, with comma",scope="repository:a/b:pull""#,
        )
        .unwrap();
        assert_eq!(c.scheme, "Bearer");
        assert_eq!(c.param("realm"), Some("https://auth.example/token"));
        assert_eq!(c.param("service"), Some("reg, with comma"));
        assert_eq!(c.param("scope"), Some("repository:a/b:pull"));
        let c = Challenge::parse(r#"Basic realm="basic-realm""#).unwrap();
        assert_eq!(c.scheme, "Basic");
        assert_eq!(c.param("REALM"), Some("basic-realm"));
        let c = Challenge::parse("Bearer realm=plain, service=x").unwrap();
        assert_eq!(c.param("realm"), Some("plain"));
        assert_eq!(c.param("service"), Some("x"));
        assert!(Challenge::parse("").is_none());
    }

    #[test]
    fn config_auths() {
        let cfg: Value = serde_json::from_str(
            r#"{"auths": {
                "r.example": {"auth": "dXNlcjpwYTpzcw=="},
                "https://index.docker.io/v1/": {"username": "hub", "password": "pw"},
                "acr.example": {"auth": "MDAwMDAwMDAtMDAwMC0wMDAwLTAwMDAtMDAwMDAwMDAwMDAwOg==", "identitytoken": "tok"}
            }}"#,
        )
        .unwrap();
        assert_eq!(
            lookup_in(&cfg, "r.example").unwrap(),
            Some(Found {
                credential: Credential::Basic {
                    username: "user".into(),
                    password: "pa:ss".into()
                },
                from: r#"auths["r.example"] (user user)"#.into(),
            })
        );
        assert_eq!(
            lookup_in(&cfg, "docker.io").unwrap(),
            Some(Found {
                credential: Credential::Basic {
                    username: "hub".into(),
                    password: "pw".into()
                },
                from: r#"auths["https://index.docker.io/v1/"] (user hub)"#.into(),
            })
        );
        assert_eq!(
            lookup_in(&cfg, "acr.example").unwrap(),
            Some(Found {
                credential: Credential::IdentityToken("tok".into()),
                from: r#"auths["acr.example"] (identity token)"#.into(),
            })
        );
        assert_eq!(lookup_in(&cfg, "other.example").unwrap(), None);
        let bad: Value = serde_json::from_str(r#"{"auths": {"r": {"auth": "!!"}}}"#).unwrap();
        assert!(matches!(
            lookup_in(&bad, "r"),
            Err(AuthError::ConfigAuth {
                expected: "valid base64",
                ..
            })
        ));
    }

    #[test]
    fn missing_helper_is_a_clear_error() {
        let cfg: Value = serde_json::from_str(
            r#"{"credHelpers": {"r.example": "archscan-test-no-such-helper"}}"#,
        )
        .unwrap();
        let e = lookup_in(&cfg, "r.example").unwrap_err();
        assert!(matches!(e, AuthError::HelperSpawn { .. }), "{e:?}");
        let e = e.to_string();
        assert!(
            e.contains("docker-credential-archscan-test-no-such-helper"),
            "{e}"
        );
    }

    #[test]
    fn urlencoding() {
        assert_eq!(
            urlencode("repository:a/b:pull"),
            "repository%3Aa%2Fb%3Apull"
        );
        assert_eq!(urlencode("a-b_c.d~"), "a-b_c.d~");
    }
}
