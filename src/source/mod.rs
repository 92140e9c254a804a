//! Access to the members of an input by name, behind one type with three
//! backings:
//!
//! - **mapped**: an uncompressed archive file, memory-mapped; members are byte
//!   ranges of the map, nothing is copied and file bodies are never read;
//! - **directory**: an OCI layout on disk; blobs are opened (and mapped) on demand,
//!   and only by names that were validated not to leave the directory;
//! - **streamed**: stdin, any input that is not a regular file or directory
//!   (a pipe, a FIFO, `/dev/stdin`, `<(…)`: their reported size means
//!   nothing), or a compressed archive, read once in archive order:
//!   small JSON members are kept, layer members are scanned as they pass (the
//!   legacy `docker save` puts `manifest.json` last, so nothing can wait for it).
//!
//! Outer compression (gzip, zstd, xz) is sniffed by magic and unwrapped here.
//! A directory without an OCI layout is an unpacked root filesystem, and a file
//! that starts like an executable is a single program ([`rootfs`]).

pub mod error;
pub mod rootfs;

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::archive::bytes::file_mode;
#[cfg(unix)]
use crate::archive::bytes::stdin_file;
pub use crate::archive::bytes::{map_file, Bytes, Changed};
use crate::archive::tar::{
    self as tarwalk, EntryKind, SliceInput, StreamInput, TarError, TarProblem, VisitError,
};
use crate::identify::Capture;
use crate::layers::scan::{self, Compression, Hashing, LayerIndex, NodeKind, ScanError};
use crate::limits::Exceeded;
use crate::limits::Limits;
use crate::meter::{Budget, Meter};
use crate::paths;
use crate::progress::{Reporter, Task, TrackedReader};
pub use error::{Result, SourceError};

/// The members of an image that is not a file: named as in an OCI layout
/// (`index.json`, `blobs/sha256/<hex>`), fetched on demand. The registry
/// source (`crate::remote`) implements it; the source stage only calls it.
pub trait BlobStore: Send + Sync {
    fn has(&self, name: &str) -> bool;
    fn member_size(&self, name: &str) -> Option<u64>;
    fn read_small(
        &self,
        name: &str,
        limits: &Limits,
    ) -> std::result::Result<Option<Vec<u8>>, String>;
    fn scan_layer(
        &self,
        name: &str,
        limits: &Limits,
        meter: &Meter,
        hashing: Hashing,
    ) -> std::result::Result<Option<Arc<LayerIndex>>, String>;
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
        layers: HashMap<String, std::result::Result<Arc<LayerIndex>, Arc<ScanError>>>,
        sizes: HashMap<String, u64>,
        /// The outer tar itself as a filesystem (for flat rootfs tarballs).
        outer: Arc<LayerIndex>,
    },
    /// One executable file, identified when opened.
    Single {
        index: Arc<LayerIndex>,
    },
    /// An image that is not a file (a registry): members fetched on demand.
    Blobs(Box<dyn BlobStore>),
}

/// An opened input.
pub struct Source {
    /// The path as the user gave it (`-` for stdin).
    pub display: String,
    pub container: Container,
    /// The outer archive's compression.
    pub compression: Compression,
    members: Members,
    /// The run's memory meter, charged by every layer index built here.
    meter: Meter,
}

impl Source {
    /// Opens a file, a directory, or `-` for stdin. Layer indexes built from
    /// it are charged to `meter`; reading a stream is reported to `progress`.
    pub fn open(path: &str, limits: &Limits, meter: &Meter, progress: &Reporter) -> Result<Source> {
        if path == "-" {
            // `archscan - < image.tar`: a regular file read from its start is
            // mapped like a named one; a pipe is streamed.
            #[cfg(unix)]
            if let Some((file, meta)) = stdin_file() {
                return Source::from_file(path, file, &meta, limits, meter, progress);
            }
            let stdin = io::stdin();
            return Source::from_stream(path, Box::new(stdin.lock()), limits, meter, progress);
        }
        Source::open_path(Path::new(path), path, limits, meter, progress)
    }

    /// Opens a file or directory by a path that need not be UTF-8, shown
    /// as `display`.
    pub fn open_path(
        p: &Path,
        path: &str,
        limits: &Limits,
        meter: &Meter,
        progress: &Reporter,
    ) -> Result<Source> {
        let meta = std::fs::metadata(p).map_err(|e| SourceError::io(path, e))?;
        if meta.is_dir() {
            let root = p.canonicalize().map_err(|e| SourceError::io(path, e))?;
            // A directory that cannot be listed holds nothing archscan can
            // judge: say so rather than find nothing in it.
            std::fs::read_dir(&root).map_err(|e| SourceError::io(path, e))?;
            return Ok(Source {
                display: path.to_string(),
                container: Container::Directory,
                compression: Compression::None,
                members: Members::Dir { root },
                meter: meter.clone(),
            });
        }
        let file = File::open(p).map_err(|e| SourceError::io(path, e))?;
        if !meta.is_file() {
            // A pipe, a FIFO, `/dev/stdin`, `<(…)`, a device: its size says
            // nothing about its contents, and it can only be read once.
            return Source::from_stream(path, Box::new(file), limits, meter, progress);
        }
        Source::from_file(path, file, &meta, limits, meter, progress)
    }

    /// Why what was read from the input cannot be trusted, when the input
    /// (a mapped file) changed while it was read: cut, grown or replaced.
    /// Asked after reading; on `Some`, nothing concluded from it stands.
    pub fn changed(&self) -> Option<SourceError> {
        match &self.members {
            Members::Mapped { bytes, .. } => bytes.changed().map(|changed| SourceError::Changed {
                archive: self.display.clone(),
                changed,
            }),
            _ => None,
        }
    }

    /// An image whose members (named as in an OCI layout) come from a blob
    /// store, such as a registry.
    pub fn from_blobs(display: &str, blobs: Box<dyn BlobStore>, meter: &Meter) -> Source {
        Source {
            display: display.to_string(),
            container: Container::Tar,
            compression: Compression::None,
            members: Members::Blobs(blobs),
            meter: meter.clone(),
        }
    }

    /// Opens a regular file: mapped when it is an uncompressed tar or a
    /// program, streamed when it is compressed.
    fn from_file(
        path: &str,
        file: File,
        meta: &std::fs::Metadata,
        limits: &Limits,
        meter: &Meter,
        progress: &Reporter,
    ) -> Result<Source> {
        let bytes = map_file(&file).map_err(|e| SourceError::io(path, e))?;
        if bytes.is_empty() {
            // Not an empty rootfs: nothing was saved (a failed `docker save`).
            return Err(SourceError::Empty {
                archive: path.to_string(),
            });
        }
        let compression = Compression::sniff(&bytes);
        let changed = |bytes: &Bytes| {
            bytes.changed().map(|changed| SourceError::Changed {
                archive: path.to_string(),
                changed,
            })
        };
        if compression == Compression::None && rootfs::is_program(&bytes) {
            let name = if path == "-" { "stdin" } else { path };
            let index = rootfs::single_file(name, &bytes, file_mode(meta), limits);
            if let Some(e) = changed(&bytes) {
                return Err(e);
            }
            return Ok(Source {
                display: path.to_string(),
                container: Container::File,
                compression,
                members: Members::Single {
                    index: Arc::new(index),
                },
                meter: meter.clone(),
            });
        }
        if compression != Compression::None {
            // Mapping reads nothing, so the file is still at its start.
            drop(bytes);
            return Source::from_stream(path, Box::new(file), limits, meter, progress);
        }
        // What a walk over a file that changed under it found (or failed to
        // find) is not the file's: the change is the error.
        let ranges = index_mapped(path, &bytes, limits);
        if let Some(e) = changed(&bytes) {
            return Err(e);
        }
        let ranges = ranges?;
        Ok(Source {
            display: path.to_string(),
            container: Container::Tar,
            compression,
            members: Members::Mapped { bytes, ranges },
            meter: meter.clone(),
        })
    }

    /// Reads a one-way stream, keeping JSON members and scanning layers.
    pub fn from_stream(
        display: &str,
        raw: Box<dyn Read + '_>,
        limits: &Limits,
        meter: &Meter,
        progress: &Reporter,
    ) -> Result<Source> {
        let tracked = TrackedReader {
            inner: raw,
            tracker: progress.start(display, Task::Stream),
        };
        let mut buffered = BufReader::with_capacity(256 * 1024, tracked);
        let first =
            io::BufRead::fill_buf(&mut buffered).map_err(|e| SourceError::io(display, e))?;
        let compression = Compression::sniff(first);
        if first.is_empty() {
            return Err(SourceError::Empty {
                archive: display.to_string(),
            });
        }
        if compression == Compression::None && rootfs::is_program(first) {
            let all =
                rootfs::read_single(buffered, rootfs::STREAMED_PROGRAM_BYTES).map_err(|what| {
                    SourceError::Program {
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
                meter: meter.clone(),
            });
        }
        let decoded = crate::archive::decode::metered_decoder(buffered, compression, limits, meter)
            .map_err(|source| SourceError::Decoder {
                archive: display.to_string(),
                source,
            })?;
        let mut walk = StreamWalk::new(limits, meter);
        let walked = tarwalk::walk(&mut StreamInput::new(decoded), limits, |entry, body| {
            walk.visit(entry, body)
        });
        match walked {
            Err(e) => return Err(outer_tar_error(display, e)),
            Ok(0) => {
                return Err(SourceError::NoEntries {
                    archive: display.to_string(),
                })
            }
            Ok(_) => {}
        }
        Ok(Source {
            display: display.to_string(),
            container: Container::Tar,
            compression,
            members: walk.finish(),
            meter: meter.clone(),
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
            // A member that cannot be looked at (permission denied) is
            // there: reading it then says why it cannot be read, with its
            // path, rather than calling it missing.
            Members::Dir { root } => dir_member(root, name).is_some_and(|p| {
                std::fs::metadata(p)
                    .map_or_else(|e| e.kind() != io::ErrorKind::NotFound, |m| m.is_file())
            }),
            Members::Streamed { sizes, .. } => sizes.contains_key(name),
            Members::Single { .. } => false,
            Members::Blobs(b) => b.has(name),
        }
    }

    /// Reads a small member (a JSON document). `Ok(None)` when absent.
    pub fn read_small(&self, name: &str, limits: &Limits) -> Result<Option<Vec<u8>>> {
        let too_big = |size: u64| SourceError::MemberTooBig {
            archive: self.display.clone(),
            member: name.to_string(),
            size,
            cap: limits.json_bytes,
        };
        match &self.members {
            Members::Mapped { bytes, ranges } => {
                let Some(r) = ranges.get(name) else {
                    return Ok(None);
                };
                if r.size > limits.json_bytes as u64 {
                    return Err(too_big(r.size));
                }
                Ok(slice(bytes, *r).map(<[u8]>::to_vec))
            }
            Members::Dir { root } => {
                let Some(p) = dir_member(root, name) else {
                    return Ok(None);
                };
                let meta = match std::fs::metadata(&p) {
                    Ok(meta) => meta,
                    Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
                    Err(e) => return Err(SourceError::io(p, e)),
                };
                if !meta.is_file() {
                    return Ok(None);
                }
                if meta.len() > limits.json_bytes as u64 {
                    return Err(too_big(meta.len()));
                }
                std::fs::read(&p)
                    .map(Some)
                    .map_err(|e| SourceError::io(p, e))
            }
            Members::Streamed { small, sizes, .. } => match small.get(name) {
                Some(v) => Ok(Some(v.clone())),
                None => match sizes.get(name) {
                    Some(&s) if s > limits.json_bytes as u64 => Err(too_big(s)),
                    Some(_) => Err(SourceError::NotJson {
                        archive: self.display.clone(),
                        member: name.to_string(),
                    }),
                    None => Ok(None),
                },
            },
            Members::Single { .. } => Ok(None),
            Members::Blobs(b) => b
                .read_small(name, limits)
                .map_err(|what| SourceError::Blob {
                    archive: self.display.clone(),
                    member: name.to_string(),
                    what,
                }),
        }
    }

    /// Scans a layer member. `Ok(None)` when absent.
    pub fn scan_layer(
        &self,
        name: &str,
        limits: &Limits,
        hashing: Hashing,
    ) -> std::result::Result<Option<Arc<LayerIndex>>, LayerError> {
        match &self.members {
            Members::Mapped { bytes, ranges } => {
                let Some(r) = ranges.get(name) else {
                    return Ok(None);
                };
                let data = slice(bytes, *r).ok_or(LayerError::OutOfBounds)?;
                let base = usize::try_from(r.offset).map_err(|_| LayerError::OutOfBounds)?;
                let release = |a: usize, b: usize| {
                    bytes.release(base.saturating_add(a), base.saturating_add(b))
                };
                let scanned =
                    scan::scan_slice_released(data, limits, &self.meter, hashing, &release);
                if let Some(changed) = bytes.changed() {
                    return Err(LayerError::Changed {
                        path: PathBuf::from(&self.display),
                        changed,
                    });
                }
                scanned.map(|l| Some(Arc::new(l))).map_err(LayerError::from)
            }
            Members::Dir { root } => {
                let Some(p) = dir_member(root, name) else {
                    return Ok(None);
                };
                let file = match File::open(&p) {
                    Ok(f) => f,
                    Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
                    Err(source) => return Err(LayerError::Open { path: p, source }),
                };
                let bytes = map_file(&file).map_err(|source| LayerError::Open {
                    path: p.clone(),
                    source,
                })?;
                let scanned =
                    scan::scan_slice_released(&bytes, limits, &self.meter, hashing, &|a, b| {
                        bytes.release(a, b)
                    });
                if let Some(changed) = bytes.changed() {
                    return Err(LayerError::Changed { path: p, changed });
                }
                scanned.map(|l| Some(Arc::new(l))).map_err(LayerError::from)
            }
            Members::Streamed { layers, sizes, .. } => match layers.get(name) {
                Some(Ok(l)) => Ok(Some(Arc::clone(l))),
                Some(Err(e)) => Err(LayerError::Scan(Arc::clone(e))),
                None if sizes.contains_key(name) => Err(LayerError::NotALayer),
                None => Ok(None),
            },
            Members::Single { .. } => Ok(None),
            Members::Blobs(b) => b
                .scan_layer(name, limits, &self.meter, hashing)
                .map_err(LayerError::Remote),
        }
    }

    /// The whole input as one filesystem (a flat rootfs tarball, an unpacked
    /// root filesystem directory, or a single file).
    pub fn scan_as_rootfs(
        &self,
        limits: &Limits,
    ) -> std::result::Result<Arc<LayerIndex>, LayerError> {
        match &self.members {
            Members::Mapped { bytes, .. } => {
                let scanned = scan::scan_slice_released(
                    bytes,
                    limits,
                    &self.meter,
                    Hashing::Never,
                    &|a, b| bytes.release(a, b),
                );
                if let Some(changed) = bytes.changed() {
                    return Err(LayerError::Changed {
                        path: PathBuf::from(&self.display),
                        changed,
                    });
                }
                scanned.map(Arc::new).map_err(LayerError::from)
            }
            Members::Streamed { outer, .. } => Ok(Arc::clone(outer)),
            Members::Dir { root } => rootfs::scan_dir(root, limits, &self.meter).map(Arc::new),
            Members::Single { index } => Ok(Arc::clone(index)),
            Members::Blobs(_) => Err(LayerError::Remote(
                "an image from a registry is not a root filesystem".into(),
            )),
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

    /// The names at the top of the input (the first component of every
    /// member of a tar, the entries of a directory), for telling a root
    /// filesystem from anything else that holds no image. Empty for a single
    /// program.
    pub fn top_level(&self) -> std::collections::BTreeSet<String> {
        let first = |n: &str| n.split('/').next().unwrap_or("").to_string();
        let mut out: std::collections::BTreeSet<String> = match &self.members {
            Members::Mapped { ranges, .. } => ranges.keys().map(|n| first(n)).collect(),
            Members::Streamed { outer, .. } => outer
                .entries
                .iter()
                .map(|e| first(e.path.trim_start_matches('/')))
                .collect(),
            Members::Dir { root } => std::fs::read_dir(root)
                .map(|rd| {
                    rd.filter_map(|e| e.ok())
                        .map(|e| e.file_name().to_string_lossy().into_owned())
                        .collect()
                })
                .unwrap_or_default(),
            Members::Single { .. } | Members::Blobs(_) => Default::default(),
        };
        out.remove("");
        out.remove(".");
        out
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

/// What a one-way walk of the outer archive keeps: small JSON members
/// whole, layers scanned as they pass, every other entry as a filesystem
/// entry (for a flat rootfs tarball), and the links between members.
struct StreamWalk<'l> {
    limits: &'l Limits,
    meter: &'l Meter,
    small: HashMap<String, Vec<u8>>,
    layers: HashMap<String, std::result::Result<Arc<LayerIndex>, Arc<ScanError>>>,
    sizes: HashMap<String, u64>,
    links: HashMap<String, String>,
    outer: LayerIndex,
    budget: Budget,
    buf: Vec<u8>,
}

impl<'l> StreamWalk<'l> {
    fn new(limits: &'l Limits, meter: &'l Meter) -> Self {
        StreamWalk {
            limits,
            meter,
            small: HashMap::new(),
            layers: HashMap::new(),
            sizes: HashMap::new(),
            links: HashMap::new(),
            outer: LayerIndex::default(),
            budget: Budget::new(limits, meter),
            buf: vec![0u8; 64 * 1024],
        }
    }

    /// One entry of the outer archive.
    fn visit<I: tarwalk::Input>(
        &mut self,
        entry: &tarwalk::Entry,
        body: &mut tarwalk::Body<'_, I>,
    ) -> tarwalk::Visit {
        let name = member_key(&entry.path);
        let mut e = scan::LayerEntry {
            path: paths::normalise(&entry.path).into(),
            kind: NodeKind::Other,
            mode: entry.mode,
            owner: entry.owner,
            size: entry.size,
            ident: None,
            content: None,
        };
        match entry.kind {
            EntryKind::File => {
                e.kind = NodeKind::File;
                self.sizes.insert(name.clone(), entry.size);
                e.ident = self.file(name, entry.size, e.exec_bit(), body)?;
            }
            EntryKind::Dir => e.kind = NodeKind::Dir,
            EntryKind::Symlink | EntryKind::Hardlink => {
                let target =
                    crate::paths::decode(entry.link.as_deref().unwrap_or(b"")).into_owned();
                let resolved = link_target(&name, &target, entry.kind);
                self.links.insert(name, resolved);
                e.kind = if entry.kind == EntryKind::Symlink {
                    NodeKind::Symlink(target)
                } else {
                    NodeKind::Hardlink(paths::normalise(target.as_bytes()))
                };
            }
            _ => {}
        }
        scan::charge(&mut self.budget, &e)?;
        self.outer.entries.push(e);
        Ok(())
    }

    /// A regular member: kept if JSON, scanned if a layer, else identified
    /// (a file of a flat rootfs tarball).
    fn file<I: tarwalk::Input>(
        &mut self,
        name: String,
        size: u64,
        exec: bool,
        body: &mut tarwalk::Body<'_, I>,
    ) -> std::result::Result<Option<Box<crate::identify::Ident>>, VisitError> {
        // Peek at the start to decide what this member is.
        let mut head = vec![0u8; size.min(1024) as usize];
        body.read_exact(&mut head).map_err(VisitError::Read)?;
        let trimmed = head.iter().find(|b| !b.is_ascii_whitespace());
        let json_like = matches!(trimmed, Some(b'{') | Some(b'['));
        if json_like && size <= self.limits.json_bytes as u64 {
            let mut all = head;
            body.read_to_end(&mut all).map_err(VisitError::Read)?;
            self.budget.charge(all.len() as u64)?;
            self.small.insert(name, all);
        } else if scan::looks_like_layer(&head) || head.len() < 512 && head.iter().all(|&b| b == 0)
        {
            let chained = io::Cursor::new(head).chain(&mut *body);
            let scanned = scan::scan_stream(chained, self.limits, self.meter, Hashing::WhenDecoded)
                .map(Arc::new)
                .map_err(Arc::new);
            self.layers.insert(name, scanned);
        } else {
            let mut cap = Capture::new(size, exec, &self.limits.ident);
            cap.feed(&head);
            cap.feed_from(body, &mut self.buf)
                .map_err(VisitError::Read)?;
            return Ok(cap.finish().map(Box::new));
        }
        Ok(None)
    }

    /// The members, with links to other members (podman, `docker save` of
    /// repeated layers) answering with their target's contents.
    fn finish(mut self) -> Members {
        for name in self.links.keys() {
            if let Some(target) = chase(name, &self.links) {
                if let Some(v) = self.small.get(&target).cloned() {
                    self.small.insert(name.clone(), v);
                }
                if let Some(l) = self.layers.get(&target).cloned() {
                    self.layers.insert(name.clone(), l);
                }
                if let Some(s) = self.sizes.get(&target).copied() {
                    self.sizes.insert(name.clone(), s);
                }
            }
        }
        Members::Streamed {
            small: self.small,
            layers: self.layers,
            sizes: self.sizes,
            outer: Arc::new(LayerIndex {
                held: Some(self.budget),
                ..self.outer
            }),
        }
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
    .map_err(|e| outer_tar_error(display, e))?;
    if count == 0 {
        return Err(SourceError::NoEntries {
            archive: display.to_string(),
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

/// Says what a failed walk of the outer archive means for the user: not an
/// archive at all (no header at its start), cut short, or damaged.
fn outer_tar_error(display: &str, source: TarError) -> SourceError {
    let archive = display.to_string();
    let read_failed = matches!(source.problem, TarProblem::Read(_));
    if source.offset == 0 && source.entry.is_none() && !read_failed {
        SourceError::NotAnArchive { archive, source }
    } else if source.problem.is_truncated() {
        SourceError::Truncated { archive, source }
    } else {
        SourceError::Tar { archive, source }
    }
}

/// Why a layer member could not be scanned.
#[derive(Debug, thiserror::Error)]
pub enum LayerError {
    #[error(transparent)]
    Scan(Arc<ScanError>),
    #[error("member out of bounds")]
    OutOfBounds,
    #[error("cannot open {}: {source}", .path.display())]
    Open {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("this member is not a tar layer (no tar, gzip or zstd data)")]
    NotALayer,
    #[error("missing from the archive")]
    Missing,
    /// The mapped file changed while it was read (cut, grown, replaced).
    #[error("{}: {changed}", .path.display())]
    Changed { path: PathBuf, changed: Changed },
    /// A directory of a root filesystem (or an entry in it) cannot be read:
    /// judging what is left would miss what is in it.
    #[error("cannot read {}: {source}; a root filesystem is judged whole, so archscan needs to read every directory in it", .path.display())]
    Walk {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// A registry's blob could not be fetched or read.
    #[error("{0}")]
    Remote(String),
    #[error(transparent)]
    Limit(Exceeded),
}

impl From<ScanError> for LayerError {
    fn from(e: ScanError) -> Self {
        LayerError::Scan(Arc::new(e))
    }
}

impl LayerError {
    /// The cap of [`Limits`] reached, if that is why the layer is unreadable.
    pub fn exceeded(&self) -> Option<Exceeded> {
        match self {
            LayerError::Scan(e) => e.exceeded(),
            LayerError::Limit(e) => Some(*e),
            _ => None,
        }
    }
}
