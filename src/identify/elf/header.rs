//! The ELF header and the two tables it points at: identification bytes,
//! `e_type`, `e_machine` (mapped to an OCI architecture) and `EI_OSABI`; the
//! program headers (`Phdr`) and section headers (`Shdr`) with extended
//! numbering resolved through section 0; the section-name string table; and the
//! mapping of virtual addresses to file offsets through the `PT_LOAD` segments.

use goblin::elf::header::{
    ELFCLASS32, ELFCLASS64, ELFDATA2LSB, ELFDATA2MSB, ELFOSABI_AIX, ELFOSABI_FREEBSD,
    ELFOSABI_HPUX, ELFOSABI_IRIX, ELFOSABI_NETBSD, ELFOSABI_OPENBSD, ELFOSABI_SOLARIS, EM_386,
    EM_AARCH64, EM_ARM, EM_LOONGARCH, EM_MIPS, EM_PPC, EM_PPC64, EM_RISCV, EM_S390, EM_SPARC,
    EM_SPARC32PLUS, EM_SPARCV9, EM_X86_64, ET_CORE, ET_DYN, ET_EXEC, ET_REL,
};
use goblin::elf::program_header::PT_LOAD;
use goblin::elf::section_header::{SHN_XINDEX, SHT_NOBITS};

use super::reader::{cap, cstr, read_table, Cx, Rd};
use crate::identify::{BinType, Endian};
use crate::platform::{Arch, Os};

/// `e_phnum` value meaning "the real count is in section 0's `sh_info`".
pub(super) const PN_XNUM: u16 = 0xffff;
/// MIPS n32: a 32-bit ELF for a 64-bit CPU.
pub(super) const EF_MIPS_ABI2: u32 = 0x20;

/// What the ELF header (`Elf32_Ehdr`/`Elf64_Ehdr`) says, before any table
/// it points at is read. Fields past the end of a short header read as 0.
pub(super) struct Ehdr {
    /// 32 or 64.
    pub(super) class: u8,
    /// Byte order and class, for every later read.
    pub(super) rd: Rd,
    pub(super) osabi: u8,
    pub(super) e_type: u16,
    pub(super) machine: u16,
    /// `e_flags`, when the header is long enough to hold it.
    pub(super) flags: Option<u32>,
    /// The file is shorter than its header: it is damaged.
    pub(super) short: bool,
    phoff: u64,
    phentsize: u16,
    phnum: u64,
    shoff: u64,
    shentsize: u16,
    shnum: u64,
    shstrndx: u32,
}

impl Ehdr {
    /// Parses the header from the file's first bytes; `None` when they are not
    /// an ELF header of a known class and byte order, or end before `e_machine`.
    pub(super) fn parse(head: &[u8]) -> Option<Ehdr> {
        if !super::sniff(head) {
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
        let ehsize = if is64 { 64 } else { 52 };
        let field = |at32: usize, at64: usize| rd.u16(head, if is64 { at64 } else { at32 });
        Some(Ehdr {
            class,
            rd,
            osabi,
            e_type,
            machine,
            flags: rd.u32(head, if is64 { 48 } else { 36 }),
            // Only a short file gives a short head (read_upto reads what there is).
            short: head.len() < ehsize,
            phoff: rd.word_at(head, 28, 32).unwrap_or(0),
            phentsize: field(42, 54).unwrap_or(0),
            phnum: u64::from(field(44, 56).unwrap_or(0)),
            shoff: rd.word_at(head, 32, 40).unwrap_or(0),
            shentsize: field(46, 58).unwrap_or(0),
            shnum: u64::from(field(48, 60).unwrap_or(0)),
            shstrndx: u32::from(field(50, 62).unwrap_or(0)),
        })
    }

    /// `e_machine`, with class, byte order and flags, as an OCI architecture.
    pub(super) fn arch(&self) -> Arch {
        elf_arch(
            self.machine,
            self.class,
            self.rd.endian,
            self.flags.unwrap_or(0),
        )
    }

    /// `e_type` as the JSON contract names it.
    pub(super) fn bin_type(&self) -> BinType {
        match self.e_type {
            ET_EXEC => BinType::Exec,
            ET_DYN => BinType::Dyn,
            ET_REL => BinType::Rel,
            ET_CORE => BinType::Core,
            _ => BinType::Other,
        }
    }

    /// Smallest program and section header entries for the class.
    fn min_entsizes(&self) -> (usize, usize) {
        if self.rd.is64 {
            (56, 64)
        } else {
            (32, 40)
        }
    }

    /// Extended numbering: when `e_shnum`, `e_phnum` or `e_shstrndx` does not
    /// fit its field, the real value lives in section 0 (`sh_size`, `sh_info`,
    /// `sh_link`).
    pub(super) fn resolve_extended_numbering(&mut self, cx: &mut Cx<'_>) {
        let extended =
            self.shnum == 0 || self.phnum == u64::from(PN_XNUM) || self.shstrndx == SHN_XINDEX;
        if self.shoff == 0 || !extended {
            return;
        }
        let rd = self.rd;
        let (_, min_sh) = self.min_entsizes();
        let sec0 = read_table(cx, self.shoff, self.shentsize, 1, min_sh, |d| {
            parse_shdr(rd, d)
        });
        let Some(s0) = sec0.first() else {
            return;
        };
        if self.shnum == 0 {
            self.shnum = s0.size;
        }
        if self.phnum == u64::from(PN_XNUM) {
            self.phnum = u64::from(s0.info);
        }
        if self.shstrndx == SHN_XINDEX {
            self.shstrndx = s0.link;
        }
    }

    /// The program header table (capped; a truncated table gives its whole
    /// entries).
    pub(super) fn program_headers(&self, cx: &mut Cx<'_>) -> Vec<Phdr> {
        let rd = self.rd;
        let (min_ph, _) = self.min_entsizes();
        read_table(cx, self.phoff, self.phentsize, self.phnum, min_ph, |d| {
            parse_phdr(rd, d)
        })
    }

    /// The section header table (capped; a truncated table gives its whole
    /// entries).
    fn section_headers(&self, cx: &mut Cx<'_>) -> Vec<Shdr> {
        let rd = self.rd;
        let (_, min_sh) = self.min_entsizes();
        read_table(cx, self.shoff, self.shentsize, self.shnum, min_sh, |d| {
            parse_shdr(rd, d)
        })
    }
}

/// The fields of a program header this parser uses.
#[derive(Debug, Clone, Copy)]
pub(super) struct Phdr {
    pub(super) p_type: u32,
    pub(super) flags: u32,
    pub(super) offset: u64,
    pub(super) vaddr: u64,
    pub(super) filesz: u64,
    pub(super) align: u64,
}

/// The fields of a section header this parser uses.
#[derive(Debug, Clone, Copy)]
pub(super) struct Shdr {
    pub(super) name: u32,
    pub(super) sh_type: u32,
    pub(super) offset: u64,
    pub(super) size: u64,
    pub(super) link: u32,
    pub(super) info: u32,
    pub(super) addr: u64,
    pub(super) addralign: u64,
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

/// The `PT_LOAD` segments, which map virtual addresses to file offsets.
pub(super) fn loads(phdrs: &[Phdr]) -> Vec<Phdr> {
    phdrs
        .iter()
        .copied()
        .filter(|p| p.p_type == PT_LOAD)
        .collect()
}

/// The file offset of a virtual address, through the `PT_LOAD` segments.
pub(super) fn vaddr_to_offset(loads: &[Phdr], vaddr: u64) -> Option<u64> {
    loads.iter().find_map(|p| {
        let delta = vaddr.checked_sub(p.vaddr)?;
        (delta < p.filesz).then(|| p.offset.checked_add(delta))?
    })
}

/// The section headers and, when it could be read, the section-name string
/// table (`e_shstrndx`).
pub(super) struct Sections<'a> {
    pub(super) headers: Vec<Shdr>,
    names: Option<&'a [u8]>,
}

impl<'a> Sections<'a> {
    /// Reads the section header table, then the names section it indexes.
    pub(super) fn read(cx: &mut Cx<'a>, ehdr: &Ehdr) -> Sections<'a> {
        let headers = ehdr.section_headers(cx);
        let max_read = cx.limits.max_read;
        let names = usize::try_from(ehdr.shstrndx)
            .ok()
            .and_then(|i| headers.get(i))
            .filter(|s| s.sh_type != SHT_NOBITS && s.offset != 0)
            .and_then(|s| cx.read(s.offset, cap(s.size, max_read)));
        Sections { headers, names }
    }

    /// Whether section names can be looked up (a stripped-of-sections file
    /// has none).
    pub(super) fn names_known(&self) -> bool {
        self.names.is_some()
    }

    /// A section's name, without its NUL.
    pub(super) fn name_of(&self, s: &Shdr) -> Option<&'a [u8]> {
        let tab = self.names?;
        Some(cstr(tab.get(usize::try_from(s.name).ok()?..)?))
    }
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

/// The OS an `EI_OSABI` byte names, when it names one.
pub(super) fn os_from_osabi(osabi: u8) -> Option<Os> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identify::elf::header::EF_MIPS_ABI2;

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
}
