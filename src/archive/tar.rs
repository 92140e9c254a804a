//! A bounded walk over a tar stream: the outer archive and every layer.
//!
//! Headers are decoded with the `tar` crate's `Header`; the walk itself (GNU long
//! names, PAX records, skipping bodies, the end of the archive) is ours so that
//! every input-driven allocation is capped by [`Limits`], bodies of a memory-mapped
//! archive are never read, and a streamed body is handed to the caller once, as it
//! passes.

use std::io::{self, Read};

use crate::limits::{Exceeded, Limits};

/// What a tar entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    File,
    Dir,
    Symlink,
    Hardlink,
    CharDevice,
    BlockDevice,
    Fifo,
    /// A type archscan does not interpret (GNU sparse, volume labels…).
    Other(u8),
}

/// One tar entry, with its long name and PAX overrides applied.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The name as stored: raw bytes, not normalised.
    pub path: Vec<u8>,
    /// Symlink or hardlink target, as stored.
    pub link: Option<Vec<u8>>,
    pub kind: EntryKind,
    pub mode: u32,
    pub size: u64,
    /// Offset of the body within the input.
    pub offset: u64,
}

impl Entry {
    pub fn path_lossy(&self) -> String {
        crate::paths::decode(&self.path).into_owned()
    }
}

/// Why a walk stopped: where, and the problem.
#[derive(Debug, thiserror::Error)]
#[error("{}{problem}", at(.entry.as_deref(), *.offset))]
pub struct TarError {
    /// Offset of the header where the problem was found.
    pub offset: u64,
    /// The entry's name, when it was known.
    pub entry: Option<String>,
    #[source]
    pub problem: TarProblem,
}

fn at(entry: Option<&str>, offset: u64) -> String {
    match entry {
        Some(e) => format!("at {e} (offset {offset}): "),
        None => format!("at offset {offset}: "),
    }
}

/// What was wrong with the tar.
#[derive(Debug, thiserror::Error)]
pub enum TarProblem {
    /// Reading (or decompressing) the bytes failed.
    #[error("read failed: {0}")]
    Read(#[source] io::Error),
    #[error("truncated: the archive ends inside a tar header ({0} of 512 bytes)")]
    TruncatedHeader(usize),
    #[error("truncated: the archive ends inside a {0}")]
    TruncatedExtension(&'static str),
    #[error("truncated: the archive ends in padding")]
    TruncatedPadding(#[source] io::Error),
    #[error("truncated: the archive ends inside this entry's {0} bytes of data")]
    TruncatedBody(u64),
    #[error("not a tar header (bad checksum): the file is damaged or not a tar")]
    BadChecksum,
    #[error("unreadable size field: {0}")]
    BadSize(#[source] io::Error),
    #[error("size {0} overflows")]
    SizeOverflow(u64),
    #[error(transparent)]
    Limit(#[from] Exceeded),
    /// The visitor stopped the walk.
    #[error(transparent)]
    Visit(#[from] VisitError),
}

impl TarProblem {
    /// Is the input cut short (as opposed to damaged or over a limit)?
    pub fn is_truncated(&self) -> bool {
        matches!(
            self,
            TarProblem::TruncatedHeader(_)
                | TarProblem::TruncatedExtension(_)
                | TarProblem::TruncatedPadding(_)
                | TarProblem::TruncatedBody(_)
        )
    }

    /// The read error underneath, when reading (or decoding) failed.
    pub fn io(&self) -> Option<&io::Error> {
        match self {
            TarProblem::Read(e) | TarProblem::TruncatedPadding(e) => Some(e),
            TarProblem::Visit(VisitError::Read(e) | VisitError::ReadInFile(e)) => Some(e),
            _ => None,
        }
    }

    /// The cap of [`Limits`] reached, if that is what stopped the walk.
    pub fn exceeded(&self) -> Option<Exceeded> {
        match self {
            TarProblem::Limit(e) | TarProblem::Visit(VisitError::Limit(e)) => Some(*e),
            _ => self
                .io()
                .and_then(|e| e.get_ref())
                .and_then(|e| e.downcast_ref::<Exceeded>())
                .copied(),
        }
    }
}

/// Why a visitor stopped the walk.
#[derive(Debug, thiserror::Error)]
pub enum VisitError {
    #[error("read failed: {0}")]
    Read(#[source] io::Error),
    #[error("read failed inside this file: {0}")]
    ReadInFile(#[source] io::Error),
    #[error(transparent)]
    Limit(#[from] Exceeded),
}

/// Where tar bytes come from: a slice (memory map, zero-copy, bodies skipped
/// for free) or a one-way stream.
pub trait Input: Read {
    /// Moves `n` bytes forward. Errors with `UnexpectedEof` past the end.
    fn skip(&mut self, n: u64) -> io::Result<()>;
    /// Bytes consumed so far.
    fn position(&self) -> u64;
    /// The whole input, when it is in memory (then bodies are `&whole[offset..]`).
    fn whole(&self) -> Option<&[u8]> {
        None
    }
}

/// A tar held in memory (usually a memory map).
pub struct SliceInput<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> SliceInput<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        SliceInput { data, pos: 0 }
    }
    pub fn data(&self) -> &'a [u8] {
        self.data
    }
}

impl Read for SliceInput<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let rest = self.data.get(self.pos..).unwrap_or(&[]);
        let n = rest.len().min(buf.len());
        buf[..n].copy_from_slice(&rest[..n]);
        self.pos += n;
        Ok(n)
    }
}

impl Input for SliceInput<'_> {
    fn skip(&mut self, n: u64) -> io::Result<()> {
        let rest = (self.data.len() - self.pos) as u64;
        if n > rest {
            self.pos = self.data.len();
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        self.pos += n as usize;
        Ok(())
    }
    fn position(&self) -> u64 {
        self.pos as u64
    }
    fn whole(&self) -> Option<&[u8]> {
        Some(self.data)
    }
}

/// A tar arriving as a one-way stream (a decoder, stdin).
pub struct StreamInput<R> {
    inner: R,
    pos: u64,
}

impl<R: Read> StreamInput<R> {
    pub fn new(inner: R) -> Self {
        StreamInput { inner, pos: 0 }
    }
    pub fn into_inner(self) -> R {
        self.inner
    }
}

impl<R: Read> Read for StreamInput<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl<R: Read> Input for StreamInput<R> {
    fn skip(&mut self, n: u64) -> io::Result<()> {
        let copied = io::copy(&mut (&mut self.inner).take(n), &mut io::sink())?;
        self.pos += copied;
        if copied < n {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        Ok(())
    }
    fn position(&self) -> u64 {
        self.pos
    }
}

/// The body of the current entry, for a callback to read (or not).
pub struct Body<'i, I: Input> {
    input: &'i mut I,
    remaining: u64,
}

impl<I: Input> Body<'_, I> {
    pub fn remaining(&self) -> u64 {
        self.remaining
    }
    /// The input, when it is in memory.
    pub fn whole(&self) -> Option<&[u8]> {
        self.input.whole()
    }
}

impl<I: Input> Read for Body<'_, I> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.remaining == 0 {
            return Ok(0);
        }
        let want = buf
            .len()
            .min(usize::try_from(self.remaining).unwrap_or(usize::MAX));
        let n = self.input.read(&mut buf[..want])?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        self.remaining -= n as u64;
        Ok(n)
    }
}

fn fill(input: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match input.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

fn padded(size: u64) -> Option<u64> {
    size.checked_add(511).map(|s| s & !511)
}

/// What a callback returns: `Err` stops the walk.
pub type Visit = Result<(), VisitError>;

/// GNU long names and PAX records seen before the entry they apply to.
#[derive(Default)]
struct Pending {
    long_name: Option<Vec<u8>>,
    long_link: Option<Vec<u8>>,
    pax: Option<Pax>,
}

/// What one header block is.
enum Block {
    /// The end of the archive (zero blocks, or no more bytes).
    End,
    /// A GNU long name/link or a PAX header, consumed into `Pending`.
    Extension,
    /// An entry, with its padded body length.
    Entry(Entry, u64),
}

/// Walks every entry of a tar, calling `visit` with each and its body.
/// Returns the number of entries.
pub fn walk<I: Input>(
    input: &mut I,
    limits: &Limits,
    mut visit: impl FnMut(&Entry, &mut Body<'_, I>) -> Visit,
) -> Result<u64, TarError> {
    let mut count: u64 = 0;
    let mut pending = Pending::default();
    let mut block = [0u8; 512];
    loop {
        let header_at = input.position();
        let err = |problem: TarProblem, entry: Option<String>| TarError {
            offset: header_at,
            entry,
            problem,
        };
        let (entry, body_len) =
            match next_block(input, limits, &mut block, &mut count, &mut pending) {
                Ok(Block::End) => break,
                Ok(Block::Extension) => continue,
                Ok(Block::Entry(entry, body_len)) => (entry, body_len),
                Err(problem) => return Err(err(problem, None)),
            };
        let size = entry.size;
        let mut body = Body {
            input,
            remaining: size,
        };
        let name = || Some(entry.path_lossy());
        visit(&entry, &mut body).map_err(|e| err(e.into(), name()))?;
        let rest = body.remaining + (body_len - size);
        input.skip(rest).map_err(|e| {
            if e.kind() == io::ErrorKind::UnexpectedEof {
                err(TarProblem::TruncatedBody(size), name())
            } else {
                err(TarProblem::Read(e), name())
            }
        })?;
    }
    Ok(count)
}

/// Reads the next header block: the end, an extension header (consumed), or
/// an entry with its extensions applied.
fn next_block<I: Input>(
    input: &mut I,
    limits: &Limits,
    block: &mut [u8; 512],
    count: &mut u64,
    pending: &mut Pending,
) -> Result<Block, TarProblem> {
    let got = fill(input, block).map_err(TarProblem::Read)?;
    if got == 0 {
        // No end-of-archive blocks: many writers stop right here.
        return Ok(Block::End);
    }
    if got < 512 && block[..got].iter().all(|&b| b == 0) {
        // Cut inside the end-of-archive blocks: every entry is whole.
        return Ok(Block::End);
    }
    if got < 512 {
        return Err(TarProblem::TruncatedHeader(got));
    }
    if block.iter().all(|&b| b == 0) {
        // End of archive (the second zero block, if any, is not needed).
        return Ok(Block::End);
    }
    let header = tar::Header::from_byte_slice(block);
    if !checksum_ok(block) {
        return Err(TarProblem::BadChecksum);
    }
    *count += 1;
    if *count > limits.entries {
        return Err(Exceeded::Entries(limits.entries).into());
    }
    let typeflag = block[156];
    let mut size = header.entry_size().map_err(TarProblem::BadSize)?;
    if let Some(p) = pending.pax.as_ref().and_then(|p| p.size) {
        size = p;
    }
    let body_len = padded(size).ok_or(TarProblem::SizeOverflow(size))?;
    if matches!(typeflag, b'L' | b'K' | b'x' | b'g') {
        read_extension(input, limits, typeflag, size, body_len, pending)?;
        return Ok(Block::Extension);
    }
    Ok(Block::Entry(
        entry_of(header, typeflag, size, input.position(), pending),
        body_len,
    ))
}

/// Reads a GNU long name/link or PAX header body into `pending`.
fn read_extension<I: Input>(
    input: &mut I,
    limits: &Limits,
    typeflag: u8,
    size: u64,
    body_len: u64,
    pending: &mut Pending,
) -> Result<(), TarProblem> {
    let cap = if typeflag == b'x' || typeflag == b'g' {
        limits.pax_bytes
    } else {
        limits.name_bytes
    };
    if size > cap as u64 {
        return Err(Exceeded::Header {
            what: meta_name(typeflag),
            size,
            cap,
        }
        .into());
    }
    let mut data = vec![0u8; size as usize];
    let n = fill(input, &mut data).map_err(TarProblem::Read)?;
    if n < data.len() {
        return Err(TarProblem::TruncatedExtension(meta_name(typeflag)));
    }
    input
        .skip(body_len - size)
        .map_err(TarProblem::TruncatedPadding)?;
    match typeflag {
        b'L' => pending.long_name = Some(trim_nul(data)),
        b'K' => pending.long_link = Some(trim_nul(data)),
        b'x' => pending.pax = Some(Pax::parse(&data)),
        // Global PAX headers hold defaults archscan does not need.
        _ => {}
    }
    Ok(())
}

/// The entry a header describes, with the pending extensions applied (and
/// cleared).
fn entry_of(
    header: &tar::Header,
    typeflag: u8,
    size: u64,
    offset: u64,
    pending: &mut Pending,
) -> Entry {
    let p = pending.pax.take();
    let path = p
        .as_ref()
        .and_then(|p| p.path.clone())
        .or_else(|| pending.long_name.take())
        .unwrap_or_else(|| header.path_bytes().into_owned());
    pending.long_name = None;
    let link = p
        .as_ref()
        .and_then(|p| p.linkpath.clone())
        .or_else(|| pending.long_link.take())
        .or_else(|| header.link_name_bytes().map(|l| l.into_owned()));
    pending.long_link = None;
    let kind = match typeflag {
        b'0' | 0 | b'7' => EntryKind::File,
        b'1' => EntryKind::Hardlink,
        b'2' => EntryKind::Symlink,
        b'3' => EntryKind::CharDevice,
        b'4' => EntryKind::BlockDevice,
        b'5' => EntryKind::Dir,
        b'6' => EntryKind::Fifo,
        other => EntryKind::Other(other),
    };
    // Old (V7) tars mark directories by a trailing slash only.
    let kind = if kind == EntryKind::File && path.ends_with(b"/") {
        EntryKind::Dir
    } else {
        kind
    };
    Entry {
        link: match kind {
            EntryKind::Symlink | EntryKind::Hardlink => link,
            _ => None,
        },
        path,
        kind,
        mode: header.mode().unwrap_or(0o644),
        size,
        offset,
    }
}

fn meta_name(typeflag: u8) -> &'static str {
    match typeflag {
        b'L' => "GNU long name",
        b'K' => "GNU long link name",
        b'x' => "PAX header",
        _ => "global PAX header",
    }
}

fn trim_nul(mut v: Vec<u8>) -> Vec<u8> {
    while v.last() == Some(&0) {
        v.pop();
    }
    v
}

/// The header checksum: the sum of all bytes with the checksum field as spaces.
/// Some old writers summed signed bytes; both are accepted.
fn checksum_ok(block: &[u8; 512]) -> bool {
    // The stored value: octal digits after leading spaces or NULs, up to the
    // first non-digit (no digits, or an 8 or 9, is not a checksum).
    let field = &block[148..156];
    let mut stored: u64 = 0;
    let mut digits = 0;
    for &b in field.iter().skip_while(|&&b| b == b' ' || b == 0) {
        if !b.is_ascii_digit() {
            break;
        }
        if b > b'7' {
            return false;
        }
        stored = stored * 8 + u64::from(b - b'0');
        digits += 1;
    }
    if digits == 0 {
        return false;
    }
    // Sums over the block with the field counted as eight spaces; plain loops
    // the compiler vectorises (this runs once per entry of every layer).
    let field_unsigned: u32 = field.iter().map(|&b| u32::from(b)).sum();
    let unsigned = block.iter().map(|&b| u32::from(b)).sum::<u32>() - field_unsigned + 8 * 32;
    if stored == u64::from(unsigned) {
        return true;
    }
    let field_signed: i32 = field.iter().map(|&b| i32::from(b as i8)).sum();
    let signed = block.iter().map(|&b| i32::from(b as i8)).sum::<i32>() - field_signed + 8 * 32;
    i64::try_from(stored).ok() == Some(i64::from(signed))
}

#[derive(Default)]
struct Pax {
    path: Option<Vec<u8>>,
    linkpath: Option<Vec<u8>>,
    size: Option<u64>,
}

impl Pax {
    /// Records are `"<len> <key>=<value>\n"`; malformed records end the parse.
    fn parse(mut data: &[u8]) -> Pax {
        let mut pax = Pax::default();
        while !data.is_empty() {
            let Some(sp) = data.iter().position(|&b| b == b' ') else {
                break;
            };
            let len: usize = match std::str::from_utf8(&data[..sp])
                .ok()
                .and_then(|s| s.parse().ok())
            {
                Some(l) if l > sp + 1 && l <= data.len() => l,
                _ => break,
            };
            let record = &data[sp + 1..len];
            let record = record.strip_suffix(b"\n").unwrap_or(record);
            if let Some(eq) = record.iter().position(|&b| b == b'=') {
                let (key, value) = (&record[..eq], &record[eq + 1..]);
                match key {
                    b"path" => pax.path = Some(value.to_vec()),
                    b"linkpath" => pax.linkpath = Some(value.to_vec()),
                    b"size" => {
                        pax.size = std::str::from_utf8(value).ok().and_then(|s| s.parse().ok())
                    }
                    _ => {}
                }
            }
            data = &data[len..];
        }
        pax
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Builds a tar with the `tar` crate's writer (tests only).
    /// A test entry: path, kind, body, link target, mode.
    pub type Spec<'a> = (&'a str, EntryKind, &'a [u8], Option<&'a str>, u32);

    pub fn build(entries: &[Spec<'_>]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (path, kind, data, link, mode) in entries {
            let mut h = tar::Header::new_gnu();
            h.set_mode(*mode);
            h.set_mtime(0);
            let t = match kind {
                EntryKind::File => tar::EntryType::Regular,
                EntryKind::Dir => tar::EntryType::Directory,
                EntryKind::Symlink => tar::EntryType::Symlink,
                EntryKind::Hardlink => tar::EntryType::Link,
                EntryKind::Fifo => tar::EntryType::Fifo,
                EntryKind::CharDevice => tar::EntryType::Char,
                EntryKind::BlockDevice => tar::EntryType::Block,
                EntryKind::Other(x) => tar::EntryType::new(*x),
            };
            h.set_entry_type(t);
            h.set_size(data.len() as u64);
            if let Some(l) = link {
                b.append_link(&mut h, path, l).unwrap();
            } else {
                b.append_data(&mut h, path, *data).unwrap();
            }
        }
        b.into_inner().unwrap()
    }

    fn names(data: &[u8]) -> Vec<(String, EntryKind, u64)> {
        let mut out = Vec::new();
        walk(&mut SliceInput::new(data), &Limits::default(), |e, _| {
            out.push((e.path_lossy(), e.kind, e.size));
            Ok(())
        })
        .unwrap();
        out
    }

    #[test]
    fn walks_entries_with_long_names() {
        let long = format!("dir/{}", "x".repeat(300));
        let data = build(&[
            ("a/", EntryKind::Dir, b"", None, 0o755),
            (&long, EntryKind::File, b"hello", None, 0o755),
            ("l", EntryKind::Symlink, b"", Some("a/b"), 0o777),
        ]);
        let got = names(&data);
        assert_eq!(got.len(), 3);
        assert_eq!(got[1].0, long);
        assert_eq!(got[1].2, 5);
        assert_eq!(got[2].1, EntryKind::Symlink);
    }

    #[test]
    fn stream_and_slice_agree() {
        let data = build(&[
            ("a", EntryKind::File, &[7u8; 1000], None, 0o644),
            ("b", EntryKind::File, b"x", None, 0o644),
        ]);
        let mut via_stream = Vec::new();
        walk(
            &mut StreamInput::new(&data[..]),
            &Limits::default(),
            |e, body| {
                let mut first = [0u8; 1];
                body.read_exact(&mut first).map_err(VisitError::Read)?;
                via_stream.push((e.path_lossy(), first[0]));
                Ok(())
            },
        )
        .unwrap();
        assert_eq!(via_stream, vec![("a".into(), 7), ("b".into(), b'x')]);
    }

    #[test]
    fn truncated_body_is_an_error() {
        let data = build(&[("a", EntryKind::File, &[7u8; 1000], None, 0o644)]);
        let cut = &data[..700];
        let err = walk(&mut SliceInput::new(cut), &Limits::default(), |_, _| Ok(())).unwrap_err();
        assert!(
            matches!(err.problem, TarProblem::TruncatedBody(1000)),
            "{err}"
        );
        assert!(err.problem.is_truncated());
        assert_eq!(err.entry.as_deref(), Some("a"));
    }

    #[test]
    fn bad_checksum_is_an_error() {
        let mut data = build(&[("a", EntryKind::File, b"x", None, 0o644)]);
        data[0] ^= 1;
        let err = walk(&mut SliceInput::new(&data), &Limits::default(), |_, _| {
            Ok(())
        })
        .unwrap_err();
        assert!(matches!(err.problem, TarProblem::BadChecksum), "{err}");
    }

    #[test]
    fn entry_limit_is_enforced() {
        let data = build(&[
            ("a", EntryKind::File, b"x", None, 0o644),
            ("b", EntryKind::File, b"x", None, 0o644),
        ]);
        let limits = Limits {
            entries: 1,
            ..Limits::default()
        };
        let err = walk(&mut SliceInput::new(&data), &limits, |_, _| Ok(())).unwrap_err();
        assert_eq!(err.problem.exceeded(), Some(Exceeded::Entries(1)), "{err}");
    }

    #[test]
    fn pax_path_overrides_header() {
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_ustar();
        h.set_size(0);
        h.set_entry_type(tar::EntryType::Regular);
        b.append_pax_extensions([("path", &b"very/long/pax/name"[..])])
            .unwrap();
        b.append_data(&mut h, "short", &b""[..]).unwrap();
        let data = b.into_inner().unwrap();
        assert_eq!(names(&data)[0].0, "very/long/pax/name");
    }
}
