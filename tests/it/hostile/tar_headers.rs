//! Damaged tar headers: absurd sizes and checksums, PAX records, huge long
//! names, very many entries.

use super::*;

/// One PAX record, `"<len> <key>=<value>\n"`, with its length right.
pub(super) fn pax_record(key: &str, value: &str) -> String {
    let body = format!(" {key}={value}\n");
    let mut len = body.len() + 1;
    while (len.to_string().len() + body.len()) != len {
        len += 1;
    }
    format!("{len}{body}")
}

/// A header whose size field is replaced by `field` (12 raw bytes), checksum fixed.
pub(super) fn header_with_size_field(name: &[u8], field: &[u8; 12]) -> [u8; 512] {
    let mut h = header(name, b'0', 0o644, 0, b"");
    h[124..136].copy_from_slice(field);
    let mut t = tar::Header::new_old();
    t.as_mut_bytes().copy_from_slice(&h);
    t.set_cksum();
    h.copy_from_slice(t.as_bytes());
    h
}

pub(super) fn base256(n: u64) -> [u8; 12] {
    let mut f = [0u8; 12];
    f[0] = 0x80;
    f[4..].copy_from_slice(&n.to_be_bytes());
    f
}

#[test]
fn absurd_tar_sizes_and_checksums_are_unreadable() {
    let t = Tmp::new("sizes");
    let fields: Vec<(&str, [u8; 12])> = vec![
        ("2p60", base256(1 << 60)),
        ("2p64-1", base256(u64::MAX)),
        ("neg", [0xff; 12]),
        ("garbage", *b"zz9 \x01\x02xx\xffq\0\0"),
        ("octal-max", *b"77777777777\0"),
    ];
    for (name, field) in &fields {
        let mut body = header_with_size_field(b"app/run", field).to_vec();
        body.extend_from_slice(&[b'#'; 1024]);
        // In a layer (mapped and streamed) and as the outer archive itself.
        for c in [Comp::None, Comp::Gzip] {
            let img = docker_archive(&to_json(&config(&["/app/run"], 1)), &[compress(&body, c)]);
            let p = t.write(&format!("layer-{name}-{c:?}.tar"), &img);
            let r = run_both(&p);
            expect_unreadable(&r, &p, &["layer 0"]);
            let p = t.write(&format!("outer-{name}-{c:?}.tar"), &compress(&body, c));
            let r = run_both(&p);
            expect_unreadable(&r, &p, &[]);
        }
    }
    // A bad checksum.
    let mut layer = tar(&[file("app/run", b"#!/bin/sh\n", 0o755)]);
    layer[10] ^= 0x40;
    let img = docker_archive(&to_json(&config(&["/app/run"], 1)), &[layer.clone()]);
    let p = t.write("bad-cksum.tar", &img);
    expect_unreadable(&run_both(&p), &p, &["layer 0", "checksum"]);
    // PAX size records: huge, negative, malformed lengths.
    for (name, rec) in [
        ("pax-huge", pax_record("size", "18446744073709551615")),
        ("pax-2p60", pax_record("size", "1152921504606846976")),
        ("pax-neg", pax_record("size", "-10")),
        ("pax-path-nul", pax_record("path", "a\0b/../../../x")),
        ("pax-badlen", "999999 path=x\n".to_string()),
        ("pax-zero", "0 path=x\n".to_string()),
        ("pax-nospace", "12path=x\n".to_string()),
    ] {
        let mut l = Vec::new();
        push_entry(&mut l, &pax_header("pax", rec.as_bytes()));
        push_entry(&mut l, &file("app/run", b"#!/bin/sh\n", 0o755));
        l.extend_from_slice(&[0; 1024]);
        let img = docker_archive(&to_json(&config(&["/app/run"], 1)), &[l]);
        let p = t.write(&format!("{name}.tar"), &img);
        let r = run_both(&p);
        if r.code != 2 {
            assert_judged(&r, name);
        } else {
            assert!(r.stderr.contains("layer 0"), "{name}\n{}", r.all());
        }
    }
}

#[test]
fn huge_long_names_are_refused() {
    let t = Tmp::new("names");
    let cfg = to_json(&config(&["/app/run"], 1));
    let long = "d/".repeat(40_000) + "x";
    for (name, e) in [
        ("gnu-name", file(&long, b"x", 0o644)),
        ("gnu-link", symlink("l", &long)),
        ("pax", pax_header("pax", &vec![b'a'; 2 << 20])),
    ] {
        let l = tar(&[e, file("app/run", b"#!/bin/sh\n", 0o755)]);
        for c in [Comp::None, Comp::Zstd] {
            let img = docker_archive(&cfg, &[compress(&l, c)]);
            let p = t.write(&format!("{name}-{c:?}.tar"), &img);
            let r = run_both(&p);
            expect_unreadable(&r, &p, &["layer 0", "limit"]);
        }
    }
    // A long name just under the cap is fine.
    let ok = "d/".repeat(1000) + "x";
    let l = tar(&[
        file(&ok, b"x", 0o644),
        file("app/run", b"#!/bin/sh\n", 0o755),
    ]);
    let p = t.write("ok.tar", &docker_archive(&cfg, &[l]));
    assert_judged(&run(&p, &[]), "a long name under the cap");
}

/// A gzip layer of `n` empty files (all named alike), built by repeating one
/// compressed member, and the entrypoint script.
pub(super) fn many_entries(n: usize) -> Vec<u8> {
    const PER: usize = 4096;
    let hdr = header(b"e", b'0', 0o644, 0, b"");
    let mut block = Vec::with_capacity(PER * 512);
    for _ in 0..PER {
        block.extend_from_slice(&hdr);
    }
    repeated_gzip(&block, n / PER)
}

/// A gzip layer made of `copies` identical gzip members of `block` (tar
/// entries without an end), then one member with a script and the end of
/// the tar: a small input that decompresses to very many entries.
fn repeated_gzip(block: &[u8], copies: usize) -> Vec<u8> {
    let member = compress(block, Comp::Gzip);
    let mut out = Vec::with_capacity(member.len() * copies);
    for _ in 0..copies {
        out.extend_from_slice(&member);
    }
    out.extend_from_slice(&compress(
        &tar(&[file("app/run", b"#!/bin/sh\n", 0o755)]),
        Comp::Gzip,
    ));
    out
}

/// A gzip layer of `n` empty files whose names are each just under the
/// 64 KiB name cap (a repeated compressed member again): a small input whose
/// index would hold `n` × 64 KiB of names.
pub(super) fn long_names(n: usize) -> Vec<u8> {
    const PER: usize = 64;
    let name = "n/".repeat(30_000) + "x";
    let mut block = Vec::new();
    for _ in 0..PER {
        push_entry(&mut block, &file(&name, b"", 0o644));
    }
    repeated_gzip(&block, n / PER)
}

/// A zstd stream of a tar of `n` JSON-looking members of 16 MiB each
/// (distinct names), as separate frames so that one body frame is reused: a
/// streamed archive keeps its JSON members, so this would hold n × 16 MiB.
pub(super) fn json_members(n: usize) -> Vec<u8> {
    let size = 16 * 1024 * 1024 - 1;
    let mut body = b"[".to_vec();
    body.resize(size, b' ');
    pad(&mut body);
    let body = compress(&body, Comp::Zstd);
    let mut out = Vec::new();
    for i in 0..n {
        let h = header(
            format!("doc{i}.json").as_bytes(),
            b'0',
            0o644,
            size as u64,
            b"",
        );
        out.extend_from_slice(&compress(&h, Comp::Zstd));
        out.extend_from_slice(&body);
    }
    out.extend_from_slice(&compress(&[0u8; 1024], Comp::Zstd));
    out
}

#[test]
fn many_empty_entries_finish() {
    let t = Tmp::new("entries");
    let img = docker_archive(
        &to_json(&config(&["/app/run"], 1)),
        &[many_entries(100_000)],
    );
    let p = t.write("entries.tar", &img);
    let r = run(&p, &[]);
    assert_judged(&r, "100k entries");
}
