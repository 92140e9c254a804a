//! Whole-file tests of the ELF parser: real binaries of the host, the OS
//! conclusion, truncation, hostile bytes, and sparse and streamed views.

use goblin::elf::header::{ELFOSABI_FREEBSD, EM_386, EM_AARCH64, EM_ARM, EM_RISCV, EM_X86_64};
use goblin::elf::note::NT_GNU_ABI_TAG;
use goblin::elf::program_header::{PT_GNU_PROPERTY, PT_NOTE};
use goblin::elf::section_header::SHN_XINDEX;

use super::arm::SHT_ARM_ATTRIBUTES;
use super::header::PN_XNUM;
use super::notes::GNU_PROPERTY_X86_ISA_1_NEEDED;
use super::synth::*;
use super::*;
use crate::identify::testutil::{lim, Mem};
use crate::identify::{identify, BinType, Capture, Endian, Sparse};
use crate::platform::Arch;

#[test]
fn real_bin_ls() {
    let Some(d) = real("/bin/ls") else { return };
    let e = elf(&d);
    assert_eq!(e.class, 64);
    assert_eq!(e.endian, Endian::Little);
    assert_eq!(e.machine, EM_X86_64);
    assert_eq!(e.arch, Arch::Amd64);
    assert_eq!(e.os, Os::Linux);
    assert!(matches!(e.bin_type, BinType::Dyn | BinType::Exec));
    assert_eq!(
        e.interpreter.as_deref(),
        Some("/lib64/ld-linux-x86-64.so.2")
    );
    assert!(e.needed.iter().any(|n| n == "libc.so.6"), "{:?}", e.needed);
    assert_eq!(e.arm_variant, None);
    assert_eq!(e.go, None);
    assert!(!e.damaged);
    assert!(!e.is_static());
    assert_eq!(e.platform().to_string(), "linux/amd64");
}

#[test]
fn real_libc_soname() {
    let Some(d) = real("/usr/lib/x86_64-linux-gnu/libc.so.6") else {
        return;
    };
    let e = elf(&d);
    assert_eq!(e.soname.as_deref(), Some("libc.so.6"));
    assert_eq!(e.bin_type, BinType::Dyn);
    assert_eq!(e.osabi, 3);
    assert_eq!(e.os, Os::Linux);
    assert!(!e.damaged);
}

#[test]
fn os_from_osabi_notes_and_loader() {
    let os = |b: Elf| elf(&b.bytes()).os;
    let mut b = Elf::new(true, false, EM_X86_64);
    b.osabi = ELFOSABI_FREEBSD;
    assert_eq!(os(b), Os::FreeBsd);
    for (abi, want) in [
        (0, Os::Linux),
        (3, Os::Linux),
        (2, Os::NetBsd),
        (12, Os::OpenBsd),
        (6, Os::Solaris),
    ] {
        let mut b = Elf::new(true, false, EM_X86_64);
        b.osabi = abi;
        assert_eq!(os(b), want, "osabi {abi}");
    }
    // GNU ABI tag note (4-byte aligned, in a PT_NOTE).
    for (tag_os, want) in [(0u32, Os::Linux), (2, Os::Solaris), (3, Os::FreeBsd)] {
        for big in [false, true] {
            let mut desc = Vec::new();
            for w in [tag_os, 3, 2, 0] {
                desc.extend_from_slice(&if big {
                    w.to_be_bytes()
                } else {
                    w.to_le_bytes()
                });
            }
            let mut b = Elf::new(false, big, EM_386);
            b.notes = vec![(PT_NOTE, 4, note("GNU", NT_GNU_ABI_TAG, &desc, 4, big))];
            assert_eq!(os(b), want, "abi tag {tag_os}");
        }
    }
    // FreeBSD's own note, after a build-id note.
    let mut notes = note("GNU", 3, &[0xaa; 20], 4, false);
    notes.extend(note("FreeBSD", 1, &1_400_000u32.to_le_bytes(), 4, false));
    let mut b = Elf::new(true, false, EM_AARCH64);
    b.notes = vec![(PT_NOTE, 4, notes)];
    assert_eq!(os(b), Os::FreeBsd);
    let mut b = Elf::new(true, false, EM_X86_64);
    b.notes = vec![(PT_NOTE, 4, note("OpenBSD", 1, &[0; 4], 4, false))];
    assert_eq!(os(b), Os::OpenBsd);
    // The loader path, when nothing else says.
    for (interp, want) in [
        ("/libexec/ld-elf.so.1", Os::FreeBsd),
        ("/usr/libexec/ld.elf_so", Os::NetBsd),
        ("/usr/lib/amd64/ld.so.1", Os::Solaris),
        ("/lib/ld-musl-x86_64.so.1", Os::Linux),
    ] {
        let mut b = Elf::new(true, false, EM_X86_64);
        b.interp = Some(interp);
        assert_eq!(os(b), want, "{interp}");
    }
}

#[test]
fn truncated_file_is_damaged_but_reported() {
    let mut b = Elf::new(true, false, EM_RISCV);
    b.interp = Some("/lib/ld-linux-riscv64-lp64d.so.1");
    b.needed = vec!["libc.so.6"];
    let d = b.bytes();
    // Cut inside the interpreter: header, phdrs kept.
    let e = elf(&d[..INTERP_AT + 4]);
    assert_eq!(e.arch, Arch::Riscv64);
    assert!(e.damaged);
    assert_eq!(e.interpreter.as_deref(), Some("/lib"));
    assert!(e.needed.is_empty());
    // Cut before the section headers only.
    let e = elf(&d[..SHDR_AT]);
    assert!(e.damaged);
    assert_eq!(e.needed, vec!["libc.so.6"]);
    // Just the ELF header.
    let e = elf(&d[..64]);
    assert!(e.damaged);
    assert_eq!(e.arch, Arch::Riscv64);
    // Shorter than e_machine: nothing to say.
    assert_eq!(parse(&Mem(&d[..19]), &lim()), None);
}

#[test]
fn every_truncation_is_safe() {
    let mut b = Elf::new(false, true, EM_ARM);
    b.interp = Some("/lib/ld-linux.so.3");
    b.needed = vec!["libc.so.6"];
    b.notes = vec![(PT_NOTE, 4, note("GNU", NT_GNU_ABI_TAG, &[0; 16], 4, true))];
    b.sections = vec![(
        ".ARM.attributes",
        SHT_ARM_ATTRIBUTES,
        arm_attributes(b"\x06\x0a"),
    )];
    b.go = Some(go_blob(MODINFO));
    b.go_section = true;
    let synth = b.bytes();
    let ls = real("/bin/ls").unwrap_or_default();
    for data in [&synth[..], &ls[..]] {
        let full = parse(&Mem(data), &lim());
        let step = (data.len() / 4096).max(1);
        let cuts = (0..data.len().min(8192)).chain((8192..=data.len()).step_by(step));
        for n in cuts {
            let got = parse(&Mem(&data[..n]), &lim());
            if n >= 20 {
                let got = got.unwrap_or_else(|| panic!("no ELF at {n}"));
                assert_eq!(Some(&got.arch), full.as_ref().map(|f| &f.arch));
                assert_eq!(got.damaged, n < data.len(), "cut at {n}");
            } else {
                assert_eq!(got, None);
            }
        }
    }
}

#[test]
fn hostile_bytes_never_panic() {
    let mut b = Elf::new(true, false, EM_ARM);
    b.interp = Some("/lib/ld.so");
    b.needed = vec!["a", "b"];
    b.notes = vec![
        (
            PT_GNU_PROPERTY,
            8,
            isa_property(GNU_PROPERTY_X86_ISA_1_NEEDED, 2),
        ),
        (PT_NOTE, 4, note("FreeBSD", 1, &[0; 4], 4, false)),
    ];
    b.sections = vec![(
        ".ARM.attributes",
        SHT_ARM_ATTRIBUTES,
        arm_attributes(b"\x06\x0a"),
    )];
    b.go = Some(go_blob(MODINFO));
    b.go_section = true;
    let base = b.bytes();
    let small = IdentLimits {
        max_items: 64,
        max_read: 4096,
        ..lim()
    };
    let spots: Vec<usize> = (0..0x40 + 8 * 56)
        .chain(DYNAMIC_AT..DYNAMIC_AT + 0x60)
        .chain(NOTES_AT..NOTES_AT + 0x60)
        .chain(GO_AT..GO_AT + 0x50)
        .chain(SECDATA_AT..SECDATA_AT + 0x40)
        .chain(SHDR_AT..base.len())
        .collect();
    let mut d = base.clone();
    for &i in &spots {
        for v in [0x00, 0x7f, 0x80, 0xff] {
            let old = d[i];
            d[i] = v;
            let _ = parse(&Mem(&d), &lim());
            let _ = parse(&Mem(&d), &small);
            d[i] = old;
        }
    }
    // Extended numbering with hostile counts in section 0.
    let mut d = base.clone();
    put(&mut d, 56, u64::from(PN_XNUM), 2, false);
    put(&mut d, 60, 0, 2, false);
    put(&mut d, 62, u64::from(SHN_XINDEX), 2, false);
    put(&mut d, SHDR_AT + 32, u64::MAX, 8, false);
    put(&mut d, SHDR_AT + 40, u64::from(u32::MAX), 4, false);
    put(&mut d, SHDR_AT + 44, u64::from(u32::MAX), 4, false);
    let e = parse(&Mem(&d), &lim()).unwrap();
    assert_eq!(e.arch, Arch::Arm);
    // Offsets and sizes at the top of the range.
    let mut d = base;
    put(&mut d, 32, u64::MAX - 8, 8, false);
    put(&mut d, 40, u64::MAX, 8, false);
    let e = parse(&Mem(&d), &lim()).unwrap();
    assert!(e.damaged);
    assert_eq!(e.interpreter, None);
}

#[test]
fn sparse_head_only_gives_arch_and_records_misses() {
    let Some(ls) = real("/bin/ls") else { return };
    let mut s = Sparse::new(ls.len() as u64);
    s.push(0, &ls[..64]);
    let e = parse(&s, &lim()).unwrap();
    assert_eq!(e.arch, Arch::Amd64);
    assert!(!e.damaged);
    assert_eq!(e.interpreter, None);
    let misses = s.take_misses();
    let phnum = u16::from_le_bytes([ls[56], ls[57]]) as usize;
    assert!(misses.contains(&(64, phnum * 56)), "{misses:?}");
    let shoff = u64::from_le_bytes(ls[40..48].try_into().unwrap());
    assert!(misses.iter().any(|&(o, _)| o == shoff), "{misses:?}");

    // With the head and the tail, everything a header points at is asked for.
    let mut s = Sparse::new(ls.len() as u64);
    s.push(0, &ls[..4096]);
    let e = parse(&s, &lim()).unwrap();
    assert_eq!(
        e.interpreter.as_deref(),
        Some("/lib64/ld-linux-x86-64.so.2")
    );
    assert!(!e.damaged);
    assert!(!s.take_misses().is_empty());
}

#[test]
fn streamed_capture_matches_full_parse() {
    let mut b = Elf::new(true, false, EM_X86_64);
    b.interp = Some("/lib64/ld-linux-x86-64.so.2");
    b.needed = vec!["libc.so.6"];
    b.go = Some(go_blob(MODINFO));
    b.go_section = true;
    let synth = b.bytes();
    let ls = real("/bin/ls").unwrap_or_default();
    for data in [&synth[..], &ls[..]] {
        if data.is_empty() {
            continue;
        }
        let limits = lim();
        let full = identify(&Mem(data), true, &limits);
        let mut c = Capture::new(data.len() as u64, true, &limits);
        for chunk in data.chunks(1000) {
            c.feed(chunk);
        }
        assert_eq!(c.finish(), full);
    }
}
