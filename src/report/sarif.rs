//! The SARIF 2.1.0 renderer, for code-scanning dashboards (GitHub code
//! scanning, GitLab, Azure DevOps): one run whose driver lists every rule of
//! [`crate::rules::DEFS`] and whose results are the findings of every image of every
//! input. A result's physical location is the file's path inside the image
//! (a relative URI) — or, with `--dockerfile`, the line of the Dockerfile
//! instruction that made its layer, so code scanning shows it on that `COPY`
//! or `RUN` —, its logical location names the image and the layer, and its
//! properties carry the evidence (layer, layer digest, image, platform). Each
//! rule has a `helpUri` to its section of `docs/rules.md`.
//!
//! The SARIF objects are small serde structs written here rather than a SARIF
//! types crate: archscan needs a dozen of the format's objects, and the
//! rendered document is checked against the OASIS schema in the tests.

use serde::Serialize;
use sha2::{Digest as _, Sha256};

use super::{ImageReport, Report};
use crate::findings::{Finding, Severity};
use crate::rules::RuleDef;

const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// The tool's identity as the driver reports it.
#[derive(Debug, Clone)]
pub struct ToolInfo {
    pub version: String,
    /// Where users read about the tool (omitted when empty).
    pub information_uri: Option<String>,
    /// The Dockerfile findings are located in (`--dockerfile`).
    pub dockerfile: Option<DockerfileRef>,
}

/// A Dockerfile of the repository, and how SARIF names it.
#[derive(Debug, Clone)]
pub struct DockerfileRef {
    /// As given on the command line (a path relative to the repository root
    /// is what code scanning can show).
    pub path: String,
    pub file: crate::dockerfile::Dockerfile,
}

impl Default for ToolInfo {
    fn default() -> Self {
        ToolInfo {
            version: env!("CARGO_PKG_VERSION").to_string(),
            information_uri: Some(crate::rules::repository().to_string()),
            dockerfile: None,
        }
    }
}

#[derive(Serialize)]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'a str,
    version: &'a str,
    runs: Vec<Run>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run {
    tool: Tool,
    invocations: Vec<Invocation>,
    results: Vec<SarifResult>,
    column_kind: &'static str,
}

#[derive(Serialize)]
struct Tool {
    driver: Driver,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver {
    name: &'static str,
    version: String,
    semantic_version: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    information_uri: Option<String>,
    rules: Vec<RuleDescriptor>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RuleDescriptor {
    id: &'static str,
    name: String,
    short_description: Text,
    full_description: Text,
    help_uri: String,
    help: Text,
    default_configuration: Configuration,
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

#[derive(Serialize)]
struct Text {
    text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    markdown: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Invocation {
    execution_successful: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_execution_notifications: Vec<Notification>,
}

#[derive(Serialize)]
struct Notification {
    level: &'static str,
    message: Text,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult {
    rule_id: &'static str,
    rule_index: usize,
    level: &'static str,
    message: Text,
    locations: Vec<Location>,
    partial_fingerprints: serde_json::Map<String, serde_json::Value>,
    properties: serde_json::Map<String, serde_json::Value>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    #[serde(skip_serializing_if = "Option::is_none")]
    physical_location: Option<PhysicalLocation>,
    logical_locations: Vec<LogicalLocation>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<Region>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: usize,
}

#[derive(Serialize)]
struct ArtifactLocation {
    uri: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LogicalLocation {
    name: String,
    fully_qualified_name: String,
    kind: &'static str,
}

/// SARIF `level` of a finding's severity.
fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// `arch-mismatch` → `ArchMismatch` (SARIF's `name` is an identifier).
fn pascal(id: &str) -> String {
    id.split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

fn rule_descriptor(d: &RuleDef) -> RuleDescriptor {
    RuleDescriptor {
        id: d.id,
        name: pascal(d.id),
        short_description: Text {
            text: d.summary.to_string(),
            markdown: None,
        },
        full_description: Text {
            text: format!("{}. {}", d.summary, d.why),
            markdown: None,
        },
        help_uri: d.help_uri(),
        help: Text {
            text: d.help_text(),
            markdown: Some(d.help_markdown()),
        },
        default_configuration: Configuration {
            level: level(d.level),
        },
    }
}

/// A relative URI for a path: no leading `/`, each byte outside the URI
/// unreserved set (and `/`) percent-encoded.
pub fn relative_uri(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for &b in path.trim_start_matches('/').as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The artifact URI of an input file: relative as given, `file://` when
/// absolute, none for stdin.
fn input_uri(path: &str) -> Option<String> {
    if path == "-" || path.is_empty() {
        None
    } else if path.starts_with('/') {
        Some(format!("file:///{}", relative_uri(path)))
    } else {
        Some(relative_uri(path.trim_start_matches("./")))
    }
}

/// How an image is named in logical locations and properties: its name, and
/// for an image of a multi-platform index the platform the index gives it
/// (`app:1.2 [linux/arm64]`, as the text report writes it).
fn image_name(report: &Report, img: &ImageReport) -> String {
    let name = img
        .name
        .clone()
        .or_else(|| img.refs.first().cloned())
        .or_else(|| img.manifest_digest.clone())
        .or_else(|| img.config_digest.clone())
        .unwrap_or_else(|| report.source.path.clone());
    match &img.index_platform {
        Some(p) => format!("{name} [{p}]"),
        None => name,
    }
}

fn result(
    report: &Report,
    img: Option<&ImageReport>,
    f: &Finding,
    dockerfile: Option<&DockerfileRef>,
) -> SarifResult {
    let image = img.map(|i| image_name(report, i));
    let uri = match &f.path {
        Some(p) => Some(relative_uri(p)).filter(|u| !u.is_empty()),
        None => input_uri(&report.source.path),
    };
    // The Dockerfile line that made the finding's layer, when exactly one
    // instruction matches its history step.
    let in_dockerfile = dockerfile.and_then(|d| {
        let line = d.file.locate(f.created_by.as_deref()?)?;
        Some(PhysicalLocation {
            artifact_location: ArtifactLocation {
                uri: input_uri(&d.path)?,
            },
            region: Some(Region { start_line: line }),
        })
    });
    let mut text = f.message.clone();
    if let Some(h) = &f.hint {
        text.push_str("\nFix: ");
        text.push_str(h);
    }
    let mut fingerprints = serde_json::Map::new();
    fingerprints.insert(
        "archscan/v1".into(),
        fingerprint(f, image.as_deref()).into(),
    );
    SarifResult {
        rule_id: f.rule.id(),
        rule_index: f.rule as usize,
        level: level(f.severity),
        message: Text {
            text,
            markdown: None,
        },
        locations: vec![Location {
            physical_location: in_dockerfile.or_else(|| {
                uri.map(|uri| PhysicalLocation {
                    artifact_location: ArtifactLocation { uri },
                    region: None,
                })
            }),
            logical_locations: vec![logical_location(report, image.as_deref(), f)],
        }],
        partial_fingerprints: fingerprints,
        properties: properties(report, img, image.as_deref(), f),
    }
}

/// Where a finding is inside the image: the image, the layer, the path.
fn logical_location(report: &Report, image: Option<&str>, f: &Finding) -> LogicalLocation {
    let mut fqn = image.map_or_else(|| report.source.path.clone(), str::to_string);
    if let Some(l) = f.layer {
        fqn.push_str(&format!("//layer {l}"));
    }
    if let Some(p) = &f.path {
        if f.layer.is_none() {
            fqn.push('/');
        }
        fqn.push_str(p);
    }
    LogicalLocation {
        name: f
            .path
            .as_deref()
            .map(crate::paths::file_name)
            .filter(|n| !n.is_empty())
            .map(str::to_string)
            .or_else(|| image.map(str::to_string))
            .unwrap_or_else(|| report.source.path.clone()),
        fully_qualified_name: fqn,
        kind: if f.path.is_some() { "object" } else { "module" },
    }
}

/// The evidence, as result properties (absent values left out).
fn properties(
    report: &Report,
    img: Option<&ImageReport>,
    image: Option<&str>,
    f: &Finding,
) -> serde_json::Map<String, serde_json::Value> {
    let mut props = serde_json::Map::new();
    let mut put = |k: &str, v: serde_json::Value| {
        if !v.is_null() {
            props.insert(k.to_string(), v);
        }
    };
    put("input", report.source.path.clone().into());
    put("image", image.map(str::to_string).into());
    put("layer", f.layer.into());
    put("layer_digest", f.layer_digest.clone().into());
    put("path", f.path.clone().into());
    put(
        "platform",
        img.and_then(|i| i.real_platform.as_ref())
            .map(|p| p.to_string())
            .into(),
    );
    put(
        "declared_platform",
        img.and_then(|i| i.declared.as_ref())
            .and_then(|d| d.platform.as_ref())
            .map(|p| p.to_string())
            .into(),
    );
    put(
        "target",
        report.target.as_ref().map(|p| p.to_string()).into(),
    );
    put("created_by", f.created_by.clone().into());
    put("hint", f.hint.clone().into());
    props
}

/// Stable across rebuilds of the same image (no digests): lets a dashboard
/// tell a known alert from a new one.
fn fingerprint(f: &Finding, image: Option<&str>) -> String {
    let mut h = Sha256::new();
    for part in [
        f.rule.id(),
        image.unwrap_or(""),
        f.path.as_deref().unwrap_or(""),
    ] {
        h.update(part.as_bytes());
        h.update([0u8]);
    }
    h.finalize()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Renders every report as one SARIF log, pretty-printed, one trailing newline.
pub fn render(reports: &[Report], tool: &ToolInfo) -> String {
    let mut results = Vec::new();
    let mut notifications = Vec::new();
    for r in reports {
        for f in &r.notes {
            results.push(result(r, None, f, tool.dockerfile.as_ref()));
        }
        for e in &r.errors {
            notifications.push(Notification {
                level: "error",
                message: Text {
                    text: e.clone(),
                    markdown: None,
                },
            });
        }
        for img in &r.images {
            for f in &img.findings {
                results.push(result(r, Some(img), f, tool.dockerfile.as_ref()));
            }
            if let Some(e) = &img.error {
                notifications.push(Notification {
                    level: "error",
                    message: Text {
                        text: e.clone(),
                        markdown: None,
                    },
                });
            }
        }
    }
    let log = Log {
        schema: SCHEMA_URI,
        version: "2.1.0",
        runs: vec![Run {
            tool: Tool {
                driver: Driver {
                    name: "archscan",
                    version: tool.version.clone(),
                    semantic_version: env!("CARGO_PKG_VERSION").to_string(),
                    information_uri: tool.information_uri.clone(),
                    rules: crate::rules::DEFS.iter().map(rule_descriptor).collect(),
                },
            },
            invocations: vec![Invocation {
                execution_successful: notifications.is_empty(),
                tool_execution_notifications: notifications,
            }],
            results,
            column_kind: "unicodeCodePoints",
        }],
    };
    let mut out = crate::escape::to_json_pretty(&log)
        .unwrap_or_else(|e| format!("{{\"error\": \"cannot serialise the report: {e}\"}}"));
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_relative_and_encoded() {
        assert_eq!(relative_uri("/usr/bin/x"), "usr/bin/x");
        assert_eq!(relative_uri("/opt/my app/ß"), "opt/my%20app/%C3%9F");
        assert_eq!(relative_uri("/a%b#c?d"), "a%25b%23c%3Fd");
        assert_eq!(input_uri("./image.tar").as_deref(), Some("image.tar"));
        assert_eq!(
            input_uri("/tmp/i.tar").as_deref(),
            Some("file:///tmp/i.tar")
        );
        assert_eq!(input_uri("-"), None);
    }

    #[test]
    fn rule_names_are_identifiers() {
        assert_eq!(
            pascal("same-binary-across-platforms"),
            "SameBinaryAcrossPlatforms"
        );
        for r in crate::rules::Rule::all() {
            assert!(pascal(r.id()).chars().all(|c| c.is_ascii_alphanumeric()));
        }
    }
}
