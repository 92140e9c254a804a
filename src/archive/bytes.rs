//! The bytes of a file: memory-mapped read-only, or read into memory where a
//! map is impossible, with pages given back to the kernel once scanned.
//!
//! A mapped file can change under the scan: a copy still being written, a
//! file replaced or cut (`archscan - < f` while `f` is truncated). Reading a
//! page of the map past the file's new end raises SIGBUS, which would kill
//! the process. On Linux every map is registered with the `guard` module,
//! whose SIGBUS handler puts zeros where the file's pages were and marks the
//! map; [`Bytes::changed`] then tells the caller, which reports "the input
//! changed while it was read" instead of judging what it saw. This file (with
//! `main`'s terminal-size query) is archscan's only `unsafe` code.

use std::fs::File;
use std::io::{self, Read};

/// Bytes of a file: a memory map, or a plain read where mapping is impossible.
pub enum Bytes {
    Map(Mapped),
    Owned(Vec<u8>),
}

/// A read-only map of a whole file, guarded against the file shrinking.
pub struct Mapped {
    /// Dropped first (fields drop in order): the map leaves the guard's table
    /// before its pages are unmapped, so an address reused by a later map is
    /// never taken for this one's.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    guard: guard::Guard,
    map: memmap2::Mmap,
    /// The mapped file, to compare its size now with the mapped length.
    file: File,
}

/// How a mapped file changed while it was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Changed {
    /// The length that was mapped (the file's size when it was opened).
    pub mapped: u64,
    /// The file's size now (`None` when it cannot be asked).
    pub now: Option<u64>,
}

impl std::fmt::Display for Changed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.now {
            Some(now) => write!(
                f,
                "the input changed while it was read ({} bytes mapped, now {now})",
                self.mapped
            ),
            None => write!(
                f,
                "the input changed while it was read ({} bytes mapped)",
                self.mapped
            ),
        }
    }
}

impl std::ops::Deref for Bytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Bytes::Map(m) => &m.map,
            Bytes::Owned(v) => v,
        }
    }
}

impl Bytes {
    /// Drops the pages of `start..end` from this process's resident set once
    /// they have been scanned (a no-op for owned bytes). The bytes stay
    /// readable: touching them again faults them back in from the page cache.
    /// Returns whether reading on is worth it: `false` once a read past the
    /// file's new end was caught (the rest of the map reads as zeros, and
    /// [`Bytes::changed`] will say so), so a reader can stop at once.
    pub fn release(&self, start: usize, end: usize) -> bool {
        #[cfg(unix)]
        if let Bytes::Map(m) = self {
            let map = &m.map;
            let end = end.min(map.len());
            if start < end {
                // SAFETY: the map is a shared, read-only mapping of a file.
                // MADV_DONTNEED on such a mapping only unmaps the pages: a
                // later read faults them back from the page cache with the
                // same contents (the file's), so slices borrowed from the map,
                // here or in another thread, still see the same bytes. (It is
                // private anonymous or copy-on-write mappings where DONTNEED
                // changes what memory reads as; the only such pages here are
                // the guard's pages of zeros, which read as zeros again.)
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
        !self.faulted()
    }

    /// A read past the file's new end was caught (Linux; never elsewhere).
    fn faulted(&self) -> bool {
        match self {
            #[cfg(any(target_os = "linux", target_os = "android"))]
            Bytes::Map(m) => m.guard.faulted(),
            _ => false,
        }
    }

    /// Whether the file behind a map changed while it was read: a read past
    /// its new end was caught (and read as zeros), or its size is no longer
    /// the mapped length. `None` for owned bytes and for an unchanged file.
    /// Callers ask after reading and, on `Some`, report this instead of
    /// anything they concluded from the bytes.
    pub fn changed(&self) -> Option<Changed> {
        let Bytes::Map(m) = self else {
            return None;
        };
        let faulted = self.faulted();
        let mapped = m.map.len() as u64;
        let now = m.file.metadata().ok().map(|meta| meta.len());
        (faulted || now.is_some_and(|n| n != mapped)).then_some(Changed { mapped, now })
    }
}

/// Tells the kernel that `data` (a view into a memory map, or any memory)
/// will be read from start to end, so a cold file is read ahead in large
/// chunks instead of one page per fault: maps are made with random-access
/// advice, right for an uncompressed archive whose file bodies are skipped,
/// and wrong for a compressed layer or a blob that is hashed whole. A hint
/// only: contents never change, and on memory that is not a file map, or
/// where the call fails, nothing happens.
pub fn advise_sequential(data: &[u8]) {
    #[cfg(unix)]
    {
        // SAFETY: sysconf has no preconditions.
        let page = usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).unwrap_or(4096);
        if data.is_empty() || !page.is_power_of_two() {
            return;
        }
        let start = data.as_ptr() as usize;
        let aligned = start & !(page - 1);
        let len = data.len() + (start - aligned);
        // SAFETY: the range lies within pages of memory this process has
        // mapped (it covers `data`, rounded down to its first page), and
        // MADV_SEQUENTIAL changes only the kernel's read-ahead and reclaim
        // policy for it, never what the memory reads as.
        let _ = unsafe { libc::madvise(aligned as *mut libc::c_void, len, libc::MADV_SEQUENTIAL) };
    }
    #[cfg(not(unix))]
    let _ = data;
}

/// Maps a file read-only (guarded: see the `guard` module); reads it instead
/// where it cannot be mapped. Callers pass regular files only: pipes and devices are
/// read as streams by the source stage.
pub fn map_file(file: &File) -> io::Result<Bytes> {
    let meta = file.metadata()?;
    if meta.len() == 0 {
        return Ok(Bytes::Owned(Vec::new()));
    }
    // SAFETY: the map is read-only and private to this process, and its
    // contents are treated as untrusted bytes. The hazard of a file map is
    // the file changing underneath: bytes rewritten in place are read as they
    // now are (harmless: every byte is already hostile), and pages past a
    // new, shorter end raise SIGBUS on Linux, which the guard registered
    // below turns into pages of zeros and a flag that `Bytes::changed`
    // reports. On other systems the map is unguarded.
    let map = match unsafe { memmap2::Mmap::map(file) } {
        Ok(map) => map,
        // Not mappable: read it instead.
        Err(_) => return read_whole(file),
    };
    #[cfg(unix)]
    let _ = map.advise(memmap2::Advice::Random);
    let file = file.try_clone()?;
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        let Some(guard) = guard::Guard::register(map.as_ptr() as usize, map.len()) else {
            // No handler, or every slot taken: a plain read cannot fault.
            drop(map);
            return read_whole(&file);
        };
        Ok(Bytes::Map(Mapped { guard, map, file }))
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    Ok(Bytes::Map(Mapped { map, file }))
}

/// The whole file read into memory from its start.
fn read_whole(file: &File) -> io::Result<Bytes> {
    let mut v = Vec::new();
    (&*file).read_to_end(&mut v)?;
    Ok(Bytes::Owned(v))
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

/// Catches SIGBUS on archscan's own file maps.
///
/// The safety argument, in full:
///
/// - **What is caught.** The kernel raises SIGBUS, with `si_addr` the
///   faulting address, when a process reads a page of a shared file map that
///   lies wholly past the file's current end. Each live [`Mapped`] holds a
///   slot of [`TABLE`] with its map's address range. The handler acts only
///   when `si_addr` is inside a registered range; any other SIGBUS (a bug, a
///   map that is not ours, `kill -BUS`) goes to the handler that was there
///   before (Rust's runtime installs one for stack guard pages), or gets the
///   default action (death by SIGBUS, as without this module).
/// - **What the handler does.** It maps zeros (`MAP_FIXED | MAP_PRIVATE |
///   MAP_ANONYMOUS`, read-only) from the faulting page to the end of the map,
///   sets the slot's `faulted` flag, and returns: the faulting read runs
///   again and reads zeros, which every parser already treats as hostile
///   data (a run of zero blocks ends a tar). Every page after the faulting
///   one is past the file's end too (truncation has already dropped them
///   from every map), so one fault covers the rest of the map instead of one
///   signal per page. The range lies inside the map (its start is
///   page-aligned, the fault is before its end, and maps cover whole pages),
///   so nothing of anyone else's is replaced; `munmap` of the whole map
///   later removes it too.
/// - **Async-signal safety.** The handler calls only `mmap`, `sigaction` and
///   `raise` (raw system calls on Linux; `sigaction` and `raise` are on
///   POSIX's async-signal-safe list, `mmap` is a plain system call that
///   takes no user-space lock), and reads and writes only atomics. It
///   allocates nothing, takes no lock, and never unwinds.
/// - **The table.** Slots are claimed with a compare-and-swap and written
///   under a per-slot sequence number (a seqlock): odd while the range is
///   written, even when stable. The handler skips a slot whose sequence is
///   odd or moved while it read the range. That never skips the faulting
///   map's own slot: a map's slot is written before the map is read and
///   cleared only when it is dropped, after every borrow of it has ended.
///   A map leaves the table before it is unmapped ([`Mapped`]'s field
///   order), so a later map at the same address is never taken for it.
/// - **What the rest of the program sees.** Bytes of a map are read through
///   shared slices; pages turning to zeros under them is the same kind of
///   change as the file being rewritten in place, which any file map already
///   allows, and no code relies on reading the same byte twice. The flag
///   makes the caller discard what it concluded ([`Bytes::changed`]).
#[cfg(any(target_os = "linux", target_os = "android"))]
mod guard {
    use std::sync::atomic::{fence, AtomicBool, AtomicUsize, Ordering};
    use std::sync::Once;

    /// Live maps at once: the input, plus one per layer blob of a directory
    /// or file of a root filesystem being read (at most one per thread).
    const SLOTS: usize = 1024;

    struct Slot {
        /// Claimed by a live map.
        busy: AtomicBool,
        /// Seqlock over `start` and `len`: odd while they are written.
        seq: AtomicUsize,
        start: AtomicUsize,
        len: AtomicUsize,
        /// A read past the file's end was caught in this map.
        faulted: AtomicBool,
    }

    #[allow(clippy::declare_interior_mutable_const)]
    const FREE: Slot = Slot {
        busy: AtomicBool::new(false),
        seq: AtomicUsize::new(0),
        start: AtomicUsize::new(0),
        len: AtomicUsize::new(0),
        faulted: AtomicBool::new(false),
    };

    static TABLE: [Slot; SLOTS] = [FREE; SLOTS];
    static INSTALL: Once = Once::new();
    static INSTALLED: AtomicBool = AtomicBool::new(false);
    static PAGE: AtomicUsize = AtomicUsize::new(0);
    /// The SIGBUS action before ours: its handler address and flags.
    static PREV_HANDLER: AtomicUsize = AtomicUsize::new(libc::SIG_DFL);
    static PREV_FLAGS: AtomicUsize = AtomicUsize::new(0);

    /// A map's slot in the table; leaving it on drop.
    pub struct Guard {
        index: usize,
    }

    impl Guard {
        /// Registers the map at `start..start + len`. `None` when the handler
        /// could not be installed or every slot is taken: the caller then
        /// reads the file instead of mapping it.
        pub fn register(start: usize, len: usize) -> Option<Guard> {
            INSTALL.call_once(install);
            if !INSTALLED.load(Ordering::Acquire) {
                return None;
            }
            for (index, slot) in TABLE.iter().enumerate() {
                if slot
                    .busy
                    .compare_exchange(false, true, Ordering::AcqRel, Ordering::Relaxed)
                    .is_ok()
                {
                    slot.faulted.store(false, Ordering::Relaxed);
                    write(slot, start, len);
                    return Some(Guard { index });
                }
            }
            None
        }

        /// A read past the file's end was caught in this map.
        pub fn faulted(&self) -> bool {
            TABLE[self.index].faulted.load(Ordering::Acquire)
        }
    }

    impl Drop for Guard {
        fn drop(&mut self) {
            let slot = &TABLE[self.index];
            write(slot, 0, 0);
            slot.busy.store(false, Ordering::Release);
        }
    }

    /// Writes a slot's range under its seqlock.
    fn write(slot: &Slot, start: usize, len: usize) {
        let seq = slot.seq.load(Ordering::Relaxed);
        slot.seq.store(seq.wrapping_add(1), Ordering::Relaxed);
        fence(Ordering::Release);
        slot.start.store(start, Ordering::Relaxed);
        slot.len.store(len, Ordering::Relaxed);
        slot.seq.store(seq.wrapping_add(2), Ordering::Release);
    }

    /// The slot whose stable range holds `addr`, with that range's start
    /// and length. Async-signal-safe.
    fn owner(addr: usize) -> Option<(&'static Slot, usize, usize)> {
        TABLE.iter().find_map(|slot| {
            let before = slot.seq.load(Ordering::Acquire);
            if before % 2 == 1 {
                return None;
            }
            let start = slot.start.load(Ordering::Relaxed);
            let len = slot.len.load(Ordering::Relaxed);
            fence(Ordering::Acquire);
            let after = slot.seq.load(Ordering::Relaxed);
            (before == after && len > 0 && addr >= start && addr - start < len)
                .then_some((slot, start, len))
        })
    }

    fn install() {
        // SAFETY: sysconf has no preconditions.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        let Ok(page) = usize::try_from(page) else {
            return;
        };
        if !page.is_power_of_two() {
            return;
        }
        PAGE.store(page, Ordering::Relaxed);
        // SAFETY: a zeroed sigaction is a valid value (no handler, empty
        // mask); every field that matters is set before it is used, and
        // `prev` receives the action that was installed.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_sigbus as *const () as usize;
            action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
            libc::sigemptyset(&mut action.sa_mask);
            let mut prev: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(libc::SIGBUS, &action, &mut prev) != 0 {
                return;
            }
            PREV_HANDLER.store(prev.sa_sigaction, Ordering::Relaxed);
            PREV_FLAGS.store(prev.sa_flags as usize, Ordering::Relaxed);
        }
        INSTALLED.store(true, Ordering::Release);
    }

    /// The SIGBUS handler (see the module's safety argument).
    extern "C" fn on_sigbus(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
        // SAFETY: the kernel passes a valid siginfo to an SA_SIGINFO handler.
        let addr = if info.is_null() {
            0
        } else {
            unsafe { (*info).si_addr() as usize }
        };
        let page = PAGE.load(Ordering::Relaxed);
        if addr != 0 && page != 0 {
            if let Some((slot, start, len)) = owner(addr) {
                let base = addr & !(page - 1);
                // The map's end, rounded up to a whole page (no overflow: the
                // kernel placed the map below the top of the address space).
                let end = start.wrapping_add(len).wrapping_add(page - 1) & !(page - 1);
                // SAFETY: `base..end` lies inside a live map of ours (its
                // start is page-aligned, `addr` is before its end, and maps
                // cover whole pages); replacing it with zeros changes no
                // memory anyone else owns. mmap is a plain system call.
                let zeros = unsafe {
                    libc::mmap(
                        base as *mut libc::c_void,
                        end.wrapping_sub(base),
                        libc::PROT_READ,
                        libc::MAP_FIXED | libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                        -1,
                        0,
                    )
                };
                if zeros != libc::MAP_FAILED {
                    slot.faulted.store(true, Ordering::Release);
                    return;
                }
            }
        }
        // Not ours: the previous handler, or the default action.
        let prev = PREV_HANDLER.load(Ordering::Relaxed);
        let flags = PREV_FLAGS.load(Ordering::Relaxed) as libc::c_int;
        if prev != libc::SIG_DFL && prev != libc::SIG_IGN {
            // SAFETY: `prev` is the handler the previous sigaction held, of
            // the signature its flags say.
            unsafe {
                if flags & libc::SA_SIGINFO != 0 {
                    let f: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
                        std::mem::transmute(prev);
                    f(sig, info, ctx);
                } else {
                    let f: extern "C" fn(libc::c_int) = std::mem::transmute(prev);
                    f(sig);
                }
            }
            return;
        }
        // SAFETY: sigaction and raise are async-signal-safe. SIGBUS is
        // blocked while this handler runs, so the raised one is delivered on
        // return, with the default action: the process dies by SIGBUS.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = libc::SIG_DFL;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(libc::SIGBUS, &action, std::ptr::null_mut());
            libc::raise(libc::SIGBUS);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str, bytes: &[u8]) -> std::path::PathBuf {
        let p = std::env::temp_dir().join(format!("archscan-bytes-{}-{name}", std::process::id()));
        std::fs::write(&p, bytes).unwrap();
        p
    }

    // Reading a map past a file's new end killed the process with SIGBUS.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    #[test]
    fn truncated_map_reads_zeros_and_says_changed() {
        let len = 64 * 4096 + 100;
        let p = temp("cut", &vec![0xabu8; len]);
        let file = File::open(&p).unwrap();
        let bytes = map_file(&file).unwrap();
        assert!(matches!(bytes, Bytes::Map(_)));
        assert_eq!(bytes.changed(), None);
        assert_eq!(bytes[len - 1], 0xab);
        std::fs::OpenOptions::new()
            .write(true)
            .open(&p)
            .unwrap()
            .set_len(4096)
            .unwrap();
        // The first page is still the file's; the rest read as zeros.
        let sum: u64 = bytes.iter().map(|&b| b as u64).sum();
        assert_eq!(sum, 0xab * 4096);
        let changed = bytes.changed().unwrap();
        assert_eq!(
            changed,
            Changed {
                mapped: len as u64,
                now: Some(4096)
            }
        );
        assert_eq!(
            changed.to_string(),
            format!("the input changed while it was read ({len} bytes mapped, now 4096)")
        );
        // Releasing scanned pages over the zeros keeps them zeros.
        bytes.release(0, len);
        assert_eq!(bytes[len - 1], 0);
        drop(bytes);
        // A later map of another file is unaffected by the old slot.
        let q = temp("whole", &[7u8; 10_000]);
        let other = map_file(&File::open(&q).unwrap()).unwrap();
        assert_eq!(other.changed(), None);
        assert!(other.iter().all(|&b| b == 7));
        let _ = std::fs::remove_file(&p);
        let _ = std::fs::remove_file(&q);
    }

    #[test]
    fn a_file_that_grew_is_changed_too() {
        let p = temp("grew", &[1u8; 5000]);
        let bytes = map_file(&File::open(&p).unwrap()).unwrap();
        std::fs::write(&p, [1u8; 9000]).unwrap();
        assert_eq!(
            bytes.changed(),
            Some(Changed {
                mapped: 5000,
                now: Some(9000)
            })
        );
        let _ = std::fs::remove_file(&p);
    }
}
