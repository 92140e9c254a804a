//! ELF identification: class, byte order and `e_machine` mapped to an OCI
//! architecture, the OS (from `EI_OSABI`, ABI-tag notes, Go build info or the
//! loader path), the object type, `PT_INTERP`, the dynamic section's
//! `DT_NEEDED`/`DT_RPATH`/`DT_RUNPATH`/`DT_SONAME`, the ARM variant from
//! `.ARM.attributes` and float ABI from `e_flags`, the x86-64 ISA level from the
//! GNU property note, and Go's embedded build info.
//!
//! Only headers and the small structures they point at are read, each read
//! capped by [`IdentLimits`]; every offset, size and count comes from hostile
//! input and is checked. Independent structures are each asked for even when an
//! earlier read failed, so that a trial parse over a sparse view records every
//! range a streaming capture must keep.

use goblin::elf::dynamic::{
    DT_NEEDED, DT_NULL, DT_RPATH, DT_RUNPATH, DT_SONAME, DT_STRSZ, DT_STRTAB,
};
use goblin::elf::header::{
    ELFCLASS32, ELFCLASS64, ELFDATA2LSB, ELFDATA2MSB, ELFOSABI_AIX, ELFOSABI_FREEBSD,
    ELFOSABI_HPUX, ELFOSABI_IRIX, ELFOSABI_NETBSD, ELFOSABI_OPENBSD, ELFOSABI_SOLARIS, EM_386,
    EM_AARCH64, EM_ARM, EM_LOONGARCH, EM_MIPS, EM_PPC, EM_PPC64, EM_RISCV, EM_S390, EM_SPARC,
    EM_SPARC32PLUS, EM_SPARCV9, EM_X86_64, ET_CORE, ET_DYN, ET_EXEC, ET_REL,
};
use goblin::elf::note::{NT_GNU_ABI_TAG, NT_GNU_PROPERTY_TYPE_0};
use goblin::elf::program_header::{
    PF_W, PF_X, PT_DYNAMIC, PT_GNU_PROPERTY, PT_INTERP, PT_LOAD, PT_NOTE,
};
use goblin::elf::section_header::{SHN_XINDEX, SHT_NOBITS, SHT_NOTE};

use super::{read_upto, BinType, ElfInfo, Endian, FileBytes, GoInfo, IdentLimits};
use crate::platform::{Arch, Os};

/// `e_phnum` value meaning "the real count is in section 0's `sh_info`".
const PN_XNUM: u16 = 0xffff;
const SHT_ARM_ATTRIBUTES: u32 = 0x7000_0003;
const EF_ARM_EABIMASK: u32 = 0xff00_0000;
const EF_ARM_ABI_FLOAT_SOFT: u32 = 0x200;
const EF_ARM_ABI_FLOAT_HARD: u32 = 0x400;
/// MIPS n32: a 32-bit ELF for a 64-bit CPU.
const EF_MIPS_ABI2: u32 = 0x20;
const GNU_PROPERTY_X86_ISA_1_NEEDED: u32 = 0xc000_8002;
/// Tag_CPU_arch in the "aeabi" attributes.
const TAG_CPU_ARCH: u64 = 6;

/// Longest `PT_INTERP` and dynamic string read.
const MAX_STR: usize = 4096;
/// Bytes of `.go.buildinfo` (or the first data segment) searched for the magic.
const GO_SCAN: usize = 64 * 1024;
/// Most note regions (segments plus sections) read.
const MAX_NOTE_REGIONS: usize = 32;
/// Largest `.ARM.attributes` read.
const MAX_ATTRS: usize = 64 * 1024;

const GO_MAGIC: &[u8; 14] = b"\xff Go buildinf:";

pub fn sniff(first: &[u8]) -> bool {
    first.starts_with(b"\x7fELF")
}

/// Fixed-width integer reads in the file's byte order; `None` when out of range.
#[derive(Clone, Copy)]
struct Rd {
    endian: Endian,
    is64: bool,
}

impl Rd {
    fn bytes<const N: usize>(d: &[u8], at: usize) -> Option<[u8; N]> {
        d.get(at..at.checked_add(N)?)?.try_into().ok()
    }
    fn u16(self, d: &[u8], at: usize) -> Option<u16> {
        let b = Self::bytes::<2>(d, at)?;
        Some(match self.endian {
            Endian::Little => u16::from_le_bytes(b),
            Endian::Big => u16::from_be_bytes(b),
        })
    }
    fn u32(self, d: &[u8], at: usize) -> Option<u32> {
        let b = Self::bytes::<4>(d, at)?;
        Some(match self.endian {
            Endian::Little => u32::from_le_bytes(b),
            Endian::Big => u32::from_be_bytes(b),
        })
    }
    fn u64(self, d: &[u8], at: usize) -> Option<u64> {
        let b = Self::bytes::<8>(d, at)?;
        Some(match self.endian {
            Endian::Little => u64::from_le_bytes(b),
            Endian::Big => u64::from_be_bytes(b),
        })
    }
    /// An address-sized word (`Elf32_Addr`/`Elf64_Addr`…).
    fn word(self, d: &[u8], at: usize) -> Option<u64> {
        if self.is64 {
            self.u64(d, at)
        } else {
            self.u32(d, at).map(u64::from)
        }
    }
    /// A word at the offset for the file's class.
    fn word_at(self, d: &[u8], at32: usize, at64: usize) -> Option<u64> {
        self.word(d, if self.is64 { at64 } else { at32 })
    }
}

/// The reader plus the damage flag.
struct Cx<'a> {
    b: &'a dyn FileBytes,
    limits: &'a IdentLimits,
    damaged: bool,
}

impl<'a> Cx<'a> {
    /// `len` bytes (capped at `max_read`) at `off`. A range past the end of the
    /// file marks the file damaged and yields what the file has of it; a range
    /// inside the file that is not available (sparse view) yields `None`.
    fn read(&mut self, off: u64, len: usize) -> Option<&'a [u8]> {
        let len = len.min(self.limits.max_read);
        if len == 0 {
            // Nothing to ask a sparse view for; only the start can be wrong.
            if off > self.b.size() {
                self.damaged = true;
                return None;
            }
            return Some(&[]);
        }
        if let Some(d) = self.b.read_at(off, len) {
            return Some(d);
        }
        let past_end = off
            .checked_add(len as u64)
            .is_none_or(|end| end > self.b.size());
        if past_end {
            self.damaged = true;
            return read_upto(self.b, off, len).filter(|d| !d.is_empty());
        }
        None
    }

    /// Up to `max` bytes at `off` for a NUL-terminated string whose end is not
    /// known: only a start past the end of the file is damage.
    fn read_str(&mut self, off: u64, max: usize) -> Option<&'a [u8]> {
        if off >= self.b.size() {
            self.damaged = true;
            return None;
        }
        read_upto(self.b, off, max.min(self.limits.max_read))
    }
}

fn cap(n: u64, c: usize) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX).min(c)
}

fn align_up(x: usize, a: usize) -> Option<usize> {
    let a = a.max(1);
    x.checked_add(a - 1).map(|v| v / a * a)
}

fn cstr(d: &[u8]) -> &[u8] {
    d.iter().position(|&c| c == 0).map_or(d, |n| &d[..n])
}

fn lossy(d: &[u8]) -> String {
    crate::paths::decode(d).into_owned()
}

#[derive(Debug, Clone, Copy)]
struct Phdr {
    p_type: u32,
    flags: u32,
    offset: u64,
    vaddr: u64,
    filesz: u64,
    align: u64,
}

#[derive(Debug, Clone, Copy)]
struct Shdr {
    name: u32,
    sh_type: u32,
    offset: u64,
    size: u64,
    link: u32,
    info: u32,
    addr: u64,
    addralign: u64,
}

fn parse_phdr(rd: Rd, d: &[u8]) -> Option<Phdr> {
    Some(if rd.is64 {
        Phdr {
            p_type: rd.u32(d, 0)?,
            flags: rd.u32(d, 4)?,
            offset: rd.u64(d, 8)?,
            vaddr: rd.u64(d, 16)?,
            filesz: rd.u64(d, 32)?,
            align: rd.u64(d, 48)?,
        }
    } else {
        Phdr {
            p_type: rd.u32(d, 0)?,
            offset: rd.u32(d, 4)?.into(),
            vaddr: rd.u32(d, 8)?.into(),
            filesz: rd.u32(d, 16)?.into(),
            flags: rd.u32(d, 24)?,
            align: rd.u32(d, 28)?.into(),
        }
    })
}

fn parse_shdr(rd: Rd, d: &[u8]) -> Option<Shdr> {
    Some(if rd.is64 {
        Shdr {
            name: rd.u32(d, 0)?,
            sh_type: rd.u32(d, 4)?,
            addr: rd.u64(d, 16)?,
            offset: rd.u64(d, 24)?,
            size: rd.u64(d, 32)?,
            link: rd.u32(d, 40)?,
            info: rd.u32(d, 44)?,
            addralign: rd.u64(d, 48)?,
        }
    } else {
        Shdr {
            name: rd.u32(d, 0)?,
            sh_type: rd.u32(d, 4)?,
            addr: rd.u32(d, 12)?.into(),
            offset: rd.u32(d, 16)?.into(),
            size: rd.u32(d, 20)?.into(),
            link: rd.u32(d, 24)?,
            info: rd.u32(d, 28)?,
            addralign: rd.u32(d, 32)?.into(),
        }
    })
}

/// Reads a table of `count` entries of `entsize` bytes (at least `min_entsize`)
/// and parses each entry; a truncated table yields its complete entries.
fn read_table<T>(
    cx: &mut Cx<'_>,
    off: u64,
    entsize: u16,
    count: u64,
    min_entsize: usize,
    parse: impl Fn(&[u8]) -> Option<T>,
) -> Vec<T> {
    let entsize = usize::from(entsize);
    if off == 0 || count == 0 {
        return Vec::new();
    }
    if entsize < min_entsize {
        cx.damaged = true;
        return Vec::new();
    }
    let count = cap(count, cx.limits.max_items).min(cx.limits.max_read / entsize);
    let Some(data) = count.checked_mul(entsize).and_then(|len| cx.read(off, len)) else {
        return Vec::new();
    };
    data.chunks_exact(entsize).filter_map(&parse).collect()
}

/// The file offset of a virtual address, through the `PT_LOAD` segments.
fn vaddr_to_offset(loads: &[Phdr], vaddr: u64) -> Option<u64> {
    loads.iter().find_map(|p| {
        let delta = vaddr.checked_sub(p.vaddr)?;
        (delta < p.filesz).then(|| p.offset.checked_add(delta))?
    })
}

/// `e_machine`, with class, byte order and flags, as an OCI architecture.
pub fn elf_arch(machine: u16, class: u8, endian: Endian, flags: u32) -> Arch {
    let le = endian == Endian::Little;
    let is64 = class == 64;
    match machine {
        EM_X86_64 if is64 => Arch::Amd64,
        EM_X86_64 => Arch::Other("amd64p32".into()),
        EM_386 => Arch::I386,
        EM_AARCH64 if le => Arch::Arm64,
        EM_AARCH64 => Arch::Arm64be,
        EM_ARM if le => Arch::Arm,
        EM_ARM => Arch::Armbe,
        EM_PPC64 if le => Arch::Ppc64le,
        EM_PPC64 => Arch::Ppc64,
        EM_PPC => Arch::Ppc,
        EM_S390 if is64 => Arch::S390x,
        EM_S390 => Arch::S390,
        EM_RISCV if is64 => Arch::Riscv64,
        EM_RISCV => Arch::Riscv32,
        EM_MIPS if is64 && le => Arch::Mips64le,
        EM_MIPS if is64 => Arch::Mips64,
        // n32: 32-bit pointers on a 64-bit CPU (Go's mips64p32).
        EM_MIPS if flags & EF_MIPS_ABI2 != 0 && le => Arch::Other("mips64p32le".into()),
        EM_MIPS if flags & EF_MIPS_ABI2 != 0 => Arch::Other("mips64p32".into()),
        EM_MIPS if le => Arch::Mipsle,
        EM_MIPS => Arch::Mips,
        EM_LOONGARCH if is64 => Arch::Loong64,
        EM_LOONGARCH => Arch::Other("loong32".into()),
        EM_SPARCV9 => Arch::Sparc64,
        EM_SPARC | EM_SPARC32PLUS => Arch::Sparc,
        n => Arch::Other(format!("elf-machine-{n}")),
    }
}

fn os_from_osabi(osabi: u8) -> Option<Os> {
    Some(match osabi {
        ELFOSABI_NETBSD => Os::NetBsd,
        ELFOSABI_SOLARIS => Os::Solaris,
        ELFOSABI_FREEBSD => Os::FreeBsd,
        ELFOSABI_OPENBSD => Os::OpenBsd,
        ELFOSABI_AIX => Os::Aix,
        ELFOSABI_HPUX => Os::Other("hpux".into()),
        ELFOSABI_IRIX => Os::Other("irix".into()),
        // SYSV (0), GNU/Linux (3), ARM (97), standalone… say nothing.
        _ => return None,
    })
}

/// The OS a loader path belongs to, for binaries whose OS ABI byte is SYSV and
/// that carry no ABI note.
fn os_from_interp(interp: &str) -> Option<Os> {
    Some(match interp {
        "/libexec/ld-elf.so.1" | "/libexec/ld-elf32.so.1" => Os::FreeBsd,
        "/usr/libexec/ld.elf_so" => Os::NetBsd,
        "/usr/libexec/ld.so" => Os::OpenBsd,
        "/usr/lib/ld.so.1"
        | "/usr/lib/64/ld.so.1"
        | "/usr/lib/amd64/ld.so.1"
        | "/usr/lib/sparcv9/ld.so.1" => Os::Solaris,
        _ => return None,
    })
}

/// ARM `Tag_CPU_arch` as an OCI variant.
fn arm_variant_of(cpu_arch: u64) -> Option<&'static str> {
    Some(match cpu_arch {
        0..=5 => "v5",
        6..=9 | 11 | 12 => "v6",
        10 | 13 => "v7",
        14..=22 => "v8",
        _ => return None,
    })
}

pub fn parse(b: &dyn FileBytes, limits: &IdentLimits) -> Option<ElfInfo> {
    let head = read_upto(b, 0, 64)?;
    if !sniff(head) {
        return None;
    }
    let (class, is64) = match *head.get(4)? {
        ELFCLASS32 => (32u8, false),
        ELFCLASS64 => (64u8, true),
        _ => return None,
    };
    let endian = match *head.get(5)? {
        ELFDATA2LSB => Endian::Little,
        ELFDATA2MSB => Endian::Big,
        _ => return None,
    };
    let osabi = *head.get(7)?;
    let rd = Rd { endian, is64 };
    let e_type = rd.u16(head, 16)?;
    let machine = rd.u16(head, 18)?;
    let mut cx = Cx {
        b,
        limits,
        damaged: false,
    };
    let ehsize = if is64 { 64 } else { 52 };
    if head.len() < ehsize {
        // Only a short file gives a short head (read_upto reads what there is).
        cx.damaged = true;
    }
    let flags = rd.u32(head, if is64 { 48 } else { 36 });
    let arch = elf_arch(machine, class, endian, flags.unwrap_or(0));
    let bin_type = match e_type {
        ET_EXEC => BinType::Exec,
        ET_DYN => BinType::Dyn,
        ET_REL => BinType::Rel,
        ET_CORE => BinType::Core,
        _ => BinType::Other,
    };
    let mut info = ElfInfo {
        class,
        endian,
        machine,
        arch,
        osabi,
        os: Os::Linux,
        bin_type,
        interpreter: None,
        needed: Vec::new(),
        rpath: None,
        runpath: None,
        soname: None,
        arm_variant: None,
        arm_hard_float: None,
        isa_level: None,
        go: None,
        damaged: false,
    };
    if machine == EM_ARM {
        info.arm_hard_float = flags.and_then(arm_float);
    }

    let phoff = rd.word_at(head, 28, 32).unwrap_or(0);
    let shoff = rd.word_at(head, 32, 40).unwrap_or(0);
    let field = |at32: usize, at64: usize| rd.u16(head, if is64 { at64 } else { at32 });
    let phentsize = field(42, 54).unwrap_or(0);
    let mut phnum = u64::from(field(44, 56).unwrap_or(0));
    let shentsize = field(46, 58).unwrap_or(0);
    let mut shnum = u64::from(field(48, 60).unwrap_or(0));
    let mut shstrndx = u32::from(field(50, 62).unwrap_or(0));
    let (min_ph, min_sh) = if is64 { (56, 64) } else { (32, 40) };

    // Extended numbering: the real counts live in section 0.
    if shoff != 0 && (shnum == 0 || phnum == u64::from(PN_XNUM) || shstrndx == SHN_XINDEX) {
        let sec0 = read_table(&mut cx, shoff, shentsize, 1, min_sh, |d| parse_shdr(rd, d));
        if let Some(s0) = sec0.first() {
            if shnum == 0 {
                shnum = s0.size;
            }
            if phnum == u64::from(PN_XNUM) {
                phnum = u64::from(s0.info);
            }
            if shstrndx == SHN_XINDEX {
                shstrndx = s0.link;
            }
        }
    }

    // Program headers and what they point at.
    let phdrs = read_table(&mut cx, phoff, phentsize, phnum, min_ph, |d| {
        parse_phdr(rd, d)
    });
    let loads: Vec<Phdr> = phdrs
        .iter()
        .copied()
        .filter(|p| p.p_type == PT_LOAD)
        .collect();
    if let Some(p) = phdrs.iter().find(|p| p.p_type == PT_INTERP) {
        if let Some(d) = cx.read_str(p.offset, cap(p.filesz, MAX_STR)) {
            info.interpreter = Some(lossy(cstr(d)));
        }
    }
    let dynamic = phdrs
        .iter()
        .find(|p| p.p_type == PT_DYNAMIC)
        .map(|p| read_dynamic(&mut cx, rd, p))
        .unwrap_or_default();

    // Section headers and their names.
    let shdrs = read_table(&mut cx, shoff, shentsize, shnum, min_sh, |d| {
        parse_shdr(rd, d)
    });
    let shstrtab = usize::try_from(shstrndx)
        .ok()
        .and_then(|i| shdrs.get(i))
        .filter(|s| s.sh_type != SHT_NOBITS && s.offset != 0)
        .and_then(|s| cx.read(s.offset, cap(s.size, limits.max_read)));
    let name_of = |s: &Shdr| -> Option<&[u8]> {
        let tab = shstrtab?;
        Some(cstr(tab.get(usize::try_from(s.name).ok()?..)?))
    };

    // Dynamic strings.
    let strtab = dynamic
        .strtab
        .and_then(|v| vaddr_to_offset(&loads, v))
        .or_else(|| {
            // Sections that say where the dynamic string table is.
            let v = dynamic.strtab?;
            shdrs
                .iter()
                .find(|s| s.addr == v && s.addr != 0 && s.sh_type != SHT_NOBITS)
                .map(|s| s.offset)
        });
    if let Some(strtab) = strtab {
        let mut get = |idx: u64| dyn_str(&mut cx, strtab, dynamic.strsz, idx);
        info.needed = dynamic.needed.iter().filter_map(|&i| get(i)).collect();
        info.soname = dynamic.soname.and_then(&mut get);
        info.rpath = dynamic.rpath.and_then(&mut get);
        info.runpath = dynamic.runpath.and_then(&mut get);
    }

    // Notes: ABI tags and GNU properties, from segments and sections.
    let mut regions: Vec<(u64, u64, u64)> = phdrs
        .iter()
        .filter(|p| p.p_type == PT_NOTE || p.p_type == PT_GNU_PROPERTY)
        .map(|p| (p.offset, p.filesz, p.align))
        .collect();
    for s in shdrs.iter().filter(|s| s.sh_type == SHT_NOTE) {
        if regions.len() >= MAX_NOTE_REGIONS {
            break;
        }
        let end = s.offset.saturating_add(s.size);
        let covered = regions
            .iter()
            .any(|&(o, n, _)| o <= s.offset && end <= o.saturating_add(n));
        if !covered {
            regions.push((s.offset, s.size, s.addralign));
        }
    }
    let mut note_os: Option<Os> = None;
    let mut prop_level: Option<u8> = None;
    for &(off, size, align) in regions.iter().take(MAX_NOTE_REGIONS) {
        if size == 0 {
            continue;
        }
        let Some(d) = cx.read(off, cap(size, limits.max_read)) else {
            continue;
        };
        let align = if align == 8 { 8 } else { 4 };
        for_each_note(d, rd, align, limits.max_items, |name, ntype, desc| {
            match (name, ntype) {
                (b"GNU", NT_GNU_ABI_TAG) => {
                    let os = match rd.u32(desc, 0) {
                        Some(0) => Some(Os::Linux),
                        Some(1) => Some(Os::Other("hurd".into())),
                        Some(2) => Some(Os::Solaris),
                        Some(3) => Some(Os::FreeBsd),
                        _ => None,
                    };
                    note_os = note_os.take().or(os);
                }
                (b"GNU", NT_GNU_PROPERTY_TYPE_0) if machine == EM_X86_64 => {
                    if let Some(l) = isa_needed(desc, rd, limits.max_items) {
                        prop_level = prop_level.max(Some(l));
                    }
                }
                (b"FreeBSD", _) => note_os = note_os.take().or(Some(Os::FreeBsd)),
                (b"NetBSD", _) => note_os = note_os.take().or(Some(Os::NetBsd)),
                (b"OpenBSD", _) => note_os = note_os.take().or(Some(Os::OpenBsd)),
                _ => {}
            }
        });
    }

    // ARM attributes.
    if machine == EM_ARM {
        let attrs = shdrs.iter().find(|s| {
            s.sh_type == SHT_ARM_ATTRIBUTES || name_of(s) == Some(b".ARM.attributes".as_slice())
        });
        if let Some(s) = attrs {
            if let Some(d) = cx.read(s.offset, cap(s.size, MAX_ATTRS)) {
                info.arm_variant = arm_cpu_arch(d, rd, limits.max_items)
                    .and_then(arm_variant_of)
                    .map(str::to_string);
            }
        }
    }

    // Go build info: `.go.buildinfo` by name, else (names unknown) the first
    // writable data segment.
    let go_region = if shstrtab.is_some() {
        shdrs
            .iter()
            .find(|s| name_of(s) == Some(b".go.buildinfo".as_slice()) && s.sh_type != SHT_NOBITS)
            .map(|s| (s.offset, s.size))
    } else {
        loads
            .iter()
            .find(|p| p.flags & (PF_W | PF_X) == PF_W)
            .map(|p| (p.offset, p.filesz))
    };
    if let Some((off, size)) = go_region {
        if let Some(d) = cx.read(off, cap(size, GO_SCAN)) {
            info.go = go_buildinfo(&mut cx, &loads, off, d);
        }
    }

    // Conclusions.
    if let Some(go) = &info.go {
        let level = go
            .goamd64
            .as_deref()
            .and_then(|v| v.strip_prefix('v'))
            .and_then(|v| v.parse::<u8>().ok())
            .filter(|&l| (2..=4).contains(&l));
        if machine == EM_X86_64 {
            prop_level = prop_level.max(level);
        }
        if machine == EM_ARM && info.arm_variant.is_none() {
            info.arm_variant = go.goarm.as_deref().and_then(goarm_variant);
        }
    }
    info.isa_level = prop_level;
    let go_os = info
        .go
        .as_ref()
        .and_then(|g| g.goos.as_deref())
        .filter(|g| !matches!(*g, "linux" | "android"))
        .map(Os::parse);
    info.os = os_from_osabi(osabi)
        .or(note_os)
        .or(go_os)
        .or_else(|| info.interpreter.as_deref().and_then(os_from_interp))
        .unwrap_or(Os::Linux);
    info.damaged = cx.damaged;
    Some(info)
}

/// `Some(true)` hard-float, `Some(false)` soft-float, from an ARM `e_flags`.
fn arm_float(flags: u32) -> Option<bool> {
    let eabi = (flags & EF_ARM_EABIMASK) >> 24;
    // EABI 5 defines the ABI_FLOAT bits; the pre-EABI GNU flags use the same
    // bits for VFP_FLOAT / SOFT_FLOAT. EABI 1-4 give them other meanings.
    if eabi != 5 && eabi != 0 {
        return None;
    }
    if flags & EF_ARM_ABI_FLOAT_HARD != 0 {
        Some(true)
    } else if flags & EF_ARM_ABI_FLOAT_SOFT != 0 {
        Some(false)
    } else {
        None
    }
}

fn goarm_variant(goarm: &str) -> Option<String> {
    let digits: String = goarm.chars().take_while(char::is_ascii_digit).collect();
    match digits.as_str() {
        "5" | "6" | "7" => Some(format!("v{digits}")),
        _ => None,
    }
}

#[derive(Debug, Default)]
struct Dynamic {
    needed: Vec<u64>,
    strtab: Option<u64>,
    strsz: Option<u64>,
    soname: Option<u64>,
    rpath: Option<u64>,
    runpath: Option<u64>,
}

fn read_dynamic(cx: &mut Cx<'_>, rd: Rd, p: &Phdr) -> Dynamic {
    let mut out = Dynamic::default();
    let entsize = if rd.is64 { 16 } else { 8 };
    let max_items = cx.limits.max_items;
    // Entries worth reading: capped, like any count (DT_NULL ends it sooner).
    let len =
        cap(p.filesz, cx.limits.max_read).min(max_items.saturating_mul(4).saturating_mul(entsize));
    let Some(d) = cx.read(p.offset, len) else {
        return out;
    };
    for e in d.chunks_exact(entsize) {
        let (Some(tag), Some(val)) = (rd.word(e, 0), rd.word(e, entsize / 2)) else {
            break;
        };
        match tag {
            DT_NULL => break,
            DT_NEEDED if out.needed.len() < max_items => out.needed.push(val),
            DT_STRTAB => out.strtab = Some(val),
            DT_STRSZ => out.strsz = Some(val),
            DT_SONAME => out.soname = Some(val),
            DT_RPATH => out.rpath = Some(val),
            DT_RUNPATH => out.runpath = Some(val),
            _ => {}
        }
    }
    out
}

fn dyn_str(cx: &mut Cx<'_>, strtab: u64, strsz: Option<u64>, idx: u64) -> Option<String> {
    let mut max = MAX_STR;
    if let Some(sz) = strsz {
        max = max.min(cap(sz.checked_sub(idx).filter(|&n| n > 0)?, MAX_STR));
    }
    let d = cx.read_str(strtab.checked_add(idx)?, max)?;
    Some(lossy(cstr(d)))
}

/// Walks the notes in `d`: name (without NULs), type and descriptor of each.
fn for_each_note(
    d: &[u8],
    rd: Rd,
    align: usize,
    max_items: usize,
    mut f: impl FnMut(&[u8], u32, &[u8]),
) {
    let mut pos = 0usize;
    for _ in 0..max_items {
        let (Some(namesz), Some(descsz), Some(ntype)) = (
            rd.u32(d, pos),
            rd.u32(d, pos.saturating_add(4)),
            rd.u32(d, pos.saturating_add(8)),
        ) else {
            return;
        };
        let Some(name_start) = pos.checked_add(12) else {
            return;
        };
        let Some(name_end) = name_start.checked_add(namesz as usize) else {
            return;
        };
        let Some(desc_start) = align_up(name_end, align) else {
            return;
        };
        let Some(desc_end) = desc_start.checked_add(descsz as usize) else {
            return;
        };
        let (Some(name), Some(desc)) = (d.get(name_start..name_end), d.get(desc_start..desc_end))
        else {
            return;
        };
        let name = name
            .iter()
            .rposition(|&c| c != 0)
            .map_or(&name[..0], |n| &name[..=n]);
        f(name, ntype, desc);
        match align_up(desc_end, align) {
            Some(next) if next > pos => pos = next,
            _ => return,
        }
    }
}

/// The x86-64 ISA level (2…4) a `NT_GNU_PROPERTY_TYPE_0` descriptor says is
/// needed.
fn isa_needed(desc: &[u8], rd: Rd, max_items: usize) -> Option<u8> {
    let align = if rd.is64 { 8 } else { 4 };
    let mut pos = 0usize;
    for _ in 0..max_items {
        let pr_type = rd.u32(desc, pos)?;
        let datasz = rd.u32(desc, pos.checked_add(4)?)? as usize;
        let data_start = pos.checked_add(8)?;
        let data_end = data_start.checked_add(datasz)?;
        let data = desc.get(data_start..data_end)?;
        if pr_type == GNU_PROPERTY_X86_ISA_1_NEEDED {
            let bits = rd.u32(data, 0)?;
            return match bits {
                b if b & 8 != 0 => Some(4),
                b if b & 4 != 0 => Some(3),
                b if b & 2 != 0 => Some(2),
                _ => None,
            };
        }
        pos = align_up(data_end, align)?;
    }
    None
}

fn uleb(d: &[u8], pos: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *d.get(*pos)?;
        *pos = pos.checked_add(1)?;
        v |= u64::from(byte & 0x7f).checked_shl(shift)?;
        if byte & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

fn skip_ntbs(d: &[u8], pos: &mut usize) -> Option<()> {
    let rest = d.get(*pos..)?;
    let n = rest.iter().position(|&c| c == 0)?;
    *pos = pos.checked_add(n)?.checked_add(1)?;
    Some(())
}

/// `Tag_CPU_arch` from the File attributes of the "aeabi" subsection of an
/// `.ARM.attributes` section.
fn arm_cpu_arch(d: &[u8], rd: Rd, max_items: usize) -> Option<u64> {
    if d.first() != Some(&b'A') {
        return None;
    }
    let mut pos = 1usize;
    for _ in 0..max_items {
        let len = rd.u32(d, pos)? as usize;
        let end = pos.checked_add(len)?.min(d.len());
        if len < 4 {
            return None;
        }
        let sub = d.get(pos.checked_add(4)?..end)?;
        let vendor_end = sub.iter().position(|&c| c == 0)?;
        if sub.get(..vendor_end) == Some(b"aeabi".as_slice()) {
            return aeabi_cpu_arch(sub.get(vendor_end + 1..)?, rd, max_items);
        }
        pos = end;
        if pos >= d.len() {
            return None;
        }
    }
    None
}

fn aeabi_cpu_arch(d: &[u8], rd: Rd, max_items: usize) -> Option<u64> {
    let mut pos = 0usize;
    for _ in 0..max_items {
        let start = pos;
        let tag = uleb(d, &mut pos)?;
        let size = rd.u32(d, pos)? as usize;
        let body_start = pos.checked_add(4)?;
        let end = start.checked_add(size)?.min(d.len());
        if tag == 1 {
            return file_cpu_arch(d.get(body_start..end)?, max_items);
        }
        if end <= start {
            return None;
        }
        pos = end;
    }
    None
}

fn file_cpu_arch(d: &[u8], max_items: usize) -> Option<u64> {
    let mut pos = 0usize;
    for _ in 0..max_items {
        if pos >= d.len() {
            return None;
        }
        let tag = uleb(d, &mut pos)?;
        match tag {
            // NTBS-valued.
            4 | 5 | 67 => skip_ntbs(d, &mut pos)?,
            // Tag_compatibility: ULEB flag then NTBS vendor.
            32 => {
                uleb(d, &mut pos)?;
                skip_ntbs(d, &mut pos)?;
            }
            TAG_CPU_ARCH => return uleb(d, &mut pos),
            t if t < 32 || t % 2 == 0 => {
                uleb(d, &mut pos)?;
            }
            _ => skip_ntbs(d, &mut pos)?,
        }
    }
    None
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
        let (version, next) = go_inline_string(cx, magic_off.checked_add(32)?, MAX_STR);
        let modinfo = next
            .map(|n| go_inline_string(cx, n, cx.limits.max_read).0)
            .unwrap_or_default();
        (version, modinfo)
    } else {
        // Older: pointers to string headers, in the program's byte order.
        let prd = Rd {
            endian: if flags & 1 != 0 {
                Endian::Big
            } else {
                Endian::Little
            },
            is64: ptr_size == 8,
        };
        if ptr_size != 4 && ptr_size != 8 {
            return Some(go);
        }
        let vptr = prd.word(hdr, 16);
        let mptr = prd.word(hdr, 16usize.checked_add(ptr_size)?);
        (
            vptr.and_then(|p| go_pointer_string(cx, prd, loads, p, MAX_STR)),
            mptr.and_then(|p| go_pointer_string(cx, prd, loads, p, cx.limits.max_read)),
        )
    };
    go.version = version.map(|v| lossy(&v)).filter(|v| !v.is_empty());
    if let Some(m) = modinfo {
        parse_modinfo(&m, &mut go);
    }
    Some(go)
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
            (Some("build"), Some(kv)) => {
                let Some((k, v)) = kv.split_once('=') else {
                    continue;
                };
                let slot = match k {
                    "GOOS" => &mut go.goos,
                    "GOARCH" => &mut go.goarch,
                    "GOARM" => &mut go.goarm,
                    "GOAMD64" => &mut go.goamd64,
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
    use super::*;
    use crate::identify::{identify, Capture, Ident, Sparse};
    use goblin::elf::section_header::{SHT_PROGBITS, SHT_STRTAB};

    struct Mem<'a>(&'a [u8]);
    impl FileBytes for Mem<'_> {
        fn size(&self) -> u64 {
            self.0.len() as u64
        }
        fn read_at(&self, offset: u64, len: usize) -> Option<&[u8]> {
            let start = usize::try_from(offset).ok()?;
            self.0.get(start..start.checked_add(len)?)
        }
    }

    fn lim() -> IdentLimits {
        IdentLimits::default()
    }

    fn elf(d: &[u8]) -> ElfInfo {
        parse(&Mem(d), &lim()).expect("an ELF")
    }

    // ---- A synthetic ELF builder -------------------------------------------

    const BASE: u64 = 0x10000;
    const INTERP_AT: usize = 0x400;
    const DYNSTR_AT: usize = 0x500;
    const DYNAMIC_AT: usize = 0x600;
    const NOTES_AT: usize = 0x800;
    const DATA_AT: usize = 0x1000;
    const GO_AT: usize = 0x1100;
    const SECDATA_AT: usize = 0x2000;
    const SHDR_AT: usize = 0x2800;

    #[derive(Default)]
    struct Elf {
        is64: bool,
        big: bool,
        machine: u16,
        e_type: u16,
        flags: u32,
        osabi: u8,
        interp: Option<&'static str>,
        needed: Vec<&'static str>,
        soname: Option<&'static str>,
        runpath: Option<&'static str>,
        /// (p_type, align, bytes) note segments.
        notes: Vec<(u32, u64, Vec<u8>)>,
        /// (name, type, bytes) sections.
        sections: Vec<(&'static str, u32, Vec<u8>)>,
        /// Bytes placed in the writable segment at GO_AT.
        go: Option<Vec<u8>>,
        /// Also name that spot `.go.buildinfo`.
        go_section: bool,
    }

    fn put(v: &mut [u8], at: usize, val: u64, width: usize, big: bool) {
        let bytes = if big {
            val.to_be_bytes()[8 - width..].to_vec()
        } else {
            val.to_le_bytes()[..width].to_vec()
        };
        v[at..at + width].copy_from_slice(&bytes);
    }

    impl Elf {
        fn new(is64: bool, big: bool, machine: u16) -> Elf {
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

        fn bytes(&self) -> Vec<u8> {
            let (is64, big, w) = (self.is64, self.big, self.word());
            let mut sec_names = vec![""];
            sec_names.extend(self.sections.iter().map(|s| s.0));
            if self.go_section {
                sec_names.push(".go.buildinfo");
            }
            sec_names.push(".shstrtab");
            let shentsize = if is64 { 64 } else { 40 };
            let mut v = vec![0u8; SHDR_AT + sec_names.len() * shentsize];
            v[..4].copy_from_slice(b"\x7fELF");
            v[4] = if is64 { 2 } else { 1 };
            v[5] = if big { 2 } else { 1 };
            v[6] = 1;
            v[7] = self.osabi;
            let h = |a32: usize, a64: usize| if is64 { a64 } else { a32 };
            put(&mut v, 16, self.e_type.into(), 2, big);
            put(&mut v, 18, self.machine.into(), 2, big);
            put(&mut v, 20, 1, 4, big);

            // Program headers: (type, flags, offset, filesz, align).
            let mut ph: Vec<(u32, u32, usize, usize, u64)> = vec![
                (PT_LOAD, 5, 0, DATA_AT, 0x1000),
                (PT_LOAD, 6, DATA_AT, SECDATA_AT - DATA_AT, 0x1000),
            ];
            if let Some(i) = self.interp {
                v[INTERP_AT..INTERP_AT + i.len()].copy_from_slice(i.as_bytes());
                ph.push((PT_INTERP, 4, INTERP_AT, i.len() + 1, 1));
            }
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
            if !dyns.is_empty() {
                v[DYNSTR_AT..DYNSTR_AT + strs.len()].copy_from_slice(&strs);
                dyns.push((DT_STRTAB, BASE + DYNSTR_AT as u64));
                dyns.push((DT_STRSZ, strs.len() as u64));
                dyns.push((DT_NULL, 0));
                for (i, (tag, val)) in dyns.iter().enumerate() {
                    put(&mut v, DYNAMIC_AT + i * 2 * w, *tag, w, big);
                    put(&mut v, DYNAMIC_AT + i * 2 * w + w, *val, w, big);
                }
                ph.push((PT_DYNAMIC, 6, DYNAMIC_AT, dyns.len() * 2 * w, 8));
            }
            let mut at = NOTES_AT;
            for (ty, align, bytes) in &self.notes {
                v[at..at + bytes.len()].copy_from_slice(bytes);
                ph.push((*ty, 4, at, bytes.len(), *align));
                at += bytes.len().next_multiple_of(8);
            }
            if let Some(g) = &self.go {
                v[GO_AT..GO_AT + g.len()].copy_from_slice(g);
            }
            let phentsize = if is64 { 56 } else { 32 };
            for (i, &(ty, fl, off, sz, al)) in ph.iter().enumerate() {
                let e = 0x40 + i * phentsize;
                let vaddr = BASE + off as u64;
                put(&mut v, e, ty.into(), 4, big);
                if is64 {
                    put(&mut v, e + 4, fl.into(), 4, big);
                    put(&mut v, e + 8, off as u64, 8, big);
                    put(&mut v, e + 16, vaddr, 8, big);
                    put(&mut v, e + 24, vaddr, 8, big);
                    put(&mut v, e + 32, sz as u64, 8, big);
                    put(&mut v, e + 40, sz as u64, 8, big);
                    put(&mut v, e + 48, al, 8, big);
                } else {
                    put(&mut v, e + 4, off as u64, 4, big);
                    put(&mut v, e + 8, vaddr, 4, big);
                    put(&mut v, e + 12, vaddr, 4, big);
                    put(&mut v, e + 16, sz as u64, 4, big);
                    put(&mut v, e + 20, sz as u64, 4, big);
                    put(&mut v, e + 24, fl.into(), 4, big);
                    put(&mut v, e + 28, al, 4, big);
                }
            }
            put(&mut v, h(28, 32), 0x40, w, big);
            put(&mut v, h(36, 48), self.flags.into(), 4, big);
            put(&mut v, h(40, 52), h(52, 64) as u64, 2, big);
            put(&mut v, h(42, 54), phentsize as u64, 2, big);
            put(&mut v, h(44, 56), ph.len() as u64, 2, big);

            // Sections: contents, then names, then the table.
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
            for n in &sec_names {
                name_at.push(names.len());
                names.extend_from_slice(n.as_bytes());
                names.push(0);
            }
            v[at..at + names.len()].copy_from_slice(&names);
            secs.push((SHT_STRTAB, at, names.len()));
            for (i, &(ty, off, sz)) in secs.iter().enumerate() {
                let e = SHDR_AT + i * shentsize;
                put(&mut v, e, name_at[i] as u64, 4, big);
                put(&mut v, e + 4, ty.into(), 4, big);
                let addr = if (DATA_AT..SECDATA_AT).contains(&off) {
                    BASE + off as u64
                } else {
                    0
                };
                put(&mut v, e + h(12, 16), addr, w, big);
                put(&mut v, e + h(16, 24), off as u64, w, big);
                put(&mut v, e + h(20, 32), sz as u64, w, big);
                put(&mut v, e + h(32, 48), 1, w, big);
            }
            put(&mut v, h(32, 40), SHDR_AT as u64, w, big);
            put(&mut v, h(46, 58), shentsize as u64, 2, big);
            put(&mut v, h(48, 60), secs.len() as u64, 2, big);
            put(&mut v, h(50, 62), (secs.len() - 1) as u64, 2, big);
            v
        }
    }

    fn note(name: &str, ntype: u32, desc: &[u8], align: usize, big: bool) -> Vec<u8> {
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

    fn isa_property(pr_type: u32, bits: u32) -> Vec<u8> {
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

    fn arm_attributes(file_attrs: &[u8]) -> Vec<u8> {
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

    fn go_blob(modinfo: &str) -> Vec<u8> {
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

    const MODINFO: &str = "path\texample.com/cmd/tool\nmod\texample.com\tv1.2.3\th1:abc=\ndep\tgolang.org/x/sys\tv0.1.0\th1:x=\nbuild\t-compiler=gc\nbuild\tGOARCH=amd64\nbuild\tGOOS=linux\nbuild\tGOAMD64=v3\n";

    // ---- Tests ---------------------------------------------------------------

    #[test]
    fn machine_table() {
        use Endian::{Big, Little};
        let o = |s: &str| Arch::Other(s.to_string());
        let cases = [
            (EM_X86_64, 64, Little, 0, Arch::Amd64),
            (EM_X86_64, 32, Little, 0, o("amd64p32")),
            (EM_386, 32, Little, 0, Arch::I386),
            (EM_AARCH64, 64, Little, 0, Arch::Arm64),
            (EM_AARCH64, 64, Big, 0, Arch::Arm64be),
            (EM_ARM, 32, Little, 0, Arch::Arm),
            (EM_ARM, 32, Big, 0, Arch::Armbe),
            (EM_PPC64, 64, Little, 0, Arch::Ppc64le),
            (EM_PPC64, 64, Big, 0, Arch::Ppc64),
            (EM_PPC, 32, Big, 0, Arch::Ppc),
            (EM_S390, 64, Big, 0, Arch::S390x),
            (EM_S390, 32, Big, 0, Arch::S390),
            (EM_RISCV, 64, Little, 0, Arch::Riscv64),
            (EM_RISCV, 32, Little, 0, Arch::Riscv32),
            (EM_MIPS, 64, Little, 0, Arch::Mips64le),
            (EM_MIPS, 64, Big, 0, Arch::Mips64),
            (EM_MIPS, 32, Little, 0, Arch::Mipsle),
            (EM_MIPS, 32, Big, 0, Arch::Mips),
            (EM_MIPS, 32, Little, EF_MIPS_ABI2, o("mips64p32le")),
            (EM_MIPS, 32, Big, EF_MIPS_ABI2, o("mips64p32")),
            (EM_LOONGARCH, 64, Little, 0, Arch::Loong64),
            (EM_SPARCV9, 64, Big, 0, Arch::Sparc64),
            (EM_SPARC, 32, Big, 0, Arch::Sparc),
            (EM_SPARC32PLUS, 32, Big, 0, Arch::Sparc),
            (0xbeef, 64, Little, 0, o("elf-machine-48879")),
        ];
        for (m, class, endian, flags, want) in cases {
            assert_eq!(
                elf_arch(m, class, endian, flags),
                want,
                "{m} {class} {endian:?}"
            );
        }
    }

    fn real(path: &str) -> Option<Vec<u8>> {
        let d = std::fs::read(path).ok();
        if d.is_none() {
            eprintln!("{path} not present; skipping");
        }
        d
    }

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
    fn synthetic_dynamic_all_classes_and_orders() {
        for is64 in [false, true] {
            for big in [false, true] {
                let mut b = Elf::new(is64, big, EM_PPC64);
                b.e_type = ET_EXEC;
                b.interp = Some("/lib/ld.so.1");
                b.needed = vec!["libfoo.so.1", "libc.so.6"];
                b.soname = Some("libme.so.2");
                b.runpath = Some("$ORIGIN/../lib");
                let d = b.bytes();
                let e = elf(&d);
                let ctx = format!("is64={is64} big={big}");
                assert_eq!(e.class, if is64 { 64 } else { 32 }, "{ctx}");
                assert_eq!(e.endian, if big { Endian::Big } else { Endian::Little });
                assert_eq!(e.bin_type, BinType::Exec);
                assert_eq!(e.interpreter.as_deref(), Some("/lib/ld.so.1"), "{ctx}");
                assert_eq!(e.needed, vec!["libfoo.so.1", "libc.so.6"], "{ctx}");
                assert_eq!(e.soname.as_deref(), Some("libme.so.2"));
                assert_eq!(e.runpath.as_deref(), Some("$ORIGIN/../lib"));
                assert_eq!(e.rpath, None);
                assert!(!e.damaged, "{ctx}");
                assert!(matches!(
                    identify(&Mem(&d), false, &lim()),
                    Some(Ident::Elf(_))
                ));
            }
        }
    }

    #[test]
    fn static_binary_has_no_interpreter() {
        let mut b = Elf::new(true, false, EM_AARCH64);
        b.e_type = ET_EXEC;
        let e = elf(&b.bytes());
        assert!(e.is_static());
        assert!(e.needed.is_empty());
        assert_eq!(e.arch, Arch::Arm64);
    }

    #[test]
    fn arm_variant_from_attributes() {
        let cases = [
            (1, "v5"),
            (4, "v5"),
            (5, "v5"),
            (6, "v6"),
            (9, "v6"),
            (10, "v7"),
            (13, "v7"),
            (14, "v8"),
            (17, "v8"),
        ];
        for (cpu_arch, want) in cases {
            // CPU_raw_name, CPU_name, then Tag_CPU_arch.
            let mut attrs = b"\x04raw\0\x057-A\0".to_vec();
            attrs.extend_from_slice(&[6, cpu_arch, 7, b'A']);
            let mut b = Elf::new(false, false, EM_ARM);
            b.sections = vec![(
                ".ARM.attributes",
                SHT_ARM_ATTRIBUTES,
                arm_attributes(&attrs),
            )];
            let e = elf(&b.bytes());
            assert_eq!(
                e.arm_variant.as_deref(),
                Some(want),
                "Tag_CPU_arch {cpu_arch}"
            );
            assert_eq!(e.platform().to_string(), format!("linux/arm/{want}"));
        }
        // Unusual order: NTBS and ULEB tags above 32 before Tag_CPU_arch; found
        // by name when the section type is not the ARM one.
        let attrs = b"\x20\x01gnu\0\x41\x06\x0a\0\x43\x32.09\0\x42\x01\x12\x04\x06\x0a";
        let mut b = Elf::new(false, false, EM_ARM);
        b.sections = vec![(".ARM.attributes", SHT_PROGBITS, arm_attributes(attrs))];
        assert_eq!(elf(&b.bytes()).arm_variant.as_deref(), Some("v7"));
        // No Tag_CPU_arch, or garbage.
        for attrs in [&b"\x05x\0"[..], b"\x06", b"\x05unterminated"] {
            let mut b = Elf::new(false, false, EM_ARM);
            b.sections = vec![(".ARM.attributes", SHT_ARM_ATTRIBUTES, arm_attributes(attrs))];
            assert_eq!(elf(&b.bytes()).arm_variant, None, "{attrs:?}");
        }
    }

    #[test]
    fn arm_float_abi_from_flags() {
        let cases = [
            (0x0500_0400, Some(true)),
            (0x0500_0200, Some(false)),
            (0x0500_0000, None),
            (0x0400_0400, None),
            (0x0000_0200, Some(false)),
        ];
        for (flags, want) in cases {
            let mut b = Elf::new(false, false, EM_ARM);
            b.flags = flags;
            assert_eq!(elf(&b.bytes()).arm_hard_float, want, "{flags:#x}");
        }
        // Not ARM: not reported.
        let mut b = Elf::new(false, false, EM_386);
        b.flags = 0x0500_0400;
        assert_eq!(elf(&b.bytes()).arm_hard_float, None);
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
    fn isa_level_from_gnu_property() {
        let cases = [
            (1u32, None),
            (3, Some(2)),
            (7, Some(3)),
            (0xf, Some(4)),
            (0x4, Some(3)),
        ];
        for (bits, want) in cases {
            for ty in [PT_GNU_PROPERTY, PT_NOTE] {
                let mut b = Elf::new(true, false, EM_X86_64);
                b.notes = vec![(ty, 8, isa_property(GNU_PROPERTY_X86_ISA_1_NEEDED, bits))];
                assert_eq!(elf(&b.bytes()).isa_level, want, "bits {bits:#x}");
            }
        }
        // ISA_1_USED says what was used, not what is needed.
        let mut b = Elf::new(true, false, EM_X86_64);
        b.notes = vec![(PT_NOTE, 8, isa_property(0xc001_0002, 0xf))];
        assert_eq!(elf(&b.bytes()).isa_level, None);
        // Only x86-64 has ISA levels.
        let mut b = Elf::new(true, false, EM_AARCH64);
        b.notes = vec![(PT_NOTE, 8, isa_property(GNU_PROPERTY_X86_ISA_1_NEEDED, 0xf))];
        assert_eq!(elf(&b.bytes()).isa_level, None);
    }

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
}
