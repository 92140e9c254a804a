//! A registry (OCI Distribution spec) seen as an OCI image layout: the tag is
//! resolved to its index or manifest, which becomes the one descriptor of a
//! synthesized `index.json`; `blobs/sha256/<hex>` members are fetched on
//! demand. Manifests and configs are small, verified and kept in memory;
//! layer blobs are streams that go straight into the layer scan (one per
//! rayon worker, so several at once), counted and hashed as they pass, and
//! resumed with a `Range` request when the connection drops. Nothing is
//! written to disk.
//!
//! HTTP and TLS are ureq's (rustls, no OpenSSL): loopback registries and
//! `--insecure-registry` hosts are tried over HTTPS without verification and
//! then over plain HTTP, as dockerd does; every other host over HTTPS with the
//! system's CA bundle (or `SSL_CERT_FILE`), `--ca-file`, and Mozilla's roots
//! when the system has none.

use std::collections::HashMap;
use std::io::{self, Read};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use ureq::http::Response;
use ureq::tls::{Certificate, PemItem, RootCerts, TlsConfig};
use ureq::{Agent, Body};

use super::auth::{self, AuthError, Challenge, Credential};
use super::error::{Place, RegistryError, Sent};
use super::reference::Reference;
use super::{BlobStore, Origin, RemoteOptions};
use crate::digest::{Digest, Hasher};
use crate::layers::scan::{self, Hashing, LayerIndex};
use crate::limits::Limits;

pub const MT_OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const MT_DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const MT_OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const MT_DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
const MANIFEST_TYPES: &[&str] = &[
    MT_OCI_INDEX,
    MT_DOCKER_LIST,
    MT_OCI_MANIFEST,
    MT_DOCKER_MANIFEST,
];

/// Attempts of one request when the registry is busy, failing or unreachable.
const ATTEMPTS: u32 = 4;
/// Resumptions of one blob stream after its connection dropped.
const RESUMES: u32 = 4;

/// A connection to one repository of a registry.
pub struct Registry {
    pub reference: Reference,
    agent: Agent,
    /// `https://host` or `http://host`, chosen by the first request.
    base: String,
    /// What the registry's `/v2/` challenge asked for, and the header that
    /// answers it (a Bearer token is fetched once and reused).
    /// Read once, at connection; a helper that failed is only an error
    /// when the registry asks for credentials.
    credential: Result<Option<auth::Found>, Arc<AuthError>>,
    authorization: Mutex<Option<String>>,
    /// What the tests lower to make backoff fast.
    backoff: Duration,
}

/// An HTTP status turned into the error the user sees (the first
/// `errors[].message` of the body, when it is the registry's JSON).
fn status_error(
    place: Place,
    status: u16,
    what: String,
    body: &str,
    sent: Option<Sent>,
) -> RegistryError {
    let message = serde_json::from_str::<Value>(body).ok().and_then(|v| {
        v.get("errors")?
            .get(0)?
            .get("message")?
            .as_str()
            .map(str::to_string)
    });
    RegistryError::Status {
        place,
        what,
        status,
        message,
        sent: sent.map(Box::new),
    }
}

/// Errors worth another attempt: the connection, not the request.
fn transient(e: &ureq::Error) -> bool {
    matches!(
        e,
        ureq::Error::Io(_) | ureq::Error::Timeout(_) | ureq::Error::ConnectionFailed
    )
}

/// The CA certificates to trust: `--ca-file`, `SSL_CERT_FILE`, and the
/// system bundle; Mozilla's roots (built in) when none of them exists.
fn root_certs(opts: &RemoteOptions) -> Result<RootCerts, RegistryError> {
    let mut extra: Vec<Certificate<'static>> = Vec::new();
    if let Some(ca) = &opts.ca_file {
        read_pem(ca, &mut extra, true)?;
    }
    let mut system: Vec<Certificate<'static>> = Vec::new();
    if let Some(f) = std::env::var_os("SSL_CERT_FILE").filter(|f| !f.is_empty()) {
        read_pem(std::path::Path::new(&f), &mut system, true)?;
    } else {
        for f in [
            "/etc/ssl/certs/ca-certificates.crt",
            "/etc/pki/tls/certs/ca-bundle.crt",
            "/etc/ssl/ca-bundle.pem",
            "/etc/ssl/cert.pem",
        ] {
            if system.is_empty() {
                read_pem(std::path::Path::new(f), &mut system, false)?;
            }
        }
    }
    if system.is_empty() && extra.is_empty() {
        // No system bundle (a `scratch` image): Mozilla's roots, built in.
        return Ok(RootCerts::WebPki);
    }
    // With a `--ca-file` and no system bundle, that file alone is trusted.
    system.extend(extra);
    Ok(RootCerts::Specific(Arc::new(system)))
}

/// Adds the certificates of a PEM file; a missing optional file adds none.
fn read_pem(
    path: &std::path::Path,
    certs: &mut Vec<Certificate<'static>>,
    required: bool,
) -> Result<(), RegistryError> {
    let pem = match std::fs::read(path) {
        Ok(p) => p,
        Err(source) if required => {
            return Err(RegistryError::CaFile {
                path: path.to_path_buf(),
                source,
            })
        }
        Err(_) => return Ok(()),
    };
    let before = certs.len();
    for item in ureq::tls::parse_pem(&pem) {
        if let Ok(PemItem::Certificate(c)) = item {
            certs.push(c.to_owned());
        }
    }
    if required && certs.len() == before {
        return Err(RegistryError::NoCertificate {
            path: path.to_path_buf(),
        });
    }
    Ok(())
}

/// `HTTPS_PROXY` (or `ALL_PROXY`, `HTTP_PROXY` for plain HTTP) unless the
/// host is listed in `NO_PROXY`.
fn proxy_for(host: &str, https: bool) -> Option<ureq::Proxy> {
    let var = |names: &[&str]| {
        names
            .iter()
            .find_map(|n| std::env::var(n).ok().filter(|v| !v.is_empty()))
    };
    if let Some(no) = var(&["NO_PROXY", "no_proxy"]) {
        if no_proxy_matches(&no, host) {
            return None;
        }
    }
    let url = if https {
        var(&["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"])
    } else {
        var(&["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"])
    }?;
    ureq::Proxy::new(&url).ok()
}

/// `NO_PROXY` entries: `*`, host names (matching sub-domains too, with or
/// without a leading dot), IP addresses and CIDR-free host:port.
pub fn no_proxy_matches(list: &str, host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let host = host.to_ascii_lowercase();
    list.split(',').map(str::trim).any(|entry| {
        if entry == "*" {
            return true;
        }
        let entry = entry.to_ascii_lowercase();
        // A port is stripped from `host:port` and `[v6]:port`, not from a bare v6.
        let has_port = entry.matches(':').count() == 1 || entry.starts_with('[');
        let entry = entry
            .rsplit_once(':')
            .filter(|(_, p)| has_port && p.bytes().all(|b| b.is_ascii_digit()) && !p.is_empty())
            .map_or(entry.as_str(), |(h, _)| h)
            .trim_start_matches('[')
            .trim_end_matches(']');
        let bare = entry.trim_start_matches('.');
        !bare.is_empty() && (host == bare || host.ends_with(&format!(".{bare}")))
    })
}

fn agent(
    opts: &RemoteOptions,
    host: &str,
    verify: bool,
    https: bool,
) -> Result<Agent, RegistryError> {
    let tls = TlsConfig::builder()
        .root_certs(root_certs(opts)?)
        .disable_verification(!verify)
        .build();
    let config = Agent::config_builder()
        .http_status_as_error(false)
        .user_agent(concat!("archscan/", env!("CARGO_PKG_VERSION")))
        .proxy(proxy_for(host, https))
        .timeout_connect(Some(opts.connect_timeout))
        .timeout_recv_response(Some(opts.response_timeout))
        // A stalled body is as bad as a stalled connection.
        .timeout_per_read(Some(opts.response_timeout))
        .tls_config(tls)
        .build();
    // Host names resolve without glibc's NSS (a static binary in `scratch`).
    Ok(Agent::with_parts(
        config,
        ureq::unversioned::transport::DefaultConnector::default(),
        super::resolve::PlainResolver,
    ))
}

impl Registry {
    /// Connects: picks the scheme (with `/v2/`), reads the credentials.
    pub fn connect(reference: &Reference, opts: &RemoteOptions) -> Result<Registry, RegistryError> {
        let host = reference.api_host().to_string();
        let hostname = super::reference::host_of(&host).to_string();
        let insecure = reference.is_loopback()
            || opts
                .insecure_registries
                .iter()
                .any(|h| h == &reference.registry || h == &host || h == &hostname);
        let credential = auth::lookup(&reference.registry).map_err(Arc::new);
        let mut tries: Vec<(String, Agent)> = vec![(
            format!("https://{host}"),
            agent(opts, &hostname, !insecure, true)?,
        )];
        if insecure {
            tries.push((
                format!("http://{host}"),
                agent(opts, &hostname, false, false)?,
            ));
        }
        let mut last = None;
        let count = tries.len();
        for (i, (base, agent)) in tries.into_iter().enumerate() {
            let reg = Registry {
                reference: reference.clone(),
                agent,
                base,
                credential: credential.clone(),
                authorization: Mutex::new(None),
                backoff: opts.backoff,
            };
            // Only the last way is retried: HTTPS to a plain-HTTP registry
            // fails the same way every time.
            match reg.ping(i + 1 == count) {
                Ok(()) => return Ok(reg),
                Err(PingError::Transport(e)) => last = Some(e),
                Err(PingError::Fatal(e)) => return Err(e),
            }
        }
        // `tries` holds HTTPS at least, so a transport error was kept.
        Err(last.unwrap_or(RegistryError::Transport {
            registry: reference.registry.clone(),
            base: format!("https://{host}"),
            repository: reference.repository.clone(),
            source: Box::new(ureq::Error::ConnectionFailed),
        }))
    }

    /// The registry and repository, for errors.
    fn place(&self) -> Place {
        Place {
            registry: self.reference.registry.clone(),
            repository: Some(self.reference.repository.clone()),
        }
    }

    /// A transport error of a request to this registry.
    fn transport(&self, source: ureq::Error) -> RegistryError {
        RegistryError::Transport {
            registry: self.reference.registry.clone(),
            base: self.base.clone(),
            repository: self.reference.repository.clone(),
            source: Box::new(source),
        }
    }

    /// `GET /v2/`: the registry answers, and says how it wants to be asked.
    fn ping(&self, retry: bool) -> Result<(), PingError> {
        let url = format!("{}/v2/", self.base);
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.agent.get(&url).call() {
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    if status == 401 {
                        // Answered later, per request (the scope is per repository).
                        return Ok(());
                    }
                    if (status == 429 || status >= 500) && attempt < ATTEMPTS {
                        self.sleep(attempt, &resp);
                        continue;
                    }
                    if (200..300).contains(&status) || status == 404 {
                        // Some registries answer 404 on /v2/ and serve the API all the same.
                        return Ok(());
                    }
                    return Err(PingError::Fatal(self.refused(
                        status,
                        "GET /v2/".into(),
                        "",
                        false,
                    )));
                }
                Err(e) if retry && transient(&e) && attempt < ATTEMPTS => {
                    std::thread::sleep(self.backoff * (1 << attempt.min(5)));
                }
                Err(e) => return Err(PingError::Transport(self.transport(e))),
            }
        }
    }

    fn sleep(&self, attempt: u32, resp: &Response<Body>) {
        let retry_after = resp
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(|s| Duration::from_secs(s.min(30)));
        std::thread::sleep(retry_after.unwrap_or(self.backoff * (1 << attempt.min(5))));
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// A GET of `/v2/<repo>/<path>`, with auth, retries and backoff. Returns
    /// every response the caller must judge (2xx, 4xx after auth).
    fn get(&self, path: &str, headers: &[(&str, String)]) -> Result<Response<Body>, RegistryError> {
        self.get_v2(&format!("{}/{path}", self.reference.repository), headers)
    }

    /// A GET of `/v2/<rest>` (`rest` may carry a query), as [`Registry::get`].
    fn get_v2(
        &self,
        rest: &str,
        headers: &[(&str, String)],
    ) -> Result<Response<Body>, RegistryError> {
        let url = format!("{}/v2/{rest}", self.base);
        let mut attempt = 0;
        let mut authenticated = false;
        loop {
            attempt += 1;
            let mut req = self.agent.get(&url);
            for (k, v) in headers {
                req = req.header(*k, v.as_str());
            }
            let current = self.authorization.lock().ok().and_then(|a| a.clone());
            if let Some(a) = &current {
                req = req.header("Authorization", a.as_str());
            }
            match req.call() {
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    if status == 401 && !authenticated {
                        authenticated = true;
                        let challenge = resp
                            .headers()
                            .get("www-authenticate")
                            .and_then(|v| v.to_str().ok())
                            .and_then(Challenge::parse);
                        if let Some(c) = challenge {
                            if self.answer(&c)? {
                                continue;
                            }
                        }
                        return Ok(resp);
                    }
                    if (status == 429 || status >= 500) && attempt < ATTEMPTS {
                        self.sleep(attempt, &resp);
                        continue;
                    }
                    return Ok(resp);
                }
                Err(e) if transient(&e) && attempt < ATTEMPTS => {
                    std::thread::sleep(self.backoff * (1 << attempt.min(5)));
                }
                Err(e) => return Err(self.transport(e)),
            }
        }
    }

    fn credential(&self) -> Result<Option<&Credential>, RegistryError> {
        self.credential
            .as_ref()
            .map(|f| f.as_ref().map(|f| &f.credential))
            .map_err(|e| RegistryError::Credentials {
                registry: self.reference.registry.clone(),
                source: Arc::clone(e),
            })
    }

    /// The error for a refused request to this repository: for a 401 or 403,
    /// with which credentials went with it (`offered`: whether the stored ones
    /// were offered, to the registry or to its token service).
    fn refused(&self, status: u16, what: String, body: &str, offered: bool) -> RegistryError {
        let sent = match &self.credential {
            _ if !matches!(status, 401 | 403) => None,
            Ok(None) => Some(Sent::Nothing {
                config: auth::config_file(),
            }),
            Ok(Some(f)) if offered => Some(Sent::Credentials {
                from: f.from.clone(),
            }),
            _ => None,
        };
        status_error(self.place(), status, what, body, sent)
    }

    /// Whether a request carried an `Authorization` header (the stored
    /// credentials, or a token fetched with them).
    fn authorized(&self) -> bool {
        self.authorization.lock().is_ok_and(|a| a.is_some())
    }

    /// Answers a challenge: Basic with the stored password, or Bearer with a
    /// token from the realm. `false` when there is nothing to answer with.
    fn answer(&self, c: &Challenge) -> Result<bool, RegistryError> {
        let header = if c.scheme.eq_ignore_ascii_case("basic") {
            match self.credential()?.and_then(Credential::basic_header) {
                Some(h) => h,
                None => return Ok(false),
            }
        } else if c.scheme.eq_ignore_ascii_case("bearer") {
            format!("Bearer {}", self.token(c)?)
        } else {
            return Ok(false);
        };
        if let Ok(mut a) = self.authorization.lock() {
            *a = Some(header);
        }
        Ok(true)
    }

    /// A pull token from the challenge's realm (distribution's token spec;
    /// an identity token is exchanged with the OAuth2 refresh-token grant).
    fn token(&self, c: &Challenge) -> Result<String, RegistryError> {
        let registry = || self.reference.registry.clone();
        let realm = c.param("realm").ok_or_else(|| RegistryError::NoRealm {
            registry: registry(),
        })?;
        let scope = c
            .param("scope")
            .map(str::to_string)
            .unwrap_or_else(|| format!("repository:{}:pull", self.reference.repository));
        let service = c.param("service").unwrap_or("");
        let resp = match self.credential()? {
            Some(Credential::IdentityToken(t)) => {
                let form = format!(
                    "grant_type=refresh_token&client_id=archscan&service={}&scope={}&refresh_token={}",
                    auth::urlencode(service),
                    auth::urlencode(&scope),
                    auth::urlencode(t)
                );
                self.agent
                    .post(realm)
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .send(form.as_bytes())
            }
            cred => {
                let sep = if realm.contains('?') { '&' } else { '?' };
                let url = format!(
                    "{realm}{sep}service={}&scope={}",
                    auth::urlencode(service),
                    auth::urlencode(&scope)
                );
                let mut req = self.agent.get(&url);
                if let Some(h) = cred.and_then(Credential::basic_header) {
                    req = req.header("Authorization", h.as_str());
                }
                req.call()
            }
        };
        let mut resp = resp.map_err(|source| RegistryError::TokenTransport {
            registry: registry(),
            realm: realm.to_string(),
            source: Box::new(source),
        })?;
        let status = resp.status().as_u16();
        let body = resp
            .body_mut()
            .with_config()
            .limit(1 << 20)
            .read_to_string()
            .unwrap_or_default();
        if !(200..300).contains(&status) {
            return Err(self.refused(status, format!("token service {realm}"), &body, true));
        }
        let v: Value = serde_json::from_str(&body).map_err(|source| RegistryError::TokenJson {
            registry: registry(),
            realm: realm.to_string(),
            source,
        })?;
        v.get("token")
            .or_else(|| v.get("access_token"))
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .ok_or_else(|| RegistryError::NoToken {
                registry: registry(),
                realm: realm.to_string(),
            })
    }

    /// Fetches a manifest (by tag or digest): its bytes and media type,
    /// verified against the digest asked for.
    pub fn manifest(
        &self,
        reference: &str,
        limit: usize,
    ) -> Result<(Vec<u8>, String), RegistryError> {
        let accept = MANIFEST_TYPES.join(", ");
        let what = || format!("manifest {reference}");
        let mut resp = self.get(&format!("manifests/{reference}"), &[("Accept", accept)])?;
        let status = resp.status().as_u16();
        let body = read_limited(&mut resp, limit, self.place(), what())?;
        if status != 200 {
            let text = String::from_utf8_lossy(&body);
            return Err(self.refused(status, what(), &text, self.authorized()));
        }
        let content_type = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or("").trim().to_string())
            .unwrap_or_default();
        // The document's own mediaType wins over a generic content type.
        let declared = serde_json::from_slice::<Value>(&body).ok().and_then(|v| {
            v.get("mediaType")
                .and_then(Value::as_str)
                .map(str::to_string)
        });
        let media_type = match declared {
            Some(d) if MANIFEST_TYPES.contains(&d.as_str()) => d,
            _ => content_type,
        };
        if let Ok(want) = Digest::parse(reference) {
            let got = Digest::of(want.algorithm(), &body);
            if got != want {
                return Err(RegistryError::DigestMismatch {
                    place: self.place(),
                    what: what(),
                    got,
                });
            }
        }
        Ok((body, media_type))
    }

    /// Fetches a small blob (a config) into memory, verified.
    pub fn small_blob(&self, digest: &Digest, limit: usize) -> Result<Vec<u8>, RegistryError> {
        let what = || format!("blob {digest}");
        let mut resp = self.get(&format!("blobs/{digest}"), &[])?;
        let status = resp.status().as_u16();
        let body = read_limited(&mut resp, limit, self.place(), what())?;
        if status != 200 {
            return Err(self.refused(
                status,
                what(),
                &String::from_utf8_lossy(&body),
                self.authorized(),
            ));
        }
        let got = Digest::of(digest.algorithm(), &body);
        if &got != digest {
            return Err(RegistryError::DigestMismatch {
                place: self.place(),
                what: what(),
                got,
            });
        }
        Ok(body)
    }

    /// Opens a blob stream at `offset` (a `Range` request after the first).
    fn open_blob(&self, digest: &Digest, offset: u64) -> Result<(Body, bool), RegistryError> {
        let headers: Vec<(&str, String)> = if offset > 0 {
            vec![("Range", format!("bytes={offset}-"))]
        } else {
            Vec::new()
        };
        let mut resp = self.get(&format!("blobs/{digest}"), &headers)?;
        let status = resp.status().as_u16();
        if status == 200 || status == 206 {
            return Ok((resp.into_body(), status == 206));
        }
        let body =
            read_limited(&mut resp, 64 * 1024, self.place(), String::new()).unwrap_or_default();
        Err(self.refused(
            status,
            format!("blob {digest}"),
            &String::from_utf8_lossy(&body),
            self.authorized(),
        ))
    }
}

/// Most entries a tag list or catalog may hold (each is a few dozen bytes).
const LIST_MAX_ENTRIES: usize = 1_000_000;
/// Largest page of a tag list or catalog.
const LIST_PAGE_BYTES: usize = 64 << 20;

impl Registry {
    /// Every tag of the reference's repository (`GET /v2/<name>/tags/list`,
    /// page by page), sorted.
    pub fn tags(&self, page: usize) -> Result<Vec<String>, RegistryError> {
        let path = format!("{}/tags/list", self.reference.repository);
        self.list(&path, "tags", page)
    }

    /// Every repository the registry lists (`GET /v2/_catalog`, page by
    /// page), sorted. A registry that does not offer its catalog (Docker
    /// Hub, most hosted registries) is an error that says so.
    pub fn catalog(&self, page: usize) -> Result<Vec<String>, RegistryError> {
        self.list("_catalog", "repositories", page)
    }

    /// Pages through a list: the `Link: <…>; rel="next"` header when the
    /// registry sends one (the distribution spec), else `n`+`last` while
    /// pages come back full; a page that adds nothing new ends the walk.
    fn list(
        &self,
        path: &str,
        key: &'static str,
        page: usize,
    ) -> Result<Vec<String>, RegistryError> {
        let page = page.max(1);
        let (place, list) = self.list_place(path);
        let mut seen = std::collections::BTreeSet::new();
        let mut next = Some(format!("{path}?n={page}"));
        while let Some(rest) = next.take() {
            let what = || format!("{list}: GET /v2/{rest}");
            let mut resp = self.get_v2(&rest, &[])?;
            let status = resp.status().as_u16();
            let body = read_limited(&mut resp, LIST_PAGE_BYTES, place.clone(), what())?;
            if status != 200 {
                return Err(self.list_error(path, status, &String::from_utf8_lossy(&body)));
            }
            let v: Value =
                serde_json::from_slice(&body).map_err(|source| RegistryError::ListJson {
                    place: place.clone(),
                    what: what(),
                    source,
                })?;
            let shape = |problem| RegistryError::ListShape {
                place: place.clone(),
                what: what(),
                key,
                problem,
            };
            // `"tags": null` is a repository whose tags were all deleted.
            let items = match v.get(key) {
                None | Some(Value::Null) => Vec::new(),
                Some(Value::Array(a)) => a.clone(),
                Some(_) => return Err(shape("is not a list")),
            };
            let before = seen.len();
            let mut last = None;
            for item in &items {
                let Some(s) = item.as_str() else {
                    return Err(shape("holds a non-string"));
                };
                seen.insert(s.to_string());
                last = Some(s.to_string());
            }
            if seen.len() > LIST_MAX_ENTRIES {
                return Err(RegistryError::ListTooLong {
                    place,
                    what: list.to_string(),
                    max: LIST_MAX_ENTRIES,
                });
            }
            if seen.len() == before {
                break;
            }
            next = match link_next(resp.headers()) {
                Some(n) => Some(n),
                None if items.len() >= page => {
                    last.map(|l| format!("{path}?n={page}&last={}", auth::urlencode(&l)))
                }
                None => None,
            };
        }
        Ok(seen.into_iter().collect())
    }

    /// Where a list is, and what it is called: the registry's `catalog`,
    /// or the repository's `tag list`.
    fn list_place(&self, path: &str) -> (Place, &'static str) {
        if path == "_catalog" {
            let place = Place {
                registry: self.reference.registry.clone(),
                repository: None,
            };
            (place, "catalog")
        } else {
            (self.place(), "tag list")
        }
    }

    fn list_error(&self, path: &str, status: u16, body: &str) -> RegistryError {
        if path == "_catalog" && matches!(status, 401 | 403 | 404 | 405) {
            return RegistryError::NoCatalog {
                registry: self.reference.registry.clone(),
                status,
            };
        }
        if path == "_catalog" {
            let (place, _) = self.list_place(path);
            return status_error(place, status, "GET /v2/_catalog".into(), body, None);
        }
        self.refused(status, "tag list".into(), body, self.authorized())
    }
}

/// The `/v2/`-relative target of a `Link: <URL>; rel="next"` header (an
/// absolute URL keeps only its path and query: a page never moves the walk
/// to another host).
fn link_next(headers: &ureq::http::HeaderMap) -> Option<String> {
    for value in headers.get_all("link") {
        let Ok(v) = value.to_str() else { continue };
        for part in v.split(',') {
            let Some((target, params)) = part.trim().split_once(';') else {
                continue;
            };
            let next = params.split(';').any(|p| {
                let p = p.trim().replace(' ', "");
                p.eq_ignore_ascii_case("rel=\"next\"") || p.eq_ignore_ascii_case("rel=next")
            });
            let target = target.trim().trim_start_matches('<').trim_end_matches('>');
            if let Some(i) = target.find("/v2/").filter(|_| next) {
                return Some(target[i + 4..].to_string());
            }
        }
    }
    None
}

enum PingError {
    /// Could not talk to it this way (the next scheme may work).
    Transport(RegistryError),
    /// It answered, and said no.
    Fatal(RegistryError),
}

/// Reads a body of at most `limit` bytes (`what` was asked, at `place`).
fn read_limited(
    resp: &mut Response<Body>,
    limit: usize,
    place: Place,
    what: String,
) -> Result<Vec<u8>, RegistryError> {
    let mut out = Vec::new();
    let claimed = resp.body().content_length();
    let read = resp
        .body_mut()
        .as_reader()
        .take(limit as u64 + 1)
        .read_to_end(&mut out);
    if let Err(source) = read {
        return Err(RegistryError::Read {
            place,
            what,
            source,
        });
    }
    if out.len() > limit {
        return Err(RegistryError::TooBig {
            place,
            what,
            size: claimed.filter(|&c| c > limit as u64),
            cap: limit,
        });
    }
    Ok(out)
}

/// A blob as a stream: checked against its descriptor's size, hashed as it
/// passes, resumed with `Range` when the connection drops.
struct BlobReader<'a> {
    reg: &'a Registry,
    digest: &'a Digest,
    size: Option<u64>,
    pos: u64,
    body: Option<ureq::BodyReader<'static>>,
    hasher: Option<Hasher>,
    resumes: u32,
}

impl BlobReader<'_> {
    fn open(&mut self) -> io::Result<()> {
        let (body, partial) = self
            .reg
            .open_blob(self.digest, self.pos)
            .map_err(io::Error::other)?;
        if self.pos == 0 {
            let length = body.content_length();
            if let (Some(want), Some(got)) = (self.size, length) {
                if want != got {
                    return Err(io::Error::other(RegistryError::BlobLength {
                        digest: self.digest.clone(),
                        got,
                        want,
                    }));
                }
            }
        }
        let mut reader = body.into_reader();
        if self.pos > 0 && !partial {
            // The registry ignored the range: skip what was already read.
            let skipped = io::copy(&mut (&mut reader).take(self.pos), &mut io::sink())?;
            if skipped != self.pos {
                return Err(io::Error::other(RegistryError::BlobResumedShort {
                    digest: self.digest.clone(),
                }));
            }
        }
        self.body = Some(reader);
        Ok(())
    }

    fn finish(mut self) -> io::Result<()> {
        io::copy(&mut self, &mut io::sink())?;
        if let Some(want) = self.size {
            if self.pos != want {
                return Err(io::Error::other(RegistryError::BlobShort {
                    digest: self.digest.clone(),
                    got: self.pos,
                    want,
                }));
            }
        }
        let got = self.hasher.take().map(Hasher::finish);
        match got {
            Some(got) if &got != self.digest => Err(io::Error::other(RegistryError::BlobDigest {
                digest: self.digest.clone(),
                got,
            })),
            _ => Ok(()),
        }
    }
}

impl Read for BlobReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if self.body.is_none() {
                self.open()?;
            }
            let Some(body) = self.body.as_mut() else {
                return Ok(0);
            };
            match body.read(buf) {
                Ok(0) => {
                    if self.size.is_some_and(|s| self.pos < s) && self.resumes < RESUMES {
                        self.resumes += 1;
                        self.body = None;
                        continue;
                    }
                    return Ok(0);
                }
                Ok(n) => {
                    let next = self.pos + n as u64;
                    if let Some(s) = self.size {
                        if next > s {
                            return Err(io::Error::other(RegistryError::BlobLong {
                                digest: self.digest.clone(),
                                want: s,
                            }));
                        }
                    }
                    if let Some(h) = self.hasher.as_mut() {
                        h.update(&buf[..n]);
                    }
                    self.pos = next;
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    if self.resumes < RESUMES {
                        self.resumes += 1;
                        self.body = None;
                        std::thread::sleep(self.reg.backoff * self.resumes);
                        continue;
                    }
                    return Err(io::Error::other(RegistryError::BlobDropped {
                        digest: self.digest.clone(),
                        at: self.pos,
                        resumes: RESUMES,
                        source: e,
                    }));
                }
            }
        }
    }
}

/// What a member of the virtual layout is, learnt from the descriptors seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Manifest,
    Blob,
    /// A layer its registry does not serve.
    Foreign,
}

/// A registry repository as the members of an OCI layout.
pub struct RegistryBlobs {
    reg: Registry,
    index_json: Vec<u8>,
    known: Mutex<HashMap<String, (Kind, Option<u64>)>>,
    cache: Mutex<HashMap<String, Vec<u8>>>,
}

impl RegistryBlobs {
    /// Resolves the reference to its top index or manifest.
    pub fn open(
        reference: &Reference,
        opts: &RemoteOptions,
        limits: &Limits,
    ) -> Result<(RegistryBlobs, Origin), RegistryError> {
        let reg = Registry::connect(reference, opts)?;
        let (body, media_type) = reg.manifest(reference.manifest_ref(), limits.json_bytes)?;
        if !MANIFEST_TYPES.contains(&media_type.as_str()) {
            return Err(RegistryError::MediaType {
                place: reg.place(),
                reference: reference.manifest_ref().to_string(),
                media_type,
                accepted: MANIFEST_TYPES,
            });
        }
        let digest = Digest::sha256_of(&body);
        let mut annotations = serde_json::Map::new();
        annotations.insert(
            "io.containerd.image.name".into(),
            Value::String(reference.to_string()),
        );
        if let Some(t) = &reference.tag {
            annotations.insert(
                "org.opencontainers.image.ref.name".into(),
                Value::String(t.clone()),
            );
        }
        let index = json!({
            "schemaVersion": 2,
            "mediaType": MT_OCI_INDEX,
            "manifests": [{
                "mediaType": media_type,
                "digest": digest.to_string(),
                "size": body.len(),
                "annotations": annotations,
            }],
        });
        let index_json =
            serde_json::to_vec(&index).map_err(|source| RegistryError::Synthesize {
                place: reg.place(),
                source,
            })?;
        let origin = Origin {
            kind: "registry".into(),
            reference: reference.to_string(),
            digest: Some(digest.to_string()),
            endpoint: reg.base().to_string(),
        };
        let blobs = RegistryBlobs {
            reg,
            index_json,
            known: Mutex::new(HashMap::new()),
            cache: Mutex::new(HashMap::new()),
        };
        let member = digest.blob_path();
        blobs.learn(&body);
        if let Ok(mut c) = blobs.cache.lock() {
            c.insert(member, body);
        }
        Ok((blobs, origin))
    }

    /// Records what the descriptors of a fetched manifest or index point at.
    fn learn(&self, body: &[u8]) {
        let Ok(v) = serde_json::from_slice::<Value>(body) else {
            return;
        };
        let Ok(mut known) = self.known.lock() else {
            return;
        };
        let mut note = |d: &Value, kind: Kind| {
            let Some(digest) = d
                .get("digest")
                .and_then(Value::as_str)
                .and_then(|s| Digest::parse(s).ok())
            else {
                return;
            };
            let size = d.get("size").and_then(Value::as_u64);
            let media_type = d.get("mediaType").and_then(Value::as_str).unwrap_or("");
            // Foreign (non-distributable) layers are served by their vendor,
            // not the registry: absent, as from an archive of the image.
            let kind = if media_type.contains("foreign") || media_type.contains("nondistributable")
            {
                Kind::Foreign
            } else {
                kind
            };
            known.insert(digest.blob_path(), (kind, size));
        };
        if let Some(list) = v.get("manifests").and_then(Value::as_array) {
            for d in list {
                note(d, Kind::Manifest);
            }
        }
        if let Some(c) = v.get("config") {
            note(c, Kind::Blob);
        }
        if let Some(list) = v.get("layers").and_then(Value::as_array) {
            for d in list {
                note(d, Kind::Blob);
            }
        }
    }

    fn digest_of(name: &str) -> Option<Digest> {
        let rest = name.strip_prefix("blobs/")?;
        let (alg, hex) = rest.split_once('/')?;
        Digest::parse(&format!("{alg}:{hex}")).ok()
    }
}

impl BlobStore for RegistryBlobs {
    fn has(&self, name: &str) -> bool {
        if name == "index.json" || name == "oci-layout" {
            return true;
        }
        let foreign = self
            .known
            .lock()
            .ok()
            .and_then(|k| k.get(name).map(|k| k.0 == Kind::Foreign))
            .unwrap_or(false);
        !foreign && Self::digest_of(name).is_some()
    }

    fn member_size(&self, name: &str) -> Option<u64> {
        self.known.lock().ok()?.get(name).and_then(|k| k.1)
    }

    fn read_small(&self, name: &str, limits: &Limits) -> Result<Option<Vec<u8>>, String> {
        match name {
            "index.json" => return Ok(Some(self.index_json.clone())),
            "oci-layout" => return Ok(Some(br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec())),
            _ => {}
        }
        let Some(digest) = Self::digest_of(name) else {
            return Ok(None);
        };
        if let Some(b) = self.cache.lock().ok().and_then(|c| c.get(name).cloned()) {
            return Ok(Some(b));
        }
        let kind = self
            .known
            .lock()
            .ok()
            .and_then(|k| k.get(name).map(|k| k.0));
        let body = match kind {
            Some(Kind::Manifest) => {
                let (body, _) = self
                    .reg
                    .manifest(&digest.to_string(), limits.json_bytes)
                    .map_err(|e| e.to_string())?;
                self.learn(&body);
                body
            }
            _ => self
                .reg
                .small_blob(&digest, limits.json_bytes)
                .map_err(|e| e.to_string())?,
        };
        if let Ok(mut c) = self.cache.lock() {
            c.insert(name.to_string(), body.clone());
        }
        Ok(Some(body))
    }

    fn scan_layer(
        &self,
        name: &str,
        limits: &Limits,
        meter: &crate::meter::Meter,
        _hashing: Hashing,
    ) -> Result<Option<Arc<LayerIndex>>, String> {
        let Some(digest) = Self::digest_of(name) else {
            return Ok(None);
        };
        let size = self.member_size(name);
        let mut reader = BlobReader {
            reg: &self.reg,
            digest: &digest,
            size,
            pos: 0,
            body: None,
            hasher: Some(Hasher::new(digest.algorithm())),
            resumes: 0,
        };
        // Every blob is hashed here, as it passes: the scan need not.
        let index = scan::scan_stream(&mut reader, limits, meter, Hashing::Never)
            .map_err(|e| e.to_string())?;
        reader.finish().map_err(|e| e.to_string())?;
        Ok(Some(Arc::new(index)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_proxy_lists() {
        assert!(no_proxy_matches("*", "a.example"));
        assert!(no_proxy_matches("example.com", "example.com"));
        assert!(no_proxy_matches("example.com", "r.example.com"));
        assert!(no_proxy_matches(".example.com", "r.example.com"));
        assert!(no_proxy_matches("a, b.example:5000 ,c", "b.example"));
        assert!(no_proxy_matches("::1", "[::1]"));
        assert!(!no_proxy_matches("example.com", "notexample.com"));
        assert!(!no_proxy_matches("", "a"));
    }

    #[test]
    fn link_headers_give_the_next_page() {
        let mut h = ureq::http::HeaderMap::new();
        assert_eq!(link_next(&h), None);
        h.insert(
            "link",
            "</v2/_catalog?last=b&n=2>; rel=\"next\"".parse().unwrap(),
        );
        assert_eq!(link_next(&h).as_deref(), Some("_catalog?last=b&n=2"));
        h.insert(
            "link",
            "<https://r.example/v2/o/a/tags/list?n=1&last=x>; rel=next"
                .parse()
                .unwrap(),
        );
        assert_eq!(link_next(&h).as_deref(), Some("o/a/tags/list?n=1&last=x"));
        h.insert("link", "</v2/x>; rel=\"prev\"".parse().unwrap());
        assert_eq!(link_next(&h), None);
    }

    // A manifest over the JSON cap is a typed cap, with the size its
    // Content-Length claimed when the registry sent one.
    #[test]
    fn a_json_answer_over_its_cap_is_exceeded() {
        use crate::limits::Exceeded;
        let place = Place {
            registry: "r.example".into(),
            repository: Some("o/app".into()),
        };
        let mut claimed = Response::new(Body::builder().data(vec![b' '; 100]));
        let e = read_limited(&mut claimed, 10, place.clone(), "manifest 1".into()).unwrap_err();
        assert_eq!(
            e.exceeded(),
            Some(Exceeded::JsonBytes { size: 100, cap: 10 })
        );
        assert_eq!(
            e.to_string(),
            "registry r.example, repository o/app: manifest 1: the response is over the 10-byte limit for a JSON document"
        );
        let stream = Body::builder().reader(io::Cursor::new(vec![b' '; 100]));
        let e =
            read_limited(&mut Response::new(stream), 10, place.clone(), "x".into()).unwrap_err();
        assert_eq!(
            e.exceeded(),
            Some(Exceeded::JsonBytes { size: 11, cap: 10 })
        );
        let mut small = Response::new(Body::builder().data(&b"{}"[..]));
        assert_eq!(
            read_limited(&mut small, 10, place, "x".into()).unwrap(),
            b"{}"
        );
    }

    #[test]
    fn status_errors_name_registry_repository_and_status() {
        let place = Place {
            registry: "r.example".into(),
            repository: Some("o/app".into()),
        };
        let e = status_error(
            place,
            404,
            "manifest 1".into(),
            r#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}"#,
            None,
        );
        assert_eq!(
            e.to_string(),
            "registry r.example, repository o/app: manifest 1: HTTP 404: not found (manifest unknown)"
        );
    }
}
