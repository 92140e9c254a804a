//! The command line: clap types, turned into plain [`ScanOptions`] and
//! [`ExitPolicy`] values that never carry clap into the library. Also the two
//! helper words `completions SHELL` and `man`, which print what packagers
//! install from this same definition.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use archscan::limits::Limits;
use archscan::platform::Platform;
use archscan::report::{ExitPolicy, FailOn};
use archscan::ScanOptions;

/// `0.1.0 (abc1234)`: the crate version and the git revision it was built from
/// (`unknown` when built outside a git checkout).
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("ARCHSCAN_GIT_REV"),
    ")"
);

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// A report for people.
    Text,
    /// The JSON contract (an array when several inputs are given).
    Json,
    /// SARIF 2.1.0, for code-scanning dashboards.
    Sarif,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOnArg {
    /// Exit 1 when an image fails.
    Error,
    /// Exit 1 when an image fails or warns.
    Warning,
    /// Never exit 1 (unreadable inputs still exit 2).
    Never,
}

const AFTER_LONG_HELP: &str = "\
Exit codes:
  0  no image has a verdict that --fail-on fails on
  1  an image's verdict is one --fail-on fails on:
       --fail-on error (default)   fail
       --fail-on warning           fail or warn
       --fail-on never             none
     with --fail-on-unknown, also unknown (nothing native was judged),
     whatever --fail-on says
  2  an input or image could not be read, or --image matched nothing
     (whatever --fail-on says)

Inputs without image metadata (an unpacked root filesystem directory, a flat
rootfs tarball, a single executable) declare no platform: they are judged by
what --entrypoint runs, else by most of their native files, and against
--platform when given.

`archscan rules` lists the rules and `archscan explain RULE` explains one.
`archscan completions SHELL` prints a completion script and `archscan man`
prints the man page. To scan a file literally named like one of these words,
write it as a path: `archscan ./man`.";

/// Find the real CPU architecture of a container image, from the bytes.
///
/// Reads `docker save` tarballs, OCI archives and OCI layout directories
/// offline, applies the layers, identifies every executable and shared object,
/// and says whether the image can run on its declared platform (and on the
/// deploy target given with --platform). Also reads an unpacked root
/// filesystem directory, a flat rootfs tarball, or a single executable file.
#[derive(Debug, Parser)]
#[command(
    name = "archscan",
    version = VERSION,
    about,
    long_about,
    after_long_help = AFTER_LONG_HELP,
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true,
    disable_help_subcommand = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Image archives (`docker save` output, oci-archive, also gzip/zstd/xz
    /// compressed), OCI layout directories, root filesystem directories or
    /// tarballs, single executables, or `-` for stdin.
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

    /// Do not judge native files whose image path matches this glob (e.g.
    /// '/opt/vendor/**'); what runs is always judged. Repeatable.
    #[arg(long, value_name = "GLOB")]
    pub ignore: Vec<String>,

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

    /// Which verdicts exit 1 (see "Exit codes" in --help).
    #[arg(long, value_enum, value_name = "LEVEL", default_value_t = FailOnArg::Error)]
    pub fail_on: FailOnArg,

    /// Also exit 1 when an image's verdict is unknown: nothing native was
    /// judged (no binaries, or none that runs).
    #[arg(long)]
    pub fail_on_unknown: bool,

    /// Verify the digest of every layer blob (by default only layers that are
    /// decompressed anyway are hashed; manifests and configs always are).
    #[arg(long)]
    pub verify: bool,

    /// Worker threads (default: one per core).
    #[arg(long, short, value_name = "N")]
    pub jobs: Option<usize>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) to stdout.
    Man,
    /// List every rule: id, default severity, what it catches.
    Rules,
    /// Explain a rule: why it fails at exec, how it is detected, how to fix it.
    Explain {
        /// A rule id, as `archscan rules` lists them (e.g. arch-mismatch).
        #[arg(value_name = "RULE")]
        rule: String,
    },
}

impl Cli {
    /// The library's options; `Err` names a bad `--ignore` glob.
    pub fn scan_options(&self) -> Result<ScanOptions, String> {
        let ignore = self
            .ignore
            .iter()
            .map(|g| {
                globset::Glob::new(g)
                    .map(|g| g.compile_matcher())
                    .map_err(|e| format!("--ignore {g}: {e}"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ScanOptions {
            target: self.platform.clone(),
            image: self.image.clone(),
            entrypoint: self.entrypoint.clone(),
            cmd: self.cmd.clone(),
            verify: self.verify,
            ignore,
            limits: Limits::default(),
            meter: Default::default(),
            progress: Default::default(),
        })
    }

    pub fn exit_policy(&self) -> ExitPolicy {
        ExitPolicy {
            fail_on: match self.fail_on {
                FailOnArg::Error => FailOn::Error,
                FailOnArg::Warning => FailOn::Warning,
                FailOnArg::Never => FailOn::Never,
            },
            fail_on_unknown: self.fail_on_unknown,
        }
    }
}

/// `archscan rules`: one line per rule, aligned.
pub fn rules_list() -> String {
    let defs = archscan::rules::DEFS;
    let width = defs.iter().map(|d| d.id.len()).max().unwrap_or(0);
    let mut out = String::new();
    for d in defs {
        out.push_str(&format!(
            "{:width$}  {:7}  {}\n",
            d.id,
            d.level.as_str(),
            d.summary
        ));
    }
    out.push_str("\n`archscan explain RULE` says why a rule's problem fails at exec, how it is detected and how to fix it.\n");
    out
}

/// The error for `explain` of an unknown rule, naming the nearest ids.
pub fn unknown_rule(rule: &str) -> String {
    let mut near: Vec<(usize, &str)> = archscan::rules::DEFS
        .iter()
        .map(|d| (edit_distance(rule, d.id), d.id))
        .collect();
    near.sort();
    let close: Vec<&str> = near
        .iter()
        .filter(|(d, id)| *d <= 3 || id.contains(rule))
        .map(|(_, id)| *id)
        .take(3)
        .collect();
    if close.is_empty() {
        format!("no rule named {rule:?}; `archscan rules` lists them")
    } else {
        format!(
            "no rule named {rule:?}; did you mean {}? (`archscan rules` lists them)",
            close.join(", ")
        )
    }
}

/// Levenshtein distance, for "did you mean".
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// The man page's RULES section (roff), from the rule definitions.
pub fn man_rules_section() -> String {
    let esc = |s: &str| s.replace('\\', "\\e").replace('-', "\\-");
    let mut out = String::from(".SH RULES\n");
    for d in archscan::rules::DEFS {
        out.push_str(&format!(
            ".TP\n\\fB{}\\fR ({})\n{}\n",
            esc(d.id),
            esc(d.severity),
            esc(d.fires_when)
        ));
    }
    out.push_str(".PP\n\\fBarchscan explain\\fR \\fIRULE\\fR explains one.\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn helper_words_do_not_take_over_inputs() {
        let c = Cli::try_parse_from(["archscan", "image.tar"]).unwrap();
        assert!(c.command.is_none());
        assert_eq!(c.inputs, ["image.tar"]);
        let c = Cli::try_parse_from(["archscan", "man"]).unwrap();
        assert!(matches!(c.command, Some(Command::Man)));
        let c = Cli::try_parse_from(["archscan", "./man"]).unwrap();
        assert_eq!(c.inputs, ["./man"]);
        // A second input named like a helper word is an input.
        let c = Cli::try_parse_from(["archscan", "a.tar", "man"]).unwrap();
        assert_eq!(c.inputs, ["a.tar", "man"]);
        assert!(Cli::try_parse_from(["archscan"]).is_err());
        let c = Cli::try_parse_from(["archscan", "explain", "arch-mismatch"]).unwrap();
        assert!(matches!(c.command, Some(Command::Explain { rule }) if rule == "arch-mismatch"));
    }

    #[test]
    fn unknown_rules_name_the_nearest() {
        assert!(unknown_rule("arch-missmatch").contains("did you mean arch-mismatch"));
        assert!(unknown_rule("zzz").contains("`archscan rules` lists them"));
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn every_rule_is_listed_and_in_the_man_page() {
        let list = rules_list();
        let man = man_rules_section();
        for d in archscan::rules::DEFS {
            assert!(list.contains(d.id), "{}", d.id);
            assert!(man.contains(&d.id.replace('-', "\\-")), "{}", d.id);
        }
    }
}
