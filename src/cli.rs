//! The command line: clap types, turned into plain [`ScanOptions`] values that
//! never carry clap into the library.

use std::path::PathBuf;

use clap::{Parser, ValueEnum};

use archscan::limits::Limits;
use archscan::platform::Platform;
use archscan::ScanOptions;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// Find the real CPU architecture of a container image, from the bytes.
///
/// Reads `docker save` tarballs, OCI archives and OCI layout directories
/// offline, applies the layers, identifies every executable and shared object,
/// and says whether the image can run on its declared platform (and on the
/// deploy target given with --platform).
///
/// Exit codes: 0 every image is consistent (ok, warn or unknown), 1 an image
/// fails (something will not exec), 2 an input or image could not be read.
#[derive(Debug, Parser)]
#[command(name = "archscan", version, about, long_about)]
pub struct Cli {
    /// Image archives (`docker save` output, oci-archive, also gzip/zstd/xz
    /// compressed), OCI layout directories, or `-` for stdin.
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<String>,

    /// The platform the image will be deployed to, e.g. linux/amd64 (App
    /// Runner, x86 Fargate) or linux/arm64 (Graviton).
    #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
    pub platform: Option<Platform>,

    /// Only judge images whose name or a tag contains this.
    #[arg(long, value_name = "NAME")]
    pub image: Option<String>,

    /// Judge this command instead of the image's Entrypoint (as Kubernetes
    /// `command`); repeat for several words.
    #[arg(long, value_name = "WORD", num_args = 1.., allow_hyphen_values = true)]
    pub entrypoint: Option<Vec<String>>,

    /// Judge these arguments instead of the image's Cmd (as Kubernetes `args`).
    #[arg(long, value_name = "WORD", num_args = 1.., allow_hyphen_values = true)]
    pub cmd: Option<Vec<String>>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,

    /// Write the report to FILE instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Print only the verdict line.
    #[arg(long, short, conflicts_with = "verbose")]
    pub quiet: bool,

    /// List every native file and every finding.
    #[arg(long, short)]
    pub verbose: bool,

    /// Colour in the text report (auto: only on a terminal, never with NO_COLOR).
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    /// Verify the digest of every layer blob (by default only layers that are
    /// decompressed anyway are hashed; manifests and configs always are).
    #[arg(long)]
    pub verify: bool,

    /// Do not judge native files matching this glob (e.g. '/opt/sdk/**');
    /// repeatable. What the image runs is always judged; ignored files are
    /// counted in the report.
    #[arg(long, value_name = "GLOB", value_parser = parse_glob)]
    pub ignore: Vec<globset::GlobMatcher>,

    /// Worker threads (default: one per core).
    #[arg(long, short, value_name = "N")]
    pub jobs: Option<usize>,
}

impl Cli {
    pub fn scan_options(&self) -> ScanOptions {
        ScanOptions {
            target: self.platform.clone(),
            image: self.image.clone(),
            entrypoint: self.entrypoint.clone(),
            cmd: self.cmd.clone(),
            verify: self.verify,
            ignore: self.ignore.clone(),
            limits: Limits::default(),
        }
    }
}

fn parse_glob(s: &str) -> Result<globset::GlobMatcher, String> {
    globset::GlobBuilder::new(s)
        .literal_separator(true)
        .build()
        .map(|g| g.compile_matcher())
        .map_err(|e| e.to_string())
}
