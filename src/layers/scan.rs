//! One pass over one layer blob: decode it (none, gzip, zstd, xz — told apart by
//! magic bytes), walk its tar entries and identify candidate files while their
//! bytes pass. The result, a [`LayerIndex`], keeps every entry's path, kind, mode
//! and identification — never file bodies — so memory is the index, not the layer.

use std::io::{self, BufRead, BufReader, Read};

use rayon::prelude::*;

pub use crate::archive::decode::{decoder, Compression};
use crate::archive::tar::{
    self as tarwalk, EntryKind, SliceInput, StreamInput, TarError, TarProblem, VisitError,
};
use crate::digest::{Digest, Hasher};
use crate::identify::{self, Capture, Ident};
use crate::limits::{Exceeded, Limits};
use crate::meter::{Budget, Meter};
use crate::paths;

/// What an entry of a layer is, after whiteout names are recognised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeKind {
    File,
    Dir,
    /// Target as stored (relative to the link's directory, or absolute from
    /// the image root).
    Symlink(String),
    /// Target path, normalised (hardlinks name another entry of the layer).
    Hardlink(String),
    Device,
    Fifo,
    Other,
    /// `.wh.NAME`: deletes `path` from lower layers.
    Whiteout,
    /// `.wh..wh..opq`: hides everything lower layers put under `path`.
    Opaque,
}

#[derive(Debug, Clone)]
pub struct LayerEntry {
    /// Absolute image path (for whiteouts: the path deleted).
    pub path: std::sync::Arc<str>,
    pub kind: NodeKind,
    pub mode: u32,
    /// Owner (uid, gid).
    pub owner: (u32, u32),
    pub size: u64,
    /// For regular files that are executables or have a known magic.
    pub ident: Option<Box<Ident>>,
    /// The bytes of the few small text files the judge reads (the dynamic
    /// linker's configuration); see [`keeps_content`].
    pub content: Option<Box<[u8]>>,
}

/// Largest configuration file kept whole.
pub const CONTENT_CAP: u64 = 64 * 1024;

/// Is this one of the small files whose content the judge needs: the glibc
/// loader's `/etc/ld.so.conf` (and the files it includes from
/// `/etc/ld.so.conf.d/`), musl's `/etc/ld-musl-<arch>.path`, or the user
/// and group databases `/etc/passwd` and `/etc/group`?
pub fn keeps_content(path: &str, size: u64) -> bool {
    size <= CONTENT_CAP
        && (path == "/etc/ld.so.conf"
            || path.starts_with("/etc/ld.so.conf.d/")
            || path == "/etc/passwd"
            || path == "/etc/group"
            || (path.starts_with("/etc/ld-musl-") && path.ends_with(".path")))
}

impl LayerEntry {
    pub fn exec_bit(&self) -> bool {
        self.mode & 0o111 != 0
    }
}

/// What one entry is charged against [`Limits::index_bytes`]: its path, link
/// target and kept content, plus the entry itself and an allocation's slack.
pub fn entry_cost(e: &LayerEntry) -> u64 {
    let link = match &e.kind {
        NodeKind::Symlink(t) | NodeKind::Hardlink(t) => t.len(),
        _ => 0,
    };
    let content = e.content.as_ref().map_or(0, |c| c.len());
    let fixed = std::mem::size_of::<LayerEntry>() + 16;
    (e.path.len() + link + content + fixed) as u64
}

/// Charges what the index keeps of one entry (its [`entry_cost`]).
pub fn charge(budget: &mut Budget, e: &LayerEntry) -> Result<(), Exceeded> {
    budget.charge(entry_cost(e))
}

/// Everything archscan keeps of a layer.
#[derive(Debug, Default)]
pub struct LayerIndex {
    pub entries: Vec<LayerEntry>,
    pub compression: Option<Compression>,
    /// Digest of the raw blob, when it was computed while the bytes passed.
    pub digest: Option<Digest>,
    /// Problems that did not stop the walk (odd whiteouts…).
    pub warnings: Vec<String>,
    /// The memory charge of this index, given back when it is dropped.
    pub held: Option<Budget>,
}

/// Why a layer could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// The tar walk stopped: damaged, truncated, or over a cap.
    #[error(transparent)]
    Tar(TarError),
    /// The decoder failed under the walk: corrupt compressed data.
    #[error("cannot decompress: {} ({})", decode_error(.0), .0)]
    Decompress(TarError),
    #[error("read failed: {0}")]
    Read(#[source] io::Error),
    /// The decoder could not be opened (an unsupported compression).
    #[error("{0}")]
    Decoder(#[source] io::Error),
    #[error("cannot decompress the end of the layer: {0}")]
    Trailer(#[source] io::Error),
}

fn decode_error(e: &TarError) -> String {
    e.problem.io().map(|io| io.to_string()).unwrap_or_default()
}

impl From<TarError> for ScanError {
    fn from(e: TarError) -> Self {
        match &e.problem {
            TarProblem::Read(io)
                if io.kind() == io::ErrorKind::InvalidData || io.kind() == io::ErrorKind::Other =>
            {
                ScanError::Decompress(e)
            }
            _ => ScanError::Tar(e),
        }
    }
}

impl ScanError {
    /// The cap of [`Limits`] reached, if that is why the layer is unreadable.
    pub fn exceeded(&self) -> Option<Exceeded> {
        match self {
            ScanError::Tar(t) | ScanError::Decompress(t) => t.problem.exceeded(),
            ScanError::Read(io) | ScanError::Trailer(io) | ScanError::Decoder(io) => io
                .get_ref()
                .and_then(|e| e.downcast_ref::<Exceeded>())
                .copied(),
        }
    }
}

/// Whether to hash the raw blob while scanning it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hashing {
    Never,
    /// When the blob is compressed (every byte passes anyway).
    WhenDecoded,
    Always,
}

/// Scans a layer held in memory (a view into a memory-mapped archive or blob).
pub fn scan_slice(
    data: &[u8],
    limits: &Limits,
    meter: &Meter,
    hashing: Hashing,
) -> Result<LayerIndex, ScanError> {
    scan_slice_released(data, limits, meter, hashing, &|_, _| true)
}

/// How much of a mapped layer is scanned between two calls to `release`.
pub const RELEASE_WINDOW: usize = 4 << 20;

/// How far behind a window's start a release reaches. A page fault on a
/// mapped file also maps the cached pages around it (the kernel's
/// fault-around, 64 KiB by default, up to a large folio), including pages
/// of the window already released; reaching back this far drops them again.
const RELEASE_BACK: usize = 2 << 20;

/// The SHA-256 of a mapped blob, releasing each window once hashed; it stops
/// early when `release` says the input changed under the map (what is hashed
/// then is not the file's, and the caller reports the change instead).
fn hash_released(data: &[u8], release: &(dyn Fn(usize, usize) -> bool + Sync)) -> Digest {
    let mut h = Hasher::new(crate::digest::Algorithm::Sha256);
    let mut at = 0usize;
    for chunk in data.chunks(RELEASE_WINDOW) {
        h.update(chunk);
        if !release(at.saturating_sub(RELEASE_BACK), at + chunk.len()) {
            break;
        }
        at += chunk.len();
    }
    h.finish()
}

/// Scans a layer held in memory, calling `release(start, end)` (offsets into
/// `data`) for every window of about [`RELEASE_WINDOW`] bytes it is done with,
/// so that the owner of a memory map can drop those pages from the process
/// (touched file-backed pages count in its resident set); `release` returns
/// `false` when the map's file changed, and hashing stops there. Nothing in a released
/// range is read again; reading it anyway would only fault the pages back in.
pub fn scan_slice_released(
    data: &[u8],
    limits: &Limits,
    meter: &Meter,
    hashing: Hashing,
    release: &(dyn Fn(usize, usize) -> bool + Sync),
) -> Result<LayerIndex, ScanError> {
    let compression = Compression::sniff(data);
    if compression != Compression::None || hashing == Hashing::Always {
        // Read whole (decoded or hashed): worth the kernel's read-ahead.
        crate::archive::bytes::advise_sequential(data);
    }
    if compression != Compression::None {
        let reader = ReleasingReader {
            data,
            pos: 0,
            released: 0,
            release,
        };
        let mut index = scan_buffered(reader, limits, meter, hashing)?;
        index.compression = Some(compression);
        release(0, data.len());
        return Ok(index);
    }
    let mut index = LayerIndex {
        compression: Some(Compression::None),
        ..LayerIndex::default()
    };
    let digest = (hashing == Hashing::Always).then(|| hash_released(data, release));
    // Walk the headers; bodies are not touched except the first bytes of each
    // regular file (to sniff its magic). Candidates are identified in parallel,
    // a window at a time, and each window is released once identified.
    let mut pending: Vec<Candidate> = Vec::new();
    let mut window_start = 0usize;
    let mut budget = Budget::new(limits, meter);
    let mut input = SliceInput::new(data);
    tarwalk::walk(&mut input, limits, |entry, body| {
        let body_at = usize::try_from(entry.offset).unwrap_or(usize::MAX);
        if body_at.saturating_sub(window_start) >= RELEASE_WINDOW && body_at <= data.len() {
            identify_pending(data, &mut pending, &mut index.entries, limits);
            release(window_start.saturating_sub(RELEASE_BACK), body_at);
            window_start = body_at;
        }
        let e = to_entry(entry, &mut index.warnings);
        if e.kind == NodeKind::File {
            let whole = body.whole().unwrap_or(&[]);
            let start = body_at.min(whole.len());
            let end = start.saturating_add(entry.size as usize).min(whole.len());
            let file = whole.get(start..end).unwrap_or(&[]);
            let first = &file[..file.len().min(64)];
            if e.exec_bit() || identify::has_magic(first) {
                pending.push(Candidate {
                    entry: index.entries.len(),
                    offset: entry.offset,
                    size: entry.size,
                    exec: e.exec_bit(),
                });
            }
            if keeps_content(&e.path, entry.size) {
                let mut e = e;
                e.content = Some(file.into());
                charge(&mut budget, &e)?;
                index.entries.push(e);
                return Ok(());
            }
        }
        charge(&mut budget, &e)?;
        index.entries.push(e);
        Ok(())
    })?;
    identify_pending(data, &mut pending, &mut index.entries, limits);
    release(window_start.saturating_sub(RELEASE_BACK), data.len());
    // The index lives until the image is judged: give back the growth slack.
    index.entries.shrink_to_fit();
    index.digest = digest;
    index.held = Some(budget);
    Ok(index)
}

/// A regular file of a mapped layer that may be an executable.
struct Candidate {
    entry: usize,
    offset: u64,
    size: u64,
    exec: bool,
}

/// Identifies the candidates found so far (in parallel) and stores the results.
fn identify_pending(
    data: &[u8],
    pending: &mut Vec<Candidate>,
    entries: &mut [LayerEntry],
    limits: &Limits,
) {
    let idents: Vec<(usize, Option<Ident>)> = pending
        .par_iter()
        .map(|c| {
            let file = usize::try_from(c.offset)
                .ok()
                .zip(usize::try_from(c.offset.saturating_add(c.size)).ok())
                .and_then(|(a, b)| data.get(a..b))
                .unwrap_or(&[]);
            (c.entry, identify::identify(&file, c.exec, &limits.ident))
        })
        .collect();
    for (i, ident) in idents {
        if let Some(e) = entries.get_mut(i) {
            e.ident = ident.map(Box::new);
        }
    }
    pending.clear();
}

/// Hands out a slice front to back in windows of at most [`SLICE_CHUNK`]
/// bytes, releasing what has been consumed a window at a time (a compressed
/// layer inside a memory-mapped archive). A `BufRead`: the decoder reads the
/// mapped bytes in place, without a copy into a buffer first.
struct ReleasingReader<'a> {
    data: &'a [u8],
    pos: usize,
    released: usize,
    release: &'a (dyn Fn(usize, usize) -> bool + Sync),
}

/// How much of a mapped blob one `fill_buf` offers.
const SLICE_CHUNK: usize = 256 * 1024;

impl Read for ReleasingReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let rest = self.fill_buf()?;
        let n = rest.len().min(buf.len());
        buf[..n].copy_from_slice(&rest[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for ReleasingReader<'_> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        let rest = self.data.get(self.pos..).unwrap_or(&[]);
        Ok(&rest[..rest.len().min(SLICE_CHUNK)])
    }

    fn consume(&mut self, amt: usize) {
        self.pos = (self.pos + amt).min(self.data.len());
        if self.pos - self.released >= RELEASE_WINDOW {
            (self.release)(self.released.saturating_sub(RELEASE_BACK), self.pos);
            self.released = self.pos;
        }
    }
}

/// A buffered reader that hashes every byte it offers, once: `ahead` bytes at
/// the front of the inner buffer are hashed but not yet consumed. Every byte
/// offered is consumed in the end (the scan drains a hashed blob).
struct Tap<B> {
    inner: B,
    hasher: Option<Hasher>,
    ahead: usize,
}

impl<B: BufRead> Read for Tap<B> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let rest = self.fill_buf()?;
        let n = rest.len().min(buf.len());
        buf[..n].copy_from_slice(&rest[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<B: BufRead> BufRead for Tap<B> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        let buf = self.inner.fill_buf()?;
        if let Some(h) = &mut self.hasher {
            if let Some(new) = buf.get(self.ahead..) {
                h.update(new);
                self.ahead = buf.len();
            }
        }
        Ok(buf)
    }

    fn consume(&mut self, amt: usize) {
        self.ahead = self.ahead.saturating_sub(amt);
        self.inner.consume(amt);
    }
}

/// A reader that fails once more than `left` bytes came out of it: the cap on
/// decompressed bytes (a gzip or zstd bomb stops here).
struct Capped<R> {
    inner: R,
    left: u64,
    cap: u64,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n as u64 > self.left {
            return Err(io::Error::other(Exceeded::LayerBytes(self.cap)));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

/// Scans a layer arriving as a one-way stream (compressed, or from stdin).
pub fn scan_stream<R: Read>(
    raw: R,
    limits: &Limits,
    meter: &Meter,
    hashing: Hashing,
) -> Result<LayerIndex, ScanError> {
    scan_buffered(
        BufReader::with_capacity(256 * 1024, raw),
        limits,
        meter,
        hashing,
    )
}

/// Scans a layer from a buffered reader: the decoder (and the digest) read
/// its buffer in place.
fn scan_buffered<B: BufRead>(
    mut buffered: B,
    limits: &Limits,
    meter: &Meter,
    hashing: Hashing,
) -> Result<LayerIndex, ScanError> {
    let first = buffered.fill_buf().map_err(ScanError::Read)?;
    let compression = Compression::sniff(first);
    let hash = match hashing {
        Hashing::Always => true,
        Hashing::WhenDecoded => compression != Compression::None,
        Hashing::Never => false,
    };
    let mut tap = Tap {
        inner: buffered,
        hasher: hash.then(|| Hasher::new(crate::digest::Algorithm::Sha256)),
        ahead: 0,
    };
    let mut index = LayerIndex {
        compression: Some(compression),
        ..LayerIndex::default()
    };
    let held;
    {
        let decoded = crate::archive::decode::metered_decoder(&mut tap, compression, limits, meter)
            .map_err(ScanError::Decoder)?;
        let capped = Capped {
            inner: decoded,
            left: limits.layer_bytes,
            cap: limits.layer_bytes,
        };
        let mut input = StreamInput::new(capped);
        let mut buf = vec![0u8; 64 * 1024];
        let mut budget = Budget::new(limits, meter);
        tarwalk::walk(&mut input, limits, |entry, body| {
            let mut e = to_entry(entry, &mut index.warnings);
            if e.kind == NodeKind::File && keeps_content(&e.path, entry.size) {
                let mut all = Vec::with_capacity(entry.size as usize);
                body.read_to_end(&mut all).map_err(VisitError::ReadInFile)?;
                e.content = Some(all.into());
            } else if e.kind == NodeKind::File {
                let mut cap = Capture::new(entry.size, e.exec_bit(), &limits.ident);
                cap.feed_from(body, &mut buf)
                    .map_err(VisitError::ReadInFile)?;
                e.ident = cap.finish().map(Box::new);
            }
            charge(&mut budget, &e)?;
            index.entries.push(e);
            Ok(())
        })?;
        held = Some(budget);
        // Drain what follows the tar's end (padding, trailing gzip members) so
        // the digest covers the whole blob.
        if hash {
            io::copy(&mut input.into_inner(), &mut io::sink()).map_err(ScanError::Trailer)?;
        }
    }
    if tap.hasher.is_some() {
        io::copy(&mut tap, &mut io::sink()).map_err(ScanError::Read)?;
    }
    index.digest = tap.hasher.take().map(Hasher::finish);
    index.entries.shrink_to_fit();
    index.held = held;
    Ok(index)
}

const WHITEOUT: &str = ".wh.";
const OPAQUE: &str = ".wh..wh..opq";

/// [`paths::normalise`], with a fast path for the names nearly every layer
/// has (`./usr/bin/x`, `usr/lib/`): UTF-8 with no empty, `.` or `..`
/// component after one leading `./` and before one trailing `/`, which
/// normalise to `/` + the name. Anything else takes the general path.
fn normalise_name(raw: &[u8]) -> String {
    let name = raw.strip_prefix(b"./").unwrap_or(raw);
    let name = name.strip_suffix(b"/").unwrap_or(name);
    let clean = !name.is_empty()
        && name
            .split(|&b| b == b'/')
            .all(|c| !c.is_empty() && c != b"." && c != b"..");
    match std::str::from_utf8(name) {
        Ok(s) if clean => {
            let mut out = String::with_capacity(s.len() + 1);
            out.push('/');
            out.push_str(s);
            out
        }
        _ => paths::normalise(raw),
    }
}

fn to_entry(entry: &tarwalk::Entry, warnings: &mut Vec<String>) -> LayerEntry {
    let path = normalise_name(&entry.path);
    let name = paths::file_name(&path);
    let dir = paths::parent(&path);
    let (path, kind) = if name == OPAQUE {
        (dir.to_string(), NodeKind::Opaque)
    } else if let Some(hidden) = name.strip_prefix(WHITEOUT) {
        if hidden.is_empty() || hidden == "." || hidden == ".." || hidden.starts_with(".wh.") {
            warnings.push(format!("ignored the whiteout {path}: it names no file"));
            (path.clone(), NodeKind::Other)
        } else {
            (paths::join_normalised(dir, hidden), NodeKind::Whiteout)
        }
    } else {
        let link = || paths::decode(entry.link.as_deref().unwrap_or(b"")).into_owned();
        let kind = match entry.kind {
            EntryKind::File => NodeKind::File,
            EntryKind::Dir => NodeKind::Dir,
            EntryKind::Symlink => NodeKind::Symlink(link()),
            // Hardlink targets are names in the same archive.
            EntryKind::Hardlink => NodeKind::Hardlink(paths::normalise(link().as_bytes())),
            EntryKind::CharDevice | EntryKind::BlockDevice => NodeKind::Device,
            EntryKind::Fifo => NodeKind::Fifo,
            EntryKind::Other(_) => NodeKind::Other,
        };
        (path, kind)
    };
    LayerEntry {
        path: path.into(),
        kind,
        mode: entry.mode,
        owner: entry.owner,
        size: entry.size,
        ident: None,
        content: None,
    }
}

/// Does this blob look like a layer (a tar, possibly compressed)?
pub fn looks_like_layer(first: &[u8]) -> bool {
    match Compression::sniff(first) {
        Compression::None => {
            first.len() >= 512
                && (first.get(257..262) == Some(b"ustar") || first[..512].iter().all(|&b| b == 0))
        }
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::archive::tar::tests::build;
    use std::io::Write;

    fn sample() -> Vec<u8> {
        build(&[
            ("./bin/", EntryKind::Dir, b"", None, 0o755),
            (
                "./bin/tool",
                EntryKind::File,
                b"#!/bin/sh\necho hi\n",
                None,
                0o755,
            ),
            ("./bin/data", EntryKind::File, b"plain", None, 0o644),
            ("./etc/.wh.gone", EntryKind::File, b"", None, 0o644),
            ("./opt/.wh..wh..opq", EntryKind::File, b"", None, 0o644),
            ("./bin/sh", EntryKind::Symlink, b"", Some("busybox"), 0o777),
        ])
    }

    #[test]
    fn slice_scan_identifies_and_marks_whiteouts() {
        let idx = scan_slice(
            &sample(),
            &Limits::default(),
            &Meter::default(),
            Hashing::Never,
        )
        .unwrap();
        let kinds: Vec<(&str, &NodeKind)> =
            idx.entries.iter().map(|e| (&*e.path, &e.kind)).collect();
        assert_eq!(
            kinds,
            vec![
                ("/bin", &NodeKind::Dir),
                ("/bin/tool", &NodeKind::File),
                ("/bin/data", &NodeKind::File),
                ("/etc/gone", &NodeKind::Whiteout),
                ("/opt", &NodeKind::Opaque),
                ("/bin/sh", &NodeKind::Symlink("busybox".into())),
            ]
        );
        assert!(matches!(
            idx.entries[1].ident.as_deref(),
            Some(Ident::Script(_))
        ));
        assert_eq!(idx.entries[2].ident, None);
    }

    #[test]
    fn gzip_and_zstd_scans_match_the_plain_one() {
        let plain = sample();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&plain).unwrap();
        let gz = gz.finish().unwrap();
        let zst = zstd::encode_all(&plain[..], 1).unwrap();
        let a = scan_slice(
            &plain,
            &Limits::default(),
            &Meter::default(),
            Hashing::Never,
        )
        .unwrap();
        for blob in [gz, zst] {
            let b = scan_slice(
                &blob,
                &Limits::default(),
                &Meter::default(),
                Hashing::WhenDecoded,
            )
            .unwrap();
            assert_eq!(a.entries.len(), b.entries.len());
            for (x, y) in a.entries.iter().zip(&b.entries) {
                assert_eq!((&x.path, &x.kind, &x.ident), (&y.path, &y.kind, &y.ident));
            }
            assert_eq!(b.digest, Some(Digest::sha256_of(&blob)));
        }
    }

    #[test]
    fn the_tap_hashes_each_byte_once_however_it_is_read() {
        let data: Vec<u8> = (0..10_000u32).map(|i| ((i * 7919) >> 3) as u8).collect();
        // A tiny buffer, partial consumes, repeated fill_bufs and reads.
        let mut tap = Tap {
            inner: BufReader::with_capacity(7, &data[..]),
            hasher: Some(Hasher::new(crate::digest::Algorithm::Sha256)),
            ahead: 0,
        };
        let mut out = Vec::new();
        let mut step = 0usize;
        loop {
            step += 1;
            let buf = tap.fill_buf().unwrap();
            if buf.is_empty() {
                break;
            }
            let n = buf.len().min(step % 4);
            out.extend_from_slice(&buf[..n]);
            tap.consume(n);
            let _ = tap.fill_buf().unwrap(); // asked again, nothing consumed
            let mut small = [0u8; 3];
            let m = tap.read(&mut small).unwrap();
            out.extend_from_slice(&small[..m]);
        }
        assert_eq!(out, data);
        assert_eq!(
            tap.hasher.take().unwrap().finish(),
            Digest::sha256_of(&data)
        );
    }

    #[test]
    fn a_mapped_blob_is_hashed_and_released_window_by_window() {
        // Incompressible content: the blob spans many SLICE_CHUNKs and
        // several release windows.
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let body: Vec<u8> = (0..(9 << 20))
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        let plain = build(&[("./big", EntryKind::File, &body, None, 0o644)]);
        let blob = zstd::encode_all(&plain[..], 1).unwrap();
        assert!(blob.len() > 2 * RELEASE_WINDOW);
        let released = std::sync::Mutex::new(Vec::new());
        let idx = scan_slice_released(
            &blob,
            &Limits::default(),
            &Meter::default(),
            Hashing::WhenDecoded,
            &|a, b| {
                released.lock().unwrap().push((a, b));
                true
            },
        )
        .unwrap();
        assert_eq!(idx.digest, Some(Digest::sha256_of(&blob)));
        assert_eq!(idx.entries.len(), 1);
        let released = released.into_inner().unwrap();
        assert!(released.len() >= 3, "{released:?}");
        assert_eq!(released.last().map(|r| r.1), Some(blob.len()));
    }

    #[test]
    fn multi_member_gzip_is_one_layer() {
        let plain = sample();
        let (a, b) = plain.split_at(1024);
        let mut blob = Vec::new();
        for part in [a, b] {
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            gz.write_all(part).unwrap();
            blob.extend(gz.finish().unwrap());
        }
        let idx = scan_slice(&blob, &Limits::default(), &Meter::default(), Hashing::Never).unwrap();
        assert_eq!(idx.entries.len(), 6);
    }

    #[test]
    fn decompression_cap_stops_a_bomb() {
        let zeros = vec![0u8; 4 << 20];
        let zst = zstd::encode_all(&zeros[..], 3).unwrap();
        let limits = Limits {
            layer_bytes: 1 << 20,
            ..Limits::default()
        };
        // All-zero data is an empty tar: it ends at the first zero block, so
        // the cap only bites when draining for the digest.
        let err = scan_slice(&zst, &limits, &Meter::default(), Hashing::Always).unwrap_err();
        assert_eq!(err.exceeded(), Some(Exceeded::LayerBytes(1 << 20)), "{err}");
    }

    #[test]
    fn fast_name_normalisation_agrees_with_the_general_one() {
        let names: [&[u8]; 14] = [
            b"./usr/bin/x",
            b"usr/lib/",
            b"/usr/bin/x",
            b"./",
            b"",
            b".",
            b"..",
            b"a//b",
            b"./a/./b",
            b"a/../../b",
            b"./usr/lib/x86_64-linux-gnu/libc.so.6",
            b"bin/caf\xe9",
            b".wh..wh..opq",
            b"./etc/.wh.passwd",
        ];
        for n in names {
            assert_eq!(normalise_name(n), paths::normalise(n), "{n:?}");
        }
    }

    #[test]
    fn index_memory_is_capped_across_layers_and_given_back() {
        let limits = Limits {
            index_bytes_total: 1000,
            ..Limits::default()
        };
        let layer = sample();
        let meter = Meter::default();
        let first = scan_slice(&layer, &limits, &meter, Hashing::Never).unwrap();
        assert!(meter.in_use() > 0);
        // A second index alive at the same time goes over the total.
        let err = scan_slice(&layer, &limits, &meter, Hashing::Never).unwrap_err();
        assert_eq!(
            err.exceeded(),
            Some(Exceeded::IndexBytesTotal(1000)),
            "{err}"
        );
        // The failed scan gave its charge back, and so does a dropped index.
        drop(first);
        assert_eq!(meter.in_use(), 0);
        assert!(scan_slice(&layer, &limits, &meter, Hashing::Never).is_ok());
    }

    #[test]
    fn looks_like_layer_by_magic() {
        assert!(looks_like_layer(&sample()));
        assert!(looks_like_layer(&[0x1f, 0x8b, 8, 0]));
        assert!(!looks_like_layer(b"{\"schemaVersion\":2}"));
    }
}
