//! Access to the members of an input by name, behind one type with three
//! backings:
//!
//! - **mapped**: an uncompressed archive file, memory-mapped; members are byte
//!   ranges of the map, nothing is copied and file bodies are never read;
//! - **directory**: an OCI layout on disk; blobs are opened (and mapped) on demand,
//!   and only by names that were validated not to leave the directory;
//! - **streamed**: stdin or a compressed archive, read once in archive order:
//!   small JSON members are kept, layer members are scanned as they pass (the
//!   legacy `docker save` puts `manifest.json` last, so nothing can wait for it).
//!
//! Outer compression (gzip, zstd, xz) is sniffed by magic and unwrapped here.
//! A directory without an OCI layout is an unpacked root filesystem, and a file
//! that starts like an executable is a single program ([`rootfs`]).

pub mod rootfs;

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::identify::Capture;
use crate::layers::scan::{self, Compression, Hashing, LayerIndex, NodeKind, ScanError};
use crate::limits::Limits;
use crate::paths;
use crate::tarwalk::{self, EntryKind, SliceInput, StreamInput};

/// Bytes of a file: a memory map, or a plain read where mapping is impossible.
pub enum Bytes {
    Map(memmap2::Mmap),
    Owned(Vec<u8>),
}

impl std::ops::Deref for Bytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Bytes::Map(m) => m,
            Bytes::Owned(v) => v,
        }
    }
}

impl Bytes {
    /// Drops the pages of `start..end` from this process's resident set once
    /// they have been scanned (a no-op for owned bytes). The bytes stay
    /// readable: touching them again faults them back in from the page cache.
    pub fn release(&self, start: usize, end: usize) {
        #[cfg(unix)]
        if let Bytes::Map(map) = self {
            let end = end.min(map.len());
            if start < end {
                // SAFETY: the map is a shared, read-only mapping of a file.
                // MADV_DONTNEED on such a mapping only unmaps the pages: a
                // later read faults them back from the page cache with the
                // same contents (the file's), so slices borrowed from the map,
                // here or in another thread, still see the same bytes. (It is
                // private anonymous or copy-on-write mappings where DONTNEED
                // changes what memory reads as; this is neither.)
                let _ = unsafe {
                    map.unchecked_advise_range(
                        memmap2::UncheckedAdvice::DontNeed,
                        start,
                        end - start,
                    )
                };
            }
        }
        #[cfg(not(unix))]
        let _ = (start, end);
    }
}

/// Maps a file read-only. Together with [`Bytes::release`], archscan's only
/// `unsafe` code.
pub fn map_file(file: &File, path: &Path) -> Result<Bytes> {
    let meta = file.metadata().map_err(|e| Error::io(path, e))?;
    if meta.len() == 0 {
        return Ok(Bytes::Owned(Vec::new()));
    }
    // SAFETY: the map is read-only and private to this process. Its contents
    // are treated as untrusted bytes; the one hazard is another process
    // truncating the file while it is mapped (SIGBUS). archscan is pointed at
    // archives that are finished being written, as `tar` and `file` are.
    match unsafe { memmap2::Mmap::map(file) } {
        Ok(map) => {
            #[cfg(unix)]
            let _ = map.advise(memmap2::Advice::Random);
            Ok(Bytes::Map(map))
        }
        // Not mappable (a special file): read it instead.
        Err(_) => {
            let mut v = Vec::new();
            (&*file)
                .read_to_end(&mut v)
                .map_err(|e| Error::io(path, e))?;
            Ok(Bytes::Owned(v))
        }
    }
}

/// The shape of the outermost input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Container {
    /// A tar archive (possibly compressed).
    Tar,
    /// A directory (an OCI layout, or an unpacked root filesystem).
    Directory,
    /// A single executable file (ELF, Mach-O, PE, `#!` script).
    File,
}

#[derive(Debug, Clone, Copy)]
struct Range {
    offset: u64,
    size: u64,
}

enum Members {
    Mapped {
        bytes: Bytes,
        ranges: HashMap<String, Range>,
    },
    Dir {
        root: PathBuf,
    },
    Streamed {
        small: HashMap<String, Vec<u8>>,
        layers: HashMap<String, std::result::Result<Arc<LayerIndex>, String>>,
        sizes: HashMap<String, u64>,
        /// The outer tar itself as a filesystem (for flat rootfs tarballs).
        outer: Arc<LayerIndex>,
    },
    /// One executable file, identified when opened.
    Single {
        index: Arc<LayerIndex>,
    },
    /// An image that is not a file (a registry): members fetched on demand.
    Blobs(Box<dyn crate::remote::BlobStore>),
}

/// An opened input.
pub struct Source {
    /// The path as the user gave it (`-` for stdin).
    pub display: String,
    pub container: Container,
    /// The outer archive's compression.
    pub compression: Compression,
    members: Members,
}

/// How much of a member may be read as JSON.
fn too_big(name: &str, size: u64, cap: usize) -> String {
    format!("{name} is {size} bytes, over the {cap}-byte limit for a JSON document")
}

impl Source {
    /// Opens a file, a directory, or `-` for stdin.
    pub fn open(path: &str, limits: &Limits) -> Result<Source> {
        if path == "-" {
            // `archscan - < image.tar`: a regular file read from its start is
            // mapped like a named one; a pipe is streamed.
            #[cfg(unix)]
            if let Some((file, meta)) = stdin_file() {
                return Source::from_file(path, Path::new(path), file, &meta, limits);
            }
            let stdin = io::stdin();
            return Source::from_stream(path, Box::new(stdin.lock()), limits);
        }
        let p = Path::new(path);
        let meta = std::fs::metadata(p).map_err(|e| Error::io(p, e))?;
        if meta.is_dir() {
            let root = p.canonicalize().map_err(|e| Error::io(p, e))?;
            return Ok(Source {
                display: path.to_string(),
                container: Container::Directory,
                compression: Compression::None,
                members: Members::Dir { root },
            });
        }
        let file = File::open(p).map_err(|e| Error::io(p, e))?;
        Source::from_file(path, p, file, &meta, limits)
    }

    /// An image whose members (named as in an OCI layout) come from a blob
    /// store, such as a registry.
    pub fn from_blobs(display: &str, blobs: Box<dyn crate::remote::BlobStore>) -> Source {
        Source {
            display: display.to_string(),
            container: Container::Tar,
            compression: Compression::None,
            members: Members::Blobs(blobs),
        }
    }

    /// Opens a regular file: mapped when it is an uncompressed tar or a
    /// program, streamed when it is compressed.
    fn from_file(
        path: &str,
        p: &Path,
        file: File,
        meta: &std::fs::Metadata,
        limits: &Limits,
    ) -> Result<Source> {
        let bytes = map_file(&file, p)?;
        if bytes.is_empty() {
            // Not an empty rootfs: nothing was saved (a failed `docker save`).
            return Err(Error::Format {
                archive: path.to_string(),
                what: "the input is empty".into(),
            });
        }
        let compression = Compression::sniff(&bytes);
        if compression == Compression::None && rootfs::is_program(&bytes) {
            let name = if path == "-" { "stdin" } else { path };
            let index = rootfs::single_file(name, &bytes, file_mode(meta), limits);
            return Ok(Source {
                display: path.to_string(),
                container: Container::File,
                compression,
                members: Members::Single {
                    index: Arc::new(index),
                },
            });
        }
        if compression != Compression::None {
            // Mapping reads nothing, so the file is still at its start.
            drop(bytes);
            return Source::from_stream(path, Box::new(file), limits);
        }
        let ranges = index_mapped(path, &bytes, limits)?;
        Ok(Source {
            display: path.to_string(),
            container: Container::Tar,
            compression,
            members: Members::Mapped { bytes, ranges },
        })
    }

    /// Reads a one-way stream, keeping JSON members and scanning layers.
    pub fn from_stream(display: &str, raw: Box<dyn Read + '_>, limits: &Limits) -> Result<Source> {
        let progress = crate::progress::Progress::stream(display);
        let mut buffered = BufReader::with_capacity(256 * 1024, progress.reader(raw));
        let first = io::BufRead::fill_buf(&mut buffered).map_err(|e| Error::io(display, e))?;
        let compression = Compression::sniff(first);
        if first.is_empty() {
            return Err(Error::Format {
                archive: display.to_string(),
                what: "the input is empty".into(),
            });
        }
        if compression == Compression::None && rootfs::is_program(first) {
            let all =
                rootfs::read_single(buffered, rootfs::STREAMED_PROGRAM_BYTES).map_err(|what| {
                    Error::Format {
                        archive: display.to_string(),
                        what,
                    }
                })?;
            let name = if display == "-" { "stdin" } else { display };
            let index = rootfs::single_file(name, &all, 0o755, limits);
            return Ok(Source {
                display: display.to_string(),
                container: Container::File,
                compression,
                members: Members::Single {
                    index: Arc::new(index),
                },
            });
        }
        let decoded = scan::decoder(buffered, compression).map_err(|e| Error::Format {
            archive: display.to_string(),
            what: e.to_string(),
        })?;
        let mut input = StreamInput::new(decoded);
        let mut small = HashMap::new();
        let mut layers = HashMap::new();
        let mut sizes = HashMap::new();
        let mut links: HashMap<String, String> = HashMap::new();
        let mut outer = LayerIndex::default();
        let mut buf = vec![0u8; 64 * 1024];
        let mut budget = scan::IndexBudget::new(limits);
        let walked = tarwalk::walk(&mut input, limits, |entry, body| {
            let name = member_key(&entry.path);
            let mut e = scan::LayerEntry {
                path: paths::normalise(&entry.path).into(),
                kind: NodeKind::Other,
                mode: entry.mode,
                size: entry.size,
                ident: None,
                content: None,
            };
            match entry.kind {
                EntryKind::File => {
                    e.kind = NodeKind::File;
                    sizes.insert(name.clone(), entry.size);
                    // Peek at the start to decide what this member is.
                    let peek_len = entry.size.min(1024) as usize;
                    let mut head = vec![0u8; peek_len];
                    body.read_exact(&mut head)
                        .map_err(|err| format!("read failed: {err}"))?;
                    let trimmed = head.iter().find(|b| !b.is_ascii_whitespace());
                    let json_like = matches!(trimmed, Some(b'{') | Some(b'['));
                    if json_like && entry.size <= limits.json_bytes as u64 {
                        let mut all = head;
                        body.read_to_end(&mut all)
                            .map_err(|err| format!("read failed: {err}"))?;
                        budget.charge_bytes(all.len() as u64)?;
                        small.insert(name, all);
                    } else if scan::looks_like_layer(&head)
                        || head.len() < 512 && head.iter().all(|&b| b == 0)
                    {
                        let chained = io::Cursor::new(head).chain(&mut *body);
                        let scanned = scan::scan_stream(chained, limits, Hashing::WhenDecoded)
                            .map(Arc::new)
                            .map_err(|ScanError(s)| s);
                        layers.insert(name, scanned);
                    } else {
                        let mut cap = Capture::new(entry.size, e.exec_bit(), &limits.ident);
                        cap.feed(&head);
                        cap.feed_from(body, &mut buf)
                            .map_err(|err| format!("read failed: {err}"))?;
                        e.ident = cap.finish().map(Box::new);
                    }
                }
                EntryKind::Dir => e.kind = NodeKind::Dir,
                EntryKind::Symlink | EntryKind::Hardlink => {
                    let target =
                        crate::paths::decode(entry.link.as_deref().unwrap_or(b"")).into_owned();
                    let resolved = link_target(&name, &target, entry.kind);
                    links.insert(name, resolved);
                    e.kind = if entry.kind == EntryKind::Symlink {
                        NodeKind::Symlink(target)
                    } else {
                        NodeKind::Hardlink(paths::normalise(target.as_bytes()))
                    };
                }
                _ => {}
            }
            budget.charge(&e)?;
            outer.entries.push(e);
            Ok(())
        });
        match walked {
            Err(e) => {
                return Err(Error::Format {
                    archive: display.to_string(),
                    what: describe_tar_error(&e),
                })
            }
            Ok(0) => {
                return Err(Error::Format {
                    archive: display.to_string(),
                    what: NO_ENTRIES.into(),
                })
            }
            Ok(_) => {}
        }
        // Members that are links to other members (podman, `docker save` of
        // repeated layers) answer with their target's contents.
        for (name, _) in links.iter() {
            if let Some(target) = chase(name, &links) {
                if let Some(v) = small.get(&target).cloned() {
                    small.insert(name.clone(), v);
                }
                if let Some(l) = layers.get(&target).cloned() {
                    layers.insert(name.clone(), l);
                }
                if let Some(s) = sizes.get(&target).copied() {
                    sizes.insert(name.clone(), s);
                }
            }
        }
        Ok(Source {
            display: display.to_string(),
            container: Container::Tar,
            compression,
            members: Members::Streamed {
                small,
                layers,
                sizes,
                outer: Arc::new(LayerIndex {
                    held: Some(budget),
                    ..outer
                }),
            },
        })
    }

    /// The size in bytes of a member, when known without reading it (for the
    /// progress bar and to scan the largest layers first).
    pub fn member_size(&self, name: &str) -> Option<u64> {
        match &self.members {
            Members::Mapped { ranges, .. } => ranges.get(name).map(|r| r.size),
            Members::Dir { root } => dir_member(root, name)
                .and_then(|p| std::fs::metadata(p).ok())
                .map(|m| m.len()),
            Members::Streamed { sizes, .. } => sizes.get(name).copied(),
            Members::Single { .. } => None,
            Members::Blobs(b) => b.member_size(name),
        }
    }

    /// Is there a member (file) by this name?
    pub fn has(&self, name: &str) -> bool {
        match &self.members {
            Members::Mapped { ranges, .. } => ranges.contains_key(name),
            Members::Dir { root } => dir_member(root, name).is_some_and(|p| p.is_file()),
            Members::Streamed { sizes, .. } => sizes.contains_key(name),
            Members::Single { .. } => false,
            Members::Blobs(b) => b.has(name),
        }
    }

    /// Reads a small member (a JSON document). `Ok(None)` when absent.
    pub fn read_small(&self, name: &str, limits: &Limits) -> Result<Option<Vec<u8>>> {
        let member_err = |what: String| Error::Member {
            archive: self.display.clone(),
            member: name.to_string(),
            what,
        };
        match &self.members {
            Members::Mapped { bytes, ranges } => {
                let Some(r) = ranges.get(name) else {
                    return Ok(None);
                };
                if r.size > limits.json_bytes as u64 {
                    return Err(member_err(too_big(name, r.size, limits.json_bytes)));
                }
                Ok(slice(bytes, *r).map(<[u8]>::to_vec))
            }
            Members::Dir { root } => {
                let Some(p) = dir_member(root, name) else {
                    return Ok(None);
                };
                let Ok(meta) = std::fs::metadata(&p) else {
                    return Ok(None);
                };
                if !meta.is_file() {
                    return Ok(None);
                }
                if meta.len() > limits.json_bytes as u64 {
                    return Err(member_err(too_big(name, meta.len(), limits.json_bytes)));
                }
                std::fs::read(&p).map(Some).map_err(|e| Error::io(p, e))
            }
            Members::Streamed { small, sizes, .. } => match small.get(name) {
                Some(v) => Ok(Some(v.clone())),
                None => match sizes.get(name) {
                    Some(&s) if s > limits.json_bytes as u64 => {
                        Err(member_err(too_big(name, s, limits.json_bytes)))
                    }
                    Some(_) => Err(member_err("not a JSON document".into())),
                    None => Ok(None),
                },
            },
            Members::Single { .. } => Ok(None),
            Members::Blobs(b) => b.read_small(name, limits).map_err(member_err),
        }
    }

    /// Scans a layer member. `Ok(None)` when absent.
    pub fn scan_layer(
        &self,
        name: &str,
        limits: &Limits,
        hashing: Hashing,
    ) -> std::result::Result<Option<Arc<LayerIndex>>, String> {
        match &self.members {
            Members::Mapped { bytes, ranges } => {
                let Some(r) = ranges.get(name) else {
                    return Ok(None);
                };
                let data = slice(bytes, *r).ok_or("member out of bounds")?;
                let base = usize::try_from(r.offset).map_err(|_| "member out of bounds")?;
                let release = |a: usize, b: usize| {
                    bytes.release(base.saturating_add(a), base.saturating_add(b))
                };
                scan::scan_slice_released(data, limits, hashing, &release)
                    .map(|l| Some(Arc::new(l)))
                    .map_err(|ScanError(s)| s)
            }
            Members::Dir { root } => {
                let Some(p) = dir_member(root, name) else {
                    return Ok(None);
                };
                let file = match File::open(&p) {
                    Ok(f) => f,
                    Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
                    Err(e) => return Err(format!("cannot open {}: {e}", p.display())),
                };
                let bytes = map_file(&file, &p).map_err(|e| e.to_string())?;
                scan::scan_slice_released(&bytes, limits, hashing, &|a, b| bytes.release(a, b))
                    .map(|l| Some(Arc::new(l)))
                    .map_err(|ScanError(s)| s)
            }
            Members::Streamed { layers, sizes, .. } => match layers.get(name) {
                Some(Ok(l)) => Ok(Some(Arc::clone(l))),
                Some(Err(e)) => Err(e.clone()),
                None if sizes.contains_key(name) => {
                    Err("this member is not a tar layer (no tar, gzip or zstd data)".into())
                }
                None => Ok(None),
            },
            Members::Single { .. } => Ok(None),
            Members::Blobs(b) => b.scan_layer(name, limits, hashing),
        }
    }

    /// The whole input as one filesystem (a flat rootfs tarball, an unpacked
    /// root filesystem directory, or a single file).
    pub fn scan_as_rootfs(&self, limits: &Limits) -> std::result::Result<Arc<LayerIndex>, String> {
        match &self.members {
            Members::Mapped { bytes, .. } => {
                scan::scan_slice_released(bytes, limits, Hashing::Never, &|a, b| {
                    bytes.release(a, b)
                })
                .map(Arc::new)
                .map_err(|ScanError(s)| s)
            }
            Members::Streamed { outer, .. } => Ok(Arc::clone(outer)),
            Members::Dir { root } => rootfs::scan_dir(root, limits).map(Arc::new),
            Members::Single { index } => Ok(Arc::clone(index)),
            Members::Blobs(_) => Err("an image from a registry is not a root filesystem".into()),
        }
    }

    /// Names of every member at the top level of the input that matter for
    /// telling its shape.
    pub fn is_dir(&self) -> bool {
        matches!(self.members, Members::Dir { .. })
    }

    /// Is the input one executable file rather than an archive or directory?
    pub fn is_single_file(&self) -> bool {
        matches!(self.members, Members::Single { .. })
    }

    /// A member of a tar input that only an image archive has (a blob, a
    /// `docker save` layer or config, `oci-layout`), when there is one: with no
    /// `manifest.json` or `index.json` beside it, the archive is incomplete
    /// (truncated), not a root filesystem.
    pub fn image_member(&self) -> Option<String> {
        let names: Box<dyn Iterator<Item = &String>> = match &self.members {
            Members::Mapped { ranges, .. } => Box::new(ranges.keys()),
            Members::Streamed { sizes, .. } => Box::new(sizes.keys()),
            _ => return None,
        };
        let mut found: Vec<&String> = names.filter(|n| is_image_member(n)).collect();
        found.sort_unstable();
        found.first().map(|n| n.to_string())
    }
}

/// Standard input as a file, when it is a regular file positioned at its
/// start (a shell redirect); `None` for a pipe, a terminal or a socket.
#[cfg(unix)]
fn stdin_file() -> Option<(File, std::fs::Metadata)> {
    use std::io::Seek;
    use std::os::fd::AsFd;
    let owned = io::stdin().as_fd().try_clone_to_owned().ok()?;
    let mut file = File::from(owned);
    let meta = file.metadata().ok()?;
    (meta.is_file() && file.stream_position().ok()? == 0).then_some((file, meta))
}

/// Permission bits of a host file (0o755 where the platform has none).
fn file_mode(meta: &std::fs::Metadata) -> u32 {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        meta.permissions().mode() & 0o7777
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        0o755
    }
}

fn slice(bytes: &[u8], r: Range) -> Option<&[u8]> {
    let start = usize::try_from(r.offset).ok()?;
    let end = start.checked_add(usize::try_from(r.size).ok()?)?;
    bytes.get(start..end)
}

/// Names only image archives have at their top level.
fn is_image_member(name: &str) -> bool {
    let hex_json = name
        .strip_suffix(".json")
        .is_some_and(|stem| stem.len() == 64 && stem.bytes().all(|b| b.is_ascii_hexdigit()));
    let v1_layer = name
        .strip_suffix("/layer.tar")
        .is_some_and(|id| id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit()));
    name == "oci-layout"
        || name == "repositories"
        || name.starts_with("blobs/sha256/")
        || name.starts_with("blobs/sha512/")
        || hex_json
        || v1_layer
}

/// A member name as archscan looks it up: normalised, no leading `/`.
pub fn member_key(raw: &[u8]) -> String {
    let n = paths::normalise(raw);
    n.trim_start_matches('/').to_string()
}

/// Where a link member points, as a member key.
fn link_target(name: &str, target: &str, kind: EntryKind) -> String {
    let base = if kind == EntryKind::Symlink {
        paths::parent(&format!("/{name}")).to_string()
    } else {
        "/".to_string()
    };
    paths::join_normalised(&base, target)
        .trim_start_matches('/')
        .to_string()
}

fn chase(name: &str, links: &HashMap<String, String>) -> Option<String> {
    let mut cur = links.get(name)?.clone();
    for _ in 0..40 {
        match links.get(&cur) {
            Some(next) => cur = next.clone(),
            None => return Some(cur),
        }
    }
    None
}

/// A tar with no entry at all (empty, or only its end blocks) holds no image
/// and no filesystem: nothing can be judged.
const NO_ENTRIES: &str = "the archive is empty: no tar entries (nothing to judge)";

/// Indexes the members of a mapped tar: names → byte ranges, links chased.
fn index_mapped(display: &str, bytes: &[u8], limits: &Limits) -> Result<HashMap<String, Range>> {
    let mut ranges = HashMap::new();
    let mut links = HashMap::new();
    let mut input = SliceInput::new(bytes);
    let count = tarwalk::walk(&mut input, limits, |entry, _| {
        let name = member_key(&entry.path);
        match entry.kind {
            EntryKind::File => {
                ranges.insert(
                    name,
                    Range {
                        offset: entry.offset,
                        size: entry.size,
                    },
                );
            }
            EntryKind::Symlink | EntryKind::Hardlink => {
                let target =
                    crate::paths::decode(entry.link.as_deref().unwrap_or(b"")).into_owned();
                links.insert(name, link_target(&entry.path_lossy(), &target, entry.kind));
            }
            _ => {}
        }
        Ok(())
    })
    .map_err(|e| Error::Format {
        archive: display.to_string(),
        what: describe_tar_error(&e),
    })?;
    if count == 0 {
        return Err(Error::Format {
            archive: display.to_string(),
            what: NO_ENTRIES.into(),
        });
    }
    for name in links.keys() {
        if let Some(target) = chase(name, &links) {
            if let Some(r) = ranges.get(&target).copied() {
                ranges.insert(name.clone(), r);
            }
        }
    }
    Ok(ranges)
}

/// The host path of a member of a directory input, when the name is safe: a
/// normalised relative name whose real path stays inside the directory.
fn dir_member(root: &Path, name: &str) -> Option<PathBuf> {
    let key = member_key(name.as_bytes());
    if key.is_empty() || key != name {
        return None;
    }
    let p = root.join(&key);
    match p.canonicalize() {
        Ok(real) if real.starts_with(root) => Some(real),
        Ok(_) => None,
        // Absent: still a safe name (callers see it is missing).
        Err(_) => Some(p),
    }
}

/// Says what a failed walk of the outer archive means for the user.
fn describe_tar_error(e: &tarwalk::TarError) -> String {
    if e.offset == 0 && e.entry.is_none() && !e.what.starts_with("read failed") {
        return format!(
            "not an image archive: there is no tar header at its start ({}). archscan reads `docker save` tars, OCI archives and layouts (plain or gzip/zstd/xz-compressed), root filesystems and single programs",
            e.what
        );
    }
    if e.what.starts_with("truncated") {
        return format!("{e}: the file is incomplete; check the copy or download");
    }
    e.to_string()
}
