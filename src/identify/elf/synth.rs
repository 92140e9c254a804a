//! A synthetic ELF builder for the unit tests: a header, two load segments and
//! whatever the test asks for (loader path, dynamic section, notes, sections,
//! Go build info) at fixed offsets, in either class and byte order; plus the
//! note, property, attribute and build-info blobs the tests put in it.

use goblin::elf::dynamic::{DT_NEEDED, DT_NULL, DT_RUNPATH, DT_SONAME, DT_STRSZ, DT_STRTAB};
use goblin::elf::header::ET_DYN;
use goblin::elf::note::NT_GNU_PROPERTY_TYPE_0;
use goblin::elf::program_header::{PT_DYNAMIC, PT_INTERP, PT_LOAD};
use goblin::elf::section_header::{SHT_PROGBITS, SHT_STRTAB};

use super::go::GO_MAGIC;
use super::parse;
use crate::identify::testutil::{lim, Mem};
use crate::identify::ElfInfo;

pub(super) const BASE: u64 = 0x10000;
pub(super) const INTERP_AT: usize = 0x400;
const DYNSTR_AT: usize = 0x500;
pub(super) const DYNAMIC_AT: usize = 0x600;
pub(super) const NOTES_AT: usize = 0x800;
const DATA_AT: usize = 0x1000;
pub(super) const GO_AT: usize = 0x1100;
pub(super) const SECDATA_AT: usize = 0x2000;
pub(super) const SHDR_AT: usize = 0x2800;

/// Parses `d`, which must be an ELF.
pub(super) fn elf(d: &[u8]) -> ElfInfo {
    parse(&Mem(d), &lim()).expect("an ELF")
}

/// A file of the host, when it exists (the tests that use one skip otherwise).
pub(super) fn real(path: &str) -> Option<Vec<u8>> {
    let d = std::fs::read(path).ok();
    if d.is_none() {
        eprintln!("{path} not present; skipping");
    }
    d
}

#[derive(Default)]
pub(super) struct Elf {
    pub(super) is64: bool,
    pub(super) big: bool,
    pub(super) machine: u16,
    pub(super) e_type: u16,
    pub(super) flags: u32,
    pub(super) osabi: u8,
    pub(super) interp: Option<&'static str>,
    pub(super) needed: Vec<&'static str>,
    pub(super) soname: Option<&'static str>,
    pub(super) runpath: Option<&'static str>,
    /// (p_type, align, bytes) note segments.
    pub(super) notes: Vec<(u32, u64, Vec<u8>)>,
    /// (name, type, bytes) sections.
    pub(super) sections: Vec<(&'static str, u32, Vec<u8>)>,
    /// Bytes placed in the writable segment at GO_AT.
    pub(super) go: Option<Vec<u8>>,
    /// Also name that spot `.go.buildinfo`.
    pub(super) go_section: bool,
}

/// Writes the low `width` bytes of `val` at `at`, in the byte order asked.
pub(super) fn put(v: &mut [u8], at: usize, val: u64, width: usize, big: bool) {
    let bytes = if big {
        val.to_be_bytes()[8 - width..].to_vec()
    } else {
        val.to_le_bytes()[..width].to_vec()
    };
    v[at..at + width].copy_from_slice(&bytes);
}

/// A program header to write: (type, flags, offset, filesz, align).
type Segment = (u32, u32, usize, usize, u64);

impl Elf {
    pub(super) fn new(is64: bool, big: bool, machine: u16) -> Elf {
        Elf {
            is64,
            big,
            machine,
            e_type: ET_DYN,
            ..Elf::default()
        }
    }

    fn word(&self) -> usize {
        if self.is64 {
            8
        } else {
            4
        }
    }

    /// The header offset for the class.
    fn h(&self, a32: usize, a64: usize) -> usize {
        if self.is64 {
            a64
        } else {
            a32
        }
    }

    fn put(&self, v: &mut [u8], at: usize, val: u64, width: usize) {
        put(v, at, val, width, self.big);
    }

    /// The whole file.
    pub(super) fn bytes(&self) -> Vec<u8> {
        let sec_names = self.section_names();
        let shentsize = self.h(40, 64);
        let mut v = vec![0u8; SHDR_AT + sec_names.len() * shentsize];
        self.put_ident(&mut v);
        let mut ph: Vec<Segment> = vec![
            (PT_LOAD, 5, 0, DATA_AT, 0x1000),
            (PT_LOAD, 6, DATA_AT, SECDATA_AT - DATA_AT, 0x1000),
        ];
        if let Some(i) = self.interp {
            v[INTERP_AT..INTERP_AT + i.len()].copy_from_slice(i.as_bytes());
            ph.push((PT_INTERP, 4, INTERP_AT, i.len() + 1, 1));
        }
        ph.extend(self.put_dynamic(&mut v));
        let mut at = NOTES_AT;
        for (ty, align, bytes) in &self.notes {
            v[at..at + bytes.len()].copy_from_slice(bytes);
            ph.push((*ty, 4, at, bytes.len(), *align));
            at += bytes.len().next_multiple_of(8);
        }
        if let Some(g) = &self.go {
            v[GO_AT..GO_AT + g.len()].copy_from_slice(g);
        }
        self.put_program_headers(&mut v, &ph);
        self.put_sections(&mut v, &sec_names);
        v
    }

    /// Section names, in table order: the null section, the asked-for ones,
    /// `.go.buildinfo` when asked, and `.shstrtab` last.
    fn section_names(&self) -> Vec<&'static str> {
        let mut sec_names = vec![""];
        sec_names.extend(self.sections.iter().map(|s| s.0));
        if self.go_section {
            sec_names.push(".go.buildinfo");
        }
        sec_names.push(".shstrtab");
        sec_names
    }

    /// `e_ident`, `e_type`, `e_machine` and `e_version`.
    fn put_ident(&self, v: &mut [u8]) {
        v[..4].copy_from_slice(b"\x7fELF");
        v[4] = if self.is64 { 2 } else { 1 };
        v[5] = if self.big { 2 } else { 1 };
        v[6] = 1;
        v[7] = self.osabi;
        self.put(v, 16, self.e_type.into(), 2);
        self.put(v, 18, self.machine.into(), 2);
        self.put(v, 20, 1, 4);
    }

    /// The dynamic string table and section, and the segment for it when
    /// there is anything to link.
    fn put_dynamic(&self, v: &mut [u8]) -> Option<Segment> {
        let w = self.word();
        let mut strs = vec![0u8];
        let mut add = |s: &str| {
            let at = strs.len() as u64;
            strs.extend_from_slice(s.as_bytes());
            strs.push(0);
            at
        };
        let mut dyns: Vec<(u64, u64)> = Vec::new();
        for n in &self.needed {
            dyns.push((DT_NEEDED, add(n)));
        }
        if let Some(s) = self.soname {
            dyns.push((DT_SONAME, add(s)));
        }
        if let Some(s) = self.runpath {
            dyns.push((DT_RUNPATH, add(s)));
        }
        if dyns.is_empty() {
            return None;
        }
        v[DYNSTR_AT..DYNSTR_AT + strs.len()].copy_from_slice(&strs);
        dyns.push((DT_STRTAB, BASE + DYNSTR_AT as u64));
        dyns.push((DT_STRSZ, strs.len() as u64));
        dyns.push((DT_NULL, 0));
        for (i, (tag, val)) in dyns.iter().enumerate() {
            self.put(v, DYNAMIC_AT + i * 2 * w, *tag, w);
            self.put(v, DYNAMIC_AT + i * 2 * w + w, *val, w);
        }
        Some((PT_DYNAMIC, 6, DYNAMIC_AT, dyns.len() * 2 * w, 8))
    }

    /// The program header table at 0x40 and the header fields that find it.
    fn put_program_headers(&self, v: &mut [u8], ph: &[Segment]) {
        let (is64, w) = (self.is64, self.word());
        let phentsize = self.h(32, 56);
        for (i, &(ty, fl, off, sz, al)) in ph.iter().enumerate() {
            let e = 0x40 + i * phentsize;
            let vaddr = BASE + off as u64;
            self.put(v, e, ty.into(), 4);
            if is64 {
                self.put(v, e + 4, fl.into(), 4);
                self.put(v, e + 8, off as u64, 8);
                self.put(v, e + 16, vaddr, 8);
                self.put(v, e + 24, vaddr, 8);
                self.put(v, e + 32, sz as u64, 8);
                self.put(v, e + 40, sz as u64, 8);
                self.put(v, e + 48, al, 8);
            } else {
                self.put(v, e + 4, off as u64, 4);
                self.put(v, e + 8, vaddr, 4);
                self.put(v, e + 12, vaddr, 4);
                self.put(v, e + 16, sz as u64, 4);
                self.put(v, e + 20, sz as u64, 4);
                self.put(v, e + 24, fl.into(), 4);
                self.put(v, e + 28, al, 4);
            }
        }
        self.put(v, self.h(28, 32), 0x40, w);
        self.put(v, self.h(36, 48), self.flags.into(), 4);
        self.put(v, self.h(40, 52), self.h(52, 64) as u64, 2);
        self.put(v, self.h(42, 54), phentsize as u64, 2);
        self.put(v, self.h(44, 56), ph.len() as u64, 2);
    }

    /// Sections: contents, then names, then the table at `SHDR_AT` and the
    /// header fields that find it.
    fn put_sections(&self, v: &mut [u8], sec_names: &[&str]) {
        let mut secs: Vec<(u32, usize, usize)> = vec![(0, 0, 0)];
        let mut at = SECDATA_AT;
        for (_, ty, bytes) in &self.sections {
            v[at..at + bytes.len()].copy_from_slice(bytes);
            secs.push((*ty, at, bytes.len()));
            at += bytes.len().next_multiple_of(8);
        }
        if self.go_section {
            let len = self.go.as_ref().map_or(0, Vec::len);
            secs.push((SHT_PROGBITS, GO_AT, len));
        }
        let mut names = Vec::new();
        let mut name_at = Vec::new();
        for n in sec_names {
            name_at.push(names.len());
            names.extend_from_slice(n.as_bytes());
            names.push(0);
        }
        v[at..at + names.len()].copy_from_slice(&names);
        secs.push((SHT_STRTAB, at, names.len()));
        self.put_section_table(v, &secs, &name_at);
    }

    /// The section header table: (type, offset, size) and name offset of each.
    fn put_section_table(&self, v: &mut [u8], secs: &[(u32, usize, usize)], name_at: &[usize]) {
        let w = self.word();
        let shentsize = self.h(40, 64);
        for (i, &(ty, off, sz)) in secs.iter().enumerate() {
            let e = SHDR_AT + i * shentsize;
            self.put(v, e, name_at[i] as u64, 4);
            self.put(v, e + 4, ty.into(), 4);
            let addr = if (DATA_AT..SECDATA_AT).contains(&off) {
                BASE + off as u64
            } else {
                0
            };
            self.put(v, e + self.h(12, 16), addr, w);
            self.put(v, e + self.h(16, 24), off as u64, w);
            self.put(v, e + self.h(20, 32), sz as u64, w);
            self.put(v, e + self.h(32, 48), 1, w);
        }
        self.put(v, self.h(32, 40), SHDR_AT as u64, w);
        self.put(v, self.h(46, 58), shentsize as u64, 2);
        self.put(v, self.h(48, 60), secs.len() as u64, 2);
        self.put(v, self.h(50, 62), (secs.len() - 1) as u64, 2);
    }
}

pub(super) fn note(name: &str, ntype: u32, desc: &[u8], align: usize, big: bool) -> Vec<u8> {
    let mut v = vec![0u8; 12];
    put(&mut v, 0, name.len() as u64 + 1, 4, big);
    put(&mut v, 4, desc.len() as u64, 4, big);
    put(&mut v, 8, ntype.into(), 4, big);
    v.extend_from_slice(name.as_bytes());
    v.push(0);
    v.resize(v.len().next_multiple_of(align), 0);
    v.extend_from_slice(desc);
    v.resize(v.len().next_multiple_of(align), 0);
    v
}

pub(super) fn isa_property(pr_type: u32, bits: u32) -> Vec<u8> {
    let mut desc = Vec::new();
    // An unrelated property first (x86 feature_1_and: IBT|SHSTK).
    desc.extend_from_slice(&0xc000_0002u32.to_le_bytes());
    desc.extend_from_slice(&4u32.to_le_bytes());
    desc.extend_from_slice(&3u32.to_le_bytes());
    desc.extend_from_slice(&[0; 4]);
    desc.extend_from_slice(&pr_type.to_le_bytes());
    desc.extend_from_slice(&4u32.to_le_bytes());
    desc.extend_from_slice(&bits.to_le_bytes());
    desc.extend_from_slice(&[0; 4]);
    note("GNU", NT_GNU_PROPERTY_TYPE_0, &desc, 8, false)
}

pub(super) fn arm_attributes(file_attrs: &[u8]) -> Vec<u8> {
    let mut sub = b"aeabi\0".to_vec();
    sub.push(1);
    sub.extend_from_slice(&(file_attrs.len() as u32 + 5).to_le_bytes());
    sub.extend_from_slice(file_attrs);
    let mut v = vec![b'A'];
    // A vendor subsection first, to be skipped.
    v.extend_from_slice(&12u32.to_le_bytes());
    v.extend_from_slice(b"gnu\0\x01\x00\x00\x00");
    v.extend_from_slice(&(sub.len() as u32 + 4).to_le_bytes());
    v.extend_from_slice(&sub);
    v
}

pub(super) fn go_blob(modinfo: &str) -> Vec<u8> {
    let mut v = GO_MAGIC.to_vec();
    v.push(8);
    v.push(2);
    v.resize(32, 0);
    let version = b"go1.22.1";
    v.push(version.len() as u8);
    v.extend_from_slice(version);
    let mut m = b"0w\xaf\x0c\x92t\x08\x02A\xe1\xc1\x07\xe6\xd6\x18\xe6".to_vec();
    m.extend_from_slice(modinfo.as_bytes());
    m.extend_from_slice(b"\xf92C1\x86\x18 r\x00\x82B\x10A\x16\xd8\xf2");
    // Two-byte uvarint, to exercise continuation.
    let n = m.len();
    v.push((n as u8 & 0x7f) | 0x80);
    v.push((n >> 7) as u8);
    v.extend_from_slice(&m);
    v
}

pub(super) const MODINFO: &str = "path\texample.com/cmd/tool\nmod\texample.com\tv1.2.3\th1:abc=\ndep\tgolang.org/x/sys\tv0.1.0\th1:x=\nbuild\t-compiler=gc\nbuild\tGOARCH=amd64\nbuild\tGOOS=linux\nbuild\tGOAMD64=v3\n";
