//! The `archscan` command: parse the command line, run the library on each
//! input, render, and exit with the code the reports and the `--fail-on`
//! policy give. `completions` and `man` print what packagers install.

mod bars;
mod cli;
mod config;

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use clap::{CommandFactory, Parser};
use rayon::prelude::*;
use std::ffi::OsString;

use archscan::report::{self, sarif, text};
use cli::{Cli, ColorChoice, Command, OutputFormat};

/// A line on stderr that never panics: a closed or full stderr
/// (`2>/dev/full`) must not turn an exit code into 101.
macro_rules! say {
    ($($arg:tt)*) => {{
        let _ = writeln!(std::io::stderr().lock(), $($arg)*);
    }};
}

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().collect();
    let cli = Cli::parse_from(&args);
    if let Some(command) = &cli.command {
        return helper(command);
    }
    match run(cli, &args) {
        Ok(code) => code,
        Err(e) => {
            say!("archscan: {e}");
            ExitCode::from(2)
        }
    }
}

/// Most worker threads per core `--jobs` may ask for.
const MAX_JOBS_PER_CORE: usize = 8;

/// A scan: options, inputs judged in parallel, the report written, every
/// unreadable reason on stderr, the exit code. `Err` is a usage error (exit 2).
fn run(cli: Cli, args: &[OsString]) -> Result<ExitCode, String> {
    let cli = with_config_file(cli, args)?;
    if cli.inputs.iter().any(|i| i == "-") && std::io::stdin().is_terminal() {
        return Err("-: standard input is a terminal, not an image archive; pipe one in: `docker save IMAGE | archscan -` (or `archscan - < image.tar`)".into());
    }
    let dockerfile = dockerfile_ref(&cli)?;
    if let Some(n) = cli.jobs {
        // More threads than work can use only cost memory and start-up time
        // (`--jobs 100000` spent minutes starting threads): at most 8 per core.
        let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
        let cap = cores.saturating_mul(MAX_JOBS_PER_CORE);
        if n > cap {
            say!("archscan: --jobs {n}: using {cap} ({MAX_JOBS_PER_CORE} per core of {cores})");
        }
        // Only fails if a pool already exists, which it cannot here.
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(n.clamp(1, cap))
            .build_global();
    }
    let base = cli.scan_options()?;
    let opts = archscan::ScanOptions {
        progress: bars::reporter(),
        // Layers shared by several inputs are read once per run.
        cache: archscan::cache::LayerCache::for_run(cli.inputs.len(), &base.limits),
        ..base
    };
    let mut reports: Vec<report::Report> = cli
        .inputs
        .par_iter()
        .map(|input| archscan::scan(input, &opts))
        .collect();
    if let Some(want) = opts
        .image
        .as_ref()
        .filter(|_| reports.iter().all(|r| r.images.is_empty()))
    {
        // A filter that selects nothing in any input must not pass a CI gate
        // silently.
        for r in reports.iter_mut() {
            if r.errors.is_empty() && r.images.is_empty() {
                r.errors.push(format!(
                    "{}: no image name or tag contains {want:?} (--image)",
                    r.source.path
                ));
            }
        }
    }
    let rendered = render(&cli, &reports, dockerfile);
    let code = report::exit_code_with(&reports, &cli.exit_policy());
    match &cli.output {
        Some(path) => write_output(path, &cli.inputs, rendered.as_bytes())?,
        None => write_stdout(rendered.as_bytes())?,
    }
    print_unreadable(&reports);
    Ok(ExitCode::from(u8::try_from(code).unwrap_or(2)))
}

/// Writes the report to `-o PATH`: never over one of the inputs (the same
/// file, through any link), and through a temporary file in the same
/// directory renamed into place, so a failed run leaves no half report over
/// an old one.
fn write_output(path: &std::path::Path, inputs: &[String], bytes: &[u8]) -> Result<(), String> {
    #[cfg(unix)]
    if let Ok(out) = std::fs::metadata(path) {
        use std::os::unix::fs::MetadataExt;
        let same = |i: &String| {
            std::fs::metadata(i).is_ok_and(|m| m.dev() == out.dev() && m.ino() == out.ino())
        };
        if let Some(input) = inputs.iter().find(|i| same(i)) {
            return Err(format!(
                "-o {}: that is the input {input}; refusing to overwrite it",
                path.display()
            ));
        }
    }
    // Through a link, the file it names is replaced, not the link.
    let path = &std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.archscan-{}.tmp", std::process::id()));
    let written = std::fs::write(&tmp, bytes).and_then(|()| std::fs::rename(&tmp, path));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(format!("{}: {e}", path.display()));
    }
    Ok(())
}

/// `.archscan.toml` in the working directory: its settings go before the
/// user's words, and options the user gives replace them.
fn with_config_file(cli: Cli, args: &[OsString]) -> Result<Cli, String> {
    let text = match std::fs::read_to_string(config::FILE) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(cli),
        Err(e) => return Err(format!("{}: {e}", config::FILE)),
    };
    let words = config::words(&text, args.get(1..).unwrap_or_default())?;
    if words.is_empty() {
        return Ok(cli);
    }
    let all = args
        .iter()
        .take(1)
        .cloned()
        .chain(words)
        .chain(args.iter().skip(1).cloned());
    match Cli::try_parse_from(all) {
        Ok(c) => Ok(c),
        Err(e) => {
            say!("archscan: in {}:", config::FILE);
            e.exit();
        }
    }
}

/// `--dockerfile PATH`, read and parsed, for SARIF locations.
fn dockerfile_ref(cli: &Cli) -> Result<Option<sarif::DockerfileRef>, String> {
    let Some(path) = &cli.dockerfile else {
        return Ok(None);
    };
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("--dockerfile {}: {e}", path.display()))?;
    Ok(Some(sarif::DockerfileRef {
        path: path.to_string_lossy().into_owned(),
        file: archscan::dockerfile::Dockerfile::parse(&text),
    }))
}

/// The report in the format asked for.
fn render(
    cli: &Cli,
    reports: &[report::Report],
    dockerfile: Option<sarif::DockerfileRef>,
) -> String {
    let to_terminal = cli.output.is_none() && std::io::stdout().is_terminal();
    match cli.format {
        OutputFormat::Json => report::json::render(reports),
        OutputFormat::Jsonl => report::json::render_lines(reports),
        OutputFormat::Sarif => sarif::render(
            reports,
            &sarif::ToolInfo {
                version: cli::VERSION.to_string(),
                dockerfile,
                ..sarif::ToolInfo::default()
            },
        ),
        OutputFormat::Text => {
            let color = match cli.color {
                ColorChoice::Always => true,
                ColorChoice::Never => false,
                ColorChoice::Auto => {
                    to_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                }
            };
            let detail = if cli.quiet {
                text::Detail::Quiet
            } else if cli.verbose {
                text::Detail::Verbose
            } else {
                text::Detail::Normal
            };
            let width = to_terminal.then(terminal_width).flatten();
            text::render(
                reports,
                text::Style {
                    color,
                    detail,
                    width,
                },
            )
        }
    }
}

/// Every reason something could not be read goes to stderr, one line each,
/// in every format and with -q: where people and CI logs look when stdout is
/// a file or a pipe. The report keeps its own record.
fn print_unreadable(reports: &[report::Report]) {
    let mut err = std::io::stderr().lock();
    for r in reports {
        for e in &r.errors {
            let _ = writeln!(err, "archscan: {}", one_line(e));
        }
        for img in &r.images {
            if let Some(e) = &img.error {
                let _ = writeln!(err, "archscan: {}", one_line(e));
            }
        }
    }
}

/// A message on one line, escaped for the terminal.
fn one_line(s: &str) -> String {
    text::escape(s)
}

/// The terminal's width in columns: `COLUMNS` when set, else what the
/// terminal on stdout says.
fn terminal_width() -> Option<usize> {
    if let Some(n) = std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()) {
        return Some(n);
    }
    #[cfg(unix)]
    {
        // SAFETY: TIOCGWINSZ writes one `winsize` into the struct passed by
        // pointer, which lives for the call; failure leaves it untouched.
        let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
        let ok = unsafe { libc::ioctl(libc::STDOUT_FILENO, libc::TIOCGWINSZ, &mut ws) } == 0;
        if ok && ws.ws_col > 0 {
            return Some(usize::from(ws.ws_col));
        }
    }
    None
}

/// Writes to stdout; a reader that left (`archscan x | head`) is not an error.
fn write_stdout(bytes: &[u8]) -> Result<(), String> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|_| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(format!("cannot write the report: {e}")),
    }
}

/// `completions SHELL` and `man` (generated from the clap definition and the
/// rule definitions), `rules` and `explain RULE`.
fn helper(command: &Command) -> ExitCode {
    let mut cmd = Cli::command();
    let mut buf: Vec<u8> = Vec::new();
    match command {
        Command::Completions { shell } => {
            clap_complete::generate(*shell, &mut cmd, "archscan", &mut buf);
        }
        Command::Man => {
            if let Err(e) = clap_mangen::Man::new(cmd).render(&mut buf) {
                say!("archscan: cannot render the man page: {e}");
                return ExitCode::from(2);
            }
            buf.extend_from_slice(cli::man_rules_section().as_bytes());
        }
        Command::Rules => buf.extend_from_slice(cli::rules_list().as_bytes()),
        Command::Hosts => buf.extend_from_slice(cli::hosts_list().as_bytes()),
        Command::Explain { rule } => match archscan::rules::Rule::from_id(rule) {
            Some(r) => buf.extend_from_slice(r.def().explain().as_bytes()),
            None => {
                say!("archscan: {}", archscan::rules::unknown_rule(rule));
                return ExitCode::from(2);
            }
        },
    }
    match write_stdout(&buf) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            say!("archscan: {e}");
            ExitCode::from(2)
        }
    }
}
