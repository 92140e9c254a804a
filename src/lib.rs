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
pub mod digest;
pub mod findings;
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
pub mod report;
pub mod rules;
pub mod scheduler;
pub mod select;
pub mod source;

pub use pipeline::scan;

use limits::Limits;
use platform::Platform;

/// Resolved options of one run (the command line, turned into values).
#[derive(Debug, Clone, Default)]
pub struct ScanOptions {
    /// The deploy target (`--platform`).
    pub target: Option<Platform>,
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
    pub limits: Limits,
    /// The memory the run's layer indexes hold, against the caps of `limits`
    /// (shared by every input of the run).
    pub meter: meter::Meter,
    /// Where progress is reported (nowhere by default).
    pub progress: progress::Reporter,
}
