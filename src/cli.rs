//! The command line: clap types, turned into plain [`ScanOptions`] and
//! [`ExitPolicy`] values that never carry clap into the library. Also the two
//! helper words `completions SHELL` and `man`, which print what packagers
//! install from this same definition.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};

use archscan::fleet::Shard;
use archscan::hosts::{self, HostFacts};
use archscan::limits::Limits;
use archscan::platform::Platform;
use archscan::remote::{Lookup, RemoteOptions};
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
    /// The JSON contract (schema 2: one document, `inputs[]`).
    Json,
    /// One JSON object per image (or per input error) per line.
    Jsonl,
    /// SARIF 2.1.0, for code-scanning dashboards.
    Sarif,
    /// The fleet summary as a Markdown table (PR comments,
    /// $GITHUB_STEP_SUMMARY).
    Markdown,
}

/// What `archscan summarize` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SummaryFormat {
    /// An aligned table for people.
    Text,
    /// A Markdown table (PR comments, $GITHUB_STEP_SUMMARY).
    Markdown,
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
  2  an input or image could not be read, an input holds no image, or
     --image matched nothing (whatever --fail-on says); also a usage
     mistake. The reason is always on stderr, one line each.

Inputs without image metadata (an unpacked root filesystem directory, a flat
rootfs tarball, a single executable) declare no platform: they are judged by
what --entrypoint runs, else by most of their native files, and against
--platform when given. A directory or tar is a root filesystem when it has
a .dockerenv or two of bin, sbin, usr, etc, lib, lib64 at its top (or with
--rootfs); anything else that holds no image exits 2.

An optional .archscan.toml in the working directory sets defaults: its keys
are the long options (platform = \"linux/amd64\", ignore-rule = [...]); an
option given on the command line replaces the file's value.

Fleets: --inputs-from FILE lists inputs (one per line, # comments);
--recursive DIR takes the archives and OCI layouts under DIR;
registry:HOST/REPO:* is every tag of a repository and registry:HOST/* every
tag of every repository of the registry's catalog (the only inputs besides
registry:REF and bare names that go online). With two inputs or more, a
summary table follows the per-image reports (--summary: the table alone;
--format markdown: as Markdown). --shard K/N judges one part of the sorted
list; `archscan summarize SHARD.jsonl...` joins the parts' JSONL into one
summary and exit code.

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
    /// tarballs, single executables, `-` for stdin; or image names (nginx:1.27,
    /// ghcr.io/o/app@sha256:…), looked up in the local engine, then the
    /// registry. Prefixes force a source: docker:REF, podman:REF,
    /// registry:REF, docker-archive:PATH, oci-archive:PATH, oci:DIR.
    /// registry:HOST/REPO:* is every tag of REPO, registry:HOST/* every tag
    /// of every repository the registry's catalog lists.
    #[arg(
        required_unless_present = "inputs_from",
        value_name = "INPUT",
        value_parser = clap::value_parser!(OsString)
    )]
    pub inputs: Vec<OsString>,

    // --- fleets (issue 14) ---
    /// Also judge the inputs listed in FILE (`-`: stdin), one per line;
    /// blank lines and lines starting with # are skipped. They come after
    /// the command line's.
    #[arg(
        long,
        value_name = "FILE",
        value_parser = clap::value_parser!(OsString),
        value_hint = clap::ValueHint::FilePath
    )]
    pub inputs_from: Option<OsString>,

    /// A directory input stands for every image archive (.tar, .tgz,
    /// .tar.gz, .tar.zst, .tar.xz) and OCI layout under it, sorted; a layout
    /// is not descended into.
    #[arg(long, short = 'r')]
    pub recursive: bool,

    /// Print only the summary table (text), not each image's report.
    #[arg(long)]
    pub summary: bool,

    /// Judge only part K of N (0 <= K < N) of the expanded input list:
    /// sorted, duplicates dropped, input i goes to part i mod N. Join the
    /// parts' --format jsonl with `archscan summarize`.
    #[arg(long, value_name = "K/N", value_parser = Shard::parse, allow_hyphen_values = true)]
    pub shard: Option<Shard>,

    /// Entries asked for per page of a registry's tag list or catalog.
    #[arg(long, value_name = "N", default_value_t = 1000, hide = true, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub list_page_size: u64,
    // --- end of fleets ---
    /// The platform the image will be deployed to, e.g. linux/amd64 (App
    /// Runner, x86 Fargate) or linux/arm64 (Graviton); an architecture alone
    /// means linux/ARCH.
    #[arg(long, value_name = "OS/ARCH[/VARIANT]", value_parser = Platform::parse_target)]
    pub platform: Option<Platform>,

    // --- host profiles (issue 12) ---
    /// Judge against a named host (`archscan hosts` lists them): implies its
    /// platform (unless --platform is given) and adds its checks — kernel
    /// page size, 32-bit ARM support.
    #[arg(long, value_name = "NAME")]
    pub host: Option<String>,

    /// The host kernel's page size (completes or overrides --host's).
    #[arg(long, value_enum, value_name = "SIZE")]
    pub page_size: Option<PageSizeArg>,

    /// The host kernel's version, e.g. 5.10 (checked against the C
    /// library's ABI tag).
    #[arg(long, value_name = "X.Y", value_parser = parse_kernel)]
    pub kernel: Option<(u32, u32)>,
    // --- end of host profiles ---

    // --- users (issue 12) ---
    /// Judge as if the container runs as this user instead of the config's
    /// User: UID[:GID] as Kubernetes runAsUser/runAsGroup set it, or a name.
    #[arg(long, value_name = "UID[:GID]")]
    pub user: Option<String>,
    // --- end of users ---
    /// Only judge images whose name or a tag contains this.
    #[arg(long, value_name = "NAME")]
    pub image: Option<String>,

    /// Judge this command instead of the image's Entrypoint (as `docker run
    /// --entrypoint` and Kubernetes `command`): one word, or a JSON array of
    /// words ('["/bin/sh","-c"]'); the image's Cmd is then dropped.
    #[arg(long, value_name = "WORD|JSON", allow_hyphen_values = true)]
    pub entrypoint: Option<String>,

    /// Judge these arguments instead of the image's Cmd (as Kubernetes
    /// `args`): one word, or a JSON array of words ('["httpd","-f"]').
    #[arg(long, value_name = "WORD|JSON", allow_hyphen_values = true)]
    pub cmd: Option<String>,

    /// Do not judge native files whose image path matches this glob (e.g.
    /// '/opt/vendor/**'); what runs is always judged. Repeatable.
    #[arg(long, value_name = "GLOB")]
    pub ignore: Vec<String>,

    /// Suppress the findings of a rule, only for image paths matching GLOB
    /// when given (e.g. foreign-binary:/opt/sdk/**); they are counted in the
    /// report. Repeatable.
    #[arg(long, value_name = "RULE[:GLOB]")]
    pub ignore_rule: Vec<String>,

    /// Judge an input that holds no image as a root filesystem even when it
    /// does not look like one (no .dockerenv, fewer than two of bin, sbin,
    /// usr, etc, lib, lib64 at its top).
    #[arg(long)]
    pub rootfs: bool,

    /// With --format sarif: locate each finding on the line of this
    /// Dockerfile whose instruction made its layer.
    #[arg(long, value_name = "PATH")]
    pub dockerfile: Option<PathBuf>,

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

    /// Colour in the text report (auto: only on a terminal, never with
    /// NO_COLOR; always: whatever NO_COLOR says).
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

    /// Where an image given by name is looked up, in order: the local
    /// engine (Docker, then Podman), then its registry.
    #[arg(long, value_name = "LIST", default_value = "engine,registry")]
    pub source: String,

    /// Never use the network: image names are only looked up in the local
    /// engine, and registry: inputs fail.
    #[arg(long)]
    pub offline: bool,

    /// Reach this registry host[:port] over HTTPS without verifying its
    /// certificate, or plain HTTP (loopback registries always are).
    /// Repeatable.
    #[arg(long, value_name = "HOST")]
    pub insecure_registry: Vec<String>,

    /// Also trust the CA certificates in this PEM file for registries (a
    /// private mirror's CA). SSL_CERT_FILE replaces the system bundle.
    #[arg(long, value_name = "FILE")]
    pub ca_file: Option<PathBuf>,

    /// Give up on a registry that sends nothing for this many seconds (each
    /// attempt; busy registries are retried).
    #[arg(long, value_name = "SECONDS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: u64,
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
    /// List the host profiles `--host` knows, with each fact's source.
    Hosts,
    /// Explain a rule: why it fails at exec, how it is detected, how to fix it.
    Explain {
        /// A rule id, as `archscan rules` lists them (e.g. arch-mismatch).
        #[arg(value_name = "RULE")]
        rule: String,
    },
    /// Join the --format jsonl reports of several runs (the shards of a
    /// fleet) into one summary table and one exit code.
    Summarize {
        /// JSONL files written by `archscan --format jsonl` (`-`: stdin).
        #[arg(required = true, value_name = "FILE.jsonl")]
        files: Vec<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = SummaryFormat::Text)]
        format: SummaryFormat,
        /// Which verdicts exit 1 (as for a scan).
        #[arg(long, value_enum, value_name = "LEVEL", default_value_t = FailOnArg::Error)]
        fail_on: FailOnArg,
        /// Also exit 1 when an image's verdict is unknown.
        #[arg(long)]
        fail_on_unknown: bool,
        /// Colour in the text table.
        #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
        color: ColorChoice,
    },
}

impl Cli {
    /// The library's options; `Err` names a bad `--ignore` glob, an unknown
    /// `--ignore-rule` or a bad `--entrypoint`/`--cmd` JSON array.
    pub fn scan_options(&self) -> Result<ScanOptions, String> {
        let ignore_rules = self
            .ignore_rule
            .iter()
            .map(|r| archscan::RuleFilter::parse(r).map_err(|e| format!("--ignore-rule {r}: {e}")))
            .collect::<Result<Vec<_>, _>>()?;
        let entrypoint = self
            .entrypoint
            .as_deref()
            .map(|v| words("--entrypoint", v))
            .transpose()?;
        let cmd = self.cmd.as_deref().map(|v| words("--cmd", v)).transpose()?;
        let ignore = self
            .ignore
            .iter()
            .map(|g| {
                globset::Glob::new(g)
                    .map(|g| g.compile_matcher())
                    .map_err(|e| format!("--ignore {g}: {e}"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let (target, host) = self.host_options()?;
        Ok(ScanOptions {
            target,
            host,
            user: self.user.clone(),
            image: self.image.clone(),
            entrypoint,
            cmd,
            verify: self.verify,
            ignore,
            ignore_rules,
            rootfs: self.rootfs,
            limits: Limits::default(),
            meter: Default::default(),
            progress: Default::default(),
            cache: None,
            remote: RemoteOptions {
                order: Lookup::parse_list(&self.source)?,
                offline: self.offline,
                insecure_registries: self.insecure_registry.clone(),
                ca_file: self.ca_file.clone(),
                connect_timeout: Duration::from_secs(self.timeout.min(15)),
                response_timeout: Duration::from_secs(self.timeout),
                list_page: usize::try_from(self.list_page_size).unwrap_or(1000),
                ..RemoteOptions::default()
            },
        })
    }

    /// The target platform and the host's facts from --platform, --host and
    /// --page-size; `Err` names an unknown host and the nearest ones.
    fn host_options(&self) -> Result<(Option<Platform>, Option<HostFacts>), String> {
        let profile = match &self.host {
            Some(name) => Some(hosts::find(name).ok_or_else(|| unknown_host(name))?),
            None => None,
        };
        let page = self.page_size.map(PageSizeArg::bytes);
        let target = self
            .platform
            .clone()
            .or_else(|| profile.and_then(|p| Platform::parse(p.platform).ok()));
        let facts = (profile.is_some() || page.is_some() || self.kernel.is_some()).then(|| {
            let mut f = HostFacts::new(profile, page);
            f.kernel = self.kernel;
            f
        });
        Ok((target, facts))
    }

    pub fn exit_policy(&self) -> ExitPolicy {
        exit_policy(self.fail_on, self.fail_on_unknown)
    }
}

/// `--fail-on` and `--fail-on-unknown` as the library's policy.
pub fn exit_policy(fail_on: FailOnArg, fail_on_unknown: bool) -> ExitPolicy {
    ExitPolicy {
        fail_on: match fail_on {
            FailOnArg::Error => FailOn::Error,
            FailOnArg::Warning => FailOn::Warning,
            FailOnArg::Never => FailOn::Never,
        },
        fail_on_unknown,
    }
}

/// The words of an `--entrypoint` or `--cmd` value, as `docker run` reads
/// them: a value starting with `[` is a JSON array of strings, any other is
/// one word (an empty value clears it).
pub fn words(option: &str, value: &str) -> Result<Vec<String>, String> {
    if value.trim_start().starts_with('[') {
        serde_json::from_str::<Vec<String>>(value).map_err(|e| {
            format!("{option} {value}: not a JSON array of strings ({e}); write one word, or e.g. '[\"httpd\",\"-f\"]'")
        })
    } else if value.is_empty() {
        Ok(Vec::new())
    } else {
        Ok(vec![value.to_string()])
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

/// `--kernel X.Y` (a patch level is accepted and ignored).
fn parse_kernel(s: &str) -> Result<(u32, u32), String> {
    let mut it = s.split('.');
    let major = it.next().and_then(|v| v.parse().ok());
    let minor = it.next().and_then(|v| v.parse().ok());
    match (major, minor) {
        (Some(a), Some(b)) => Ok((a, b)),
        _ => Err(format!("{s}: expected a kernel version X.Y, e.g. 5.10")),
    }
}

/// A kernel page size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PageSizeArg {
    #[value(name = "4k")]
    K4,
    #[value(name = "16k")]
    K16,
    #[value(name = "64k")]
    K64,
}

impl PageSizeArg {
    fn bytes(self) -> u64 {
        match self {
            PageSizeArg::K4 => 4096,
            PageSizeArg::K16 => 16384,
            PageSizeArg::K64 => 65536,
        }
    }
}

/// `archscan hosts`: each profile, its facts and their sources.
pub fn hosts_list() -> String {
    let mut out = String::new();
    let shown = |v: Option<String>| v.unwrap_or_else(|| "unknown".to_string());
    for p in hosts::PROFILES {
        out.push_str(&format!(
            "{}  ({}) — {}
",
            p.name, p.platform, p.summary
        ));
        out.push_str(&format!(
            "    cpu        {}
                 source: {}
",
            shown(p.cpu.value.map(str::to_string)),
            p.cpu.source
        ));
        out.push_str(&format!(
            "    page size  {}
                 source: {}
",
            shown(p.page_size.value.map(|b| format!("{} KiB", b / 1024))),
            p.page_size.source
        ));
        out.push_str(&format!(
            "    32-bit ARM {}
                 source: {}
",
            shown(
                p.aarch32
                    .value
                    .map(|b| if b { "runs" } else { "does not run" }.to_string())
            ),
            p.aarch32.source
        ));
        out.push_str(&format!(
            "    in the CPU {}
                 source: {}
",
            shown(
                p.cpu_aarch32
                    .value
                    .map(|b| if b { "AArch32 at EL0" } else { "no AArch32" }.to_string())
            ),
            p.cpu_aarch32.source
        ));
    }
    out.push_str("
--page-size 4k|16k|64k completes or overrides a profile's page size (a 16k or 64k kernel has no 32-bit ARM support; a 4k one runs it where the CPU has AArch32 at EL0).
");
    out
}

/// The error for an unknown `--host`, naming the nearest profiles.
pub fn unknown_host(name: &str) -> String {
    let mut near: Vec<(usize, &str)> = hosts::PROFILES
        .iter()
        .map(|p| {
            (
                archscan::suggest::edit_distance(&name.to_ascii_lowercase(), p.name),
                p.name,
            )
        })
        .collect();
    near.sort();
    let names: Vec<&str> = near.iter().take(3).map(|(_, n)| *n).collect();
    format!(
        "--host {name}: unknown host; nearest: {} (`archscan hosts` lists them all)",
        names.join(", ")
    )
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
    fn fleet_options() {
        // A list alone is enough; without one, an input is required.
        let c = Cli::try_parse_from(["archscan", "--inputs-from", "list.txt"]).unwrap();
        assert!(c.inputs.is_empty());
        assert_eq!(c.inputs_from.as_deref(), Some("list.txt".as_ref()));
        let c = Cli::try_parse_from(["archscan", "-r", "--shard", "1/3", "dir"]).unwrap();
        assert!(c.recursive);
        assert_eq!(c.shard, Some(Shard { index: 1, count: 3 }));
        assert!(Cli::try_parse_from(["archscan", "--shard", "3/3", "x"]).is_err());
        let c = Cli::try_parse_from(["archscan", "summarize", "a.jsonl", "b.jsonl"]).unwrap();
        assert!(
            matches!(c.command, Some(Command::Summarize { files, format: SummaryFormat::Text, .. }) if files.len() == 2)
        );
        assert!(Cli::try_parse_from(["archscan", "summarize"]).is_err());
        // A file named like the word is scanned as a path.
        let c = Cli::try_parse_from(["archscan", "./summarize"]).unwrap();
        assert_eq!(c.inputs, ["./summarize"]);
    }

    #[test]
    fn entrypoint_and_cmd_take_one_value() {
        let c = Cli::try_parse_from([
            "archscan",
            "--entrypoint",
            "/bin/busybox",
            "image.tar",
            "-q",
        ])
        .unwrap();
        assert_eq!(c.entrypoint.as_deref(), Some("/bin/busybox"));
        assert_eq!(c.inputs, ["image.tar"]);
        assert!(c.quiet);
        assert_eq!(words("--cmd", "httpd").unwrap(), ["httpd"]);
        assert_eq!(
            words("--cmd", "[\"httpd\",\"-f\"]").unwrap(),
            ["httpd", "-f"]
        );
        assert_eq!(words("--cmd", "a b").unwrap(), ["a b"]);
        assert!(words("--cmd", "").unwrap().is_empty());
        assert!(words("--cmd", "[httpd]")
            .unwrap_err()
            .contains("JSON array"));
    }

    #[test]
    fn unknown_rules_name_the_nearest() {
        let unknown_rule = archscan::rules::unknown_rule;
        assert!(unknown_rule("arch-missmatch").contains("did you mean arch-mismatch"));
        assert!(unknown_rule("zzz").contains("`archscan rules` lists them"));
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
