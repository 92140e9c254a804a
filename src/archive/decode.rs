//! Decoders for compressed blobs (layers and outer archives): the compression
//! is told by the blob's first bytes, never by a name or a media type, and
//! every decoder's memory is bounded (zstd windows and xz dictionaries over
//! 128 MiB are refused).

use std::io::{self, BufRead, Read};

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

/// Opens a decoder for `raw` according to its magic bytes.
pub fn decoder<'r, R: BufRead + 'r>(
    raw: R,
    compression: Compression,
) -> io::Result<Box<dyn Read + 'r>> {
    Ok(match compression {
        Compression::None => Box::new(raw),
        // Multi-member gzip (estargz, pigz, concatenated streams) is one stream.
        Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(raw)),
        Compression::Zstd => {
            let mut d = zstd::stream::read::Decoder::with_buffer(raw)?;
            // Frames asking for windows over 128 MiB (zstd --long=27) are refused:
            // a hostile frame cannot make us allocate gigabytes.
            d.window_log_max(27)?;
            Box::new(d)
        }
        Compression::Xz => {
            // Concatenated streams (`xz` of several files, pixz) are one blob.
            let stream = liblzma::stream::Stream::new_stream_decoder(
                XZ_MEMLIMIT,
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
        // A 1.5 GiB dictionary in the header: refused before any allocation.
        assert!(read(&encode(1536 << 20)).is_err());
    }
}
