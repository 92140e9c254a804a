//! The binary's progress bars: one line per input on stderr while its layers
//! are read, drawn only when stderr is a terminal (never into a pipe, a log or
//! a CI transcript) and cleared when the input is done. Several inputs scanned
//! at once share one [`MultiProgress`], so their lines do not overwrite each
//! other. A run over several inputs also has an `images done/total` line.
//! The library reports progress through [`archscan::progress`].

use std::io::IsTerminal;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use archscan::progress::{Progress, Reporter, Task, Tracker};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// The reporter for a run: bars on a terminal, nothing elsewhere.
pub fn reporter() -> Reporter {
    if shared().is_some() {
        Reporter::new(Arc::new(Bars))
    } else {
        Reporter::default()
    }
}

struct Bars;

impl Progress for Bars {
    fn start(&self, input: &str, task: Task) -> Box<dyn Tracker> {
        Box::new(match task {
            Task::Layers { total_bytes } => Bar::bytes(input, total_bytes),
            Task::Stream => Bar::stream(input),
        })
    }
}

impl Tracker for Bar {
    fn advance(&self, bytes: u64) {
        self.inc(bytes);
    }
}

fn shared() -> Option<&'static MultiProgress> {
    static BARS: OnceLock<Option<MultiProgress>> = OnceLock::new();
    BARS.get_or_init(|| {
        std::io::stderr()
            .is_terminal()
            .then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr_with_hz(10)))
    })
    .as_ref()
}

/// One input's bar, or nothing when stderr is not a terminal.
struct Bar(Option<ProgressBar>);

impl Bar {
    /// A bar over a known number of bytes (the layers of a mapped archive).
    fn bytes(label: &str, total: u64) -> Bar {
        Bar(shared().map(|m| {
            let style = ProgressStyle::with_template(
                "{msg} [{bar:30}] {binary_bytes}/{binary_total_bytes} ({elapsed})",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
            let bar = m.add(ProgressBar::new(total).with_style(style));
            bar.set_message(format!(
                "{}: scanning layers",
                archscan::escape::terminal(label)
            ));
            bar
        }))
    }

    /// A counter for a stream of unknown length (stdin, a compressed archive).
    fn stream(label: &str) -> Bar {
        Bar(shared().map(|m| {
            let style = ProgressStyle::with_template(
                "{spinner} {msg} {binary_bytes} read ({binary_bytes_per_sec}, {elapsed})",
            )
            .unwrap_or_else(|_| ProgressStyle::default_spinner());
            let bar = m.add(ProgressBar::no_length().with_style(style));
            bar.set_message(format!("{}: reading", archscan::escape::terminal(label)));
            bar.enable_steady_tick(Duration::from_millis(100));
            bar
        }))
    }

    fn inc(&self, n: u64) {
        if let Some(b) = &self.0 {
            b.inc(n);
        }
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        if let Some(b) = self.0.take() {
            b.finish_and_clear();
            if let Some(m) = shared() {
                m.remove(&b);
            }
        }
    }
}

/// The `images done/total` line of a run over several inputs, or nothing
/// when stderr is not a terminal or there is one input (a [`Bar`], cleared
/// and removed the same way).
pub struct Images(Bar);

/// Starts the `images done/total` line.
pub fn images(total: usize) -> Images {
    Images(Bar(shared().filter(|_| total > 1).map(|m| {
        let style = ProgressStyle::with_template("images {pos}/{len} ({elapsed})")
            .unwrap_or_else(|_| ProgressStyle::default_bar());
        m.add(ProgressBar::new(total as u64).with_style(style))
    })))
}

impl Images {
    /// One more input judged.
    pub fn done_one(&self) {
        self.0.inc(1);
    }
}
