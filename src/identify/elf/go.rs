//! Go's embedded build information: where to look (`.go.buildinfo` by name,
//! else the first writable data segment), the `\xff Go buildinf:` header in its
//! two layouts (inline varint strings since Go 1.18, pointers to string headers
//! before), the module info text (`path`, `mod`, `build GOOS=…`), and what the
//! build settings imply for the OS, the x86-64 ISA level and the ARM variant.

use goblin::elf::program_header::{PF_W, PF_X};
use goblin::elf::section_header::{SHT_NOBITS, SHT_PROGBITS};

use super::header::{vaddr_to_offset, Phdr, Sections, Shdr};
use super::reader::{cap, lossy, Cx, Rd};
use super::MAX_STR;
use crate::identify::{Endian, GoInfo};
use crate::platform::Os;

/// Bytes of `.go.buildinfo` (or the first data segment) searched for the magic.
const GO_SCAN: usize = 64 * 1024;

pub(super) const GO_MAGIC: &[u8; 14] = b"\xff Go buildinf:";

/// The version string and the module info text, each when it could be read.
type Strings = (Option<Vec<u8>>, Option<Vec<u8>>);

/// Go build info, searched for in `.go.buildinfo` when section names are
/// known, else (names unknown) in the first writable data segment.
pub(super) fn find(cx: &mut Cx<'_>, loads: &[Phdr], sections: &Sections<'_>) -> Option<GoInfo> {
    let ranges: Vec<(u64, u64)> = if sections.names_known() {
        sections
            .headers
            .iter()
            .find(|s| {
                sections.name_of(s) == Some(b".go.buildinfo".as_slice()) && s.sh_type != SHT_NOBITS
            })
            .map(|s| (s.offset, s.size))
            .into_iter()
            .collect()
    } else {
        // The first two writable segments: a PIE's first is its RELRO
        // segment, and `.go.buildinfo` opens the second.
        loads
            .iter()
            .filter(|p| p.flags & (PF_W | PF_X) == PF_W)
            .take(2)
            .map(|p| (p.offset, p.filesz))
            .collect()
    };
    // Each range is asked for (a stream keeps both), the first with the
    // magic answers.
    let mut found = None;
    for (off, size) in ranges {
        let Some(d) = cx.read(off, cap(size, GO_SCAN)) else {
            continue;
        };
        if found.is_none() {
            found = go_buildinfo(cx, loads, off, d);
        }
    }
    found
}

/// Most bytes of the pclntab's file table read for [`links_tls`]: Go 1.23's
/// static TLS client has 12 KiB of file names; a large program's table
/// past this budget is read in part (a find still counts, a miss does not).
const GO_FILETAB: usize = 256 * 1024;

/// Whether the Go program links code of `crypto/tls`: a file of that
/// package in the file table of its pclntab (Go 1.16+ layouts, magics
/// 0xfffffffa, 0xfffffff0, 0xfffffff1). The table is found by the section
/// name `.gopclntab`, or, while section names are unknown (a stream, where
/// `.shstrtab` comes last), as the last PROGBITS section of the read-only
/// data segment, where Go's linker puts it, checked by its magic. `None`
/// when the table could not be found or read whole enough to say no.
pub(super) fn links_tls(
    cx: &mut Cx<'_>,
    rd: Rd,
    loads: &[Phdr],
    sections: &Sections<'_>,
) -> Option<bool> {
    let candidates: Vec<&Shdr> = if sections.names_known() {
        sections
            .headers
            .iter()
            .filter(|s| {
                matches!(
                    sections.name_of(s),
                    Some(b".gopclntab" | b".data.rel.ro.gopclntab")
                ) && s.sh_type != SHT_NOBITS
            })
            .take(1)
            .collect()
    } else {
        // The last PROGBITS section of the read-only segment (Go's own
        // layout) and of the first writable one (PIE: `.data.rel.ro`).
        let ro = loads.iter().find(|p| p.flags & (PF_W | PF_X) == 0);
        let rw = loads.iter().find(|p| p.flags & (PF_W | PF_X) == PF_W);
        [ro, rw]
            .into_iter()
            .flatten()
            .filter_map(|seg| {
                let end = seg.offset.checked_add(seg.filesz)?;
                sections
                    .headers
                    .iter()
                    .filter(|s| {
                        s.sh_type == SHT_PROGBITS
                            && s.size >= 64
                            && s.offset >= seg.offset
                            && s.offset.checked_add(s.size).is_some_and(|e| e <= end)
                    })
                    .max_by_key(|s| s.offset)
            })
            .collect()
    };
    // Each candidate is asked for (a stream keeps every header), the first
    // whose header parses answers.
    let mut answer = None;
    for sec in candidates {
        if let Some(a) = pclntab_tls(cx, rd, sec) {
            answer = Some(a);
            break;
        }
    }
    answer
}

/// [`links_tls`] for one section that may hold a pclntab: `None` when its
/// header is not one or its file table could not be read.
fn pclntab_tls(cx: &mut Cx<'_>, rd: Rd, sec: &Shdr) -> Option<bool> {
    let hdr = cx.read(sec.offset, 8 + 8 * 8)?;
    let magic = rd.u32(hdr, 0)?;
    let ptr = usize::from(*hdr.get(7)?);
    if hdr.get(4..6) != Some([0, 0].as_slice())
        || !matches!(hdr.get(6), Some(1 | 2 | 4))
        || (ptr != 4 && ptr != 8)
    {
        return None;
    }
    // nfunc, nfiles, [textStart,] funcnameOffset, cuOffset, filetabOffset,
    // pctabOffset, pclnOffset.
    let filetab_word = match magic {
        0xffff_fff0 | 0xffff_fff1 => 5,
        0xffff_fffa => 4,
        _ => return None,
    };
    let prd = Rd {
        endian: rd.endian,
        is64: ptr == 8,
    };
    let word = |i: usize| prd.word(hdr, 8 + i * ptr);
    let (start, end) = (word(filetab_word)?, word(filetab_word + 1)?);
    if start >= end || end > sec.size {
        return None;
    }
    let len = end - start;
    let table = cx.read(sec.offset.checked_add(start)?, cap(len, GO_FILETAB))?;
    let found = table
        .split(|&b| b == 0)
        .any(|name| name.starts_with(b"crypto/tls/") || contains(name, b"/src/crypto/tls/"));
    if found {
        Some(true)
    } else if (table.len() as u64) < len {
        None
    } else {
        Some(false)
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// The x86-64 ISA level `GOAMD64` (`v2`…`v4`) asks for.
pub(super) fn isa_level(go: &GoInfo) -> Option<u8> {
    go.goamd64
        .as_deref()
        .and_then(|v| v.strip_prefix('v'))
        .and_then(|v| v.parse::<u8>().ok())
        .filter(|&l| (2..=4).contains(&l))
}

/// The ARM variant `GOARM` (`5`, `6`, `7`, maybe with `,softfloat`) asks for.
pub(super) fn arm_variant(go: &GoInfo) -> Option<String> {
    let goarm = go.goarm.as_deref()?;
    let digits: String = goarm.chars().take_while(char::is_ascii_digit).collect();
    match digits.as_str() {
        "5" | "6" | "7" => Some(format!("v{digits}")),
        _ => None,
    }
}

/// The OS `GOOS` names, unless it is one that Linux runs as Linux.
pub(super) fn os(go: &GoInfo) -> Option<Os> {
    go.goos
        .as_deref()
        .filter(|g| !matches!(*g, "linux" | "android"))
        .map(Os::parse)
}

fn uvarint(d: &[u8]) -> Option<(u64, usize)> {
    let mut v = 0u64;
    for (i, &byte) in d.iter().take(10).enumerate() {
        v |= u64::from(byte & 0x7f).checked_shl(7 * i as u32)?;
        if byte & 0x80 == 0 {
            return Some((v, i + 1));
        }
    }
    None
}

/// Finds and decodes Go build info in `block`, the bytes at file offset `base`.
fn go_buildinfo(cx: &mut Cx<'_>, loads: &[Phdr], base: u64, block: &[u8]) -> Option<GoInfo> {
    // The magic is 16-byte aligned in the address space, and file offsets
    // are congruent to addresses modulo the page size.
    let skip = usize::try_from((16 - base % 16) % 16).ok()?;
    let at = (skip..block.len())
        .step_by(16)
        .find(|&i| block.get(i..i.saturating_add(14)) == Some(GO_MAGIC.as_slice()))?;
    let magic_off = base.checked_add(at as u64)?;
    let mut go = GoInfo::default();
    let hdr = match block.get(at..at.saturating_add(32)) {
        Some(h) => h,
        None => match cx.read(magic_off, 32) {
            Some(h) if h.len() == 32 => h,
            _ => return Some(go),
        },
    };
    let ptr_size = usize::from(*hdr.get(14)?);
    let flags = *hdr.get(15)?;
    let (version, modinfo) = if flags & 2 != 0 {
        // Go 1.18+: two varint-prefixed strings after the 32-byte header.
        inline_strings(cx, magic_off.checked_add(32)?)
    } else {
        // Older: pointers to string headers, in the program's byte order.
        if ptr_size != 4 && ptr_size != 8 {
            return Some(go);
        }
        pointed_strings(cx, loads, hdr, ptr_size, flags)?
    };
    go.version = version.map(|v| lossy(&v)).filter(|v| !v.is_empty());
    if let Some(m) = modinfo {
        parse_modinfo(&m, &mut go);
    }
    Some(go)
}

/// Version and module info (Go 1.18+): two uvarint-prefixed strings, the first
/// at `off`.
fn inline_strings(cx: &mut Cx<'_>, off: u64) -> Strings {
    let (version, next) = go_inline_string(cx, off, MAX_STR);
    let max_read = cx.limits.max_read;
    let modinfo = next
        .map(|n| go_inline_string(cx, n, max_read).0)
        .unwrap_or_default();
    (version, modinfo)
}

/// Version and module info (before Go 1.18): two pointers after the magic, of
/// `ptr_size` bytes in the byte order `flags` bit 0 gives.
fn pointed_strings(
    cx: &mut Cx<'_>,
    loads: &[Phdr],
    hdr: &[u8],
    ptr_size: usize,
    flags: u8,
) -> Option<Strings> {
    let prd = Rd {
        endian: if flags & 1 != 0 {
            Endian::Big
        } else {
            Endian::Little
        },
        is64: ptr_size == 8,
    };
    let vptr = prd.word(hdr, 16);
    let mptr = prd.word(hdr, 16usize.checked_add(ptr_size)?);
    let max_read = cx.limits.max_read;
    Some((
        vptr.and_then(|p| go_pointer_string(cx, prd, loads, p, MAX_STR)),
        mptr.and_then(|p| go_pointer_string(cx, prd, loads, p, max_read)),
    ))
}

/// A uvarint-prefixed string at `off`: the bytes (capped at `max`) and the
/// offset after it.
fn go_inline_string(cx: &mut Cx<'_>, off: u64, max: usize) -> (Option<Vec<u8>>, Option<u64>) {
    let Some(lenbuf) = cx.read_str(off, 10) else {
        return (None, None);
    };
    let Some((len, used)) = uvarint(lenbuf) else {
        return (None, None);
    };
    let Some(start) = off.checked_add(used as u64) else {
        return (None, None);
    };
    let next = start.checked_add(len);
    let s = cx.read(start, cap(len, max)).map(<[u8]>::to_vec);
    (s, next)
}

/// A Go string through a pointer to its (data, len) header (pre-1.18 build info).
fn go_pointer_string(
    cx: &mut Cx<'_>,
    prd: Rd,
    loads: &[Phdr],
    ptr: u64,
    max: usize,
) -> Option<Vec<u8>> {
    let ps = if prd.is64 { 8 } else { 4 };
    let hdr_off = vaddr_to_offset(loads, ptr)?;
    let hdr = cx.read(hdr_off, 2 * ps)?;
    let data = prd.word(hdr, 0)?;
    let len = prd.word(hdr, ps)?;
    let off = vaddr_to_offset(loads, data)?;
    cx.read(off, cap(len, max)).map(<[u8]>::to_vec)
}

/// Fills `go` from the module info text (with its 16-byte sentinels).
fn parse_modinfo(m: &[u8], go: &mut GoInfo) {
    let Some(mut s) = m.get(16..) else {
        return;
    };
    if s.len() >= 17 && s.get(s.len() - 17) == Some(&b'\n') {
        s = &s[..s.len() - 16];
    }
    let text = String::from_utf8_lossy(s);
    let mut mod_path = None;
    for line in text.lines() {
        let mut parts = line.split('\t');
        match (parts.next(), parts.next()) {
            (Some("path"), Some(p)) if go.module_path.is_none() => {
                go.module_path = Some(p.to_string());
            }
            (Some("mod"), Some(p)) if mod_path.is_none() => mod_path = Some(p.to_string()),
            (Some("dep"), Some("golang.org/x/crypto/x509roots/fallback")) => {
                go.fallback_roots = true;
            }
            (Some("build"), Some(kv)) => {
                let Some((k, v)) = kv.split_once('=') else {
                    continue;
                };
                let slot = match k {
                    "GOOS" => &mut go.goos,
                    "GOARCH" => &mut go.goarch,
                    "GOARM" => &mut go.goarm,
                    "GOAMD64" => &mut go.goamd64,
                    "GOARM64" => &mut go.goarm64,
                    _ => continue,
                };
                *slot = Some(v.to_string());
            }
            _ => {}
        }
    }
    if go.module_path.is_none() {
        go.module_path = mod_path;
    }
}

#[cfg(test)]
mod tests {
    use goblin::elf::header::{EM_ARM, EM_X86_64, ET_EXEC};
    use goblin::elf::section_header::SHT_PROGBITS;

    use super::*;
    use crate::identify::elf::synth::{elf, go_blob, put, Elf, BASE, GO_AT, MODINFO};

    #[test]
    fn go_build_info_by_section_and_by_segment() {
        for go_section in [true, false] {
            let mut b = Elf::new(true, false, EM_X86_64);
            b.e_type = ET_EXEC;
            b.go = Some(go_blob(MODINFO));
            b.go_section = go_section;
            let mut d = b.bytes();
            if !go_section {
                // No section headers at all (sstrip): the data segment is searched.
                put(&mut d, 40, 0, 8, false);
                put(&mut d, 60, 0, 2, false);
            }
            let e = elf(&d);
            let go = e.go.expect("go info");
            assert_eq!(go.version.as_deref(), Some("go1.22.1"));
            assert_eq!(go.module_path.as_deref(), Some("example.com/cmd/tool"));
            assert_eq!(go.goos.as_deref(), Some("linux"));
            assert_eq!(go.goarch.as_deref(), Some("amd64"));
            assert_eq!(go.goamd64.as_deref(), Some("v3"));
            assert_eq!(go.goarm, None);
            assert_eq!(e.isa_level, Some(3));
            assert!(!e.damaged);
        }
        // With section names known and no `.go.buildinfo`, the data segment is
        // not searched: not a Go program.
        let mut b = Elf::new(true, false, EM_X86_64);
        b.go = Some(go_blob(MODINFO));
        b.sections = vec![(".comment", SHT_PROGBITS, b"GCC\0".to_vec())];
        assert_eq!(elf(&b.bytes()).go, None);
    }

    /// A Go 1.20+ pclntab whose file table is `files`, its filetab end
    /// word moved by `stretch` (past the section: damaged).
    fn pclntab(files: &[u8], stretch: u64) -> Vec<u8> {
        let mut t = vec![0xf1, 0xff, 0xff, 0xff, 0, 0, 1, 8];
        let at = 8 + 8 * 8u64;
        let end = at + files.len() as u64 + stretch;
        for w in [0, 2, 0, at, at, at, end, end] {
            t.extend_from_slice(&w.to_le_bytes());
        }
        t.extend_from_slice(files);
        t
    }

    #[test]
    fn crypto_tls_in_the_pclntab_file_table() {
        let cases: [(&[u8], u64, Option<bool>); 4] = [
            (b"crypto/tls/conn.go\0main.go\0", 0, Some(true)),
            (b"/usr/lib/go/src/crypto/tls/conn.go\0", 0, Some(true)),
            (b"main.go\0crypto/x509/x509.go\0", 0, Some(false)),
            (b"main.go\0", 4096, None),
        ];
        for (files, stretch, want) in cases {
            let mut b = Elf::new(true, false, EM_X86_64);
            b.e_type = ET_EXEC;
            b.go = Some(go_blob(MODINFO));
            b.go_section = true;
            b.sections = vec![(".gopclntab", SHT_PROGBITS, pclntab(files, stretch))];
            let e = elf(&b.bytes());
            assert_eq!(e.go.and_then(|g| g.tls), want, "{files:?}");
        }
        // A PIE's pclntab is named `.data.rel.ro.gopclntab`.
        let mut b = Elf::new(true, false, EM_X86_64);
        b.go = Some(go_blob(MODINFO));
        b.go_section = true;
        b.sections = vec![(
            ".data.rel.ro.gopclntab",
            SHT_PROGBITS,
            pclntab(b"crypto/tls/conn.go\0", 0),
        )];
        assert_eq!(elf(&b.bytes()).go.and_then(|g| g.tls), Some(true));
        // A wrong magic is no answer.
        let mut t = pclntab(b"crypto/tls/conn.go\0", 0);
        t[0] = 0xfb;
        let mut b = Elf::new(true, false, EM_X86_64);
        b.go = Some(go_blob(MODINFO));
        b.go_section = true;
        b.sections = vec![(".gopclntab", SHT_PROGBITS, t)];
        assert_eq!(elf(&b.bytes()).go.and_then(|g| g.tls), None);
    }

    #[test]
    fn go_arm_and_other_os() {
        let mut b = Elf::new(false, false, EM_ARM);
        b.go = Some(go_blob(
            "path\tx\nbuild\tGOARCH=arm\nbuild\tGOOS=linux\nbuild\tGOARM=6,softfloat\n",
        ));
        b.go_section = true;
        let e = elf(&b.bytes());
        assert_eq!(
            e.go.as_ref().and_then(|g| g.goarm.as_deref()),
            Some("6,softfloat")
        );
        assert_eq!(e.arm_variant.as_deref(), Some("v6"));
        let mut b = Elf::new(true, false, EM_X86_64);
        b.go = Some(go_blob("path\tx\nbuild\tGOOS=illumos\n"));
        b.go_section = true;
        assert_eq!(elf(&b.bytes()).os, Os::Illumos);
        // Missing modinfo sentinel at the end, garbage length: no panic, version kept.
        let mut blob = go_blob("path\tx\n");
        let n = blob.len();
        blob[n - 3] = 0xff;
        let mut b = Elf::new(true, false, EM_X86_64);
        b.go = Some(blob[..n - 1].to_vec());
        b.go_section = true;
        let go = elf(&b.bytes()).go.unwrap();
        assert_eq!(go.version.as_deref(), Some("go1.22.1"));
    }

    #[test]
    fn go_pointer_format_before_1_18() {
        // Header with pointers to (ptr, len) string headers in the data segment.
        let mut blob = GO_MAGIC.to_vec();
        blob.push(8);
        blob.push(0);
        let vhdr = BASE + GO_AT as u64 + 0x40;
        let mhdr = vhdr + 16;
        let vdata = mhdr + 16;
        let version = b"go1.16.15";
        let mut modinfo = vec![0x30; 16];
        modinfo.extend_from_slice(b"path\told/cmd\nmod\told\tv0.0.1\t\n");
        modinfo.extend_from_slice(&[0x31; 16]);
        let mdata = vdata + version.len() as u64;
        blob.extend_from_slice(&vhdr.to_le_bytes());
        blob.extend_from_slice(&mhdr.to_le_bytes());
        blob.resize(0x40, 0);
        for w in [vdata, version.len() as u64, mdata, modinfo.len() as u64] {
            blob.extend_from_slice(&w.to_le_bytes());
        }
        blob.extend_from_slice(version);
        blob.extend_from_slice(&modinfo);
        let mut b = Elf::new(true, false, EM_X86_64);
        b.go = Some(blob);
        b.go_section = true;
        let go = elf(&b.bytes()).go.unwrap();
        assert_eq!(go.version.as_deref(), Some("go1.16.15"));
        assert_eq!(go.module_path.as_deref(), Some("old/cmd"));
    }
}
