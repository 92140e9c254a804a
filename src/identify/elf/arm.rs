//! 32-bit ARM specifics: the float ABI from `e_flags`, and the architecture
//! version the code needs from `Tag_CPU_arch` in the `.ARM.attributes` section
//! (the "aeabi" subsection's File attributes), as an OCI variant (`v5`…`v8`).

use super::header::Sections;
use super::reader::{cap, Cx, Rd};

pub(super) const SHT_ARM_ATTRIBUTES: u32 = 0x7000_0003;
const EF_ARM_EABIMASK: u32 = 0xff00_0000;
const EF_ARM_ABI_FLOAT_SOFT: u32 = 0x200;
const EF_ARM_ABI_FLOAT_HARD: u32 = 0x400;
/// Tag_CPU_arch in the "aeabi" attributes.
const TAG_CPU_ARCH: u64 = 6;
/// Largest `.ARM.attributes` read.
const MAX_ATTRS: usize = 64 * 1024;

/// `Some(true)` hard-float, `Some(false)` soft-float, from an ARM `e_flags`.
pub(super) fn arm_float(flags: u32) -> Option<bool> {
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

/// The variant `.ARM.attributes` (found by type, or by name) says the code
/// needs.
pub(super) fn variant_from_attributes(
    cx: &mut Cx<'_>,
    rd: Rd,
    sections: &Sections<'_>,
) -> Option<String> {
    let s = sections.headers.iter().find(|s| {
        s.sh_type == SHT_ARM_ATTRIBUTES
            || sections.name_of(s) == Some(b".ARM.attributes".as_slice())
    })?;
    let d = cx.read(s.offset, cap(s.size, MAX_ATTRS))?;
    arm_cpu_arch(d, rd, cx.limits.max_items)
        .and_then(arm_variant_of)
        .map(str::to_string)
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

/// `Tag_CPU_arch` from the File sub-subsection (tag 1) of the "aeabi"
/// subsection's body.
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

/// `Tag_CPU_arch` among File attributes, skipping the others by their
/// value kind (ULEB128 or NUL-terminated string).
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

#[cfg(test)]
mod tests {
    use goblin::elf::header::{EM_386, EM_ARM};
    use goblin::elf::section_header::SHT_PROGBITS;

    use super::*;
    use crate::identify::elf::synth::{arm_attributes, elf, Elf};

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
}
