//! The memory that the layer indexes of one run hold, metered. Each index
//! being built charges a [`Budget`] against two caps of [`Limits`]: its own
//! (`index_bytes`) and, through the run's shared [`Meter`], all live
//! indexes together (`index_bytes_total`), so that many hostile layers
//! scanned at once cannot add up. A budget gives its charge back when it is
//! dropped; a finished index holds its budget for as long as it lives.
//!
//! The meter is run state, passed beside the [`Limits`] (which are plain
//! numbers), never inside them.
//!
//! The meter also admits decoders (zstd windows, xz dictionaries) against
//! one budget, `decoder_bytes`: [`Meter::admit_decoder`] waits until the
//! decoder's memory fits beside the decoders alive, and refuses one that can
//! never fit.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::ThreadId;

use crate::limits::{Exceeded, Limits};

/// What every index alive in this run takes, shared by the parallel scans,
/// and the decoders admitted.
#[derive(Debug, Clone, Default)]
pub struct Meter(Arc<AtomicU64>, Arc<Decoders>);

impl Meter {
    /// Bytes charged by the indexes alive now.
    pub fn in_use(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }

    /// Bytes held by the decoders alive now.
    pub fn decoders_in_use(&self) -> u64 {
        self.1.lock().in_use
    }

    /// The most bytes the decoders alive at once have held in this run.
    pub fn decoders_peak(&self) -> u64 {
        self.1.lock().peak
    }

    /// Admits a decoder that needs `need` bytes (its window or dictionary)
    /// under `limits.decoder_bytes`: at once when it fits beside the
    /// decoders alive, else once others finish. `Err` when it alone is over
    /// the budget, or when it cannot fit beside the decoders this thread
    /// already holds (a layer inside a compressed outer archive) or while
    /// every thread holding decoders is waiting the same way (waiting would
    /// never end). The memory is given back when the permit is dropped.
    pub fn admit_decoder(&self, need: u64, limits: &Limits) -> Result<DecoderPermit, Exceeded> {
        let cap = limits.decoder_bytes;
        if need > cap {
            return Err(Exceeded::DecoderBytes { need, cap });
        }
        let me = std::thread::current().id();
        let d = &self.1;
        let mut st = d.lock();
        let mine = st.held.get(&me).copied().unwrap_or(0);
        if mine.saturating_add(need) > cap {
            return Err(Exceeded::DecoderBytes {
                need: mine.saturating_add(need),
                cap,
            });
        }
        let mut waiting_holder = false;
        while st.in_use.saturating_add(need) > cap {
            if mine > 0 && !waiting_holder {
                waiting_holder = true;
                st.waiting_holders += 1;
                d.changed.notify_all();
            }
            // Nothing held by a thread that is not itself waiting: no
            // decoder will finish, so this one never fits.
            if mine > 0 && st.waiting_holders >= st.held.len() {
                st.waiting_holders -= 1;
                d.changed.notify_all();
                return Err(Exceeded::DecoderBytes {
                    need: st.in_use.saturating_add(need),
                    cap,
                });
            }
            st = d.changed.wait(st).unwrap_or_else(PoisonError::into_inner);
        }
        if waiting_holder {
            st.waiting_holders -= 1;
        }
        st.in_use += need;
        st.peak = st.peak.max(st.in_use);
        *st.held.entry(me).or_insert(0) += need;
        Ok(DecoderPermit {
            bytes: need,
            thread: me,
            decoders: Arc::clone(d),
        })
    }
}

/// The decoders alive in a run: what they hold, in all and per thread.
#[derive(Debug, Default)]
struct Decoders {
    state: Mutex<DecoderState>,
    changed: Condvar,
}

#[derive(Debug, Default)]
struct DecoderState {
    in_use: u64,
    peak: u64,
    /// Bytes held per thread (threads holding nothing are absent).
    held: HashMap<ThreadId, u64>,
    /// Threads holding decoders that wait to admit another.
    waiting_holders: usize,
}

impl Decoders {
    fn lock(&self) -> std::sync::MutexGuard<'_, DecoderState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// One admitted decoder's memory, given back when dropped.
#[derive(Debug)]
pub struct DecoderPermit {
    bytes: u64,
    thread: ThreadId,
    decoders: Arc<Decoders>,
}

impl Drop for DecoderPermit {
    fn drop(&mut self) {
        let mut st = self.decoders.lock();
        st.in_use = st.in_use.saturating_sub(self.bytes);
        if let Some(h) = st.held.get_mut(&self.thread) {
            *h = h.saturating_sub(self.bytes);
            if *h == 0 {
                st.held.remove(&self.thread);
            }
        }
        self.decoders.changed.notify_all();
    }
}

/// The running cost of one index.
#[derive(Debug)]
pub struct Budget {
    used: u64,
    cap: u64,
    total_cap: u64,
    meter: Meter,
}

impl Budget {
    /// A budget under `limits`' caps, charged to `meter`.
    pub fn new(limits: &Limits, meter: &Meter) -> Budget {
        Budget {
            used: 0,
            cap: limits.index_bytes,
            total_cap: limits.index_bytes_total,
            meter: meter.clone(),
        }
    }

    /// Bytes this budget has charged (what its index holds).
    pub fn used(&self) -> u64 {
        self.used
    }

    /// Charges `n` bytes kept; `Err` once over either cap.
    pub fn charge(&mut self, n: u64) -> Result<(), Exceeded> {
        self.used = self.used.saturating_add(n);
        let total = self
            .meter
            .0
            .fetch_add(n, Ordering::Relaxed)
            .saturating_add(n);
        if self.used > self.cap {
            return Err(Exceeded::IndexBytes(self.cap));
        }
        if total > self.total_cap {
            return Err(Exceeded::IndexBytesTotal(self.total_cap));
        }
        Ok(())
    }
}

impl Drop for Budget {
    fn drop(&mut self) {
        self.meter.0.fetch_sub(self.used, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charges_add_up_across_budgets_and_are_given_back() {
        let limits = Limits {
            index_bytes: 100,
            index_bytes_total: 150,
            ..Limits::default()
        };
        let meter = Meter::default();
        let mut a = Budget::new(&limits, &meter);
        let mut b = Budget::new(&limits, &meter);
        assert_eq!(a.charge(80), Ok(()));
        assert_eq!(a.charge(30), Err(Exceeded::IndexBytes(100)));
        assert_eq!(b.charge(50), Err(Exceeded::IndexBytesTotal(150)));
        drop(a);
        assert_eq!(meter.in_use(), 50);
        drop(b);
        assert_eq!(meter.in_use(), 0);
    }

    #[test]
    fn decoders_wait_for_room_and_one_too_big_is_refused() {
        let limits = Limits {
            decoder_bytes: 100,
            ..Limits::default()
        };
        let meter = Meter::default();
        assert_eq!(
            meter.admit_decoder(101, &limits).unwrap_err(),
            Exceeded::DecoderBytes {
                need: 101,
                cap: 100
            }
        );
        let first = meter.admit_decoder(60, &limits).unwrap();
        // Nested on the same thread: 60 + 50 can never fit.
        assert!(meter.admit_decoder(50, &limits).is_err());
        let m = meter.clone();
        let l = limits.clone();
        let other = std::thread::spawn(move || {
            let p = m.admit_decoder(50, &l).unwrap();
            let peak = m.decoders_peak();
            drop(p);
            peak
        });
        std::thread::sleep(std::time::Duration::from_millis(50));
        assert_eq!(meter.decoders_in_use(), 60, "the other waits");
        drop(first);
        assert_eq!(other.join().unwrap(), 60);
        assert_eq!(meter.decoders_in_use(), 0);
        assert_eq!(meter.decoders_peak(), 60);
    }
}
