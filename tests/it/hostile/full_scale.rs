//! Full-scale inputs for `scripts/hostile-measure.sh` and seeds for the fuzz
//! targets, written only when asked (ignored tests).

use std::io::Write;
use std::path::PathBuf;

use super::bombs::{gzip_bomb, zstd_bomb, zstd_huge_window};
use super::executables::{elf_with_bad_segments, fat_macho, pe_truncated_optional_header};
use super::json::docker_with_manifest;
use super::repeats::{images_sharing, large_layer, layer_listed};
use super::tar_headers::{
    base256, header_with_size_field, json_members, long_names, many_entries, pax_record,
};
use super::*;

/// Writes the hostile inputs at full scale into `$HOSTILE_OUT` (10 GiB bombs,
/// a million entries). Run by `scripts/hostile-measure.sh`.
#[test]
#[ignore]
fn write_hostile_inputs() {
    let Some(out) = super::hostile_out() else {
        return;
    };
    let w = |name: &str, data: &[u8]| std::fs::write(out.join(name), data).unwrap();
    let cfg = to_json(&config(&["/app/run"], 1));
    const BOMB: u64 = 10 << 30;
    w(
        "bomb-gzip-layer-10g.tar",
        &docker_archive(&cfg, &[gzip_bomb(BOMB)]),
    );
    w(
        "bomb-zstd-layer-10g.tar",
        &docker_archive(&cfg, &[zstd_bomb(BOMB)]),
    );
    // Outer bombs: the same streams with the image after the zeros.
    w("bomb-gzip-outer-10g.tar.gz", &gzip_bomb(BOMB));
    w("bomb-zstd-outer-10g.tar.zst", &zstd_bomb(BOMB));
    w(
        "entries-1m.tar",
        &docker_archive(&cfg, &[many_entries(1 << 20)]),
    );
    w("empty.tar", b"");
    w(
        "random.bin",
        &(0..1_000_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect::<Vec<_>>(),
    );
    let small = small_image();
    w("truncated-half.tar", &small[..small.len() / 2]);
    w(
        "truncated-half.tar.gz",
        &compress(&small, Comp::Gzip)[..200],
    );
    let deep = "[".repeat(10_000) + &"]".repeat(10_000);
    w(
        "json-deep.tar",
        &docker_with_manifest(deep.as_bytes(), &cfg),
    );
    let mut huge = b"[\"".to_vec();
    huge.resize(17 * 1024 * 1024, b'a');
    huge.extend_from_slice(b"\"]");
    w("json-huge.tar", &docker_with_manifest(&huge, &cfg));
    w(
        "zstd-window.tar",
        &docker_archive(&cfg, &[zstd_huge_window()]),
    );
    let mut chain = vec![file("bin/real", b"#!/bin/sh\n", 0o755)];
    for i in 0..10_000 {
        let next = if i == 9_999 {
            "/bin/real".to_string()
        } else {
            format!("/l/{}", i + 1)
        };
        chain.push(symlink(&format!("l/{i}"), &next));
    }
    w(
        "symlink-chain-10k.tar",
        &one_layer_image(&chain, &["/l/0"], Comp::Gzip),
    );
    let mut shebang = b"#!".to_vec();
    shebang.resize(1 << 20, b'a');
    w(
        "shebang-1mib.tar",
        &one_layer_image(
            &[file("app/run", &shebang, 0o755)],
            &["/app/run"],
            Comp::Gzip,
        ),
    );
    w(
        "fat-macho-2p32.tar",
        &one_layer_image(
            &[file("app/run", &fat_macho(u32::MAX, 0), 0o755)],
            &["/app/run"],
            Comp::None,
        ),
    );
    w(
        "elf-bad.tar",
        &one_layer_image(
            &[file("app/run", &elf_with_bad_segments(), 0o755)],
            &["/app/run"],
            Comp::Zstd,
        ),
    );
    let long = "d/".repeat(40_000) + "x";
    w(
        "long-name.tar",
        &one_layer_image(&[file(&long, b"", 0o644)], &["/app/run"], Comp::None),
    );
    w(
        "long-names-many.tar",
        &docker_archive(&cfg, &[long_names(20_000)]),
    );
    w("json-members-many.tar.zst", &json_members(64));
    let mut size = header_with_size_field(b"app/run", &base256(1 << 60)).to_vec();
    size.extend_from_slice(&[0; 1024]);
    w("size-2p60.tar", &size);
    // Sparse: a few KiB on disk. The script also runs it with --verify and
    // cuts it while it is mapped, and feeds entries-1m.tar through a FIFO.
    super::changing::sparse_image(&out, "sparse-layer-4g.tar", 4 << 30);
    // One layer listed 5,000 times; 4,000 images (each its own Env, so each
    // is judged) on one large layer.
    w(
        "layer-listed-5000.tar",
        &layer_listed(&large_layer(50_000, 1024), 5_000),
    );
    w(
        "images-4000-one-layer.tar",
        &images_sharing(&large_layer(20_000, 4096), 4_000, true),
    );
}

/// Writes small seed inputs for the fuzz targets into `$FUZZ_SEEDS/<target>/`
/// (see fuzz/README.md).
#[test]
#[ignore]
fn write_fuzz_seeds() {
    let Some(out) = std::env::var_os("FUZZ_SEEDS") else {
        eprintln!("FUZZ_SEEDS is not set: nothing written");
        return;
    };
    let out = PathBuf::from(out);
    let w = |target: &str, name: &str, data: &[u8]| {
        let d = out.join(target);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join(name), data).unwrap();
    };
    let layer = tar(&[
        dir("bin"),
        file("bin/run", b"#!/bin/sh -e\r\n", 0o755),
        file(&("long/".repeat(30) + "name"), b"x", 0o644),
        symlink("bin/sh", "busybox"),
        symlink(&("l/".repeat(60) + "x"), &("../".repeat(40) + "t")),
        hardlink("bin/hard", "bin/run"),
        file("etc/.wh.gone", b"", 0o644),
        file("opt/.wh..wh..opq", b"", 0o644),
        file(
            "etc/ld.so.conf",
            b"include /etc/ld.so.conf.d/*.conf\n",
            0o644,
        ),
        special("dev/null", b'3'),
        special("run/fifo", b'6'),
    ]);
    let mut pax = Vec::new();
    push_entry(
        &mut pax,
        &pax_header("pax", pax_record("path", "pax/long/name").as_bytes()),
    );
    push_entry(&mut pax, &file("short", b"#!/x\n", 0o755));
    pax.extend_from_slice(&[0; 1024]);
    for (name, data) in [("layer.tar", &layer), ("pax.tar", &pax)] {
        w("tarwalk", name, data);
        w("layer_scan", name, data);
    }
    w("layer_scan", "layer.tar.gz", &compress(&layer, Comp::Gzip));
    w("layer_scan", "layer.tar.zst", &compress(&layer, Comp::Zstd));
    let mut xz = liblzma::write::XzEncoder::new(Vec::new(), 1);
    xz.write_all(&layer).unwrap();
    w("layer_scan", "layer.tar.xz", &xz.finish().unwrap());
    let elf = std::fs::read("/bin/true").unwrap();
    let mut merge = vec![128u8];
    let second = tar(&[
        symlink("bin", "usr/bin"),
        file("usr/bin/true", &elf[..4096], 0o755),
        file("bin/.wh.sh", b"", 0o644),
    ]);
    let mut first = layer.clone();
    first.truncate(first.len() - 1024);
    merge.extend_from_slice(&first);
    merge.extend_from_slice(&second);
    w("merge", "two-layers", &merge);
    let cfg = to_json(&config(&["/bin/run"], 1));
    let docker = docker_archive(&cfg, std::slice::from_ref(&layer));
    let oci = oci_archive(
        &cfg,
        &[(compress(&layer, Comp::Gzip), media_type(Comp::Gzip))],
    );
    w("catalog", "docker.tar", &docker);
    w("catalog", "oci.tar", &oci);
    w("catalog", "docker.tar.zst", &compress(&docker, Comp::Zstd));
    w("catalog", "oci.tar.gz", &compress(&oci, Comp::Gzip));
    let ident = |name: &str, bytes: &[u8]| {
        let mut v = vec![1u8, 13];
        v.extend_from_slice(bytes);
        w("identify", name, &v);
    };
    ident("true", &elf);
    ident("script-crlf", b"#!/usr/bin/env python3\r\nprint(1)\n");
    ident("fat", &fat_macho(2, 4096));
    ident("pe", &pe_truncated_optional_header());
    ident("elf-bad", &elf_with_bad_segments());
}
