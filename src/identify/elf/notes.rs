//! ELF notes: the regions that hold them (`PT_NOTE` and `PT_GNU_PROPERTY`
//! segments, then `SHT_NOTE` sections not already covered), the walk over each
//! region's entries, and what the notes say — the OS from the GNU ABI tag or
//! the FreeBSD, NetBSD and OpenBSD notes, and the x86-64 ISA level from
//! `GNU_PROPERTY_X86_ISA_1_NEEDED` in the GNU property note.

use goblin::elf::header::EM_X86_64;
use goblin::elf::note::{NT_GNU_ABI_TAG, NT_GNU_PROPERTY_TYPE_0};
use goblin::elf::program_header::{PT_GNU_PROPERTY, PT_NOTE};
use goblin::elf::section_header::SHT_NOTE;

use super::header::{Phdr, Shdr};
use super::reader::{align_up, cap, Cx, Rd};
use crate::platform::Os;

pub(super) const GNU_PROPERTY_X86_ISA_1_NEEDED: u32 = 0xc000_8002;
/// Most note regions (segments plus sections) read.
const MAX_NOTE_REGIONS: usize = 32;

/// What the notes say.
#[derive(Debug, Default)]
pub(super) struct NoteFacts {
    /// The OS the first note that names one names.
    pub(super) os: Option<Os>,
    /// x86-64 only: the highest ISA level a GNU property note needs.
    pub(super) isa_level: Option<u8>,
}

/// A note region: file offset, size and alignment.
type Region = (u64, u64, u64);

/// Reads every note region and gathers what its notes say.
pub(super) fn read(
    cx: &mut Cx<'_>,
    rd: Rd,
    machine: u16,
    phdrs: &[Phdr],
    shdrs: &[Shdr],
) -> NoteFacts {
    let mut facts = NoteFacts::default();
    let (max_read, max_items) = (cx.limits.max_read, cx.limits.max_items);
    for &(off, size, align) in regions(phdrs, shdrs).iter().take(MAX_NOTE_REGIONS) {
        if size == 0 {
            continue;
        }
        let Some(d) = cx.read(off, cap(size, max_read)) else {
            continue;
        };
        let align = if align == 8 { 8 } else { 4 };
        for_each_note(d, rd, align, max_items, |name, ntype, desc| {
            // The highest ISA level needed wins; the first OS named wins.
            if (name, ntype) == (b"GNU".as_slice(), NT_GNU_PROPERTY_TYPE_0) {
                if machine == EM_X86_64 {
                    facts.isa_level = facts.isa_level.max(isa_needed(desc, rd, max_items));
                }
                return;
            }
            if facts.os.is_none() {
                facts.os = os_of_note(rd, name, ntype, desc);
            }
        });
    }
    facts
}

/// The note segments, then the note sections that no segment already covers
/// (up to [`MAX_NOTE_REGIONS`] in all, counting segments first).
fn regions(phdrs: &[Phdr], shdrs: &[Shdr]) -> Vec<Region> {
    let mut regions: Vec<Region> = phdrs
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
    regions
}

/// The OS a note names: the GNU ABI tag's OS word, or the vendor of a
/// FreeBSD, NetBSD or OpenBSD note.
fn os_of_note(rd: Rd, name: &[u8], ntype: u32, desc: &[u8]) -> Option<Os> {
    match (name, ntype) {
        (b"GNU", NT_GNU_ABI_TAG) => match rd.u32(desc, 0) {
            Some(0) => Some(Os::Linux),
            Some(1) => Some(Os::Other("hurd".into())),
            Some(2) => Some(Os::Solaris),
            Some(3) => Some(Os::FreeBsd),
            _ => None,
        },
        (b"FreeBSD", _) => Some(Os::FreeBsd),
        (b"NetBSD", _) => Some(Os::NetBsd),
        (b"OpenBSD", _) => Some(Os::OpenBsd),
        _ => None,
    }
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

#[cfg(test)]
mod tests {
    use goblin::elf::header::{EM_AARCH64, EM_X86_64};
    use goblin::elf::program_header::{PT_GNU_PROPERTY, PT_NOTE};

    use super::*;
    use crate::identify::elf::synth::{elf, isa_property, Elf};

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
}
