//! A whole input opened by path, as archscan opens what it is given, two
//! ways: through a pipe (`/proc/self/fd/N`, read as a stream: the path of
//! FIFOs, `/dev/stdin` and `<(…)`), and as a regular file (a memfd) that is
//! mapped and then cut to a length byte 0 chooses, before its image catalog
//! is read and its layers and root filesystem scanned: the cut pages read as
//! zeros through the SIGBUS guard. Never a panic or a signal; a cut mapped
//! archive always reports that it changed.
#![no_main]

use std::fs::File;
use std::io::Write;
use std::os::fd::{AsRawFd, FromRawFd};

use archscan::image::{catalog, Planned};
use archscan::layers::scan::{Compression, Hashing};
use archscan::source::{Container, Source};
use libfuzzer_sys::fuzz_target;

mod common;

/// Reads what a run reads: the catalog, every planned layer, and the input
/// as a root filesystem.
fn exercise(src: &Source, limits: &archscan::limits::Limits) {
    if let Ok(cat) = catalog(src, limits) {
        for p in &cat.images {
            if let Planned::Image(plan) = p {
                for l in &plan.layers {
                    let _ = src.scan_layer(&l.member, limits, Hashing::Always);
                }
            }
        }
    }
    let _ = src.scan_as_rootfs(limits);
}

fuzz_target!(|data: &[u8]| {
    let Some((&cut_seed, body)) = data.split_first() else {
        return;
    };
    let limits = common::limits();
    // SAFETY: ignoring SIGPIPE has no preconditions; libFuzzer's `main` does
    // not do it as Rust's does, and the pipe's writer may outlive its reader.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };

    // Through a pipe: a stream whose size says nothing.
    if let Ok((reader, mut writer)) = std::io::pipe() {
        let owned = body.to_vec();
        let feeder = std::thread::spawn(move || {
            let _ = writer.write_all(&owned);
        });
        let path = format!("/proc/self/fd/{}", reader.as_raw_fd());
        if let Ok(src) = Source::open(&path, &limits, &Default::default(), &Default::default()) {
            assert_ne!(src.container, Container::Directory);
            exercise(&src, &limits);
        }
        // Unblocks a writer the stream stopped reading.
        drop(reader);
        let _ = feeder.join();
    }

    // A regular file, mapped, then cut.
    // SAFETY: a NUL-terminated name and valid flags.
    let fd = unsafe { libc::memfd_create(c"fuzz-input".as_ptr(), libc::MFD_CLOEXEC) };
    if fd < 0 {
        return;
    }
    // SAFETY: `fd` was just created and is owned by nothing else.
    let mut file = unsafe { File::from_raw_fd(fd) };
    if file.write_all(body).is_err() {
        return;
    }
    let path = format!("/proc/self/fd/{fd}");
    let Ok(src) = Source::open(&path, &limits, &Default::default(), &Default::default()) else {
        return;
    };
    let cut = body.len() as u64 * u64::from(cut_seed) / 255;
    let _ = file.set_len(cut);
    exercise(&src, &limits);
    let mapped = src.container == Container::Tar && src.compression == Compression::None;
    if mapped && cut < body.len() as u64 {
        assert!(src.changed().is_some(), "a cut mapped input did not say so");
    }
});
