//! The bounded tar walk over arbitrary bytes, as a memory map (SliceInput) and
//! as a one-way stream (StreamInput): never a panic, and both walks see the
//! same entries and stop at the same place.
#![no_main]

use std::io::Read;

use archscan::archive::tar::{walk, Entry, SliceInput, StreamInput, VisitError};
use libfuzzer_sys::fuzz_target;

mod common;

type Seen = Vec<(Vec<u8>, Option<Vec<u8>>, u64, Vec<u8>)>;

fn record(e: &Entry, first: Vec<u8>, out: &mut Seen) {
    out.push((e.path.clone(), e.link.clone(), e.size, first));
}

fuzz_target!(|data: &[u8]| {
    let limits = common::limits();
    let mut a: Seen = Vec::new();
    let ra = walk(&mut SliceInput::new(data), &limits, |e, body| {
        let mut first = vec![0u8; body.remaining().min(16) as usize];
        body.read_exact(&mut first).map_err(VisitError::Read)?;
        record(e, first, &mut a);
        Ok(())
    });
    let mut b: Seen = Vec::new();
    let rb = walk(&mut StreamInput::new(data), &limits, |e, body| {
        let mut first = vec![0u8; body.remaining().min(16) as usize];
        body.read_exact(&mut first).map_err(VisitError::Read)?;
        record(e, first, &mut b);
        Ok(())
    });
    assert_eq!(a, b, "slice and stream walks saw different entries");
    match (&ra, &rb) {
        (Ok(x), Ok(y)) => assert_eq!(x, y),
        (Err(x), Err(y)) => assert_eq!(x.offset, y.offset),
        _ => panic!("one walk failed and the other did not: {ra:?} / {rb:?}"),
    }
});
