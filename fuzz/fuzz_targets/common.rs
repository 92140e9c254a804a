//! Limits shared by the fuzz targets: the defaults, lowered where a default
//! would let one input run for seconds (a fuzzer wants thousands a second).

use archscan::limits::Limits;

pub fn limits() -> Limits {
    Limits {
        entries: 100_000,
        layer_bytes: 64 << 20,
        ..Limits::default()
    }
}
