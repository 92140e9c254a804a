//! Dynamic linking: the loader path (`PT_INTERP`) and what it says about the
//! OS, and the dynamic section (`PT_DYNAMIC`) with the strings it names —
//! `DT_NEEDED`, `DT_SONAME`, `DT_RPATH`, `DT_RUNPATH` — looked up in the
//! dynamic string table (`DT_STRTAB`, found through the load segments or, failing
//! that, the section at that address).

use goblin::elf::dynamic::{
    DT_NEEDED, DT_NULL, DT_RPATH, DT_RUNPATH, DT_SONAME, DT_STRSZ, DT_STRTAB,
};
use goblin::elf::program_header::{PT_DYNAMIC, PT_INTERP};
use goblin::elf::section_header::SHT_NOBITS;

use super::header::{vaddr_to_offset, Phdr, Shdr};
use super::reader::{cap, cstr, lossy, Cx, Rd};
use super::MAX_STR;
use crate::identify::ElfInfo;
use crate::platform::Os;

/// `PT_INTERP`: the dynamic loader the kernel starts, when there is one.
pub(super) fn interpreter(cx: &mut Cx<'_>, phdrs: &[Phdr]) -> Option<String> {
    let p = phdrs.iter().find(|p| p.p_type == PT_INTERP)?;
    let d = cx.read_str(p.offset, cap(p.filesz, MAX_STR))?;
    Some(lossy(cstr(d)))
}

/// The OS a loader path belongs to, for binaries whose OS ABI byte is SYSV and
/// that carry no ABI note.
pub(super) fn os_from_interp(interp: &str) -> Option<Os> {
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

/// The dynamic section's entries this parser uses: string-table indexes and
/// the string table's address and size.
#[derive(Debug, Default)]
pub(super) struct Dynamic {
    needed: Vec<u64>,
    strtab: Option<u64>,
    strsz: Option<u64>,
    soname: Option<u64>,
    rpath: Option<u64>,
    runpath: Option<u64>,
}

impl Dynamic {
    /// Reads the `PT_DYNAMIC` segment's entries up to `DT_NULL` (capped);
    /// empty when there is no such segment.
    pub(super) fn read(cx: &mut Cx<'_>, rd: Rd, phdrs: &[Phdr]) -> Dynamic {
        phdrs
            .iter()
            .find(|p| p.p_type == PT_DYNAMIC)
            .map(|p| read_dynamic(cx, rd, p))
            .unwrap_or_default()
    }

    /// Looks up the named strings and fills `needed`, `soname`, `rpath` and
    /// `runpath`.
    pub(super) fn fill_names(
        &self,
        cx: &mut Cx<'_>,
        loads: &[Phdr],
        shdrs: &[Shdr],
        info: &mut ElfInfo,
    ) {
        let Some(strtab) = self.strtab_offset(loads, shdrs) else {
            return;
        };
        let mut get = |idx: u64| dyn_str(cx, strtab, self.strsz, idx);
        info.needed = self.needed.iter().filter_map(|&i| get(i)).collect();
        info.soname = self.soname.and_then(&mut get);
        info.rpath = self.rpath.and_then(&mut get);
        info.runpath = self.runpath.and_then(&mut get);
    }

    /// The file offset of `DT_STRTAB`: through the load segments, else from a
    /// section that says it lives at that address.
    fn strtab_offset(&self, loads: &[Phdr], shdrs: &[Shdr]) -> Option<u64> {
        let v = self.strtab?;
        vaddr_to_offset(loads, v).or_else(|| {
            shdrs
                .iter()
                .find(|s| s.addr == v && s.addr != 0 && s.sh_type != SHT_NOBITS)
                .map(|s| s.offset)
        })
    }
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

/// The string at `idx` in the dynamic string table at file offset `strtab`
/// (bounded by `DT_STRSZ` when known, and by [`MAX_STR`]).
fn dyn_str(cx: &mut Cx<'_>, strtab: u64, strsz: Option<u64>, idx: u64) -> Option<String> {
    let mut max = MAX_STR;
    if let Some(sz) = strsz {
        max = max.min(cap(sz.checked_sub(idx).filter(|&n| n > 0)?, MAX_STR));
    }
    let d = cx.read_str(strtab.checked_add(idx)?, max)?;
    Some(lossy(cstr(d)))
}

#[cfg(test)]
mod tests {
    use goblin::elf::header::{EM_AARCH64, EM_PPC64, ET_EXEC};

    use crate::identify::elf::synth::{elf, Elf};
    use crate::identify::testutil::{lim, Mem};
    use crate::identify::{identify, BinType, Endian, Ident};
    use crate::platform::Arch;

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
}
