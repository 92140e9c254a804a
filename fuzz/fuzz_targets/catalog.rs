//! A whole input read as a one-way stream (outer compression sniffed, JSON
//! members kept, layers scanned as they pass), then its image catalog
//! (manifest.json / index.json, nested indexes, digests) and every planned
//! layer looked up. Never a panic.
#![no_main]

use archscan::image::{catalog, Planned};
use archscan::layers::scan::Hashing;
use archscan::source::Source;
use libfuzzer_sys::fuzz_target;

mod common;

fuzz_target!(|data: &[u8]| {
    let limits = common::limits();
    let Ok(src) = Source::from_stream("fuzz", Box::new(data), &limits, &Default::default(), &Default::default()) else {
        return;
    };
    let Ok(cat) = catalog(&src, &limits) else {
        return;
    };
    for p in &cat.images {
        if let Planned::Image(plan) = p {
            for l in &plan.layers {
                let _ = src.scan_layer(&l.member, &limits, Hashing::WhenDecoded);
            }
            let _ = plan.config.platform();
        }
    }
});
