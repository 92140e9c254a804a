//! Two layers scanned from fuzzer bytes (the input split in two) merged as the
//! snapshotter would (opaque markers, whiteouts, hardlinks, a file replacing a
//! directory), then paths resolved through symlinks inside the merged view.
//! Never a panic; resolution always ends.
#![no_main]

use std::sync::Arc;

use archscan::layers::merge::MergedFs;
use archscan::layers::scan::{scan_slice, Hashing};
use libfuzzer_sys::fuzz_target;

mod common;

fuzz_target!(|data: &[u8]| {
    let limits = common::limits();
    let [split, data @ ..] = data else {
        return;
    };
    let at = (data.len() * usize::from(*split) / 255) & !511;
    let (a, b) = data.split_at(at.min(data.len()));
    let mut layers = Vec::new();
    for part in [a, b] {
        if let Ok(idx) = scan_slice(part, &limits, &archscan::meter::Meter::default(), Hashing::Never) {
            layers.push(Arc::new(idx));
        }
    }
    let mut paths: Vec<String> = layers
        .iter()
        .flat_map(|l| l.entries.iter().map(|e| e.path.to_string()))
        .take(64)
        .collect();
    paths.extend(["/", "/bin/sh", "/usr/bin/env", "/a/../../b"].map(String::from));
    let fs = MergedFs::merge(layers, limits.link_hops);
    for p in &paths {
        let _ = fs.resolve(p);
        let _ = fs.resolve(&format!("{p}/x/.."));
    }
    let _ = fs.len();
});
