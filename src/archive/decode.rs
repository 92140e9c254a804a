//! Decoders for compressed blobs (layers and outer archives): the compression
//! is told by the blob's first bytes, never by a name or a media type, and
//! every decoder's memory is bounded (zstd windows and xz dictionaries over
//! 128 MiB are refused). [`metered_decoder`] also reads the window (zstd
//! frame header) or dictionary (xz block header) size before the decoder is
//! built and admits it against the run's decoder budget
//! ([`Limits::decoder_bytes`], through the [`Meter`]), holding its share
//! until the decoder is dropped.

use std::io::{self, BufRead, Read};

use crate::limits::Limits;
use crate::meter::{DecoderPermit, Meter};

/// How a blob (layer or outer archive) is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    None,
    Gzip,
    Zstd,
    Xz,
    Bzip2,
}

impl Compression {
    /// Tells the compression from the first bytes of a blob.
    pub fn sniff(first: &[u8]) -> Compression {
        if first.starts_with(&[0x1f, 0x8b]) {
            Compression::Gzip
        } else if first.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) || zstd_skippable(first) {
            Compression::Zstd
        } else if first.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
            Compression::Xz
        } else if first.starts_with(b"BZh") {
            Compression::Bzip2
        } else {
            Compression::None
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
            Compression::Xz => "xz",
            Compression::Bzip2 => "bzip2",
        }
    }
}

/// A zstd skippable frame (magic `0x184D2A50`–`0x184D2A5F`, little-endian):
/// writers put metadata there before the first data frame (seekable zstd,
/// some layer tools); the decoder skips it, so the blob is zstd.
fn zstd_skippable(first: &[u8]) -> bool {
    matches!(first, [b0, 0x2a, 0x4d, 0x18, ..] if b0 & 0xf0 == 0x50)
}

/// Most memory an xz stream may make the decoder use: a 128 MiB dictionary
/// (the most `xz -9e` writes is 64 MiB) and its state, the same bound as zstd
/// windows. A header asking for more (up to 4 GiB) fails to decode.
pub const XZ_MEMLIMIT: u64 = (128 << 20) + (8 << 20);

/// Opens a decoder for `raw` according to its magic bytes, with the largest
/// window and dictionary allowed (no budget).
pub fn decoder<'r, R: BufRead + 'r>(
    raw: R,
    compression: Compression,
) -> io::Result<Box<dyn Read + 'r>> {
    build(raw, compression, ZSTD_WINDOW_LOG_MAX, XZ_MEMLIMIT)
}

/// The largest zstd window accepted: 128 MiB (`zstd --long=27`). Frames
/// asking for more are refused: a hostile frame cannot make us allocate
/// gigabytes.
const ZSTD_WINDOW_LOG_MAX: u32 = 27;

/// The least a zstd or xz decoder is charged (and allowed to grow to in
/// later frames or blocks): 8 MiB, the window of `zstd -19` and the
/// dictionary of `xz -6`, so that a stream whose first frame is small can
/// still hold ordinary frames after it.
const FLOOR_LOG: u32 = 23;

/// What the decoder of a gzip stream holds (32 KiB window and its state).
const GZIP_BYTES: u64 = 64 << 10;

/// What a decoder for a blob starting with `first` will hold, read from its
/// header, and what it is allowed: for zstd the window log (the first
/// frame's window, at least 8 MiB, at most 128 MiB), for xz the memory
/// limit (the first block's dictionary, at least 8 MiB, plus 1 MiB of
/// state, at most [`XZ_MEMLIMIT`]). A header not in `first` is charged the
/// most.
pub fn decoder_memory(first: &[u8], compression: Compression) -> u64 {
    match compression {
        Compression::None | Compression::Bzip2 => 0,
        Compression::Gzip => GZIP_BYTES,
        Compression::Zstd => 1 << zstd_log(first),
        Compression::Xz => xz_memlimit(first),
    }
}

fn zstd_log(first: &[u8]) -> u32 {
    let log = match zstd_window(first) {
        Some(w) => 64 - w.saturating_sub(1).leading_zeros(),
        None => ZSTD_WINDOW_LOG_MAX,
    };
    log.clamp(FLOOR_LOG, ZSTD_WINDOW_LOG_MAX)
}

fn xz_memlimit(first: &[u8]) -> u64 {
    match xz_dict(first) {
        Some(d) => (d.max(1 << FLOOR_LOG) + (1 << 20)).min(XZ_MEMLIMIT),
        None => XZ_MEMLIMIT,
    }
}

/// The window size of the first zstd data frame (after any skippable
/// frames), from its header: the window descriptor, or for a single-segment
/// frame its content size.
fn zstd_window(mut b: &[u8]) -> Option<u64> {
    while zstd_skippable(b) {
        let len = u32::from_le_bytes(b.get(4..8)?.try_into().ok()?);
        b = b.get(8usize.checked_add(usize::try_from(len).ok()?)?..)?;
    }
    if !b.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        return None;
    }
    let fhd = *b.get(4)?;
    let single = fhd & 0x20 != 0;
    if !single {
        let wd = *b.get(5)?;
        let log = 10 + u32::from(wd >> 3);
        let base = 1u64.checked_shl(log)?;
        return Some(base + (base / 8) * u64::from(wd & 7));
    }
    let did = [0usize, 1, 2, 4][usize::from(fhd & 3)];
    let at = 5 + did;
    let fcs = match fhd >> 6 {
        0 => u64::from(*b.get(at)?),
        1 => u64::from(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?)) + 256,
        2 => u64::from(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?)),
        _ => u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?),
    };
    Some(fcs.max(1 << 10))
}

/// The LZMA2 dictionary size of the first block of an xz stream (0 for a
/// stream without blocks).
fn xz_dict(b: &[u8]) -> Option<u64> {
    if !b.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
        return None;
    }
    let size_byte = *b.get(12)?;
    if size_byte == 0 {
        return Some(0); // the index: no blocks
    }
    let header = b.get(12..12 + (usize::from(size_byte) + 1) * 4)?;
    let flags = *header.get(1)?;
    let mut at = 2;
    let varint = |at: &mut usize| -> Option<u64> {
        let mut v = 0u64;
        for i in 0..9 {
            let byte = *header.get(*at)?;
            *at += 1;
            v |= u64::from(byte & 0x7f) << (7 * i);
            if byte & 0x80 == 0 {
                return Some(v);
            }
        }
        None
    };
    if flags & 0x40 != 0 {
        varint(&mut at)?;
    }
    if flags & 0x80 != 0 {
        varint(&mut at)?;
    }
    for _ in 0..=(flags & 3) {
        let id = varint(&mut at)?;
        let props = usize::try_from(varint(&mut at)?).ok()?;
        if id == 0x21 {
            // LZMA2: one byte of dictionary size, the last filter.
            let d = *header.get(at)?;
            return Some(match d {
                0..=39 => (2 | u64::from(d & 1)) << (u32::from(d) / 2 + 11),
                40 => u64::from(u32::MAX),
                _ => return None,
            });
        }
        at = at.checked_add(props)?;
    }
    None
}

/// A decoder whose memory was admitted against the run's budget: the
/// admission is given back when it is dropped.
struct Metered<'r> {
    inner: Box<dyn Read + 'r>,
    _permit: Option<DecoderPermit>,
}

impl Read for Metered<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf)
    }
}

/// Opens a decoder for `raw` as [`decoder`] does, after admitting the memory
/// its header asks for (see [`decoder_memory`]) against
/// `limits.decoder_bytes` through `meter`: it waits while other decoders
/// hold the budget, and fails when it alone cannot fit. The decoder is built
/// no bigger than what was admitted: a later frame or block asking for more
/// fails to decode.
pub fn metered_decoder<'r, R: BufRead + 'r>(
    mut raw: R,
    compression: Compression,
    limits: &Limits,
    meter: &Meter,
) -> io::Result<Box<dyn Read + 'r>> {
    let first = raw.fill_buf()?;
    let need = decoder_memory(first, compression);
    let (log, memlimit) = (zstd_log(first), xz_memlimit(first));
    let permit = match need {
        0 => None,
        n => Some(meter.admit_decoder(n, limits).map_err(io::Error::other)?),
    };
    Ok(Box::new(Metered {
        inner: build(raw, compression, log, memlimit)?,
        _permit: permit,
    }))
}

fn build<'r, R: BufRead + 'r>(
    raw: R,
    compression: Compression,
    zstd_window_log: u32,
    xz_memlimit: u64,
) -> io::Result<Box<dyn Read + 'r>> {
    Ok(match compression {
        Compression::None => Box::new(raw),
        // Multi-member gzip (estargz, pigz, concatenated streams) is one stream.
        Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(raw)),
        Compression::Zstd => {
            let mut d = zstd::stream::read::Decoder::with_buffer(raw)?;
            d.window_log_max(zstd_window_log)?;
            Box::new(d)
        }
        Compression::Xz => {
            // Concatenated streams (`xz` of several files, pixz) are one blob.
            let stream = liblzma::stream::Stream::new_stream_decoder(
                xz_memlimit,
                liblzma::stream::CONCATENATED,
            )
            .map_err(io::Error::other)?;
            Box::new(liblzma::bufread::XzDecoder::new_stream(raw, stream))
        }
        Compression::Bzip2 => {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "bzip2 compression is not supported",
            ))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zstd_with_a_leading_skippable_frame_is_zstd() {
        let mut blob = vec![0x5e, 0x2a, 0x4d, 0x18, 4, 0, 0, 0, b'm', b'e', b't', b'a'];
        blob.extend(zstd::encode_all(&b"hello"[..], 3).unwrap());
        assert_eq!(Compression::sniff(&blob), Compression::Zstd);
        let mut out = Vec::new();
        decoder(&blob[..], Compression::Zstd)
            .unwrap()
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, b"hello");
    }

    /// `data` as a zstd frame with a window of 2^`log` bytes.
    fn zst(log: u32, data: &[u8]) -> Vec<u8> {
        let mut enc = zstd::stream::Encoder::new(Vec::new(), 1).unwrap();
        enc.window_log(log).unwrap();
        std::io::Write::write_all(&mut enc, data).unwrap();
        enc.finish().unwrap()
    }

    #[test]
    fn window_and_dictionary_sizes_are_read_from_headers() {
        // A streamed frame declares its window; a small one-shot frame its size.
        assert_eq!(zstd_window(&zst(25, b"x")), Some(32 << 20));
        assert_eq!(decoder_memory(&zst(25, b"x"), Compression::Zstd), 32 << 20);
        assert_eq!(decoder_memory(&zst(12, b"x"), Compression::Zstd), 8 << 20);
        // Single segment: the content size (5 bytes; the least window is 1 KiB).
        assert_eq!(
            zstd_window(&[0x28, 0xb5, 0x2f, 0xfd, 0x20, 5]),
            Some(1 << 10)
        );
        let fcs = [0x28, 0xb5, 0x2f, 0xfd, 0xa0, 0, 0, 0, 1];
        assert_eq!(zstd_window(&fcs), Some(1 << 24));
        let mut skip = vec![0x50, 0x2a, 0x4d, 0x18, 2, 0, 0, 0, 9, 9];
        skip.extend(zst(26, b"x"));
        assert_eq!(zstd_window(&skip), Some(64 << 20));
        // Cut short: the most.
        assert_eq!(
            decoder_memory(&[0x28, 0xb5, 0x2f, 0xfd], Compression::Zstd),
            128 << 20
        );
        assert_eq!(decoder_memory(&[0x1f, 0x8b], Compression::Gzip), 64 << 10);
        assert_eq!(decoder_memory(b"tar", Compression::None), 0);
    }

    #[test]
    fn a_metered_decoder_cannot_grow_past_what_was_admitted() {
        let limits = Limits::default();
        let meter = Meter::default();
        let read = |blob: &[u8]| {
            let mut out = Vec::new();
            metered_decoder(blob, Compression::Zstd, &limits, &meter)
                .and_then(|mut d| d.read_to_end(&mut out))
                .map(|_| out)
        };
        // A small first frame (admitted at 8 MiB), then one asking for 64 MiB.
        let mut blob = zst(20, b"one ");
        blob.extend(zst(26, b"two"));
        assert!(read(&blob).is_err());
        let mut out = Vec::new();
        decoder(&blob[..], Compression::Zstd)
            .unwrap()
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, b"one two");
        // Ordinary frames after a small one are read.
        let mut blob = zst(20, b"one ");
        blob.extend(zst(23, b"two"));
        assert_eq!(read(&blob).unwrap(), b"one two");
        assert_eq!(meter.decoders_in_use(), 0);
        assert_eq!(meter.decoders_peak(), 8 << 20);
    }

    #[test]
    fn xz_dictionaries_over_the_limit_are_refused() {
        use liblzma::stream::{Check, LzmaOptions, Stream};
        let encode = |dict: u32| {
            let mut opts = LzmaOptions::new_preset(0).unwrap();
            opts.dict_size(dict);
            let mut filters = liblzma::stream::Filters::new();
            filters.lzma2(&opts);
            let stream = Stream::new_stream_encoder(&filters, Check::Crc64).unwrap();
            let mut enc = liblzma::write::XzEncoder::new_stream(Vec::new(), stream);
            std::io::Write::write_all(&mut enc, b"hello").unwrap();
            enc.finish().unwrap()
        };
        let read = |blob: &[u8]| {
            let mut out = Vec::new();
            decoder(blob, Compression::Xz)
                .unwrap()
                .read_to_end(&mut out)
                .map(|_| out)
        };
        assert_eq!(read(&encode(64 << 20)).unwrap(), b"hello");
        // Metered: the dictionary from the header, and 1 MiB of state, suffice.
        for dict in [4 << 10, 8 << 20, 64 << 20, 128 << 20] {
            let mut out = Vec::new();
            metered_decoder(
                &encode(dict)[..],
                Compression::Xz,
                &Limits::default(),
                &Meter::default(),
            )
            .unwrap()
            .read_to_end(&mut out)
            .unwrap();
            assert_eq!(out, b"hello", "dictionary of {dict}");
        }
        assert_eq!(xz_dict(&encode(64 << 20)), Some(64 << 20));
        assert_eq!(xz_dict(&encode(3 << 20)), Some(3 << 20));
        assert_eq!(
            decoder_memory(&encode(64 << 20), Compression::Xz),
            (64 << 20) + (1 << 20)
        );
        // A 1.5 GiB dictionary in the header: refused before any allocation.
        assert!(read(&encode(1536 << 20)).is_err());
    }
}
