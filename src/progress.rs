//! The progress bar: one line per input on stderr while its layers are read,
//! drawn only when stderr is a terminal (never into a pipe, a log or a CI
//! transcript) and cleared when the input is done. Several inputs scanned at
//! once share one [`MultiProgress`], so their lines do not overwrite each other.

use std::io::{IsTerminal, Read};
use std::sync::OnceLock;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

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
pub struct Progress(Option<ProgressBar>);

impl Progress {
    /// A bar over a known number of bytes (the layers of a mapped archive).
    pub fn bytes(label: &str, total: u64) -> Progress {
        Progress(shared().map(|m| {
            let style = ProgressStyle::with_template(
                "{msg} [{bar:30}] {binary_bytes}/{binary_total_bytes} ({elapsed})",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
            let bar = m.add(ProgressBar::new(total).with_style(style));
            bar.set_message(format!("{label}: scanning layers"));
            bar
        }))
    }

    /// A counter for a stream of unknown length (stdin, a compressed archive).
    pub fn stream(label: &str) -> Progress {
        Progress(shared().map(|m| {
            let style = ProgressStyle::with_template(
                "{spinner} {msg} {binary_bytes} read ({binary_bytes_per_sec}, {elapsed})",
            )
            .unwrap_or_else(|_| ProgressStyle::default_spinner());
            let bar = m.add(ProgressBar::no_length().with_style(style));
            bar.set_message(format!("{label}: reading"));
            bar.enable_steady_tick(Duration::from_millis(100));
            bar
        }))
    }

    pub fn inc(&self, n: u64) {
        if let Some(b) = &self.0 {
            b.inc(n);
        }
    }

    /// Wraps a reader so that what it reads moves this bar.
    pub fn reader<R: Read>(&self, inner: R) -> ProgressReader<'_, R> {
        ProgressReader {
            inner,
            progress: self,
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(b) = self.0.take() {
            b.finish_and_clear();
            if let Some(m) = shared() {
                m.remove(&b);
            }
        }
    }
}

/// A reader that reports the bytes passing through it to a [`Progress`].
pub struct ProgressReader<'p, R> {
    inner: R,
    progress: &'p Progress,
}

impl<R: Read> Read for ProgressReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.progress.inc(n as u64);
        Ok(n)
    }
}
