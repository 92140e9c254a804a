//! Symbol versions: the version needs (`DT_VERNEED`, `.gnu.version_r`) — which
//! versions of which library file an object binds to — and the version
//! definitions (`DT_VERDEF`, `.gnu.version_d`) a library provides, with the
//! names they give in the dynamic string table.
//!
//! Both tables and their strings usually sit in the first load segment, before
//! the code, while `PT_DYNAMIC` that locates them comes late in the file. A
//! streaming pass therefore keeps a bounded window of the first load segment
//! of a dynamic ELF ([`tables_window`], capped by
//! [`IdentLimits::versions`](crate::identify::IdentLimits::versions)); a table
//! or name outside what was kept leaves [`Versions::unread`] set, so that the
//! check it feeds is reported as skipped rather than passed.

use goblin::elf::program_header::{PF_X, PT_DYNAMIC};

use super::header::{vaddr_to_offset, Phdr};
use super::reader::{cstr, lossy, Cx, Rd};
use crate::identify::VersionNeed;

/// `vd_flags` bit of the definition that names the file itself.
const VER_FLG_BASE: u16 = 1;
/// `vna_flags` bit of a weak version need.
const VER_FLG_WEAK: u16 = 2;
/// Longest version or file name read.
const NAME_MAX: usize = 256;

/// The version entries of the dynamic section (virtual addresses and counts).
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct VersionTags {
    pub(super) verneed: Option<u64>,
    pub(super) verneednum: Option<u64>,
    pub(super) verdef: Option<u64>,
    pub(super) verdefnum: Option<u64>,
}

/// What the version tables say.
#[derive(Debug, Default)]
pub(super) struct Versions {
    pub(super) needs: Vec<VersionNeed>,
    pub(super) defs: Vec<String>,
    /// A table or one of its names was not among the bytes kept.
    pub(super) unread: bool,
}

/// The file range a streaming pass keeps for the version tables of a dynamic
/// ELF: from the start of the first load segment to where code starts (the
/// first executable segment's offset, else the first segment's end), at most
/// `budget` bytes. `None` for files without `PT_DYNAMIC`.
pub fn tables_window(phdrs_and_loads: (&[Phdr], &[Phdr]), budget: usize) -> Option<(u64, u64)> {
    let (phdrs, loads) = phdrs_and_loads;
    if !phdrs.iter().any(|p| p.p_type == PT_DYNAMIC) {
        return None;
    }
    let first = loads.first()?;
    let code = loads
        .iter()
        .find(|p| p.flags & PF_X != 0 && p.offset > first.offset)
        .map(|p| p.offset);
    let end = code.unwrap_or(first.offset.saturating_add(first.filesz));
    Some((
        first.offset,
        end.min(first.offset.saturating_add(budget as u64)),
    ))
}

/// Reads both tables; `strtab` is the dynamic string table's file offset and
/// `strsz` its size.
pub(super) fn read(
    cx: &mut Cx<'_>,
    rd: Rd,
    tags: VersionTags,
    loads: &[Phdr],
    strtab: Option<u64>,
    strsz: Option<u64>,
) -> Versions {
    let mut out = Versions::default();
    if tags.verneed.is_none() && tags.verdef.is_none() {
        return out;
    }
    let Some(strtab) = strtab else {
        out.unread = true;
        return out;
    };
    let mut t = Tables {
        rd,
        strtab,
        strsz,
        max_items: cx.limits.max_items,
        names: 0,
    };
    match tags.verneed.map(|v| vaddr_to_offset(loads, v)) {
        Some(Some(base)) => t.needs(cx, &mut out, base, tags.verneednum),
        Some(None) => out.unread = true,
        None => {}
    }
    match tags.verdef.map(|v| vaddr_to_offset(loads, v)) {
        Some(Some(base)) => t.defs(cx, &mut out, base, tags.verdefnum),
        Some(None) => out.unread = true,
        None => {}
    }
    out
}

/// Walks the version tables and the names they point at.
struct Tables {
    rd: Rd,
    strtab: u64,
    strsz: Option<u64>,
    max_items: usize,
    /// Names read in all (hostile chains are bounded by this, not only by
    /// their counts): past `max_items`, the tables count as unread.
    names: usize,
}

impl Tables {
    /// The name at `idx` of the dynamic string table.
    fn name(&mut self, cx: &mut Cx<'_>, out: &mut Versions, idx: u32) -> Option<String> {
        self.names += 1;
        if self.names > self.max_items {
            out.unread = true;
            return None;
        }
        let idx = u64::from(idx);
        if self.strsz.is_some_and(|sz| idx >= sz) {
            cx.damaged = true;
            return None;
        }
        let d = cx.read_str(self.strtab.checked_add(idx)?, NAME_MAX);
        if d.is_none() {
            out.unread = true;
        }
        Some(lossy(cstr(d?)))
    }

    /// `DT_VERNEED`: each needed file with the versions it needs.
    fn needs(&mut self, cx: &mut Cx<'_>, out: &mut Versions, base: u64, count: Option<u64>) {
        let rd = self.rd;
        let mut at = base;
        for _ in 0..count
            .unwrap_or(self.max_items as u64)
            .min(self.max_items as u64)
        {
            // Elf_Verneed: vn_version, vn_cnt, vn_file, vn_aux, vn_next.
            let Some(e) = entry(cx, out, at, 16) else {
                break;
            };
            let (cnt, file, aux, next) = (
                rd.u16(e, 2).unwrap_or(0),
                rd.u32(e, 4).unwrap_or(0),
                rd.u32(e, 8).unwrap_or(0),
                rd.u32(e, 12).unwrap_or(0),
            );
            let file = self.name(cx, out, file);
            let versions = self.needed_versions(cx, out, at.checked_add(u64::from(aux)), cnt);
            if let Some(file) = file {
                out.needs.push(VersionNeed { file, versions });
            }
            match at.checked_add(u64::from(next)) {
                Some(n) if next != 0 => at = n,
                _ => break,
            }
        }
    }

    /// The `Elf_Vernaux` chain of one needed file: its non-weak versions.
    fn needed_versions(
        &mut self,
        cx: &mut Cx<'_>,
        out: &mut Versions,
        mut a: Option<u64>,
        cnt: u16,
    ) -> Vec<String> {
        let rd = self.rd;
        let mut versions = Vec::new();
        for _ in 0..cnt.min(256) {
            // Elf_Vernaux: vna_hash, vna_flags, vna_other, vna_name, vna_next.
            let Some(x) = a else { break };
            let Some(e) = entry(cx, out, x, 16) else {
                break;
            };
            let (flags, n, nx) = (
                rd.u16(e, 4).unwrap_or(0),
                rd.u32(e, 8).unwrap_or(0),
                rd.u32(e, 12).unwrap_or(0),
            );
            // A weak need (VER_FLG_WEAK) the loader only warns about.
            if flags & VER_FLG_WEAK == 0 {
                if let Some(v) = self.name(cx, out, n) {
                    versions.push(v);
                }
            }
            if nx == 0 {
                break;
            }
            a = x.checked_add(u64::from(nx));
        }
        versions
    }

    /// `DT_VERDEF`: the versions this file defines.
    fn defs(&mut self, cx: &mut Cx<'_>, out: &mut Versions, base: u64, count: Option<u64>) {
        let rd = self.rd;
        let mut at = base;
        for _ in 0..count
            .unwrap_or(self.max_items as u64)
            .min(self.max_items as u64)
        {
            // Elf_Verdef: vd_version, vd_flags, vd_ndx, vd_cnt, vd_hash, vd_aux, vd_next.
            let Some(e) = entry(cx, out, at, 20) else {
                break;
            };
            let (flags, aux, next) = (
                rd.u16(e, 2).unwrap_or(0),
                rd.u32(e, 12).unwrap_or(0),
                rd.u32(e, 16).unwrap_or(0),
            );
            // VER_FLG_BASE names the file itself, not a version.
            if flags & VER_FLG_BASE == 0 {
                let n = at
                    .checked_add(u64::from(aux))
                    .and_then(|x| entry(cx, out, x, 8))
                    .and_then(|d| rd.u32(d, 0));
                if let Some(v) = n.and_then(|n| self.name(cx, out, n)) {
                    out.defs.push(v);
                }
            }
            match at.checked_add(u64::from(next)) {
                Some(n) if next != 0 => at = n,
                _ => break,
            }
        }
    }
}

/// One table entry of `len` bytes at file offset `off`; a miss (not kept)
/// marks the tables unread.
fn entry<'a>(cx: &mut Cx<'a>, out: &mut Versions, off: u64, len: usize) -> Option<&'a [u8]> {
    let d = cx.read(off, len).filter(|d| d.len() == len);
    if d.is_none() {
        out.unread = true;
    }
    d
}

#[cfg(test)]
mod tests {
    use crate::identify::elf::synth::real;
    use crate::identify::{Capture, Ident, IdentLimits};

    const LIBC: &str = "/lib/x86_64-linux-gnu/libc.so.6";

    fn streamed(d: &[u8], limits: &IdentLimits) -> crate::identify::ElfInfo {
        let mut c = Capture::new(d.len() as u64, true, limits);
        for piece in d.chunks(16 * 1024) {
            c.feed(piece);
        }
        match c.finish() {
            Some(Ident::Elf(e)) => *e,
            other => panic!("not an ELF: {other:?}"),
        }
    }

    #[test]
    fn host_libc_defines_and_needs_versions_whole_and_streamed() {
        let Some(d) = real(LIBC) else { return };
        let whole = super::super::parse(&d.as_slice(), &IdentLimits::default()).expect("ELF");
        assert!(whole.version_defs.iter().any(|v| v == "GLIBC_2.2.5"));
        assert!(!whole.version_defs.iter().any(|v| v == "libc.so.6"));
        assert!(whole
            .version_needs
            .iter()
            .any(|n| n.file.starts_with("ld-linux")));
        assert!(!whole.versions_unread);
        let s = streamed(&d, &IdentLimits::default());
        assert_eq!(s.version_defs, whole.version_defs);
        assert_eq!(s.version_needs, whole.version_needs);
        assert!(!s.versions_unread);
    }

    #[test]
    fn streamed_without_budget_reports_the_tables_unread() {
        let Some(d) = real(LIBC) else { return };
        let limits = IdentLimits {
            versions: 0,
            ..IdentLimits::default()
        };
        let s = streamed(&d, &limits);
        assert!(s.versions_unread, "tables past the head must be reported");
    }
}

#[cfg(test)]
mod hostile {
    use crate::identify::elf::synth::real;
    use crate::identify::{identify, IdentLimits};

    /// Every byte of a real program's `.gnu.version_r` and `.gnu.version_d`
    /// set to hostile values: the parse never panics and stays bounded.
    #[test]
    fn damaged_version_tables_do_not_panic() {
        let Some(d) = real("/bin/true") else { return };
        let Ok(g) = goblin::elf::Elf::parse(&d) else {
            return;
        };
        let ranges: Vec<(usize, usize)> = g
            .section_headers
            .iter()
            .filter(|s| {
                matches!(
                    g.shdr_strtab.get_at(s.sh_name),
                    Some(".gnu.version_r" | ".gnu.version_d")
                )
            })
            .map(|s| (s.sh_offset as usize, s.sh_size as usize))
            .collect();
        assert!(!ranges.is_empty());
        for (off, len) in ranges {
            for at in off..off + len {
                for v in [0u8, 0xff, 0x7f, 0x10] {
                    let mut m = d.clone();
                    m[at] = v;
                    let _ = identify(&m.as_slice(), true, &IdentLimits::default());
                }
            }
        }
    }
}
