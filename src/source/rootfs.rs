//! Inputs that are not image archives, turned into the one-layer
//! [`LayerIndex`] that a flat rootfs tarball also becomes:
//!
//! - an **unpacked root filesystem directory** (`docker export | tar -x`,
//!   `buildah mount`): walked without following symlinks (a link is recorded
//!   with its target, never entered), nothing outside the directory is opened,
//!   and of each regular file only the head is read — the files worth
//!   identifying (exec bit or a known magic) are then memory-mapped and
//!   identified in parallel, reading headers only;
//! - a **single executable file** (ELF, Mach-O, PE or `#!` script), told from
//!   an archive by its first bytes: one entry, identified like `file` does.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use rayon::prelude::*;

use crate::identify::{self, Ident};
use crate::layers::scan::{self, Compression, LayerEntry, LayerIndex, NodeKind};
use crate::limits::{Exceeded, Limits};
use crate::meter::{Budget, Meter};
use crate::paths;

use super::LayerError;

/// Bytes of a file head read to decide whether it is worth identifying.
const HEAD: usize = 64;

/// Most walk warnings kept (each becomes a note in the report).
const MAX_WARNINGS: usize = 20;

/// Top-level names a root filesystem has (FHS); two of them, or a
/// `.dockerenv`, make an input without image metadata a root filesystem.
pub const ROOTFS_DIRS: &[&str] = &["bin", "sbin", "usr", "etc", "lib", "lib64"];

/// Does an input whose top-level names are `top` look like a root
/// filesystem (`docker export`, `buildah mount`)?
pub fn looks_like_rootfs<S: AsRef<str>>(top: impl IntoIterator<Item = S>) -> bool {
    let mut dirs = 0;
    for name in top {
        let name = name.as_ref();
        if name == ".dockerenv" {
            return true;
        }
        if ROOTFS_DIRS.contains(&name) {
            dirs += 1;
        }
    }
    dirs >= 2
}

/// Do these first bytes of an input start an executable rather than a tar
/// archive? (A tar starts with a member name, so a header that checks out as
/// tar wins even if the name happens to start like a magic.)
pub fn is_program(first: &[u8]) -> bool {
    identify::has_magic(first) && !looks_like_tar_header(first)
}

fn looks_like_tar_header(first: &[u8]) -> bool {
    let Some(block) = first.get(..512) else {
        return false;
    };
    if block.get(257..262) == Some(b"ustar".as_slice()) {
        return true;
    }
    // A v7 header: the stored checksum equals the sum of the header bytes with
    // the checksum field counted as spaces.
    let field = &block[148..156];
    let digits: String = field
        .iter()
        .skip_while(|&&b| b == b' ' || b == 0)
        .take_while(|b| b.is_ascii_digit())
        .map(|&b| char::from(b))
        .collect();
    let Ok(stored) = u64::from_str_radix(&digits, 8) else {
        return false;
    };
    let sum: u64 = block
        .iter()
        .enumerate()
        .map(|(i, &b)| {
            if (148..156).contains(&i) {
                u64::from(b' ')
            } else {
                u64::from(b)
            }
        })
        .sum();
    sum == stored
}

/// One file as a one-entry filesystem at `/<name>`.
pub fn single_file(name: &str, bytes: &[u8], mode: u32, limits: &Limits) -> LayerIndex {
    let base = paths::file_name(&paths::normalise(name.as_bytes())).to_string();
    let path = if base.is_empty() || base == "/" {
        "/input".to_string()
    } else {
        format!("/{base}")
    };
    let ident = identify::identify(&bytes, true, &limits.ident);
    let mut warnings = Vec::new();
    if !matches!(
        ident,
        Some(Ident::Elf(_) | Ident::Macho(_) | Ident::Pe(_) | Ident::Script(_))
    ) {
        warnings.push(format!(
            "{path} starts like an executable, but its headers could not be read (truncated or damaged)"
        ));
    }
    LayerIndex {
        entries: vec![LayerEntry {
            path: path.into(),
            kind: NodeKind::File,
            mode,
            owner: (0, 0),
            size: bytes.len() as u64,
            ident: ident.map(Box::new),
            content: None,
        }],
        compression: Some(Compression::None),
        digest: None,
        warnings,
        held: None,
    }
}

/// Largest program read whole from a stream: a file on disk is mapped and
/// has no such limit, but stdin must be held to be identified.
pub const STREAMED_PROGRAM_BYTES: u64 = 512 << 20;

/// Reads a single executable from a stream (stdin), at most `cap` bytes.
pub fn read_single<R: Read>(mut r: R, cap: u64) -> Result<Vec<u8>, String> {
    let mut all = Vec::new();
    (&mut r)
        .take(cap.saturating_add(1))
        .read_to_end(&mut all)
        .map_err(|e| format!("read failed: {e}"))?;
    if all.len() as u64 > cap {
        return Err(format!(
            "limit reached: a program on stdin is read whole and this one is over {} MiB; pass it as a file instead",
            cap >> 20
        ));
    }
    Ok(all)
}

/// Walks an unpacked root filesystem. `root` must be canonical. A directory
/// that cannot be listed, or an entry that cannot be looked at, stops the
/// walk with its path (what it hides could be the answer); a regular file
/// that cannot be read is skipped with a warning in the index (its entry,
/// mode and owner are still known); a cap stops the walk.
pub fn scan_dir(root: &Path, limits: &Limits, meter: &Meter) -> Result<LayerIndex, LayerError> {
    let mut index = LayerIndex {
        compression: Some(Compression::None),
        ..LayerIndex::default()
    };
    // (entry index, host path) of every regular file, read afterwards in parallel.
    let mut files: Vec<(usize, std::path::PathBuf)> = Vec::new();
    let mut budget = Budget::new(limits, meter);
    let walker = walkdir::WalkDir::new(root)
        .follow_links(false)
        .min_depth(1)
        .sort_by_file_name();
    for item in walker {
        let item = item.map_err(|e| walk_error(root, e))?;
        if index.entries.len() as u64 >= limits.entries {
            return Err(LayerError::Limit(Exceeded::Entries(limits.entries)));
        }
        let Some(entry) = dir_entry(&item, root, limits, &mut index.warnings)? else {
            continue;
        };
        if entry.kind == NodeKind::File {
            files.push((index.entries.len(), item.path().to_path_buf()));
        }
        scan::charge(&mut budget, &entry).map_err(LayerError::Limit)?;
        index.entries.push(entry);
    }
    identify_files(&mut index, &files, limits);
    index.held = Some(budget);
    Ok(index)
}

/// A failed step of the walk, as an error naming the path.
fn walk_error(root: &Path, e: walkdir::Error) -> LayerError {
    let path = e.path().unwrap_or(root).to_path_buf();
    let source = e
        .into_io_error()
        .unwrap_or_else(|| std::io::Error::other("a file system loop"));
    LayerError::Walk { path, source }
}

/// The entry of one walked path (lstat: links are entries, not followed);
/// `None`, with a warning, when its name is too long; an error naming the
/// path when it cannot be looked at.
fn dir_entry(
    item: &walkdir::DirEntry,
    root: &Path,
    limits: &Limits,
    warnings: &mut Vec<String>,
) -> Result<Option<LayerEntry>, LayerError> {
    let walk = |source: std::io::Error| LayerError::Walk {
        path: item.path().to_path_buf(),
        source,
    };
    let Ok(rel) = item.path().strip_prefix(root) else {
        return Ok(None);
    };
    let raw = os_bytes(rel.as_os_str());
    if raw.len() > limits.name_bytes {
        warnings.push(format!(
            "skipped a path of {} bytes, over the {}-byte limit",
            raw.len(),
            limits.name_bytes
        ));
        return Ok(None);
    }
    let path = paths::normalise(&raw);
    // lstat: walkdir does not follow links, so this is the entry itself.
    let meta = item.metadata().map_err(|e| walk_error(root, e))?;
    let ft = meta.file_type();
    let kind = if ft.is_dir() {
        NodeKind::Dir
    } else if ft.is_symlink() {
        let t = std::fs::read_link(item.path()).map_err(walk)?;
        NodeKind::Symlink(String::from_utf8_lossy(&os_bytes(t.as_os_str())).into_owned())
    } else if ft.is_file() {
        NodeKind::File
    } else {
        special_kind(&ft)
    };
    Ok(Some(LayerEntry {
        path: path.into(),
        kind,
        mode: mode_of(&meta),
        owner: owner_of(&meta),
        size: meta.len(),
        ident: None,
        content: None,
    }))
}

/// Reads and identifies the regular files in parallel; unreadable ones
/// (a rootfs owned by another user) become warnings, the first few kept.
fn identify_files(index: &mut LayerIndex, files: &[(usize, std::path::PathBuf)], limits: &Limits) {
    let results: Vec<(usize, Result<FileRead, String>)> = files
        .par_iter()
        .map(|(i, host)| {
            let e = &index.entries[*i];
            (*i, read_file(host, e, limits))
        })
        .collect();
    for (i, r) in results {
        match r {
            Ok(got) => {
                if let Some(e) = index.entries.get_mut(i) {
                    e.ident = got.ident.map(Box::new);
                    e.content = got.content;
                }
            }
            Err(w) => index.warnings.push(w),
        }
    }
    if index.warnings.len() > MAX_WARNINGS {
        let more = index.warnings.len() - MAX_WARNINGS;
        index.warnings.truncate(MAX_WARNINGS);
        index
            .warnings
            .push(format!("…and {more} more paths skipped the same way"));
    }
}

/// What reading one regular file gave.
struct FileRead {
    ident: Option<Ident>,
    content: Option<Box<[u8]>>,
}

fn read_file(host: &Path, e: &LayerEntry, limits: &Limits) -> Result<FileRead, String> {
    let mut out = FileRead {
        ident: None,
        content: None,
    };
    let keep = scan::keeps_content(&e.path, e.size);
    if e.size == 0 && !keep {
        return Ok(out);
    }
    let mut file = open_no_follow(host).map_err(|err| format!("skipped {}: {err}", e.path))?;
    // The entry was a regular file when listed; refuse anything else now.
    let size = match file.metadata() {
        Ok(m) if m.is_file() => m.len(),
        _ => return Err(format!("skipped {}: no longer a regular file", e.path)),
    };
    let mut head = [0u8; HEAD];
    let mut got = 0;
    while got < HEAD {
        match file.read(&mut head[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
            Err(err) => return Err(format!("skipped {}: {err}", e.path)),
        }
    }
    let candidate = e.exec_bit() || identify::has_magic(&head[..got]);
    if !candidate && !keep {
        return Ok(out);
    }
    if keep && size <= scan::CONTENT_CAP {
        let mut all = Vec::new();
        (&file)
            .take(scan::CONTENT_CAP)
            .read_to_end(&mut all)
            .map_err(|err| format!("skipped {}: {err}", e.path))?;
        let mut whole = head[..got].to_vec();
        whole.extend_from_slice(&all);
        out.content = Some(whole.into());
    }
    if candidate {
        // Headers only: the parsers read the few ranges they need from the map.
        let bytes = super::map_file(&file).map_err(|err| format!("skipped {}: {err}", e.path))?;
        out.ident = identify::identify(&&bytes[..], e.exec_bit(), &limits.ident);
        if let Some(changed) = bytes.changed() {
            return Err(format!("skipped {}: {changed}", e.path));
        }
    }
    Ok(out)
}

/// Opens a file for reading without following a symlink (one swapped in after
/// the walk listed a regular file fails with ELOOP) and without blocking (a
/// FIFO swapped in would wait for a writer).
#[cfg(unix)]
fn open_no_follow(path: &Path) -> std::io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
}

#[cfg(not(unix))]
fn open_no_follow(path: &Path) -> std::io::Result<File> {
    File::open(path)
}

#[cfg(unix)]
fn os_bytes(s: &std::ffi::OsStr) -> Vec<u8> {
    use std::os::unix::ffi::OsStrExt;
    s.as_bytes().to_vec()
}

#[cfg(not(unix))]
fn os_bytes(s: &std::ffi::OsStr) -> Vec<u8> {
    s.to_string_lossy().replace('\\', "/").into_bytes()
}

#[cfg(unix)]
fn mode_of(meta: &std::fs::Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o7777
}

#[cfg(unix)]
fn owner_of(meta: &std::fs::Metadata) -> (u32, u32) {
    use std::os::unix::fs::MetadataExt;
    (meta.uid(), meta.gid())
}

#[cfg(not(unix))]
fn owner_of(_meta: &std::fs::Metadata) -> (u32, u32) {
    (0, 0)
}

#[cfg(not(unix))]
fn mode_of(meta: &std::fs::Metadata) -> u32 {
    if meta.is_dir() {
        0o755
    } else {
        0o644
    }
}

#[cfg(unix)]
fn special_kind(ft: &std::fs::FileType) -> NodeKind {
    use std::os::unix::fs::FileTypeExt;
    if ft.is_block_device() || ft.is_char_device() {
        NodeKind::Device
    } else if ft.is_fifo() {
        NodeKind::Fifo
    } else {
        NodeKind::Other
    }
}

#[cfg(not(unix))]
fn special_kind(_ft: &std::fs::FileType) -> NodeKind {
    NodeKind::Other
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_filesystems_are_told_by_their_top() {
        assert!(looks_like_rootfs(["bin", "etc", "README"]));
        assert!(looks_like_rootfs(["usr", "lib64"]));
        assert!(looks_like_rootfs([".dockerenv", "app"]));
        assert!(!looks_like_rootfs(["usr"]));
        assert!(!looks_like_rootfs(["src", "Cargo.toml", "a.tar"]));
        assert!(!looks_like_rootfs(Vec::<String>::new()));
    }

    #[test]
    fn programs_are_told_from_tars() {
        assert!(is_program(b"\x7fELF\x02\x01\x01"));
        assert!(is_program(b"#!/bin/sh\necho hi\n"));
        assert!(!is_program(b"\x1f\x8b\x08"));
        assert!(!is_program(&[0u8; 1024]));
        // A ustar header whose member name happens to start with `#!`.
        let mut h = [0u8; 512];
        h[..4].copy_from_slice(b"#!ab");
        h[257..262].copy_from_slice(b"ustar");
        assert!(!is_program(&h));
    }

    #[test]
    fn walks_a_directory_without_following_links() {
        let dir = std::env::temp_dir().join(format!("archscan-rootfs-unit-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("bin")).unwrap();
        std::fs::write(dir.join("bin/run"), b"#!/bin/sh\nexit 0\n").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir.join("bin/run"), std::fs::Permissions::from_mode(0o755))
                .unwrap();
            // A link out of the directory is recorded, never entered.
            std::os::unix::fs::symlink("/etc", dir.join("etc")).unwrap();
        }
        let root = dir.canonicalize().unwrap();
        let idx = scan_dir(&root, &Limits::default(), &Meter::default()).unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        let run = idx.entries.iter().find(|e| &*e.path == "/bin/run").unwrap();
        assert!(
            matches!(run.ident.as_deref(), Some(Ident::Script(_))),
            "{:?}",
            run.ident
        );
        #[cfg(unix)]
        {
            let etc = idx.entries.iter().find(|e| &*e.path == "/etc").unwrap();
            assert_eq!(etc.kind, NodeKind::Symlink("/etc".into()));
            assert!(!idx.entries.iter().any(|e| e.path.starts_with("/etc/")));
        }
    }
}
