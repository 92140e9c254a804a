//! One layer blob (plain, gzip, zstd, xz — told apart by magic), scanned as a
//! memory map and as a stream: decoding, the tar walk, whiteouts and the
//! identification of every candidate file. Never a panic; both scans agree on
//! the entries they list.
#![no_main]

use archscan::layers::scan::{scan_slice, scan_stream, Hashing};
use libfuzzer_sys::fuzz_target;

mod common;

fuzz_target!(|data: &[u8]| {
    let limits = common::limits();
    let a = scan_slice(data, &limits, &archscan::meter::Meter::default(), Hashing::Always);
    let b = scan_stream(data, &limits, &archscan::meter::Meter::default(), Hashing::Always);
    if let (Ok(a), Ok(b)) = (&a, &b) {
        let pa: Vec<_> = a
            .entries
            .iter()
            .map(|e| (&e.path, &e.kind, e.size))
            .collect();
        let pb: Vec<_> = b
            .entries
            .iter()
            .map(|e| (&e.path, &e.kind, e.size))
            .collect();
        assert_eq!(pa, pb, "slice and stream scans list different entries");
        assert_eq!(a.digest, b.digest);
    }
});
