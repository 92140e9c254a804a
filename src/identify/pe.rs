//! PE (Windows) identification: the COFF machine as an OCI architecture, DLL or
//! executable, and whether a .NET assembly is IL-only (architecture-neutral).
//!
//! Reads the DOS header's `e_lfanew`, the `PE\0\0` signature and COFF header,
//! the optional header's CLR runtime data directory, the section table (to map
//! the COR20 header's RVA to a file offset) and the COR20 header's flags. An
//! `MZ` file without a PE header (DOS-only) is not a PE: [`parse`] returns
//! `None`. Counts are capped by [`IdentLimits::max_items`], reads by `max_read`.

use goblin::pe::characteristic::IMAGE_FILE_DLL;
use goblin::pe::header::{
    COFF_MACHINE_ARM, COFF_MACHINE_ARM64, COFF_MACHINE_ARMNT, COFF_MACHINE_IA64,
    COFF_MACHINE_LOONGARCH64, COFF_MACHINE_RISCV32, COFF_MACHINE_RISCV64, COFF_MACHINE_THUMB,
    COFF_MACHINE_X86, COFF_MACHINE_X86_64,
};

use super::{read_upto, BinType, FileBytes, IdentLimits, PeInfo};
use crate::platform::Arch;

const COFF_MACHINE_ARM64EC: u16 = 0xa641;
const PE32_MAGIC: u16 = 0x10b;
const PE32PLUS_MAGIC: u16 = 0x20b;
/// Index of the CLR runtime header in the data directories.
const CLR_DIRECTORY: usize = 14;
const COMIMAGE_FLAGS_ILONLY: u32 = 0x1;
const COMIMAGE_FLAGS_32BITREQUIRED: u32 = 0x2;
const SECTION_HEADER_SIZE: usize = 40;

pub fn sniff(first: &[u8]) -> bool {
    first.starts_with(b"MZ")
}

/// A COFF `Machine` as an OCI architecture.
pub fn pe_arch(machine: u16) -> Arch {
    match machine {
        COFF_MACHINE_X86_64 => Arch::Amd64,
        COFF_MACHINE_X86 => Arch::I386,
        COFF_MACHINE_ARM64 | COFF_MACHINE_ARM64EC => Arch::Arm64,
        COFF_MACHINE_ARMNT | COFF_MACHINE_ARM | COFF_MACHINE_THUMB => Arch::Arm,
        COFF_MACHINE_RISCV64 => Arch::Riscv64,
        COFF_MACHINE_RISCV32 => Arch::Riscv32,
        COFF_MACHINE_LOONGARCH64 => Arch::Loong64,
        COFF_MACHINE_IA64 => Arch::Other("ia64".into()),
        n => Arch::Other(format!("pe-machine-{n}")),
    }
}

fn u16_at(d: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(
        d.get(at..at.checked_add(2)?)?.try_into().ok()?,
    ))
}

fn u32_at(d: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(
        d.get(at..at.checked_add(4)?)?.try_into().ok()?,
    ))
}

pub fn parse(b: &dyn FileBytes, limits: &IdentLimits) -> Option<PeInfo> {
    let dos = read_upto(b, 0, 64)?;
    if !sniff(dos) {
        return None;
    }
    let lfanew = u64::from(u32_at(dos, 0x3c)?);
    if lfanew > limits.max_read as u64 || lfanew >= b.size() {
        return None;
    }
    // Signature and COFF file header.
    let coff = b.read_at(lfanew, 24)?;
    if coff.get(..4) != Some(b"PE\0\0".as_slice()) {
        return None;
    }
    let machine = u16_at(coff, 4)?;
    let nsections = u16_at(coff, 6)?;
    let opt_size = u16_at(coff, 20)?;
    let characteristics = u16_at(coff, 22)?;
    let dll = characteristics & IMAGE_FILE_DLL != 0;
    let opt_off = lfanew.checked_add(24)?;
    let il_only = clr_il_only(b, limits, opt_off, opt_size, nsections).unwrap_or(false);
    Some(PeInfo {
        machine,
        arch: pe_arch(machine),
        dll,
        il_only,
        bin_type: if dll { BinType::Dyn } else { BinType::Exec },
    })
}

/// Is the image a .NET assembly marked IL-only and not 32-bit-required?
fn clr_il_only(
    b: &dyn FileBytes,
    limits: &IdentLimits,
    opt_off: u64,
    opt_size: u16,
    nsections: u16,
) -> Option<bool> {
    let opt = b.read_at(opt_off, usize::from(opt_size).min(limits.max_read))?;
    let (count_at, dirs_at) = match u16_at(opt, 0)? {
        PE32_MAGIC => (92, 96),
        PE32PLUS_MAGIC => (108, 112),
        _ => return None,
    };
    let ndirs = usize::try_from(u32_at(opt, count_at)?).ok()?;
    if ndirs <= CLR_DIRECTORY {
        return Some(false);
    }
    let dir = dirs_at + CLR_DIRECTORY * 8;
    let (rva, size) = (u32_at(opt, dir)?, u32_at(opt, dir + 4)?);
    if rva == 0 || size == 0 {
        return Some(false);
    }
    // Section table, to map the RVA.
    let count = usize::from(nsections)
        .min(limits.max_items)
        .min(limits.max_read / SECTION_HEADER_SIZE);
    let table_off = opt_off.checked_add(u64::from(opt_size))?;
    let table = b
        .read_at(table_off, count.checked_mul(SECTION_HEADER_SIZE)?)
        .or_else(|| read_upto(b, table_off, count * SECTION_HEADER_SIZE))?;
    let mut first_va = u32::MAX;
    let mut offset = None;
    for s in table.chunks_exact(SECTION_HEADER_SIZE) {
        let vsize = u32_at(s, 8)?;
        let va = u32_at(s, 12)?;
        let raw_size = u32_at(s, 16)?;
        let raw_ptr = u32_at(s, 20)?;
        first_va = first_va.min(va);
        let span = if vsize == 0 { raw_size } else { vsize };
        if let Some(delta) = rva.checked_sub(va) {
            if delta < span && delta < raw_size {
                offset = Some(u64::from(raw_ptr) + u64::from(delta));
                break;
            }
        }
    }
    // An RVA below every section lies in the headers, where RVA = offset.
    let offset = offset.or((rva < first_va).then_some(u64::from(rva)))?;
    let cor20 = b.read_at(offset, 20)?;
    let flags = u32_at(cor20, 16)?;
    Some(flags & COMIMAGE_FLAGS_ILONLY != 0 && flags & COMIMAGE_FLAGS_32BITREQUIRED == 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identify::testutil::{lim, Mem};
    use crate::identify::{identify, Ident, Sparse};

    fn put16(v: &mut [u8], at: usize, x: u16) {
        v[at..at + 2].copy_from_slice(&x.to_le_bytes());
    }
    fn put32(v: &mut [u8], at: usize, x: u32) {
        v[at..at + 4].copy_from_slice(&x.to_le_bytes());
    }

    /// A minimal PE: DOS header, PE header at 0x80, optional header with 16
    /// data directories, one `.text` section at RVA 0x2000 / file 0x400. With
    /// `clr_flags`, a COR20 header at RVA 0x2008.
    fn pe(machine: u16, plus: bool, characteristics: u16, clr_flags: Option<u32>) -> Vec<u8> {
        let mut v = vec![0u8; 0x600];
        v[..2].copy_from_slice(b"MZ");
        put32(&mut v, 0x3c, 0x80);
        v[0x80..0x84].copy_from_slice(b"PE\0\0");
        put16(&mut v, 0x84, machine);
        put16(&mut v, 0x86, 1);
        let opt_size: u16 = if plus { 240 } else { 224 };
        put16(&mut v, 0x94, opt_size);
        put16(&mut v, 0x96, characteristics);
        let opt = 0x98;
        put16(&mut v, opt, if plus { PE32PLUS_MAGIC } else { PE32_MAGIC });
        let (count_at, dirs_at) = if plus { (108, 112) } else { (92, 96) };
        put32(&mut v, opt + count_at, 16);
        if let Some(flags) = clr_flags {
            put32(&mut v, opt + dirs_at + 14 * 8, 0x2008);
            put32(&mut v, opt + dirs_at + 14 * 8 + 4, 72);
            put32(&mut v, 0x408, 72);
            put32(&mut v, 0x408 + 16, flags);
        }
        let sec = opt + usize::from(opt_size);
        v[sec..sec + 5].copy_from_slice(b".text");
        put32(&mut v, sec + 8, 0x200);
        put32(&mut v, sec + 12, 0x2000);
        put32(&mut v, sec + 16, 0x200);
        put32(&mut v, sec + 20, 0x400);
        v
    }

    #[test]
    fn machine_table() {
        let cases = [
            (0x8664, Arch::Amd64),
            (0x14c, Arch::I386),
            (0xaa64, Arch::Arm64),
            (0xa641, Arch::Arm64),
            (0x1c4, Arch::Arm),
            (0x1c0, Arch::Arm),
            (0x5064, Arch::Riscv64),
            (0x200, Arch::Other("ia64".into())),
            (0x1234, Arch::Other("pe-machine-4660".into())),
        ];
        for (m, want) in cases {
            assert_eq!(pe_arch(m), want, "{m:#x}");
        }
    }

    #[test]
    fn exe_and_dll() {
        let exe = parse(&Mem(pe(0x8664, true, 0x22, None)), &lim()).unwrap();
        assert_eq!(
            exe,
            PeInfo {
                machine: 0x8664,
                arch: Arch::Amd64,
                dll: false,
                il_only: false,
                bin_type: BinType::Exec
            }
        );
        let dll = parse(&Mem(pe(0xaa64, true, 0x2022, None)), &lim()).unwrap();
        assert!(dll.dll);
        assert_eq!(dll.bin_type, BinType::Dyn);
        assert_eq!(dll.arch, Arch::Arm64);
        let d = Mem(pe(0x14c, false, 0x102, None));
        assert!(matches!(identify(&d, false, &lim()), Some(Ident::Pe(p)) if p.arch == Arch::I386));
    }

    #[test]
    fn dotnet_il_only() {
        for plus in [false, true] {
            let il = |flags| {
                parse(&Mem(pe(0x14c, plus, 0x2102, Some(flags))), &lim())
                    .unwrap()
                    .il_only
            };
            assert!(il(COMIMAGE_FLAGS_ILONLY));
            assert!(!il(COMIMAGE_FLAGS_ILONLY | COMIMAGE_FLAGS_32BITREQUIRED));
            assert!(!il(0));
        }
        // COR20 header cut off: not IL-only, still a PE.
        let mut d = pe(0x14c, false, 0x2102, Some(COMIMAGE_FLAGS_ILONLY));
        d.truncate(0x410);
        let p = parse(&Mem(d), &lim()).unwrap();
        assert!(!p.il_only);
    }

    #[test]
    fn dos_only_and_bad_lfanew_are_not_pe() {
        let mut dos = vec![0u8; 0x100];
        dos[..2].copy_from_slice(b"MZ");
        put32(&mut dos, 0x3c, 0x40);
        assert_eq!(parse(&Mem(dos.clone()), &lim()), None);
        put32(&mut dos, 0x3c, 0xffff_fff0);
        assert_eq!(parse(&Mem(dos.clone()), &lim()), None);
        assert_eq!(
            identify(&Mem(dos), true, &lim()),
            Some(Ident::Other { text: false })
        );
        assert_eq!(parse(&Mem(b"MZ".to_vec()), &lim()), None);
    }

    #[test]
    fn hostile_section_count() {
        let mut d = pe(0x8664, true, 0x22, Some(1));
        put16(&mut d, 0x86, 0xffff);
        // The one real section still maps the COR20 header; the rest is zeros.
        let p = parse(&Mem(d), &lim()).unwrap();
        assert!(p.il_only);
    }

    #[test]
    fn every_truncation_is_safe() {
        let full = pe(0x8664, true, 0x22, Some(1));
        for n in 0..=full.len() {
            let d = Mem(full[..n].to_vec());
            let got = parse(&d, &lim());
            if n >= 0x98 {
                assert_eq!(got.map(|p| p.arch), Some(Arch::Amd64), "{n}");
            }
        }
    }

    #[test]
    fn sparse_head_only_gives_arch_and_records_misses() {
        let full = pe(0x8664, true, 0x22, Some(1));
        let mut s = Sparse::new(0x10000);
        s.push(0, &full[..0x300]);
        let p = parse(&s, &lim()).unwrap();
        assert_eq!(p.arch, Arch::Amd64);
        assert!(!p.il_only);
        assert_eq!(s.take_misses(), vec![(0x408, 20)]);
    }
}
