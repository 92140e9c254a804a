//! The memory that the layer indexes of one run hold, metered. Each index
//! being built charges a [`Budget`] against two caps of [`Limits`]: its own
//! (`index_bytes`) and, through the run's shared [`Meter`], all live
//! indexes together (`index_bytes_total`), so that many hostile layers
//! scanned at once cannot add up. A budget gives its charge back when it is
//! dropped; a finished index holds its budget for as long as it lives.
//!
//! The meter is run state, passed beside the [`Limits`] (which are plain
//! numbers), never inside them.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::limits::{Exceeded, Limits};

/// What every index alive in this run takes, shared by the parallel scans.
#[derive(Debug, Clone, Default)]
pub struct Meter(Arc<AtomicU64>);

impl Meter {
    /// Bytes charged by the indexes alive now.
    pub fn in_use(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
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
}
