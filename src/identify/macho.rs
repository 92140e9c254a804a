//! Mach-O identification: a thin file's CPU type and file type, or each slice
//! of a fat (universal) file, from the fat header table and each slice's own
//! Mach header.
//!
//! `0xCAFEBABE` is also the magic of Java class files, whose next word is the
//! class version: a fat header claiming no slices or more than a handful is not
//! Mach-O, and [`parse`] returns `None` so identification falls through. Counts
//! are capped by [`IdentLimits::max_items`], reads by `max_read`.

use goblin::mach::cputype::{
    CPU_TYPE_ARM, CPU_TYPE_ARM64, CPU_TYPE_ARM64_32, CPU_TYPE_POWERPC, CPU_TYPE_POWERPC64,
    CPU_TYPE_X86, CPU_TYPE_X86_64,
};
use goblin::mach::fat::{FAT_CIGAM, FAT_MAGIC};
use goblin::mach::header::{
    MH_BUNDLE, MH_CIGAM, MH_CIGAM_64, MH_CORE, MH_DYLIB, MH_DYLINKER, MH_EXECUTE, MH_MAGIC,
    MH_MAGIC_64, MH_OBJECT,
};

use super::{read_upto, BinType, FileBytes, IdentLimits, MachoInfo, MachoSlice};
use crate::platform::Arch;

const FAT_MAGIC_64: u32 = 0xcafe_babf;
const FAT_CIGAM_64: u32 = 0xbfba_feca;
/// More slices than this is not a universal binary (Apple ships a few; a Java
/// class file's version word reads as 45 or more).
const MAX_FAT_ARCHS: u32 = 40;

/// The first four bytes as a big-endian word.
fn magic(first: &[u8]) -> Option<u32> {
    Some(u32::from_be_bytes(first.get(..4)?.try_into().ok()?))
}

pub fn sniff(first: &[u8]) -> bool {
    matches!(
        magic(first),
        Some(
            MH_MAGIC
                | MH_CIGAM
                | MH_MAGIC_64
                | MH_CIGAM_64
                | FAT_MAGIC
                | FAT_CIGAM
                | FAT_MAGIC_64
                | FAT_CIGAM_64
        )
    )
}

/// A Mach-O `cputype` as an OCI architecture.
pub fn macho_arch(cputype: u32) -> Arch {
    match cputype {
        CPU_TYPE_X86_64 => Arch::Amd64,
        CPU_TYPE_ARM64 => Arch::Arm64,
        CPU_TYPE_ARM64_32 => Arch::Other("arm64_32".into()),
        CPU_TYPE_X86 => Arch::I386,
        CPU_TYPE_ARM => Arch::Arm,
        CPU_TYPE_POWERPC => Arch::Ppc,
        CPU_TYPE_POWERPC64 => Arch::Ppc64,
        n => Arch::Other(format!("macho-cpu-{n}")),
    }
}

fn bin_type(filetype: u32) -> BinType {
    match filetype {
        MH_EXECUTE => BinType::Exec,
        MH_DYLIB | MH_BUNDLE | MH_DYLINKER => BinType::Dyn,
        MH_OBJECT => BinType::Rel,
        MH_CORE => BinType::Core,
        _ => BinType::Other,
    }
}

fn word(d: &[u8], at: usize, big: bool) -> Option<u32> {
    let b: [u8; 4] = d.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(if big {
        u32::from_be_bytes(b)
    } else {
        u32::from_le_bytes(b)
    })
}

fn dword(d: &[u8], at: usize, big: bool) -> Option<u64> {
    let b: [u8; 8] = d.get(at..at.checked_add(8)?)?.try_into().ok()?;
    Some(if big {
        u64::from_be_bytes(b)
    } else {
        u64::from_le_bytes(b)
    })
}

/// `(cputype, filetype)` of the thin Mach header at `d`, if it is one.
fn thin_header(d: &[u8]) -> Option<(u32, u32)> {
    let big = match magic(d)? {
        MH_MAGIC | MH_MAGIC_64 => true,
        MH_CIGAM | MH_CIGAM_64 => false,
        _ => return None,
    };
    Some((word(d, 4, big)?, word(d, 12, big)?))
}

pub fn parse(b: &dyn FileBytes, limits: &IdentLimits) -> Option<MachoInfo> {
    let head = read_upto(b, 0, 32)?;
    let (big, is64) = match magic(head)? {
        FAT_MAGIC => (true, false),
        FAT_MAGIC_64 => (true, true),
        FAT_CIGAM => (false, false),
        FAT_CIGAM_64 => (false, true),
        _ => {
            let (cputype, filetype) = thin_header(head)?;
            return Some(MachoInfo {
                fat: false,
                slices: vec![MachoSlice {
                    arch: macho_arch(cputype),
                    cputype,
                    bin_type: bin_type(filetype),
                }],
            });
        }
    };
    let nfat = word(head, 4, big)?;
    if nfat == 0 || nfat >= MAX_FAT_ARCHS {
        return None;
    }
    let entsize: usize = if is64 { 32 } else { 20 };
    let count = usize::try_from(nfat)
        .unwrap_or(usize::MAX)
        .min(limits.max_items)
        .min(limits.max_read / entsize);
    let len = count.checked_mul(entsize)?;
    // A truncated table still gives its complete entries.
    let table = b
        .read_at(8, len)
        .or_else(|| read_upto(b, 8, len))
        .unwrap_or(&[]);
    let slices = table
        .chunks_exact(entsize)
        .map(|e| {
            let cputype = word(e, 0, big).unwrap_or(0);
            let offset = if is64 {
                dword(e, 8, big)
            } else {
                word(e, 8, big).map(u64::from)
            };
            let filetype = offset
                .and_then(|o| b.read_at(o, 16))
                .and_then(thin_header)
                .map(|(_, ft)| ft);
            MachoSlice {
                arch: macho_arch(cputype),
                cputype,
                bin_type: filetype.map_or(BinType::Other, bin_type),
            }
        })
        .collect();
    Some(MachoInfo { fat: true, slices })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identify::testutil::{lim, Mem};
    use crate::identify::{identify, Ident, Sparse};

    fn thin(cputype: u32, filetype: u32, big: bool, is64: bool) -> Vec<u8> {
        let magic = if is64 { MH_MAGIC_64 } else { MH_MAGIC };
        let words = [magic, cputype, 3, filetype, 0, 0, 0, 0];
        let n = if is64 { 8 } else { 7 };
        words[..n]
            .iter()
            .flat_map(|w| {
                if big {
                    w.to_be_bytes()
                } else {
                    w.to_le_bytes()
                }
            })
            .collect()
    }

    /// A fat file: header, table, then each slice's header at 4 KiB steps.
    fn fat(slices: &[(u32, u32)], is64: bool) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&(if is64 { FAT_MAGIC_64 } else { FAT_MAGIC }).to_be_bytes());
        v.extend_from_slice(&(slices.len() as u32).to_be_bytes());
        for (i, &(cpu, _)) in slices.iter().enumerate() {
            let off = 4096 * (i as u64 + 1);
            v.extend_from_slice(&cpu.to_be_bytes());
            v.extend_from_slice(&0u32.to_be_bytes());
            if is64 {
                v.extend_from_slice(&off.to_be_bytes());
                v.extend_from_slice(&4096u64.to_be_bytes());
                v.extend_from_slice(&12u32.to_be_bytes());
                v.extend_from_slice(&0u32.to_be_bytes());
            } else {
                v.extend_from_slice(&(off as u32).to_be_bytes());
                v.extend_from_slice(&4096u32.to_be_bytes());
                v.extend_from_slice(&12u32.to_be_bytes());
            }
        }
        for (i, &(cpu, ft)) in slices.iter().enumerate() {
            v.resize(4096 * (i + 1), 0);
            v.extend_from_slice(&thin(cpu, ft, false, true));
        }
        v
    }

    #[test]
    fn cputype_table() {
        let cases = [
            (CPU_TYPE_X86_64, Arch::Amd64),
            (CPU_TYPE_ARM64, Arch::Arm64),
            (CPU_TYPE_ARM64_32, Arch::Other("arm64_32".into())),
            (CPU_TYPE_X86, Arch::I386),
            (CPU_TYPE_ARM, Arch::Arm),
            (CPU_TYPE_POWERPC, Arch::Ppc),
            (CPU_TYPE_POWERPC64, Arch::Ppc64),
            (99, Arch::Other("macho-cpu-99".into())),
        ];
        for (cpu, want) in cases {
            assert_eq!(macho_arch(cpu), want, "{cpu:#x}");
        }
    }

    #[test]
    fn thin_both_byte_orders_and_widths() {
        for big in [false, true] {
            for is64 in [false, true] {
                let d = Mem(thin(CPU_TYPE_ARM64, MH_EXECUTE, big, is64));
                assert!(sniff(&d.0));
                let m = parse(&d, &lim()).unwrap();
                assert!(!m.fat);
                assert_eq!(
                    m.slices,
                    vec![MachoSlice {
                        arch: Arch::Arm64,
                        cputype: CPU_TYPE_ARM64,
                        bin_type: BinType::Exec
                    }]
                );
            }
        }
        let types = [
            (MH_DYLIB, BinType::Dyn),
            (MH_BUNDLE, BinType::Dyn),
            (MH_DYLINKER, BinType::Dyn),
            (MH_OBJECT, BinType::Rel),
            (MH_CORE, BinType::Core),
            (10, BinType::Other),
        ];
        for (ft, want) in types {
            let d = Mem(thin(CPU_TYPE_X86_64, ft, false, true));
            assert_eq!(parse(&d, &lim()).unwrap().slices[0].bin_type, want);
        }
    }

    #[test]
    fn fat_universal_binary() {
        for is64 in [false, true] {
            let d = Mem(fat(
                &[(CPU_TYPE_X86_64, MH_EXECUTE), (CPU_TYPE_ARM64, MH_DYLIB)],
                is64,
            ));
            let m = parse(&d, &lim()).unwrap();
            assert!(m.fat);
            let got: Vec<_> = m
                .slices
                .iter()
                .map(|s| (s.arch.clone(), s.bin_type))
                .collect();
            assert_eq!(
                got,
                vec![(Arch::Amd64, BinType::Exec), (Arch::Arm64, BinType::Dyn)]
            );
            let Some(Ident::Macho(_)) = identify(&d, false, &lim()) else {
                panic!("not identified as Mach-O");
            };
        }
    }

    #[test]
    fn fat_slice_header_missing_is_other() {
        let mut d = fat(
            &[(CPU_TYPE_X86_64, MH_EXECUTE), (CPU_TYPE_ARM64, MH_EXECUTE)],
            false,
        );
        d.truncate(4096 + 8);
        let m = parse(&Mem(d), &lim()).unwrap();
        assert_eq!(m.slices.len(), 2);
        assert_eq!(m.slices[0].bin_type, BinType::Other);
        assert_eq!(m.slices[1].arch, Arch::Arm64);
        assert_eq!(m.slices[1].bin_type, BinType::Other);
    }

    #[test]
    fn java_class_is_not_macho() {
        // magic, minor 0, major 52 (Java 8), then a constant pool count.
        let class = Mem(vec![0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 52, 0, 0x10, 7, 0, 2]);
        assert!(sniff(&class.0));
        assert_eq!(parse(&class, &lim()), None);
        assert_eq!(identify(&class, false, &lim()), None);
        assert_eq!(
            identify(&class, true, &lim()),
            Some(Ident::Other { text: false })
        );
        // Java 1.1: minor 3, major 45.
        let old = Mem(vec![0xca, 0xfe, 0xba, 0xbe, 0, 3, 0, 45]);
        assert_eq!(parse(&old, &lim()), None);
        // No slices at all.
        let empty = Mem(vec![0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 0]);
        assert_eq!(parse(&empty, &lim()), None);
    }

    #[test]
    fn hostile_counts_do_not_allocate() {
        let mut d = vec![0xca, 0xfe, 0xba, 0xbf, 0xff, 0xff, 0xff, 0xff];
        d.resize(64, 0);
        assert_eq!(parse(&Mem(d), &lim()), None);
        // A plausible count with a table that runs off the end.
        let mut d = vec![0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 39];
        d.extend_from_slice(&CPU_TYPE_ARM64.to_be_bytes());
        d.extend_from_slice(&[0xff; 16]);
        d.extend_from_slice(&[1, 2, 3]);
        let m = parse(&Mem(d), &lim()).unwrap();
        assert_eq!(m.slices.len(), 1);
        assert_eq!(m.slices[0].arch, Arch::Arm64);
        // max_items caps the slices.
        let d = Mem(fat(&[(CPU_TYPE_X86_64, MH_EXECUTE); 5], false));
        let small = IdentLimits {
            max_items: 2,
            ..lim()
        };
        assert_eq!(parse(&d, &small).unwrap().slices.len(), 2);
    }

    #[test]
    fn every_truncation_is_safe() {
        let full = fat(
            &[(CPU_TYPE_X86_64, MH_EXECUTE), (CPU_TYPE_ARM64, MH_EXECUTE)],
            true,
        );
        let thin64 = thin(CPU_TYPE_ARM64, MH_EXECUTE, false, true);
        for data in [&full[..], &thin64[..]] {
            for n in 0..=data.len().min(8192 + 64) {
                let d = Mem(data[..n].to_vec());
                let _ = parse(&d, &lim());
                let _ = identify(&d, true, &lim());
            }
        }
    }

    #[test]
    fn sparse_head_only_gives_arches_and_records_misses() {
        let full = fat(
            &[(CPU_TYPE_X86_64, MH_EXECUTE), (CPU_TYPE_ARM64, MH_EXECUTE)],
            false,
        );
        let mut s = Sparse::new(full.len() as u64);
        s.push(0, &full[..64]);
        let m = parse(&s, &lim()).unwrap();
        let arches: Vec<_> = m.slices.iter().map(|s| s.arch.clone()).collect();
        assert_eq!(arches, vec![Arch::Amd64, Arch::Arm64]);
        assert_eq!(m.slices[1].bin_type, BinType::Other);
        let misses = s.take_misses();
        assert!(misses.contains(&(4096, 16)), "{misses:?}");
        assert!(misses.contains(&(8192, 16)), "{misses:?}");
    }
}
