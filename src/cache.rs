//! The run-wide layer cache: a layer blob that several inputs of one run
//! share is read and identified once, and its [`LayerIndex`] reused by every
//! image that has it; an image judged on exactly the same layers and
//! configuration is judged once.
//!
//! **Keys and trust.** A layer is keyed by the SHA-256 of its raw blob, and
//! an index is kept under a key only when that key is known to name its
//! bytes:
//! - a blob named by its content address (`blobs/sha256/<hex>` of an OCI
//!   layout, OCI archive or Docker 25+ archive, or a registry descriptor) is
//!   hashed while it is read and kept under that address only when the hash
//!   equals it: an index kept here is reused by other inputs, and one
//!   archive of a fleet could store another layer under a base's address
//!   (a compressed blob costs nothing more: it is hashed as it is decoded;
//!   `--verify`, which promises that every blob is hashed, turns reuse off);
//! - a layer of a `docker save` archive without a content address (Docker
//!   ≤ 24: `<id>/layer.tar`) is keyed by the config's `diff_id`, and is
//!   hashed while it is read; it is kept only when the hash equals the
//!   diff_id. A diff_id is the digest of the uncompressed tar, so it equals
//!   the raw blob digest exactly when the layer is stored uncompressed — the
//!   key space is one, and an uncompressed layer shared between a `docker
//!   save` archive and an OCI layout is read once. A *compressed* OCI blob
//!   is not also keyed by its diff_id: that would take a hash of every
//!   decompressed stream, which costs more than it saves unless the same
//!   layer is in the run both compressed and not.
//!
//! Errors are never kept: a layer that could not be read is tried again by
//! the next image that wants it.
//!
//! **In flight.** The first request for a key reads the layer; concurrent
//! requests for the same key wait for it instead of reading it again. A
//! thread that is itself reading a layer never waits (rayon may run another
//! input's request on it while it waits for its own parallel work; waiting
//! there could wait for itself): it reads the layer on its own, counted in
//! [`Stats::duplicate_reads`].
//!
//! **Memory.** What the cache keeps is per layer (indexes), never per file
//! per image. Every index charges the run's [`crate::meter::Meter`] for as
//! long as it lives, so what the cache holds counts against
//! `Limits::index_bytes_total`; the cache itself keeps at most its budget
//! (a quarter of that total by default), evicting the least recently used
//! layers first. An evicted layer is read again when next wanted: a full
//! cache never makes a layer unreadable.

use std::cell::Cell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use crate::digest::Digest;
use crate::layers::merge::MergedFs;
use crate::layers::scan::LayerIndex;
use crate::limits::Limits;

/// A layer's key in the cache, and how far it is trusted before the read.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LayerKey {
    pub digest: Digest,
    /// The key is the blob's content address; otherwise it is a diff_id.
    /// Either is kept only once a hash proves it.
    pub content_address: bool,
}

impl LayerKey {
    /// Is `index` (read for this key) known to hold the key's bytes: was it
    /// hashed, and is the hash the key?
    pub fn verified_by(&self, index: &LayerIndex) -> bool {
        index.digest.as_ref() == Some(&self.digest)
    }
}

/// What a run's cache did ([`LayerCache::stats`]: the library API, tests).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Layers read through the cache (misses).
    pub reads: u64,
    /// Requests answered with a kept index.
    pub hits: u64,
    /// Requests that waited for the same layer in flight.
    pub waits: u64,
    /// Layers read a second time while in flight elsewhere (see the module
    /// documentation).
    pub duplicate_reads: u64,
    /// Indexes dropped to stay within the budget.
    pub evictions: u64,
    /// Reads whose result was not kept (an error, a hash that disproves the
    /// key, larger than the whole budget).
    pub not_kept: u64,
    /// Images whose judgement was reused.
    pub image_hits: u64,
    /// Merged views reused ([`LayerCache::view`]).
    pub view_hits: u64,
}

#[derive(Default)]
struct Counters {
    reads: AtomicU64,
    hits: AtomicU64,
    waits: AtomicU64,
    duplicate_reads: AtomicU64,
    evictions: AtomicU64,
    not_kept: AtomicU64,
    image_hits: AtomicU64,
    view_hits: AtomicU64,
}

enum Slot {
    Loading,
    Ready {
        index: Arc<LayerIndex>,
        cost: u64,
        used: u64,
    },
}

#[derive(Default)]
struct Inner {
    slots: HashMap<Digest, Slot>,
    /// Use clock for LRU.
    tick: u64,
    /// Bytes charged by the kept indexes.
    held: u64,
}

/// The run's cache of layer indexes (and of judged images: see
/// [`LayerCache::image`]). Shared by every input through
/// [`crate::ScanOptions::cache`].
pub struct LayerCache {
    inner: Mutex<Inner>,
    ready: Condvar,
    budget: u64,
    counters: Counters,
    images: Mutex<ImageMemo>,
    views: Mutex<ViewMemo>,
}

impl std::fmt::Debug for LayerCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LayerCache")
            .field("budget", &self.budget)
            .field("stats", &self.stats())
            .finish()
    }
}

thread_local! {
    /// How many cached reads this thread is inside (nested through rayon).
    static READING: Cell<u32> = const { Cell::new(0) };
}

/// Marks the current thread as reading a layer until dropped.
struct Reading;

impl Reading {
    fn enter() -> Reading {
        READING.with(|r| r.set(r.get().saturating_add(1)));
        Reading
    }
}

impl Drop for Reading {
    fn drop(&mut self) {
        READING.with(|r| r.set(r.get().saturating_sub(1)));
    }
}

/// Removes a `Loading` slot left by a read that did not finish (a panic),
/// so that waiters are never stranded.
struct LoadingGuard<'c> {
    cache: &'c LayerCache,
    key: Option<Digest>,
}

impl Drop for LoadingGuard<'_> {
    fn drop(&mut self) {
        if let Some(k) = self.key.take() {
            let mut inner = self.cache.lock();
            if matches!(inner.slots.get(&k), Some(Slot::Loading)) {
                inner.slots.remove(&k);
            }
            drop(inner);
            self.cache.ready.notify_all();
        }
    }
}

impl LayerCache {
    /// A cache keeping at most `budget` bytes of indexes.
    pub fn new(budget: u64) -> LayerCache {
        LayerCache {
            inner: Mutex::new(Inner::default()),
            ready: Condvar::new(),
            budget,
            counters: Counters::default(),
            images: Mutex::new(ImageMemo::default()),
            views: Mutex::new(ViewMemo::default()),
        }
    }

    /// The cache of a run under `limits`: a quarter of the memory all
    /// indexes together may take (`index_bytes_total`), so that what it
    /// keeps leaves the scans in flight room under that cap.
    pub fn for_limits(limits: &Limits) -> LayerCache {
        LayerCache::new(limits.index_bytes_total / 4)
    }

    /// The cache for a run of `inputs` inputs: none for one input (an input
    /// already reads each of its distinct layers once), so that a single
    /// scan takes the path it always took.
    pub fn for_run(inputs: usize, limits: &Limits) -> Option<Arc<LayerCache>> {
        (inputs > 1).then(|| Arc::new(LayerCache::for_limits(limits)))
    }

    /// The most bytes of indexes kept.
    pub fn budget(&self) -> u64 {
        self.budget
    }

    /// Bytes of indexes kept now.
    pub fn held(&self) -> u64 {
        self.lock().held
    }

    pub fn stats(&self) -> Stats {
        let c = &self.counters;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        Stats {
            reads: get(&c.reads),
            hits: get(&c.hits),
            waits: get(&c.waits),
            duplicate_reads: get(&c.duplicate_reads),
            evictions: get(&c.evictions),
            not_kept: get(&c.not_kept),
            image_hits: get(&c.image_hits),
            view_hits: get(&c.view_hits),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The index of the layer `key`: kept, or read by `read` (once, however
    /// many threads ask at the same time), and kept when verified (see the
    /// module documentation).
    pub fn layer<E>(
        &self,
        key: &LayerKey,
        read: impl FnOnce() -> Result<Arc<LayerIndex>, E>,
    ) -> Result<Arc<LayerIndex>, E> {
        let mut inner = self.lock();
        let mut waited = false;
        loop {
            inner.tick += 1;
            let tick = inner.tick;
            match inner.slots.get_mut(&key.digest) {
                Some(Slot::Ready { index, used, .. }) => {
                    *used = tick;
                    self.counters.hits.fetch_add(1, Ordering::Relaxed);
                    return Ok(Arc::clone(index));
                }
                Some(Slot::Loading) if READING.with(Cell::get) > 0 => {
                    drop(inner);
                    self.counters
                        .duplicate_reads
                        .fetch_add(1, Ordering::Relaxed);
                    let _reading = Reading::enter();
                    return read();
                }
                Some(Slot::Loading) => {
                    if !waited {
                        waited = true;
                        self.counters.waits.fetch_add(1, Ordering::Relaxed);
                    }
                    inner = self.ready.wait(inner).unwrap_or_else(|p| p.into_inner());
                }
                None => break,
            }
        }
        inner.slots.insert(key.digest.clone(), Slot::Loading);
        drop(inner);
        let mut guard = LoadingGuard {
            cache: self,
            key: Some(key.digest.clone()),
        };
        self.counters.reads.fetch_add(1, Ordering::Relaxed);
        let result = {
            let _reading = Reading::enter();
            read()
        };
        guard.key = None;
        let mut inner = self.lock();
        match &result {
            Ok(index) if key.verified_by(index) => {
                let cost = index.held.as_ref().map_or(0, |b| b.used());
                inner.tick += 1;
                let used = inner.tick;
                inner.slots.insert(
                    key.digest.clone(),
                    Slot::Ready {
                        index: Arc::clone(index),
                        cost,
                        used,
                    },
                );
                inner.held = inner.held.saturating_add(cost);
                self.evict(&mut inner);
            }
            _ => {
                inner.slots.remove(&key.digest);
                self.counters.not_kept.fetch_add(1, Ordering::Relaxed);
            }
        }
        drop(inner);
        self.ready.notify_all();
        result
    }

    /// Drops the least recently used indexes until what is kept is within
    /// the budget (an index larger than the whole budget is not kept).
    fn evict(&self, inner: &mut Inner) {
        while inner.held > self.budget {
            let oldest = inner
                .slots
                .iter()
                .filter_map(|(k, s)| match s {
                    Slot::Ready { used, cost, .. } => Some((*used, *cost, k)),
                    Slot::Loading => None,
                })
                .min_by_key(|(used, _, _)| *used)
                .map(|(_, cost, k)| (k.clone(), cost));
            let Some((k, cost)) = oldest else { break };
            inner.slots.remove(&k);
            inner.held = inner.held.saturating_sub(cost);
            self.counters.evictions.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Drops every kept index (what is still in use elsewhere lives on
    /// there). Returns whether anything was dropped.
    pub fn clear(&self) -> bool {
        *self.views.lock().unwrap_or_else(|p| p.into_inner()) = ViewMemo::default();
        let mut inner = self.lock();
        let before = inner.slots.len();
        inner.slots.retain(|_, s| matches!(s, Slot::Loading));
        let dropped = (before - inner.slots.len()) as u64;
        inner.held = 0;
        self.counters
            .evictions
            .fetch_add(dropped, Ordering::Relaxed);
        dropped > 0
    }

    /// A judged image kept under `key` (see [`ImageKey`]), if any.
    pub fn image<T: Clone + Send + 'static>(&self, key: &ImageKey) -> Option<T> {
        let memo = self.images.lock().unwrap_or_else(|p| p.into_inner());
        let hit = memo
            .map
            .get(key)
            .and_then(|v| v.downcast_ref::<T>())
            .cloned();
        if hit.is_some() {
            self.counters.image_hits.fetch_add(1, Ordering::Relaxed);
        }
        hit
    }

    /// Keeps a judged image under `key` (at most [`IMAGES_KEPT`]; the
    /// oldest go first).
    pub fn keep_image<T: Send + Sync + 'static>(&self, key: ImageKey, judged: T) {
        let mut memo = self.images.lock().unwrap_or_else(|p| p.into_inner());
        if memo.map.contains_key(&key) {
            return;
        }
        if memo.order.len() >= IMAGES_KEPT {
            if let Some(old) = memo.order.pop_front() {
                memo.map.remove(&old);
            }
        }
        memo.order.push_back(key.clone());
        memo.map.insert(key, Box::new(judged));
    }
}

impl LayerCache {
    /// The merged view of a chain of layers named by their verified keys
    /// (lowest first): kept, or merged by `merge` and kept (up to
    /// [`VIEW_NODES_KEPT`] paths in all, the oldest dropped first; none in a
    /// cache with no room). A view depends only on its layers' bytes, so an
    /// image of one input is merged on the base another input merged.
    pub fn view(&self, chain: &[Digest], merge: impl FnOnce() -> MergedFs) -> Arc<MergedFs> {
        if let Some(v) = self
            .views
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .map
            .get(chain)
        {
            self.counters.view_hits.fetch_add(1, Ordering::Relaxed);
            return Arc::clone(v);
        }
        let fs = Arc::new(merge());
        let len = fs.len();
        if self.budget == 0 || len > VIEW_NODES_KEPT {
            return fs;
        }
        let mut memo = self.views.lock().unwrap_or_else(|p| p.into_inner());
        if memo.map.contains_key(chain) {
            return fs;
        }
        while memo.nodes + len > VIEW_NODES_KEPT {
            let Some(old) = memo.order.pop_front() else {
                break;
            };
            if let Some(v) = memo.map.remove(&old) {
                memo.nodes = memo.nodes.saturating_sub(v.len());
            }
        }
        memo.nodes += len;
        memo.order.push_back(chain.to_vec());
        memo.map.insert(chain.to_vec(), Arc::clone(&fs));
        fs
    }
}

/// Most paths the merged views the run keeps may hold together (some 65
/// bytes each: about 32 MiB, besides the indexes they keep alive, which the
/// run's meter counts).
pub const VIEW_NODES_KEPT: usize = 500_000;

#[derive(Default)]
struct ViewMemo {
    map: HashMap<Vec<Digest>, Arc<MergedFs>>,
    order: std::collections::VecDeque<Vec<Digest>>,
    nodes: usize,
}

/// Most judged images the run keeps for reuse (each is one image's report
/// parts: its findings and binaries, not its layers).
pub const IMAGES_KEPT: usize = 64;

/// What an image is judged on, as a digest: its layers (by cache key) and
/// every configuration value and option the judge reads. Two images with
/// the same key get the same judgement.
pub type ImageKey = Digest;

#[derive(Default)]
struct ImageMemo {
    map: HashMap<ImageKey, Box<dyn std::any::Any + Send + Sync>>,
    order: std::collections::VecDeque<ImageKey>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meter::{Budget, Meter};
    use std::sync::atomic::AtomicUsize;

    fn key(n: u8, content_address: bool) -> LayerKey {
        LayerKey {
            digest: Digest::sha256_of(&[n]),
            content_address,
        }
    }

    /// An index charging `cost` bytes to `meter`, hashed as `digest`.
    fn index(meter: &Meter, cost: u64, digest: Option<Digest>) -> Arc<LayerIndex> {
        let limits = Limits::default();
        let mut b = Budget::new(&limits, meter);
        let _ = b.charge(cost);
        Arc::new(LayerIndex {
            digest,
            held: Some(b),
            ..LayerIndex::default()
        })
    }

    #[test]
    fn a_layer_is_read_once_and_reused() {
        let cache = LayerCache::new(1 << 20);
        let meter = Meter::default();
        let k = key(1, true);
        let reads = AtomicUsize::new(0);
        for _ in 0..3 {
            let got: Result<_, ()> = cache.layer(&k, || {
                reads.fetch_add(1, Ordering::SeqCst);
                Ok(index(&meter, 100, Some(k.digest.clone())))
            });
            assert!(got.is_ok());
        }
        assert_eq!(reads.load(Ordering::SeqCst), 1);
        let s = cache.stats();
        assert_eq!((s.reads, s.hits), (1, 2));
        assert_eq!(cache.held(), 100);
    }

    #[test]
    fn concurrent_requests_wait_for_the_read_in_flight() {
        let cache = LayerCache::new(1 << 20);
        let meter = Meter::default();
        let k = key(2, true);
        let reads = AtomicUsize::new(0);
        std::thread::scope(|s| {
            for _ in 0..8 {
                s.spawn(|| {
                    let got: Result<_, ()> = cache.layer(&k, || {
                        reads.fetch_add(1, Ordering::SeqCst);
                        std::thread::sleep(std::time::Duration::from_millis(100));
                        Ok(index(&meter, 10, Some(k.digest.clone())))
                    });
                    assert!(got.is_ok());
                });
            }
        });
        assert_eq!(reads.load(Ordering::SeqCst), 1);
        let s = cache.stats();
        assert_eq!(s.reads, 1);
        assert_eq!(s.hits, 7);
        assert!(s.waits >= 1, "{s:?}");
    }

    #[test]
    fn an_index_that_was_not_hashed_is_not_kept() {
        let cache = LayerCache::new(1 << 20);
        let meter = Meter::default();
        let k = key(4, true);
        for _ in 0..2 {
            let got: Result<_, ()> = cache.layer(&k, || Ok(index(&meter, 100, None)));
            assert!(got.is_ok());
        }
        let s = cache.stats();
        assert_eq!((s.reads, s.hits, s.not_kept), (2, 0, 2), "{s:?}");
        assert_eq!(cache.held(), 0);
    }

    #[test]
    fn the_least_recently_used_layer_is_evicted_and_read_again() {
        let meter = Meter::default();
        let cache = LayerCache::new(250);
        let reads = AtomicUsize::new(0);
        let get = |n: u8| {
            let got: Result<_, ()> = cache.layer(&key(n, true), || {
                reads.fetch_add(1, Ordering::SeqCst);
                Ok(index(&meter, 100, Some(key(n, true).digest)))
            });
            assert!(got.is_ok());
        };
        get(1);
        get(2);
        get(1); // 1 is now more recent than 2
        get(3); // over 250: 2 goes
        assert_eq!(cache.stats().evictions, 1);
        assert_eq!(cache.held(), 200);
        assert_eq!(reads.load(Ordering::SeqCst), 3);
        get(1);
        assert_eq!(reads.load(Ordering::SeqCst), 3, "1 was kept");
        get(2);
        assert_eq!(reads.load(Ordering::SeqCst), 4, "2 was evicted: read again");
        // What the cache keeps is what the meter counts for it.
        assert_eq!(cache.held(), 200);
        assert_eq!(meter.in_use(), 200);
        assert!(cache.clear());
        assert_eq!(meter.in_use(), 0, "evicted indexes give their charge back");
    }

    #[test]
    fn an_index_larger_than_the_budget_is_read_but_not_kept() {
        let meter = Meter::default();
        let cache = LayerCache::new(50);
        for _ in 0..2 {
            let got: Result<_, ()> = cache.layer(&key(1, true), || Ok(index(&meter, 100, None)));
            assert!(got.is_ok());
        }
        assert_eq!(cache.stats().reads, 2);
        assert_eq!(cache.held(), 0);
    }

    #[test]
    fn a_diff_id_is_kept_only_when_the_hash_proves_it() {
        let meter = Meter::default();
        let cache = LayerCache::new(1 << 20);
        let k = key(1, false);
        let reads = AtomicUsize::new(0);
        let read = |d: Option<Digest>| {
            let got: Result<_, ()> = cache.layer(&k, || {
                reads.fetch_add(1, Ordering::SeqCst);
                Ok(index(&meter, 10, d))
            });
            assert!(got.is_ok());
        };
        read(None); // not hashed: not kept
        read(Some(Digest::sha256_of(b"other"))); // disproved: not kept
        read(Some(k.digest.clone())); // proved: kept
        read(None);
        assert_eq!(reads.load(Ordering::SeqCst), 3);
        assert_eq!(cache.stats().not_kept, 2);
        // A content address is disproved by a hash too.
        let ca = key(9, true);
        let got: Result<_, ()> =
            cache.layer(&ca, || Ok(index(&meter, 10, Some(Digest::sha256_of(b"x")))));
        assert!(got.is_ok());
        assert_eq!(cache.stats().not_kept, 3);
    }

    #[test]
    fn errors_are_not_kept_and_waiters_then_read_themselves() {
        let cache = LayerCache::new(1 << 20);
        let meter = Meter::default();
        let k = key(4, true);
        let first: Result<Arc<LayerIndex>, &str> = cache.layer(&k, || Err("broken"));
        assert!(first.is_err());
        let second: Result<_, &str> = cache.layer(&k, || Ok(index(&meter, 1, None)));
        assert!(second.is_ok());
        assert_eq!(cache.stats().reads, 2);
    }

    #[test]
    fn a_reading_thread_never_waits_for_the_layer_in_flight() {
        let cache = LayerCache::new(1 << 20);
        let meter = Meter::default();
        let k = key(5, true);
        // The read of k asks for k again (as a nested rayon job could): it
        // is read a second time instead of waiting for itself.
        let got: Result<_, ()> = cache.layer(&k, || {
            let inner: Result<_, ()> = cache.layer(&k, || Ok(index(&meter, 1, None)));
            assert!(inner.is_ok());
            Ok(index(&meter, 1, None))
        });
        assert!(got.is_ok());
        assert_eq!(cache.stats().duplicate_reads, 1);
    }

    #[test]
    fn images_are_kept_up_to_a_count() {
        let cache = LayerCache::new(0);
        for i in 0..(IMAGES_KEPT + 1) {
            cache.keep_image(Digest::sha256_of(&i.to_le_bytes()), i);
        }
        assert_eq!(
            cache.image::<usize>(&Digest::sha256_of(&0usize.to_le_bytes())),
            None
        );
        assert_eq!(
            cache.image::<usize>(&Digest::sha256_of(&1usize.to_le_bytes())),
            Some(1)
        );
        assert_eq!(cache.stats().image_hits, 1);
    }
}
