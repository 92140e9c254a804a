//! The `archscan` command: parse the command line, run the library on each
//! input, render, and exit with the code the reports and the `--fail-on`
//! policy give. `completions` and `man` print what packagers install.

mod bars;
mod cli;

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use clap::{CommandFactory, Parser};
use rayon::prelude::*;

use archscan::report::{self, sarif, text};
use cli::{Cli, ColorChoice, Command, OutputFormat};

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(command) = &cli.command {
        return helper(command);
    }
    if let Some(n) = cli.jobs {
        // Only fails if a pool already exists, which it cannot here.
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build_global();
    }
    let opts = match cli.scan_options() {
        Ok(o) => archscan::ScanOptions {
            progress: bars::reporter(),
            ..o
        },
        Err(e) => {
            eprintln!("archscan: {e}");
            return ExitCode::from(2);
        }
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
    let to_terminal = cli.output.is_none() && std::io::stdout().is_terminal();
    let rendered = match cli.format {
        OutputFormat::Json => report::json::render(&reports),
        OutputFormat::Sarif => sarif::render(
            &reports,
            &sarif::ToolInfo {
                version: cli::VERSION.to_string(),
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
            text::render(&reports, text::Style { color, detail })
        }
    };
    let code = report::exit_code_with(&reports, &cli.exit_policy());
    let written = match &cli.output {
        Some(path) => std::fs::write(path, rendered.as_bytes())
            .map_err(|e| format!("{}: {e}", path.display())),
        None => write_stdout(rendered.as_bytes()),
    };
    if let Err(e) = written {
        eprintln!("archscan: {e}");
        return ExitCode::from(2);
    }
    // Errors also go to stderr, so a pipeline that keeps only stdout sees them.
    if cli.format != OutputFormat::Text || cli.output.is_some() {
        for r in &reports {
            for e in &r.errors {
                eprintln!("archscan: {e}");
            }
            for img in &r.images {
                if let Some(e) = &img.error {
                    eprintln!("archscan: {e}");
                }
            }
        }
    }
    ExitCode::from(u8::try_from(code).unwrap_or(2))
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
                eprintln!("archscan: cannot render the man page: {e}");
                return ExitCode::from(2);
            }
            buf.extend_from_slice(cli::man_rules_section().as_bytes());
        }
        Command::Rules => buf.extend_from_slice(cli::rules_list().as_bytes()),
        Command::Explain { rule } => match archscan::rules::Rule::from_id(rule) {
            Some(r) => buf.extend_from_slice(r.def().explain().as_bytes()),
            None => {
                eprintln!("archscan: {}", cli::unknown_rule(rule));
                return ExitCode::from(2);
            }
        },
    }
    match write_stdout(&buf) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("archscan: {e}");
            ExitCode::from(2)
        }
    }
}
