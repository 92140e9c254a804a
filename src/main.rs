//! The `archscan` command: parse the command line, expand the inputs (lists,
//! directories, registry patterns, one shard), run the library on each,
//! render, and exit with the code the reports and the `--fail-on` policy
//! give. `summarize` joins shards' JSONL; `completions` and `man` print what
//! packagers install.

mod bars;
mod cli;
mod config;

use std::io::{IsTerminal, Read, Write};
use std::process::ExitCode;

use clap::{CommandFactory, Parser};
use rayon::prelude::*;
use std::ffi::OsString;

use archscan::fleet::{self, ExpandOptions, Item};
use archscan::report::summary::Summary;
use archscan::report::{self, sarif, text};
use cli::{Cli, ColorChoice, Command, OutputFormat, SummaryFormat};

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
    if let Some(Command::Summarize {
        files,
        format,
        fail_on,
        fail_on_unknown,
        color,
    }) = &cli.command
    {
        let policy = cli::exit_policy(*fail_on, *fail_on_unknown);
        return match summarize(files, *format, &policy, *color) {
            Ok(code) => code,
            Err(e) => {
                say!("archscan: {}", one_line(&e));
                ExitCode::from(2)
            }
        };
    }
    if let Some(command) = &cli.command {
        return helper(command);
    }
    match run(cli, &args) {
        Ok(code) => code,
        Err(e) => {
            say!("archscan: {}", archscan::escape::terminal(&e));
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
    if cli.summary && !matches!(cli.format, OutputFormat::Text | OutputFormat::Markdown) {
        return Err("--summary: the summary table is text (--format text) or Markdown (--format markdown, always a summary)".into());
    }
    let words = input_words(&cli)?;
    if words.iter().any(|i| i == "-") && std::io::stdin().is_terminal() {
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
    let mut opts = archscan::ScanOptions {
        progress: bars::reporter(),
        ..cli.scan_options()?
    };
    let expanded = fleet::expand(
        &words,
        ExpandOptions {
            recursive: cli.recursive,
            remote: &opts.remote,
        },
    );
    let items = fleet::select(expanded.clone(), cli.shard);
    match cli.shard {
        None if items.is_empty() => {
            return Err("no input to judge: the --inputs-from list names none".into());
        }
        Some(shard) if items.is_empty() => {
            let total = fleet::select(expanded, None).len();
            say!("archscan: --shard {shard}: no input falls in this shard (the whole list holds {total})");
        }
        _ => {}
    }
    // Layers shared by several inputs (after expansion: a directory or a
    // list can stand for many) are read once per run.
    opts.cache = archscan::cache::LayerCache::for_run(items.len(), &opts.limits);
    let done = bars::images(items.len());
    let mut reports: Vec<report::Report> = items
        .par_iter()
        .map(|item| {
            let r = item
                .failed_report(&opts)
                .unwrap_or_else(|| archscan::scan_os(item.word(), &opts));
            done.done_one();
            r
        })
        .collect();
    drop(done);
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
    let code = report::exit_code_with(&reports, &cli.exit_policy());
    let inputs: Vec<&std::ffi::OsStr> = items.iter().map(Item::word).collect();
    let several = items.len() > 1;
    let render = |w: &mut dyn Write| render_to(&cli, &reports, dockerfile, several, w);
    match &cli.output {
        Some(path) => write_output_with(path, &inputs, render)?,
        None => write_stdout_with(render)?,
    }
    print_unreadable(&reports);
    Ok(ExitCode::from(u8::try_from(code).unwrap_or(2)))
}

/// Writes the report to `-o PATH`: never over one of the inputs (the same
/// file, through any link), and through a temporary file in the same
/// directory renamed into place, so a failed run leaves no half report over
/// an old one.
fn write_output_with(
    path: &std::path::Path,
    inputs: &[&std::ffi::OsStr],
    render: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), String> {
    #[cfg(unix)]
    if let Ok(out) = std::fs::metadata(path) {
        use std::os::unix::fs::MetadataExt;
        let same = |i: &&std::ffi::OsStr| {
            std::fs::metadata(i).is_ok_and(|m| m.dev() == out.dev() && m.ino() == out.ino())
        };
        if let Some(input) = inputs.iter().find(|i| same(i)) {
            return Err(format!(
                "-o {}: that is the input {}; refusing to overwrite it",
                path.display(),
                fleet::display(input)
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
    let written = std::fs::File::create(&tmp)
        .and_then(|f| {
            let mut w = std::io::BufWriter::with_capacity(1 << 16, f);
            render(&mut w)?;
            w.flush()
        })
        .and_then(|()| std::fs::rename(&tmp, path));
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

/// The words to expand: the command line's inputs, then `--inputs-from`'s.
fn input_words(cli: &Cli) -> Result<Vec<std::ffi::OsString>, String> {
    let mut words = cli.inputs.clone();
    let Some(list) = &cli.inputs_from else {
        return Ok(words);
    };
    if list == "-" && words.iter().any(|w| w == "-") {
        return Err("--inputs-from -: standard input cannot be both the list and an input".into());
    }
    let bytes = read_file_or_stdin(list).map_err(|e| format!("--inputs-from {e}"))?;
    words.extend(fleet::read_list(&bytes));
    Ok(words)
}

/// The bytes of the file at `path`, or of standard input for `-`; `Err`
/// names the path as shown.
fn read_file_or_stdin(path: &std::ffi::OsStr) -> Result<Vec<u8>, String> {
    let shown = fleet::display(path);
    if path == "-" {
        let mut b = Vec::new();
        std::io::stdin()
            .lock()
            .read_to_end(&mut b)
            .map_err(|e| format!("{shown}: {e}"))?;
        return Ok(b);
    }
    std::fs::read(path).map_err(|e| format!("{shown}: {e}"))
}

/// `archscan summarize FILE…`: the shards' JSONL joined into one summary,
/// and the exit code the rows give.
fn summarize(
    files: &[std::path::PathBuf],
    format: SummaryFormat,
    policy: &report::ExitPolicy,
    color: ColorChoice,
) -> Result<ExitCode, String> {
    let mut summary = Summary::default();
    for f in files {
        let shown = fleet::display(f.as_os_str());
        let bytes = read_file_or_stdin(f.as_os_str())?;
        let text = String::from_utf8(bytes)
            .map_err(|_| format!("{shown}: not an archscan JSONL file (not UTF-8)"))?;
        summary.add_lines(&shown, &text)?;
    }
    let rendered = match format {
        SummaryFormat::Markdown => summary.render_markdown(),
        SummaryFormat::Text => {
            let to_terminal = std::io::stdout().is_terminal();
            summary.render_text(use_color(color, to_terminal))
        }
    };
    write_stdout(rendered.as_bytes())?;
    Ok(ExitCode::from(
        u8::try_from(summary.exit_code(policy)).unwrap_or(2),
    ))
}

/// Colour under `--color` (auto: on a terminal, unless NO_COLOR is set).
fn use_color(choice: ColorChoice, to_terminal: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            to_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    }
}

/// The report in the format asked for, written to `w`: JSON and JSONL as
/// they are serialised, the other formats rendered whole first; in text, the
/// summary table after the per-image reports when the run has several
/// inputs (or alone with `--summary`).
fn render_to(
    cli: &Cli,
    reports: &[report::Report],
    dockerfile: Option<sarif::DockerfileRef>,
    several: bool,
    w: &mut dyn Write,
) -> std::io::Result<()> {
    let whole = match cli.format {
        OutputFormat::Json => return report::json::render_to(reports, w),
        OutputFormat::Jsonl => return report::json::render_lines_to(reports, w),
        OutputFormat::Markdown => Summary::from_reports(reports).render_markdown(),
        OutputFormat::Sarif => sarif::render(
            reports,
            &sarif::ToolInfo {
                version: cli::VERSION.to_string(),
                dockerfile,
                ..sarif::ToolInfo::default()
            },
        ),
        OutputFormat::Text => render_text(cli, reports, several),
    };
    w.write_all(whole.as_bytes())
}

/// The text report: per image, then the summary table when the run has
/// several inputs; the table alone with `--summary`.
fn render_text(cli: &Cli, reports: &[report::Report], several: bool) -> String {
    let to_terminal = cli.output.is_none() && std::io::stdout().is_terminal();
    let color = use_color(cli.color, to_terminal);
    if cli.summary {
        return Summary::from_reports(reports).render_text(color);
    }
    let detail = if cli.quiet {
        text::Detail::Quiet
    } else if cli.verbose {
        text::Detail::Verbose
    } else {
        text::Detail::Normal
    };
    let width = to_terminal.then(terminal_width).flatten();
    let mut out = text::render(
        reports,
        text::Style {
            color,
            detail,
            width,
        },
    );
    if several && detail != text::Detail::Quiet {
        out.push('\n');
        out.push_str(&Summary::from_reports(reports).render_text(color));
    }
    out
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
    archscan::escape::terminal(s)
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

/// Renders to stdout through a buffer; a reader that left (`archscan x |
/// head`) is not an error.
fn write_stdout_with(
    render: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), String> {
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    match render(&mut out).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(format!("cannot write the report: {e}")),
    }
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
        // Handled in `main`, before the helpers.
        Command::Summarize { .. } => return ExitCode::from(2),
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
