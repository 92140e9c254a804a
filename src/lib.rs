//! archscan: the real CPU architecture of a container image, from the bytes.
//!
//! The pipeline, one stage per module, run by [`pipeline`] for each input:
//!
//! 1. [`source`] opens the input (a mapped archive, an OCI layout directory,
//!    a one-way stream) on top of [`archive`], which reads bytes: the tar
//!    walk, the decoders, memory maps;
//! 2. [`image`] reads the manifests, indexes and configs into image plans;
//! 3. [`layers::scan`] reads every distinct layer once, in parallel (the
//!    [`scheduler`]), identifying executables while their bytes pass
//!    ([`identify`]);
//! 4. [`layers::merge`] applies each image's layers into one filesystem view;
//! 5. [`select`] decides which image `--platform` selects; [`judge`] resolves
//!    what runs and applies the [`rules`];
//! 6. [`report`] holds the one [`report::Report`] value every output format
//!    and the exit code are computed from.
//!
//! [`scan`] is the entry point; [`ScanOptions`] are its resolved options.

pub mod archive;
pub mod cache;
pub mod digest;
pub mod dockerfile;
pub mod escape;
pub mod findings;
pub mod fleet;
pub mod hosts;
pub mod identify;
pub mod image;
pub mod judge;
pub mod layers;
pub mod limits;
pub mod meter;
pub mod paths;
pub mod pipeline;
pub mod platform;
pub mod progress;
pub mod remote;
pub mod report;
pub mod rules;
pub mod scheduler;
pub mod select;
pub mod source;
pub mod suggest;

pub use pipeline::{scan, scan_os};

use limits::Limits;
use platform::Platform;

/// Resolved options of one run (the command line, turned into values).
#[derive(Debug, Clone, Default)]
pub struct ScanOptions {
    /// The deploy target (`--platform`, or the platform `--host` implies).
    pub target: Option<Platform>,
    /// The host's facts (`--host`, `--page-size`): page size, AArch32.
    pub host: Option<hosts::HostFacts>,
    /// Runs as this user instead of the config's `User` (`--user UID[:GID]`,
    /// as Kubernetes `runAsUser`/`runAsGroup`).
    pub user: Option<String>,
    /// Judge only images whose name or a ref contains this (`--image`).
    pub image: Option<String>,
    /// Replaces the image's Entrypoint (as Kubernetes `command` does; Cmd is
    /// then dropped unless `cmd` is given).
    pub entrypoint: Option<Vec<String>>,
    /// Replaces the image's Cmd (Kubernetes `args`).
    pub cmd: Option<Vec<String>>,
    /// Hash every layer blob, not only the ones decoded anyway.
    pub verify: bool,
    /// Native files matching these globs are not judged (`--ignore`); the
    /// entrypoint always is.
    pub ignore: Vec<globset::GlobMatcher>,
    /// Findings suppressed by rule, and optionally by path (`--ignore-rule`);
    /// they are counted in the report.
    pub ignore_rules: Vec<RuleFilter>,
    /// Judge an input that holds no image as a root filesystem even when it
    /// does not look like one (`--rootfs`).
    pub rootfs: bool,
    pub limits: Limits,
    /// The memory the run's layer indexes hold, against the caps of `limits`
    /// (shared by every input of the run).
    pub meter: meter::Meter,
    /// Where progress is reported (nowhere by default).
    pub progress: progress::Reporter,
    /// Images by name: lookup order, `--offline`, registry TLS.
    pub remote: remote::RemoteOptions,
    /// The run-wide layer cache shared by every input (a layer blob several
    /// inputs share is read once); `None` scans each input on its own.
    pub cache: Option<std::sync::Arc<cache::LayerCache>>,
}

/// One `--ignore-rule RULE[:GLOB]`: the findings of `rule` (whose image path
/// matches `glob`, when given) are dropped from the verdict and counted.
#[derive(Debug, Clone)]
pub struct RuleFilter {
    pub rule: rules::Rule,
    pub glob: Option<globset::GlobMatcher>,
    /// As the user wrote it, for the count in the report.
    pub spec: String,
}

impl RuleFilter {
    /// Parses `RULE` or `RULE:GLOB`; `Err` names the nearest rule ids or the
    /// bad glob.
    pub fn parse(spec: &str) -> Result<RuleFilter, String> {
        let (id, glob) = match spec.split_once(':') {
            Some((id, g)) => (id, Some(g)),
            None => (spec, None),
        };
        let rule = rules::Rule::from_id(id).ok_or_else(|| rules::unknown_rule(id))?;
        let glob = match glob {
            Some(g) => Some(
                globset::Glob::new(g)
                    .map(|g| g.compile_matcher())
                    .map_err(|e| format!("bad glob {g:?}: {e}"))?,
            ),
            None => None,
        };
        Ok(RuleFilter {
            rule,
            glob,
            spec: spec.to_string(),
        })
    }

    /// Does this filter suppress `f`?
    pub fn matches(&self, f: &findings::Finding) -> bool {
        f.rule == self.rule
            && match (&self.glob, &f.path) {
                (None, _) => true,
                (Some(g), Some(p)) => g.is_match(p),
                (Some(_), None) => false,
            }
    }
}
