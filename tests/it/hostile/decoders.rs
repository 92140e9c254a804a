//! The decoder memory budget (`Limits::decoder_bytes`), lowered, through the
//! library API: decoders whose windows together exceed it take turns (every
//! layer read, the meter's peak never above the budget); one that alone
//! exceeds it makes its layer unreadable with an error naming the cap; a
//! layer inside a compressed outer archive counts beside the outer decoder.

use std::io::Write;

use archscan::limits::Limits;
use archscan::meter::Meter;
use archscan::ScanOptions;

use super::*;

const MIB: u64 = 1 << 20;

/// A zstd stream whose frame header declares a `2^log`-byte window.
fn zstd_window(data: &[u8], log: u32) -> Vec<u8> {
    let mut enc = zstd::stream::Encoder::new(Vec::new(), 1).unwrap();
    enc.window_log(log).unwrap();
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

/// Four layers, each a 32 MiB-window zstd stream; the last runs a script
/// whose interpreter is in the first, so the verdict needs every layer.
fn four_big_window_layers() -> Vec<u8> {
    let layers = [
        tar(&[
            file("bin/sh", b"#!/bin/sh-real\n", 0o755),
            file("bin/sh-real", b"x", 0o755),
        ]),
        tar(&[file("a/one", &[1u8; 4096], 0o644)]),
        tar(&[file("b/two", &[2u8; 4096], 0o644)]),
        tar(&[file("app/run", b"#!/bin/sh\n", 0o755)]),
    ];
    let blobs: Vec<Vec<u8>> = layers.iter().map(|l| zstd_window(l, 25)).collect();
    docker_archive(&to_json(&config(&["/app/run"], 4)), &blobs)
}

fn opts(budget: u64) -> ScanOptions {
    ScanOptions {
        limits: Limits {
            decoder_bytes: budget,
            ..Limits::default()
        },
        meter: Meter::default(),
        ..ScanOptions::default()
    }
}

// Before: every decoder was admitted whatever the others held (four 128 MiB
// windows at --jobs 4 were 512 MiB).
#[test]
fn big_window_layers_take_turns_under_the_budget() {
    let t = Tmp::new("decoders");
    let p = t.write("img.tar", &four_big_window_layers());
    let o = opts(40 * MIB);
    let report = archscan::scan(p.to_str().unwrap(), &o);
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let img = &report.images[0];
    assert!(img.error.is_none(), "{:?}", img.error);
    let ep = img.entrypoint.as_ref().expect("entrypoint resolved");
    assert_eq!(ep.resolved.as_deref(), Some("/bin/sh-real"), "{ep:?}");
    let peak = o.meter.decoders_peak();
    assert!(
        (32 * MIB..=40 * MIB).contains(&peak),
        "peak {peak} outside one 32 MiB window and the 40 MiB budget"
    );
    assert_eq!(o.meter.decoders_in_use(), 0);
    // With room for all four, they may overlap; every layer is read too.
    let o = opts(160 * MIB);
    let report = archscan::scan(p.to_str().unwrap(), &o);
    assert!(report.images[0].error.is_none());
    assert!(o.meter.decoders_peak() <= 128 * MIB);
}

#[test]
fn a_decoder_over_the_whole_budget_makes_its_layer_unreadable() {
    let t = Tmp::new("decoders-big");
    let p = t.write("img.tar", &four_big_window_layers());
    let report = archscan::scan(p.to_str().unwrap(), &opts(16 * MIB));
    let err = report.images[0].error.clone().unwrap_or_default();
    assert!(
        err.contains("decoder memory budget of 16777216 bytes (limit)"),
        "{err}"
    );
    // The same through the binary, at the default budget: a 128 MiB window
    // (zstd --long=27) is still read.
    let cfg = to_json(&config(&["/app/run"], 1));
    let layer = zstd_window(&tar(&[file("app/run", b"#!/app/run\n", 0o755)]), 27);
    let p = t.write("long27.tar", &docker_archive(&cfg, &[layer]));
    let r = run(&p, &[]);
    assert_judged(&r, "a 128 MiB window under the default budget");
}

#[test]
fn a_layer_inside_a_compressed_archive_counts_beside_the_outer_decoder() {
    let t = Tmp::new("decoders-nested");
    let outer = zstd_window(&four_big_window_layers(), 25);
    let p = t.write("img.tar.zst", &outer);
    // 32 MiB outer + 32 MiB layer fit in 64 MiB.
    let o = opts(64 * MIB);
    let report = archscan::scan(p.to_str().unwrap(), &o);
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert!(
        report.images[0].error.is_none(),
        "{:?}",
        report.images[0].error
    );
    assert_eq!(o.meter.decoders_peak(), 64 * MIB);
    // In 48 MiB the layer can never fit beside the outer decoder: refused,
    // not waited for.
    let report = archscan::scan(p.to_str().unwrap(), &opts(48 * MIB));
    let err = report.images[0].error.clone().unwrap_or_default();
    assert!(err.contains("decoder memory budget of"), "{err}");
}

/// Four layers, each 256 MiB of zeros in a zstd stream with a 128 MiB window
/// (`zstd --long=27`): each decoder fills its whole window. Without the
/// budget, the scan workers held one window each at once.
fn four_full_128mib_windows() -> Vec<u8> {
    const SIZE: u64 = 256 << 20;
    let chunk = vec![0u8; 1 << 20];
    let blobs: Vec<Vec<u8>> = (0..4)
        .map(|i| {
            let mut enc = zstd::stream::Encoder::new(Vec::new(), 1).unwrap();
            enc.window_log(27).unwrap();
            let name = format!("zeros{i}");
            enc.write_all(&header(name.as_bytes(), b'0', 0o644, SIZE, b""))
                .unwrap();
            for _ in 0..SIZE >> 20 {
                enc.write_all(&chunk).unwrap();
            }
            enc.write_all(&[0; 1024]).unwrap();
            enc.finish().unwrap()
        })
        .collect();
    docker_archive(&to_json(&config(&["/app/run"], 4)), &blobs)
}

/// Writes the decoder-budget case into `$HOSTILE_OUT` for
/// `scripts/hostile-measure.sh`.
#[test]
#[ignore]
fn write_decoder_inputs() {
    let Some(out) = super::hostile_out() else {
        return;
    };
    std::fs::write(
        out.join("zstd-windows-4x128m.tar"),
        four_full_128mib_windows(),
    )
    .unwrap();
}
