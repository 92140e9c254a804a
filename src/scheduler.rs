//! The work queue that scans layers: jobs sorted largest first, each worker
//! taking the next job as it frees up. The run then ends within about one
//! small job of the larger of (the largest job, the total divided among the
//! workers) — where a static split would leave one worker with every large
//! layer.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// Runs `work` on every job (a key and its size in bytes) on the rayon pool,
/// largest first (ties by key, for a stable order), and returns each key's
/// result. `done` is told each finished job's size (progress).
pub fn largest_first<K, R>(
    mut jobs: Vec<(K, u64)>,
    work: impl Fn(&K) -> R + Sync,
    done: impl Fn(u64) + Sync,
) -> HashMap<K, R>
where
    K: Eq + Hash + Ord + Send + Sync + Clone,
    R: Send,
{
    jobs.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let next = AtomicUsize::new(0);
    let results = Mutex::new(HashMap::with_capacity(jobs.len()));
    let workers = rayon::current_num_threads().clamp(1, jobs.len().max(1));
    rayon::scope(|s| {
        for _ in 0..workers {
            s.spawn(|_| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some((key, size)) = jobs.get(i) else {
                    break;
                };
                let r = work(key);
                done(*size);
                if let Ok(mut d) = results.lock() {
                    d.insert(key.clone(), r);
                }
            });
        }
    });
    results.into_inner().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_job_runs_once_and_the_largest_start_first() {
        let started = Mutex::new(Vec::new());
        let jobs: Vec<(u32, u64)> = (0..50).map(|i| (i, u64::from(i % 7))).collect();
        let total = AtomicUsize::new(0);
        let out = largest_first(
            jobs,
            |k| {
                started.lock().unwrap().push(*k);
                k * 2
            },
            |size| {
                total.fetch_add(size as usize, Ordering::Relaxed);
            },
        );
        assert_eq!(out.len(), 50);
        assert!(out.iter().all(|(k, v)| *v == k * 2));
        assert_eq!(
            total.into_inner(),
            (0..50u32).map(|i| (i % 7) as usize).sum::<usize>()
        );
        // Jobs are handed out largest first: the first one taken is a 6.
        assert_eq!(started.into_inner().unwrap()[0] % 7, 6);
    }
}
