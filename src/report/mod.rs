//! The one `Report` value every output is rendered from, and the exit code
//! computed from it. Field names are the JSON contract (schema_version 2):
//! fields may be added, never renamed.

pub mod json;
pub mod sarif;
pub mod summary;
pub mod text;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::findings::{Finding, Severity};
pub use crate::judge::{BinaryReport, EntrypointReport};
use crate::platform::Platform;

pub const SCHEMA_VERSION: u32 = 2;

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub schema_version: u32,
    pub source: SourceInfo,
    /// The deploy target given with `--platform`.
    pub target: Option<Platform>,
    pub images: Vec<ImageReport>,
    /// Host platforms this input can serve: for each, a pull selects an image
    /// that runs there and does not fail.
    pub serves: Vec<Platform>,
    /// Notes about the archive as a whole.
    pub notes: Vec<Finding>,
    /// Inputs or images that could not be read (exit code 2).
    pub errors: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SourceInfo {
    pub path: String,
    pub format: String,
    pub compression: String,
    /// Where an image given by name came from (a registry or a local
    /// engine) and its digest; absent for files.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<crate::remote::Origin>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Ok,
    Unknown,
    Warn,
    Fail,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Ok => "ok",
            Verdict::Unknown => "unknown",
            Verdict::Warn => "warn",
            Verdict::Fail => "fail",
        }
    }

    /// The verdict the findings give: any error fails, any warning warns,
    /// nothing native judged is unknown.
    pub fn from_findings(findings: &[Finding], judged_native: bool) -> Verdict {
        match findings.iter().map(|f| f.severity).max() {
            Some(Severity::Error) => Verdict::Fail,
            Some(Severity::Warning) => Verdict::Warn,
            _ if !judged_native => Verdict::Unknown,
            _ => Verdict::Ok,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Declared {
    /// Normalised as containerd does.
    pub platform: Option<Platform>,
    /// The config's raw values.
    pub os: Option<String>,
    pub architecture: Option<String>,
    pub variant: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ImageReport {
    pub name: Option<String>,
    pub refs: Vec<String>,
    pub manifest_digest: Option<String>,
    pub config_digest: Option<String>,
    pub declared: Option<Declared>,
    pub index_platform: Option<Platform>,
    /// What the image really runs on: the platform of what runs, or of most
    /// native files.
    pub real_platform: Option<Platform>,
    /// Host platforms that can run what this image runs (empty when unknown).
    pub runs_on: Vec<Platform>,
    /// With `--host` (or `--page-size`, `--kernel`): whether the image runs
    /// on that host and the checks that decided; absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runs_on_host: Option<crate::judge::host::HostVerdict>,
    /// With `--platform`: whether this image is the one the target selects.
    pub selected_for_target: Option<bool>,
    pub entrypoint: Option<EntrypointReport>,
    pub platforms: BTreeMap<String, usize>,
    pub verdict: Verdict,
    pub findings: Vec<Finding>,
    /// Shared between the images of one input that have the same file in
    /// the same layer (see [`crate::judge::BinaryMemo`]); serialised as the
    /// report itself.
    pub binaries: Vec<std::sync::Arc<BinaryReport>>,
    /// Why the image could not be read (then nothing else is judged).
    pub error: Option<String>,
}

/// Which verdicts make the process exit 1 (`--fail-on`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FailOn {
    /// An image that fails (the default).
    #[default]
    Error,
    /// An image that fails or warns.
    Warning,
    /// No verdict (unreadable inputs still exit 2).
    Never,
}

/// How verdicts map to the exit code (`--fail-on`, `--fail-on-unknown`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ExitPolicy {
    pub fail_on: FailOn,
    /// Also exit 1 when an image's verdict is unknown (nothing native was
    /// judged), whatever `fail_on` says.
    pub fail_on_unknown: bool,
}

/// The exit code under a policy: 2 when anything could not be read; else 1
/// when an image's verdict is one the policy fails on; else 0.
///
/// | verdict   | error (default) | warning | never | + fail_on_unknown |
/// |-----------|-----------------|---------|-------|-------------------|
/// | fail      | 1               | 1       | 0     | as the column     |
/// | warn      | 0               | 1       | 0     | as the column     |
/// | unknown   | 0               | 0       | 0     | 1                 |
/// | ok        | 0               | 0       | 0     | 0                 |
/// | unreadable| 2               | 2       | 2     | 2                 |
pub fn exit_code_with(reports: &[Report], policy: &ExitPolicy) -> i32 {
    if reports
        .iter()
        .any(|r| !r.errors.is_empty() || r.images.iter().any(|i| i.error.is_some()))
    {
        return 2;
    }
    let fails = |v: Verdict| match v {
        Verdict::Fail => policy.fail_on != FailOn::Never,
        Verdict::Warn => policy.fail_on == FailOn::Warning,
        Verdict::Unknown => policy.fail_on_unknown,
        Verdict::Ok => false,
    };
    if reports
        .iter()
        .any(|r| r.images.iter().any(|i| fails(i.verdict)))
    {
        1
    } else {
        0
    }
}

impl Report {
    /// The report of the input shown as `path`, before anything is read: its
    /// format unknown, no image, no error.
    pub fn new(path: String, target: Option<Platform>) -> Report {
        Report {
            schema_version: SCHEMA_VERSION,
            source: SourceInfo {
                path,
                format: "unknown".into(),
                compression: "none".into(),
                origin: None,
            },
            target,
            images: Vec::new(),
            serves: Vec::new(),
            notes: Vec::new(),
            errors: Vec::new(),
        }
    }
}

impl ImageReport {
    /// A report with nothing judged yet: every field empty, verdict unknown.
    pub fn empty() -> ImageReport {
        ImageReport {
            name: None,
            refs: Vec::new(),
            manifest_digest: None,
            config_digest: None,
            declared: None,
            index_platform: None,
            real_platform: None,
            runs_on: Vec::new(),
            runs_on_host: None,
            selected_for_target: None,
            entrypoint: None,
            platforms: BTreeMap::new(),
            verdict: Verdict::Unknown,
            findings: Vec::new(),
            binaries: Vec::new(),
            error: None,
        }
    }
}

/// What the process exits with: 2 when anything could not be read, 1 when an
/// image fails, else 0 (the default [`ExitPolicy`]).
pub fn exit_code(reports: &[Report]) -> i32 {
    if reports
        .iter()
        .any(|r| !r.errors.is_empty() || r.images.iter().any(|i| i.error.is_some()))
    {
        2
    } else if reports
        .iter()
        .any(|r| r.images.iter().any(|i| i.verdict == Verdict::Fail))
    {
        1
    } else {
        0
    }
}
