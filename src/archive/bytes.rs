//! The bytes of a file: memory-mapped read-only, or read into memory where a
//! map is impossible, with pages given back to the kernel once scanned. With
//! [`Bytes::release`], this is archscan's only `unsafe` code.

use std::fs::File;
use std::io::{self, Read};

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
pub fn map_file(file: &File) -> io::Result<Bytes> {
    let meta = file.metadata()?;
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
            (&*file).read_to_end(&mut v)?;
            Ok(Bytes::Owned(v))
        }
    }
}

/// Standard input as a file, when it is a regular file positioned at its
/// start (a shell redirect); `None` for a pipe, a terminal or a socket.
#[cfg(unix)]
pub fn stdin_file() -> Option<(File, std::fs::Metadata)> {
    use std::io::Seek;
    use std::os::fd::AsFd;
    let owned = io::stdin().as_fd().try_clone_to_owned().ok()?;
    let mut file = File::from(owned);
    let meta = file.metadata().ok()?;
    (meta.is_file() && file.stream_position().ok()? == 0).then_some((file, meta))
}

/// Permission bits of a host file (0o755 where the platform has none).
pub fn file_mode(meta: &std::fs::Metadata) -> u32 {
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
