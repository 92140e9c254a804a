//! Damaged executables (ELF, PE, Mach-O, `#!`) inside an otherwise good
//! image: judged without panics, reported as `damaged-file`.

use super::*;

fn elf_header(phoff: u64, phnum: u16, shoff: u64, shnum: u16) -> Vec<u8> {
    let mut h = vec![0u8; 64];
    h[..4].copy_from_slice(b"\x7fELF");
    h[4] = 2; // 64-bit
    h[5] = 1; // little-endian
    h[6] = 1;
    h[16..18].copy_from_slice(&2u16.to_le_bytes()); // ET_EXEC
    h[18..20].copy_from_slice(&62u16.to_le_bytes()); // x86-64
    h[20..24].copy_from_slice(&1u32.to_le_bytes());
    h[32..40].copy_from_slice(&phoff.to_le_bytes());
    h[40..48].copy_from_slice(&shoff.to_le_bytes());
    h[52..54].copy_from_slice(&64u16.to_le_bytes());
    h[54..56].copy_from_slice(&56u16.to_le_bytes());
    h[56..58].copy_from_slice(&phnum.to_le_bytes());
    h[58..60].copy_from_slice(&64u16.to_le_bytes());
    h[60..62].copy_from_slice(&shnum.to_le_bytes());
    h
}

/// Program headers that point past the end: PT_INTERP, PT_DYNAMIC, PT_NOTE.
pub(super) fn elf_with_bad_segments() -> Vec<u8> {
    let mut v = elf_header(64, 3, u64::MAX - 10, 0xffff);
    for (ptype, off, size) in [
        (3u32, u64::MAX - 4, 1u64 << 40),
        (2, 1 << 50, 1 << 50),
        (4, 100, u64::MAX),
    ] {
        let mut ph = vec![0u8; 56];
        ph[..4].copy_from_slice(&ptype.to_le_bytes());
        ph[8..16].copy_from_slice(&off.to_le_bytes());
        ph[32..40].copy_from_slice(&size.to_le_bytes());
        ph[40..48].copy_from_slice(&size.to_le_bytes());
        v.extend_from_slice(&ph);
    }
    v
}

fn pe_with_bad_offsets() -> Vec<u8> {
    let mut v = vec![0u8; 128];
    v[..2].copy_from_slice(b"MZ");
    v[0x3c..0x40].copy_from_slice(&0xffff_fff0u32.to_le_bytes());
    v
}

pub(super) fn pe_truncated_optional_header() -> Vec<u8> {
    let mut v = vec![0u8; 0x40];
    v[..2].copy_from_slice(b"MZ");
    v[0x3c..0x40].copy_from_slice(&0x40u32.to_le_bytes());
    v.extend_from_slice(b"PE\0\0");
    v.extend_from_slice(&0x8664u16.to_le_bytes());
    v.extend_from_slice(&0xffffu16.to_le_bytes()); // sections
    v.extend_from_slice(&[0u8; 12]);
    v.extend_from_slice(&0xfff0u16.to_le_bytes()); // optional header size
    v.extend_from_slice(&0x22u16.to_le_bytes());
    v.extend_from_slice(&0x20bu16.to_le_bytes());
    v
}

pub(super) fn fat_macho(nfat: u32, offset: u32) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&0xcafe_babeu32.to_be_bytes());
    v.extend_from_slice(&nfat.to_be_bytes());
    for _ in 0..3 {
        v.extend_from_slice(&0x0100_0007u32.to_be_bytes());
        v.extend_from_slice(&3u32.to_be_bytes());
        v.extend_from_slice(&offset.to_be_bytes());
        v.extend_from_slice(&u32::MAX.to_be_bytes());
        v.extend_from_slice(&12u32.to_be_bytes());
    }
    v
}

fn thin_macho_truncated() -> Vec<u8> {
    0xfeed_facfu32.to_le_bytes().to_vec()
}

#[test]
fn damaged_executables_are_judged_without_panics() {
    let t = Tmp::new("damaged");
    let mut shebang = b"#!".to_vec();
    shebang.resize(1 << 20, b'a');
    shebang.extend_from_slice(b"\n");
    let mut shebang_nl = b"#!/bin/sh ".to_vec();
    shebang_nl.resize(1 << 20, b' ');
    let bins: Vec<(&str, Vec<u8>)> = vec![
        ("elf-bad-segments", elf_with_bad_segments()),
        (
            "elf-huge-counts",
            elf_header(u64::MAX, 0xffff, u64::MAX, 0xffff),
        ),
        ("elf-header-only", b"\x7fELF\x02\x01\x01".to_vec()),
        ("elf-32-bad", {
            let mut v = elf_header(0xffff_ffff, 0xffff, 0, 0);
            v[4] = 1;
            v
        }),
        ("pe-bad-lfanew", pe_with_bad_offsets()),
        ("pe-truncated", pe_truncated_optional_header()),
        ("fat-2p32-1", fat_macho(u32::MAX, u32::MAX)),
        ("fat-3-past-end", fat_macho(3, 0xffff_ff00)),
        ("fat-3-offset-0", fat_macho(3, 0)),
        ("macho-thin-4", thin_macho_truncated()),
        ("shebang-1mib", shebang),
        ("shebang-blank-1mib", shebang_nl),
        ("shebang-empty", b"#!".to_vec()),
        ("shebang-nul", b"#!\0/bin/sh\n".to_vec()),
    ];
    for (name, bytes) in &bins {
        let entries = vec![
            file("app/bin", bytes, 0o755),
            file("app/lib.so", bytes, 0o644),
        ];
        let mut codes = Vec::new();
        for c in [Comp::None, Comp::Gzip, Comp::Zstd] {
            let p = t.write(
                &format!("{name}-{c:?}.tar"),
                &one_layer_image(&entries, &["/app/bin"], c),
            );
            let r = run_both(&p);
            assert_ne!(
                r.code,
                2,
                "{name} ({c:?}): one bad file must not stop the scan\n{}",
                r.all()
            );
            codes.push((r.code, image0(&r)["verdict"].clone()));
        }
        assert!(
            codes.windows(2).all(|w| w[0] == w[1]),
            "{name}: mapped and streamed scans disagree: {codes:?}"
        );
    }
}

/// A damaged library is reported as such (`damaged-file`, a warning) and
/// the image is still judged.
#[test]
fn damaged_library_is_a_warning_finding() {
    let t = Tmp::new("damaged-finding");
    let entries = vec![
        file("app/run", b"#!/bin/sh\nexit 0\n", 0o755),
        file("bin/sh", &elf_with_bad_segments(), 0o755),
        file("app/lib.so", &elf_with_bad_segments(), 0o644),
    ];
    let p = t.write(
        "damaged.tar",
        &one_layer_image(&entries, &["/app/run"], Comp::None),
    );
    let r = run_both(&p);
    assert_ne!(r.code, 2, "{}", r.all());
    let findings = image0(&r)["findings"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let damaged = |path: &str| {
        findings
            .iter()
            .find(|f| f["rule"] == "damaged-file" && f["path"] == path)
            .map(|f| f["severity"].as_str().unwrap_or("").to_string())
    };
    assert_eq!(
        damaged("/app/lib.so").as_deref(),
        Some("warning"),
        "{}",
        r.all()
    );
    // The shell the entrypoint script runs is what the kernel execs.
    assert_eq!(damaged("/bin/sh").as_deref(), Some("error"), "{}", r.all());
}
