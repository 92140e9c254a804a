//! Identification of executables from their bytes: ELF, Mach-O (thin and fat), PE
//! and `#!` scripts.
//!
//! Parsers read through [`FileBytes`], random access to a file that may be sparse:
//! a memory-mapped file answers every in-bounds read, a streamed one
//! ([`Capture`]) answers only the ranges it kept while the bytes passed. A parse
//! over a sparse view records the ranges it missed; [`Capture`] uses that to learn
//! which later offsets it must keep (program headers point at `PT_INTERP`, the
//! dynamic section, notes…), so one pass over a stream is enough and nothing but
//! capped ranges is ever buffered.

pub mod elf;
pub mod macho;
pub mod pe;
pub mod script;
#[cfg(test)]
mod testutil;

use std::cell::RefCell;

use serde::Serialize;

use crate::platform::{Arch, Os, Platform};

/// Caps on what identification reads and keeps per file.
#[derive(Debug, Clone)]
pub struct IdentLimits {
    /// Bytes kept from the start of a streamed file.
    pub head: usize,
    /// Bytes kept from the end of a streamed file (section headers live there).
    pub tail: usize,
    /// Largest single read a parser may ask for.
    pub max_read: usize,
    /// Bytes a streamed file may keep beyond head and tail.
    pub extra: usize,
    /// Longest `#!` line read.
    pub shebang: usize,
    /// Most items (program headers, sections, fat slices, DT_NEEDED…) looked at.
    pub max_items: usize,
    /// Bytes of a dynamic ELF's first load segment a streamed file keeps for
    /// its symbol-version tables and their names (held while the file passes,
    /// dropped once it is identified).
    pub versions: usize,
}

impl Default for IdentLimits {
    fn default() -> Self {
        IdentLimits {
            head: 64 * 1024,
            tail: 64 * 1024,
            max_read: 256 * 1024,
            extra: 1024 * 1024,
            shebang: 4096,
            max_items: 4096,
            versions: 1024 * 1024,
        }
    }
}

/// Random access to one file's bytes.
pub trait FileBytes {
    /// The file's full size (from the archive header), whether or not all of it
    /// is available.
    fn size(&self) -> u64;
    /// Exactly `len` bytes at `offset`, or `None` when the range is past the end,
    /// longer than a read may be, or (for a sparse view) was not kept.
    fn read_at(&self, offset: u64, len: usize) -> Option<&[u8]>;
}

/// Reads `len` bytes at `offset`, or as many as the file has from there (capped
/// at `len`). For reading strings and tables whose end is not known up front.
pub fn read_upto(b: &dyn FileBytes, offset: u64, len: usize) -> Option<&[u8]> {
    let avail = b.size().checked_sub(offset)?;
    let len = len.min(usize::try_from(avail).unwrap_or(usize::MAX));
    b.read_at(offset, len)
}

/// A file wholly in memory (a slice of a memory map): every read in bounds
/// succeeds. Pass `&slice` where a `&dyn FileBytes` is wanted.
impl FileBytes for &[u8] {
    fn size(&self) -> u64 {
        self.len() as u64
    }
    fn read_at(&self, offset: u64, len: usize) -> Option<&[u8]> {
        let start = usize::try_from(offset).ok()?;
        let end = start.checked_add(len)?;
        self.get(start..end)
    }
}

/// The ranges of a file that a streaming pass kept, with a record of the reads
/// that missed.
#[derive(Debug, Default)]
pub struct Sparse {
    size: u64,
    /// Kept ranges, sorted by offset, not overlapping.
    chunks: Vec<(u64, Vec<u8>)>,
    misses: RefCell<Vec<(u64, usize)>>,
}

impl Sparse {
    pub fn new(size: u64) -> Sparse {
        Sparse {
            size,
            chunks: Vec::new(),
            misses: RefCell::new(Vec::new()),
        }
    }

    /// Adds bytes at `offset`, merging with a chunk that ends exactly there.
    fn push(&mut self, offset: u64, bytes: &[u8]) {
        if let Some((start, data)) = self.chunks.last_mut() {
            if *start + data.len() as u64 == offset {
                data.extend_from_slice(bytes);
                return;
            }
        }
        self.chunks.push((offset, bytes.to_vec()));
    }

    fn take_misses(&self) -> Vec<(u64, usize)> {
        std::mem::take(&mut *self.misses.borrow_mut())
    }

    pub fn kept_bytes(&self) -> usize {
        self.chunks.iter().map(|(_, d)| d.len()).sum()
    }
}

impl FileBytes for Sparse {
    fn size(&self) -> u64 {
        self.size
    }
    fn read_at(&self, offset: u64, len: usize) -> Option<&[u8]> {
        let end = offset.checked_add(len as u64)?;
        if end > self.size {
            return None;
        }
        // Chunks are few (head, tail, a handful of wanted ranges).
        for (start, data) in &self.chunks {
            let chunk_end = *start + data.len() as u64;
            if *start <= offset && end <= chunk_end {
                let from = (offset - start) as usize;
                return data.get(from..from + len);
            }
        }
        self.misses.borrow_mut().push((offset, len));
        None
    }
}

/// What a file turned out to be.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "format", rename_all = "lowercase")]
pub enum Ident {
    Elf(Box<ElfInfo>),
    Macho(MachoInfo),
    Pe(PeInfo),
    Script(ScriptInfo),
    /// Not a known executable format; `text` when the first bytes look like text
    /// (an exec-bit file without `#!` is then a script the kernel cannot run).
    Other {
        text: bool,
    },
}

impl Ident {
    /// Is this native code (ELF, Mach-O or PE)?
    pub fn is_native(&self) -> bool {
        matches!(self, Ident::Elf(_) | Ident::Macho(_) | Ident::Pe(_))
    }

    /// The platforms this file's code is for: one for ELF and PE, one per slice
    /// for a fat Mach-O, none for scripts and others.
    pub fn platforms(&self) -> Vec<Platform> {
        match self {
            Ident::Elf(e) => vec![e.platform()],
            Ident::Macho(m) => m
                .slices
                .iter()
                .map(|s| Platform::new(Os::Darwin, s.arch.clone(), None))
                .collect(),
            Ident::Pe(p) => vec![Platform::new(Os::Windows, p.arch.clone(), None)],
            _ => Vec::new(),
        }
    }

    pub fn format_name(&self) -> &'static str {
        match self {
            Ident::Elf(_) => "elf",
            Ident::Macho(_) => "macho",
            Ident::Pe(_) => "pe",
            Ident::Script(_) => "script",
            Ident::Other { .. } => "other",
        }
    }
}

/// ELF object type, as the JSON contract spells it (`PIE executables are `dyn`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BinType {
    Exec,
    Dyn,
    Rel,
    Core,
    Other,
}

impl BinType {
    pub fn as_str(self) -> &'static str {
        match self {
            BinType::Exec => "exec",
            BinType::Dyn => "dyn",
            BinType::Rel => "rel",
            BinType::Core => "core",
            BinType::Other => "other",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Endian {
    Little,
    Big,
}

/// What an ELF header and the structures it points at say.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ElfInfo {
    /// 32 or 64.
    pub class: u8,
    pub endian: Endian,
    /// Raw `e_machine`.
    pub machine: u16,
    /// `e_machine` (with class and endianness) as an OCI architecture.
    pub arch: Arch,
    /// Raw `EI_OSABI`.
    pub osabi: u8,
    /// The OS the binary is for: Linux unless the OS ABI byte or an ABI note
    /// says FreeBSD, NetBSD, Solaris…
    pub os: Os,
    #[serde(rename = "type")]
    pub bin_type: BinType,
    /// `PT_INTERP`, the dynamic loader the kernel starts.
    pub interpreter: Option<String>,
    /// `DT_NEEDED` entries, in order.
    pub needed: Vec<String>,
    pub rpath: Option<String>,
    pub runpath: Option<String>,
    /// `DT_SONAME`.
    pub soname: Option<String>,
    /// ARM: the variant the code needs (`v5`, `v6`, `v7`, `v8`) from
    /// `Tag_CPU_arch` in `.ARM.attributes`, when present.
    pub arm_variant: Option<String>,
    /// ARM: hard-float ABI (`EF_ARM_ABI_FLOAT_HARD` in `e_flags`).
    pub arm_hard_float: Option<bool>,
    /// x86-64 ISA level needed (2, 3, 4) from `GNU_PROPERTY_X86_ISA_1_NEEDED`,
    /// or from Go's `GOAMD64`.
    pub isa_level: Option<u8>,
    /// Go build info, when the binary is a Go program.
    pub go: Option<GoInfo>,
    /// Symbol versions needed (`DT_VERNEED`), per library file.
    #[serde(skip)]
    pub version_needs: Vec<VersionNeed>,
    /// Symbol versions defined (`DT_VERDEF`), the file's own base name excluded.
    #[serde(skip)]
    pub version_defs: Vec<String>,
    /// The smallest `p_align` of the `PT_LOAD` segments, when there are any.
    #[serde(skip)]
    pub load_align: Option<u64>,
    /// The largest page size (4, 16 or 64 KiB) every `PT_LOAD` fits: `p_align`
    /// at least that and `p_offset ≡ p_vaddr` modulo it; 0 when not even
    /// 4 KiB; `None` without load segments.
    #[serde(skip)]
    pub max_page: Option<u64>,
    /// Linux only: the oldest kernel the GNU ABI tag (`NT_GNU_ABI_TAG`) says
    /// the code needs, as (major, minor, patch).
    #[serde(skip)]
    pub abi_kernel: Option<[u32; 3]>,
    /// A version table or one of its names lay outside the bytes kept (a cap),
    /// so version checks on this file are incomplete.
    #[serde(skip)]
    pub versions_unread: bool,
    /// The file ended before the structures its header points at (truncated or
    /// damaged); what could be read is still reported.
    pub damaged: bool,
}

impl ElfInfo {
    /// `linux/<arch>` (or the ELF's own OS). The ARM variant is included when
    /// the attributes gave one.
    pub fn platform(&self) -> Platform {
        Platform {
            os: self.os.clone(),
            arch: self.arch.clone(),
            variant: if self.arch == Arch::Arm {
                self.arm_variant.clone()
            } else {
                None
            },
        }
    }

    pub fn is_static(&self) -> bool {
        self.interpreter.is_none()
    }
}

/// The symbol versions an object needs from one library file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionNeed {
    /// `vn_file`: the library's `DT_SONAME` as linked (`libc.so.6`).
    pub file: String,
    /// `vna_name` of each version needed (`GLIBC_2.34`); weak needs, which
    /// the loader only warns about, are left out.
    pub versions: Vec<String>,
}

/// Go's embedded build information (`\xff Go buildinf:`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct GoInfo {
    pub version: Option<String>,
    pub module_path: Option<String>,
    pub goos: Option<String>,
    pub goarch: Option<String>,
    pub goarm: Option<String>,
    pub goamd64: Option<String>,
    /// `GOARM64` (`v8.0`…`v9.5`, maybe with `,lse`/`,crypto`; Go 1.23+).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub goarm64: Option<String>,
    /// Whether the program links code of `crypto/tls` (a source file of it
    /// in the pclntab's file table); `None` when that table was not read.
    #[serde(skip)]
    pub tls: Option<bool>,
    /// The module graph has `golang.org/x/crypto/x509roots/fallback`
    /// (CA roots built into the program).
    #[serde(skip)]
    pub fallback_roots: bool,
}

/// One architecture slice of a Mach-O file (a thin file has one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MachoSlice {
    pub arch: Arch,
    /// Raw `cputype`.
    pub cputype: u32,
    #[serde(rename = "type")]
    pub bin_type: BinType,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MachoInfo {
    pub fat: bool,
    pub slices: Vec<MachoSlice>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PeInfo {
    /// Raw COFF `Machine`.
    pub machine: u16,
    pub arch: Arch,
    /// A DLL rather than an executable.
    pub dll: bool,
    /// A .NET assembly with IL only (runs wherever the .NET runtime does).
    pub il_only: bool,
    #[serde(rename = "type")]
    pub bin_type: BinType,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScriptInfo {
    /// The interpreter path after `#!`, as written (CR removed).
    pub interpreter: String,
    /// The rest of the `#!` line (one optional argument, as Linux passes it).
    pub arg: Option<String>,
    /// The line ends in `\r\n`: Linux looks for an interpreter whose name ends
    /// in `\r` (or passes `\r` in the argument).
    pub crlf: bool,
}

/// Does a file starting with these bytes have a magic worth identifying?
pub fn has_magic(first: &[u8]) -> bool {
    elf::sniff(first) || macho::sniff(first) || pe::sniff(first) || first.starts_with(b"#!")
}

/// Identifies a file. `exec_bit` makes a file without magic still reported (as
/// `Other`) so that the judge can tell a text file used as a program.
/// Returns `None` for files that are neither executable nor of a known format.
pub fn identify(b: &dyn FileBytes, exec_bit: bool, limits: &IdentLimits) -> Option<Ident> {
    let first = read_upto(b, 0, 64).unwrap_or(&[]);
    if elf::sniff(first) {
        return Some(Ident::Elf(Box::new(elf::parse(b, limits)?)));
    }
    if macho::sniff(first) {
        if let Some(m) = macho::parse(b, limits) {
            return Some(Ident::Macho(m));
        }
        // 0xCAFEBABE is also a Java class file: fall through.
    }
    if pe::sniff(first) {
        if let Some(p) = pe::parse(b, limits) {
            return Some(Ident::Pe(p));
        }
    }
    if first.starts_with(b"#!") {
        return script::parse(b, limits).map(Ident::Script);
    }
    if exec_bit {
        return Some(Ident::Other {
            text: looks_like_text(first),
        });
    }
    None
}

fn looks_like_text(first: &[u8]) -> bool {
    !first.is_empty()
        && first
            .iter()
            .all(|&c| c == b'\n' || c == b'\r' || c == b'\t' || c >= 0x20 && c != 0x7f)
}

/// Keeps the ranges of a streamed file that identification will need, as the
/// bytes go by.
///
/// Feed it the file's bytes in order; it keeps the head, then asks the parser
/// (by a trial parse over what it has) which later ranges are missing, keeps
/// those as they pass, and always keeps the tail.
pub struct Capture<'l> {
    sparse: Sparse,
    pos: u64,
    exec_bit: bool,
    limits: &'l IdentLimits,
    wanted: Vec<(u64, u64)>,
    tail_start: u64,
    /// `None` until the head is complete; then whether the file is a candidate.
    candidate: Option<bool>,
    extra_kept: usize,
    /// The range kept for a dynamic ELF's symbol-version tables (its own
    /// budget, `IdentLimits::versions`, apart from `extra`).
    window: Option<(u64, u64)>,
    rounds: u32,
}

impl<'l> Capture<'l> {
    pub fn new(size: u64, exec_bit: bool, limits: &'l IdentLimits) -> Capture<'l> {
        Capture {
            sparse: Sparse::new(size),
            pos: 0,
            exec_bit,
            limits,
            wanted: Vec::new(),
            tail_start: size.saturating_sub(limits.tail as u64),
            candidate: None,
            extra_kept: 0,
            window: None,
            rounds: 0,
        }
    }

    /// False once the file is known not to be worth identifying: the caller may
    /// stop feeding (and skip the rest).
    pub fn wants_more(&self) -> bool {
        self.candidate != Some(false) && self.pos < self.sparse.size
    }

    /// Feeds the next bytes of the file.
    pub fn feed(&mut self, mut chunk: &[u8]) {
        let size = self.sparse.size;
        while !chunk.is_empty() && self.pos < size {
            let room = usize::try_from(size - self.pos).unwrap_or(usize::MAX);
            chunk = &chunk[..chunk.len().min(room)];
            let head = self.limits.head as u64;
            if self.pos < head {
                let n = chunk.len().min((head - self.pos) as usize);
                self.keep(&chunk[..n]);
                chunk = &chunk[n..];
                if self.pos == head.min(size) {
                    self.head_done();
                }
                continue;
            }
            if self.candidate == Some(false) {
                self.pos += chunk.len() as u64;
                return;
            }
            // Past the head: keep the bytes in wanted ranges and in the tail.
            let start = self.pos;
            let end = start + chunk.len() as u64;
            let keep_from = self.next_kept(start, end);
            match keep_from {
                Some((from, to)) => {
                    let (a, b) = ((from - start) as usize, (to - start) as usize);
                    self.pos = from;
                    self.keep(&chunk[a..b]);
                    chunk = &chunk[b..];
                    if self.wanted.iter().any(|&(_, e)| e == to) {
                        self.refine();
                    }
                }
                None => {
                    self.pos = end;
                    chunk = &[];
                }
            }
        }
    }

    /// The first run of bytes in `[start, end)` that must be kept.
    fn next_kept(&self, start: u64, end: u64) -> Option<(u64, u64)> {
        let mut best: Option<(u64, u64)> = None;
        let mut consider = |a: u64, b: u64| {
            let (a, b) = (a.max(start), b.min(end));
            if a < b && best.is_none_or(|(x, _)| a < x) {
                best = Some((a, b));
            }
        };
        consider(self.tail_start, u64::MAX);
        if let Some((a, b)) = self.window {
            consider(a, b);
        }
        for &(a, b) in &self.wanted {
            consider(a, b);
        }
        // Stop a kept run where a wanted range ends, so refinement runs there.
        best.map(|(a, b)| {
            let stop = self
                .wanted
                .iter()
                .map(|&(_, e)| e)
                .filter(|&e| e > a && e < b)
                .min()
                .unwrap_or(b);
            (a, stop)
        })
    }

    fn keep(&mut self, bytes: &[u8]) {
        if self.pos >= self.limits.head as u64 {
            let in_window = self
                .window
                .is_some_and(|(a, b)| self.pos >= a && self.pos < b);
            if self.pos < self.tail_start && !in_window {
                self.extra_kept += bytes.len();
            }
            if self.extra_kept > self.limits.extra {
                // Over budget: stop keeping wanted ranges (the tail still is).
                self.wanted.clear();
            }
        }
        self.sparse.push(self.pos, bytes);
        self.pos += bytes.len() as u64;
    }

    fn head_done(&mut self) {
        let first = read_upto(&self.sparse, 0, 64).unwrap_or(&[]);
        let candidate = has_magic(first) || self.exec_bit;
        self.candidate = Some(candidate);
        if candidate {
            let head = read_upto(&self.sparse, 0, self.limits.head).unwrap_or(&[]);
            self.window = elf::versions_window(head, self.limits)
                .map(|(a, b)| (a.max(self.pos), b))
                .filter(|&(a, b)| a < b);
            self.refine();
        }
    }

    /// A trial parse over what is kept: the reads it missed that lie ahead
    /// become wanted ranges.
    fn refine(&mut self) {
        if self.rounds >= 8 {
            return;
        }
        self.rounds += 1;
        let _ = identify(&self.sparse, self.exec_bit, self.limits);
        for (off, len) in self.sparse.take_misses() {
            let end = off.saturating_add(len as u64);
            if end > self.pos && off < self.tail_start && len <= self.limits.max_read {
                self.wanted.push((off.max(self.pos), end));
            }
        }
        self.wanted.retain(|&(_, e)| e > self.pos);
    }

    /// Feeds the rest of the file from `r` (the body after what was fed
    /// already), reading only while the capture wants more.
    pub fn feed_from(&mut self, r: &mut dyn std::io::Read, buf: &mut [u8]) -> std::io::Result<()> {
        while self.wants_more() {
            let n = r.read(buf)?;
            if n == 0 {
                break;
            }
            self.feed(&buf[..n]);
        }
        Ok(())
    }

    /// Identifies the file from what was kept. Call after the last byte.
    pub fn finish(self) -> Option<Ident> {
        if self.candidate == Some(false) {
            return None;
        }
        identify(&self.sparse, self.exec_bit, self.limits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparse_reads_only_kept_ranges_and_records_misses() {
        let mut s = Sparse::new(100);
        s.push(0, &[1; 10]);
        s.push(10, &[2; 10]);
        s.push(90, &[3; 10]);
        assert_eq!(
            s.read_at(5, 10).map(|b| b.to_vec()),
            Some([[1; 5], [2; 5]].concat())
        );
        assert_eq!(s.read_at(95, 5), Some(&[3u8; 5][..]));
        assert_eq!(s.read_at(50, 4), None);
        assert_eq!(s.read_at(98, 4), None);
        assert_eq!(s.take_misses(), vec![(50, 4)]);
    }

    #[test]
    fn capture_drops_non_candidates() {
        let limits = IdentLimits::default();
        let data = vec![b'x'; 200_000];
        let mut c = Capture::new(data.len() as u64, false, &limits);
        c.feed(&data[..70_000]);
        assert!(!c.wants_more());
        assert_eq!(c.finish(), None);
    }

    #[test]
    fn capture_keeps_head_and_tail() {
        let limits = IdentLimits {
            head: 64,
            tail: 8,
            ..IdentLimits::default()
        };
        let data: Vec<u8> = (0..200u8).map(|i| b'a' + i % 26).collect();
        let mut c = Capture::new(200, true, &limits);
        for piece in data.chunks(7) {
            c.feed(piece);
        }
        assert_eq!(c.sparse.kept_bytes(), 72);
        assert_eq!(c.sparse.read_at(192, 8), Some(&data[192..]));
        assert_eq!(c.finish(), Some(Ident::Other { text: true }));
    }
}
