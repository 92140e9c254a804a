//! ELF identification: class, byte order and `e_machine` mapped to an OCI
//! architecture, the OS (from `EI_OSABI`, ABI-tag notes, Go build info or the
//! loader path), the object type, `PT_INTERP`, the dynamic section's
//! `DT_NEEDED`/`DT_RPATH`/`DT_RUNPATH`/`DT_SONAME`, the ARM variant from
//! `.ARM.attributes` and float ABI from `e_flags`, the x86-64 ISA level from the
//! GNU property note, and Go's embedded build info.
//!
//! This module owns the entry point, [`parse`], which reads each structure in
//! file order and then draws the conclusions that need more than one of them
//! (the OS, the ISA level, the ARM variant). The structures live beside it:
//! `header` (ELF, program and section headers), `dynamic` (`PT_INTERP` and the
//! dynamic section), `notes` (ABI tags, GNU properties), `arm` (`e_flags` float
//! ABI, `.ARM.attributes`), `go` (build and module info) and `reader` (bounded
//! reads). `versions` reads the symbol-version needs and definitions.
//!
//! Only headers and the small structures they point at are read, each read
//! capped by [`IdentLimits`]; every offset, size and count comes from hostile
//! input and is checked. Independent structures are each asked for even when an
//! earlier read failed, so that a trial parse over a sparse view records every
//! range a streaming capture must keep.

mod arm;
mod dynamic;
mod go;
mod header;
mod notes;
mod reader;
#[cfg(test)]
mod synth;
#[cfg(test)]
mod tests;
mod versions;

use goblin::elf::header::{EM_ARM, EM_X86_64};

use self::dynamic::Dynamic;
use self::header::{Ehdr, Sections};
use self::notes::NoteFacts;
use self::reader::Cx;
use super::{read_upto, ElfInfo, FileBytes, IdentLimits};
use crate::platform::Os;

pub use self::header::elf_arch;

/// The file range a streaming pass keeps for the symbol-version tables of a
/// dynamic ELF whose head is `head` (see `versions`): `None` when the head
/// does not say (not ELF, no `PT_DYNAMIC`, program headers past the head).
pub fn versions_window(head: &[u8], limits: &IdentLimits) -> Option<(u64, u64)> {
    let ehdr = Ehdr::parse(head)?;
    let mut cx = Cx::new(&head, limits);
    let phdrs = ehdr.program_headers(&mut cx);
    let loads = header::loads(&phdrs);
    versions::tables_window((&phdrs, &loads), limits.versions)
}

/// Longest `PT_INTERP`, dynamic string and Go version string read.
const MAX_STR: usize = 4096;

/// Does the file start with the ELF magic?
pub fn sniff(first: &[u8]) -> bool {
    first.starts_with(b"\x7fELF")
}

/// Identifies an ELF file: `None` when it is not one (or ends before
/// `e_machine`); otherwise what could be read, with `damaged` set when the file
/// ends before a structure its headers point at.
pub fn parse(b: &dyn FileBytes, limits: &IdentLimits) -> Option<ElfInfo> {
    let head = read_upto(b, 0, 64)?;
    let mut ehdr = Ehdr::parse(head)?;
    let mut cx = Cx::new(b, limits);
    cx.damaged = ehdr.short;
    let mut info = header_info(&ehdr);
    let rd = ehdr.rd;

    // The reads, always in this order (a sparse trial parse records its misses
    // in it); each is asked for even when an earlier one failed.
    ehdr.resolve_extended_numbering(&mut cx);
    let phdrs = ehdr.program_headers(&mut cx);
    let loads = header::loads(&phdrs);
    info.load_align = loads.iter().map(|p| p.align).min();
    info.max_page = header::max_page(&loads);
    info.interpreter = dynamic::interpreter(&mut cx, &phdrs);
    let dynamic = Dynamic::read(&mut cx, rd, &phdrs);
    let sections = Sections::read(&mut cx, &ehdr);
    dynamic.fill_names(&mut cx, &loads, &sections.headers, &mut info);
    dynamic.fill_versions(&mut cx, rd, &loads, &sections.headers, &mut info);
    let notes = notes::read(&mut cx, rd, ehdr.machine, &phdrs, &sections.headers);
    if ehdr.machine == EM_ARM {
        info.arm_variant = arm::variant_from_attributes(&mut cx, rd, &sections);
    }
    info.go = go::find(&mut cx, &loads, &sections);
    // Asked for even before the build info is found: in a stream the
    // pclntab passes before the data segment that holds the build info.
    let tls = go::links_tls(&mut cx, rd, &loads, &sections);
    if let Some(g) = info.go.as_mut() {
        g.tls = tls;
    }

    conclude(&mut info, notes);
    info.damaged = cx.damaged;
    Some(info)
}

/// What the ELF header alone says; the rest starts empty, the OS as Linux.
fn header_info(ehdr: &Ehdr) -> ElfInfo {
    ElfInfo {
        class: ehdr.class,
        endian: ehdr.rd.endian,
        machine: ehdr.machine,
        arch: ehdr.arch(),
        osabi: ehdr.osabi,
        os: Os::Linux,
        bin_type: ehdr.bin_type(),
        interpreter: None,
        needed: Vec::new(),
        rpath: None,
        runpath: None,
        soname: None,
        arm_variant: None,
        arm_hard_float: if ehdr.machine == EM_ARM {
            ehdr.flags.and_then(arm::arm_float)
        } else {
            None
        },
        isa_level: None,
        go: None,
        version_needs: Vec::new(),
        version_defs: Vec::new(),
        versions_unread: false,
        load_align: None,
        max_page: None,
        abi_kernel: None,
        damaged: false,
    }
}

/// Conclusions that weigh more than one structure. The ISA level is the higher
/// of the GNU property note's and Go's `GOAMD64` (x86-64 only); Go's `GOARM`
/// names the ARM variant when the attributes did not. The OS is the first of:
/// `EI_OSABI`, an ABI note, Go's `GOOS`, the loader path, else Linux.
fn conclude(info: &mut ElfInfo, notes: NoteFacts) {
    let go = info.go.as_ref();
    let go_level = go
        .and_then(go::isa_level)
        .filter(|_| info.machine == EM_X86_64);
    info.isa_level = notes.isa_level.max(go_level);
    info.abi_kernel = notes.kernel;
    if info.machine == EM_ARM && info.arm_variant.is_none() {
        info.arm_variant = go.and_then(go::arm_variant);
    }
    info.os = header::os_from_osabi(info.osabi)
        .or(notes.os)
        .or_else(|| go.and_then(go::os))
        .or_else(|| {
            info.interpreter
                .as_deref()
                .and_then(dynamic::os_from_interp)
        })
        .unwrap_or(Os::Linux);
}
