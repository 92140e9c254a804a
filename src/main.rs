//! The `archscan` command: parse the command line, run the library on each
//! input, render, and exit with the code the reports give.

mod cli;

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use clap::Parser;
use rayon::prelude::*;

use archscan::report::{self, text};
use cli::{Cli, ColorChoice, OutputFormat};

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(n) = cli.jobs {
        // Only fails if a pool already exists, which it cannot here.
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build_global();
    }
    let opts = cli.scan_options();
    let reports: Vec<report::Report> = cli
        .inputs
        .par_iter()
        .map(|input| archscan::scan(input, &opts))
        .collect();
    let to_terminal = cli.output.is_none() && std::io::stdout().is_terminal();
    let rendered = match cli.format {
        OutputFormat::Json => report::json::render(&reports),
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
    let code = report::exit_code(&reports);
    let written = match &cli.output {
        Some(path) => std::fs::write(path, rendered.as_bytes())
            .map_err(|e| format!("{}: {e}", path.display())),
        None => {
            let mut out = std::io::stdout().lock();
            match out.write_all(rendered.as_bytes()).and_then(|_| out.flush()) {
                Ok(()) => Ok(()),
                // `archscan x | head`: the reader left; that is not an error.
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                Err(e) => Err(format!("cannot write the report: {e}")),
            }
        }
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
    ExitCode::from(code as u8)
}
