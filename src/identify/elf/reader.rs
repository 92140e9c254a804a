//! Bounded reads for the ELF parser: fixed-width integers in the file's byte
//! order ([`Rd`]), reads through [`FileBytes`] capped by [`IdentLimits`] that
//! note damage when a range runs past the end of the file ([`Cx`]), tables of
//! fixed-size entries, and the small byte helpers every structure shares.

use crate::identify::{read_upto, Endian, FileBytes, IdentLimits};

/// Fixed-width integer reads in the file's byte order; `None` when out of range.
#[derive(Clone, Copy)]
pub(super) struct Rd {
    pub(super) endian: Endian,
    pub(super) is64: bool,
}

impl Rd {
    fn bytes<const N: usize>(d: &[u8], at: usize) -> Option<[u8; N]> {
        d.get(at..at.checked_add(N)?)?.try_into().ok()
    }
    pub(super) fn u16(self, d: &[u8], at: usize) -> Option<u16> {
        let b = Self::bytes::<2>(d, at)?;
        Some(match self.endian {
            Endian::Little => u16::from_le_bytes(b),
            Endian::Big => u16::from_be_bytes(b),
        })
    }
    pub(super) fn u32(self, d: &[u8], at: usize) -> Option<u32> {
        let b = Self::bytes::<4>(d, at)?;
        Some(match self.endian {
            Endian::Little => u32::from_le_bytes(b),
            Endian::Big => u32::from_be_bytes(b),
        })
    }
    pub(super) fn u64(self, d: &[u8], at: usize) -> Option<u64> {
        let b = Self::bytes::<8>(d, at)?;
        Some(match self.endian {
            Endian::Little => u64::from_le_bytes(b),
            Endian::Big => u64::from_be_bytes(b),
        })
    }
    /// An address-sized word (`Elf32_Addr`/`Elf64_Addr`…).
    pub(super) fn word(self, d: &[u8], at: usize) -> Option<u64> {
        if self.is64 {
            self.u64(d, at)
        } else {
            self.u32(d, at).map(u64::from)
        }
    }
    /// A word at the offset for the file's class.
    pub(super) fn word_at(self, d: &[u8], at32: usize, at64: usize) -> Option<u64> {
        self.word(d, if self.is64 { at64 } else { at32 })
    }
}

/// The reader plus the damage flag.
pub(super) struct Cx<'a> {
    b: &'a dyn FileBytes,
    pub(super) limits: &'a IdentLimits,
    pub(super) damaged: bool,
}

impl<'a> Cx<'a> {
    pub(super) fn new(b: &'a dyn FileBytes, limits: &'a IdentLimits) -> Cx<'a> {
        Cx {
            b,
            limits,
            damaged: false,
        }
    }

    /// `len` bytes (capped at `max_read`) at `off`. A range past the end of the
    /// file marks the file damaged and yields what the file has of it; a range
    /// inside the file that is not available (sparse view) yields `None`.
    pub(super) fn read(&mut self, off: u64, len: usize) -> Option<&'a [u8]> {
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
    pub(super) fn read_str(&mut self, off: u64, max: usize) -> Option<&'a [u8]> {
        if off >= self.b.size() {
            self.damaged = true;
            return None;
        }
        read_upto(self.b, off, max.min(self.limits.max_read))
    }
}

/// Reads a table of `count` entries of `entsize` bytes (at least `min_entsize`)
/// and parses each entry; a truncated table yields its complete entries.
pub(super) fn read_table<T>(
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

/// A size or count from the file as a `usize`, capped at `c`.
pub(super) fn cap(n: u64, c: usize) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX).min(c)
}

/// `x` rounded up to a multiple of `a` (an alignment of 0 counts as 1).
pub(super) fn align_up(x: usize, a: usize) -> Option<usize> {
    let a = a.max(1);
    x.checked_add(a - 1).map(|v| v / a * a)
}

/// The bytes before the first NUL (all of them when there is none).
pub(super) fn cstr(d: &[u8]) -> &[u8] {
    d.iter().position(|&c| c == 0).map_or(d, |n| &d[..n])
}

/// Bytes from the file as text, escaped the way image paths are.
pub(super) fn lossy(d: &[u8]) -> String {
    crate::paths::decode(d).into_owned()
}
