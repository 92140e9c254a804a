//! Compression bombs (gzip and zstd, layer and outer archive) and zstd
//! frames asking for absurd windows.

use std::io::Write;

use super::*;

/// A compressed tar holding one file of `size` zero bytes (and an
/// entrypoint script after it), made by repeating one compressed member or
/// frame of zeros, so that building it costs little (zstd frames of zeros
/// are a few RLE blocks).
fn bomb(size: u64, c: Comp) -> Vec<u8> {
    const CHUNK: usize = 8 << 20;
    let mut out = compress(&header(b"zeros", b'0', 0o644, size, b""), c);
    let zeros = compress(&vec![0u8; CHUNK], c);
    let mut left = size;
    while left >= CHUNK as u64 {
        out.extend_from_slice(&zeros);
        left -= CHUNK as u64;
    }
    let mut tail = vec![0u8; left as usize];
    pad(&mut tail);
    push_entry(&mut tail, &file("app/run", b"#!/bin/sh\n", 0o755));
    tail.extend_from_slice(&[0u8; 1024]);
    out.extend_from_slice(&compress(&tail, c));
    out
}

pub(super) fn gzip_bomb(size: u64) -> Vec<u8> {
    bomb(size, Comp::Gzip)
}

pub(super) fn zstd_bomb(size: u64) -> Vec<u8> {
    bomb(size, Comp::Zstd)
}

/// Bomb size in the test suite (a debug build inflates slowly); the measure
/// script uses 10 GiB through `write_hostile_inputs`.
const TEST_BOMB: u64 = if cfg!(debug_assertions) {
    16 << 20
} else {
    1 << 30
};

#[test]
fn compression_bombs_finish() {
    let t = Tmp::new("bomb");
    let cfg = to_json(&config(&["/app/run"], 1));
    for (name, blob) in [
        ("gzip", gzip_bomb(TEST_BOMB)),
        ("zstd", zstd_bomb(TEST_BOMB)),
    ] {
        let p = t.write(&format!("layer-{name}.tar"), &docker_archive(&cfg, &[blob]));
        let r = run(&p, &[]);
        assert_judged(&r, &format!("{name} layer bomb"));
    }
    // The outer archive as a bomb: a member of zeros before the image.
    let img = small_image();
    let mut outer = header(b"zeros", b'0', 0o644, TEST_BOMB, b"").to_vec();
    outer.resize(outer.len() + TEST_BOMB as usize, 0);
    outer.extend_from_slice(&img);
    // (zstd only: a gzip encoder in a debug build is too slow for this size.)
    let p = t.write("outer.tar.zst", &compress(&outer, Comp::Zstd));
    let r = run(&p, &[]);
    assert_judged(&r, "zstd outer bomb");
}

/// A zstd frame header asking for a 2 TiB window (and one empty raw block).
pub(super) fn zstd_huge_window() -> Vec<u8> {
    vec![0x28, 0xb5, 0x2f, 0xfd, 0x00, 0xf8, 0x01, 0x00, 0x00]
}

#[test]
fn zstd_frames_with_absurd_windows_are_refused() {
    let t = Tmp::new("window");
    let cfg = to_json(&config(&["/app/run"], 1));
    let p = t.write("layer.tar", &docker_archive(&cfg, &[zstd_huge_window()]));
    let r = run_both(&p);
    expect_unreadable(&r, &p, &["layer 0", "0/layer.tar"]);
    // A real encoder's frame with a 1 GiB window (zstd --long=30).
    let mut enc = zstd::stream::Encoder::new(Vec::new(), 1).unwrap();
    enc.window_log(30).unwrap();
    enc.long_distance_matching(true).unwrap();
    enc.write_all(&tar(&[file("app/run", b"#!/bin/sh\n", 0o755)]))
        .unwrap();
    let long = enc.finish().unwrap();
    let p = t.write("layer-long.tar", &docker_archive(&cfg, &[long]));
    let r = run(&p, &[]);
    expect_unreadable(&r, &p, &["layer 0"]);
    // The outer archive.
    let p = t.write("outer.tar.zst", &zstd_huge_window());
    let r = run_both(&p);
    expect_unreadable(&r, &p, &[]);
}
