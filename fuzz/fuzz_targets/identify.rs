//! Identification of one file (ELF, Mach-O, PE, `#!`) from a whole slice and
//! from a streaming `Capture` fed in chunks of fuzzer-chosen sizes. Never a
//! panic; when the whole file fits in the capture's head (so nothing can be
//! missing) both give the same answer.
#![no_main]

use archscan::identify::{identify, Capture, IdentLimits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    // First byte: exec bit; second: chunk-size seed; the rest is the file.
    let [flags, seed, data @ ..] = input else {
        return;
    };
    let exec = flags & 1 == 1;
    let limits = IdentLimits::default();
    let whole = identify(&data, exec, &limits);
    let mut cap = Capture::new(data.len() as u64, exec, &limits);
    let mut rest = data;
    let mut step = usize::from(*seed) + 1;
    while !rest.is_empty() && cap.wants_more() {
        let n = step.min(rest.len());
        cap.feed(&rest[..n]);
        rest = &rest[n..];
        step = (step * 7 + 3) % 4099 + 1;
    }
    let streamed = cap.finish();
    if data.len() <= limits.head {
        assert_eq!(
            whole, streamed,
            "slice and capture disagree on a file within the head"
        );
    }
    // A small-capped identification never panics either.
    let tiny = IdentLimits {
        head: 64,
        tail: 64,
        max_read: 256,
        extra: 256,
        shebang: 32,
        max_items: 4,
        versions: 256,
    };
    let _ = identify(&data, exec, &tiny);
});
