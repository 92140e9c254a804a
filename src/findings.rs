//! The findings model shared by every stage that can find something: each
//! finding has a stable rule id (the JSON contract), a severity, evidence and a
//! fix hint.

use serde::Serialize;

/// A rule. `id()` is the stable string of the JSON and SARIF outputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Rule {
    ArchMismatch,
    ForeignBinary,
    ForeignOs,
    EntrypointMissing,
    NoEntrypoint,
    NoBinaries,
    PlatformDisagreement,
    TargetMismatch,
    ArchiveNote,
    DigestMismatch,
    MissingLoader,
    MissingLibrary,
    MissingInterpreter,
    CrlfShebang,
    NoShebang,
    NotExecutable,
    VariantMismatch,
    IsaLevel,
    LibcMismatch,
    SameBinaryAcrossPlatforms,
    DamagedFile,
}

pub const ALL_RULES: &[Rule] = &[
    Rule::ArchMismatch,
    Rule::ForeignBinary,
    Rule::ForeignOs,
    Rule::EntrypointMissing,
    Rule::NoEntrypoint,
    Rule::NoBinaries,
    Rule::PlatformDisagreement,
    Rule::TargetMismatch,
    Rule::ArchiveNote,
    Rule::DigestMismatch,
    Rule::MissingLoader,
    Rule::MissingLibrary,
    Rule::MissingInterpreter,
    Rule::CrlfShebang,
    Rule::NoShebang,
    Rule::NotExecutable,
    Rule::VariantMismatch,
    Rule::IsaLevel,
    Rule::LibcMismatch,
    Rule::SameBinaryAcrossPlatforms,
    Rule::DamagedFile,
];

impl Rule {
    pub fn id(self) -> &'static str {
        match self {
            Rule::ArchMismatch => "arch-mismatch",
            Rule::ForeignBinary => "foreign-binary",
            Rule::ForeignOs => "foreign-os",
            Rule::EntrypointMissing => "entrypoint-missing",
            Rule::NoEntrypoint => "no-entrypoint",
            Rule::NoBinaries => "no-binaries",
            Rule::PlatformDisagreement => "platform-disagreement",
            Rule::TargetMismatch => "target-mismatch",
            Rule::ArchiveNote => "archive-note",
            Rule::DigestMismatch => "digest-mismatch",
            Rule::MissingLoader => "missing-loader",
            Rule::MissingLibrary => "missing-library",
            Rule::MissingInterpreter => "missing-interpreter",
            Rule::CrlfShebang => "crlf-shebang",
            Rule::NoShebang => "no-shebang",
            Rule::NotExecutable => "not-executable",
            Rule::VariantMismatch => "variant-mismatch",
            Rule::IsaLevel => "isa-level",
            Rule::LibcMismatch => "libc-mismatch",
            Rule::SameBinaryAcrossPlatforms => "same-binary-across-platforms",
            Rule::DamagedFile => "damaged-file",
        }
    }

    /// One line on what the rule catches (SARIF rule metadata, `--help`).
    pub fn summary(self) -> &'static str {
        match self {
            Rule::ArchMismatch => "What the container runs is native code of an architecture the image's platform cannot run",
            Rule::ForeignBinary => "A native file is built for an architecture the image's platform cannot run",
            Rule::ForeignOs => "A Mach-O, PE, or non-Linux ELF file in a Linux image",
            Rule::EntrypointMissing => "The entrypoint does not exist in the image's filesystem",
            Rule::NoEntrypoint => "The image has neither Entrypoint nor Cmd",
            Rule::NoBinaries => "The image has no native code to judge",
            Rule::PlatformDisagreement => "An index advertises a platform that the image's config and binaries do not match",
            Rule::TargetMismatch => "What the container runs cannot exec on the deploy target platform",
            Rule::ArchiveNote => "Something in the archive was skipped or disagrees",
            Rule::DigestMismatch => "A blob's content does not match its digest",
            Rule::MissingLoader => "A dynamic ELF's loader (PT_INTERP) is absent from the image",
            Rule::MissingLibrary => "A shared library the program needs is absent or of another architecture",
            Rule::MissingInterpreter => "A script's #! interpreter is absent from the image",
            Rule::CrlfShebang => "A script's #! line ends in CR LF",
            Rule::NoShebang => "A text file without #! is used as a program",
            Rule::NotExecutable => "The entrypoint has no exec permission bit",
            Rule::VariantMismatch => "ARM code needs a newer CPU variant than the image declares",
            Rule::IsaLevel => "x86-64 code needs a newer ISA level than the target provides",
            Rule::LibcMismatch => "A glibc-built program in a musl image, or the reverse",
            Rule::SameBinaryAcrossPlatforms => "The same binary appears under manifests of different platforms",
            Rule::DamagedFile => "An executable's headers point past its end",
        }
    }
}

impl Serialize for Rule {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.id())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// One thing found, with its evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub rule: Rule,
    pub severity: Severity,
    /// Path inside the image, when the finding is about a file.
    pub path: Option<String>,
    /// 0-based index of the layer in the manifest's layer list.
    pub layer: Option<usize>,
    pub layer_digest: Option<String>,
    pub message: String,
    pub hint: Option<String>,
    /// The Dockerfile step that made the layer (`created_by` in the history).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
}

impl Finding {
    pub fn new(rule: Rule, severity: Severity, message: impl Into<String>) -> Finding {
        Finding {
            rule,
            severity,
            path: None,
            layer: None,
            layer_digest: None,
            message: message.into(),
            hint: None,
            created_by: None,
        }
    }

    pub fn path(mut self, path: impl Into<String>) -> Finding {
        self.path = Some(path.into());
        self
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Finding {
        self.hint = Some(hint.into());
        self
    }

    pub fn note(message: impl Into<String>) -> Finding {
        Finding::new(Rule::ArchiveNote, Severity::Info, message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_ids_are_unique_kebab_case() {
        let mut seen = std::collections::HashSet::new();
        for r in ALL_RULES {
            let id = r.id();
            assert!(seen.insert(id), "{id} twice");
            assert!(
                id.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'),
                "{id}"
            );
            assert!(!r.summary().is_empty());
        }
    }
}
