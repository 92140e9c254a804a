//! How the library tells its caller what it is reading, without drawing
//! anything itself: a [`Progress`] sink (the binary's is a progress bar on a
//! terminal) hands out one [`Tracker`] per task, which is told how many
//! bytes passed and dropped when the task is done.

use std::io::Read;
use std::sync::Arc;

/// What a tracker follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Task {
    /// The layers of an input, of known total size.
    Layers { total_bytes: u64 },
    /// A one-way stream of unknown length (stdin, a compressed archive).
    Stream,
}

/// Receives progress; implemented by the caller (the binary draws bars).
pub trait Progress: Send + Sync {
    /// A task of `input` starts; the tracker is dropped when it ends.
    fn start(&self, input: &str, task: Task) -> Box<dyn Tracker>;
}

/// Follows one task.
pub trait Tracker: Send + Sync {
    /// `bytes` more were read.
    fn advance(&self, bytes: u64);
}

/// The sink a scan reports to: the caller's, or none.
#[derive(Clone, Default)]
pub struct Reporter(Option<Arc<dyn Progress>>);

impl std::fmt::Debug for Reporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "Reporter(Some)"
        } else {
            "Reporter(None)"
        })
    }
}

impl Reporter {
    pub fn new(sink: Arc<dyn Progress>) -> Reporter {
        Reporter(Some(sink))
    }

    /// Starts a task; a tracker that does nothing when there is no sink.
    pub fn start(&self, input: &str, task: Task) -> Option<Box<dyn Tracker>> {
        self.0.as_ref().map(|p| p.start(input, task))
    }
}

/// A reader that reports the bytes passing through it.
pub struct TrackedReader<R> {
    pub inner: R,
    pub tracker: Option<Box<dyn Tracker>>,
}

impl<R: Read> Read for TrackedReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(t) = &self.tracker {
            t.advance(n as u64);
        }
        Ok(n)
    }
}
