//! Decoders for compressed blobs (layers and outer archives): the compression
//! is told by the blob's first bytes, never by a name or a media type, and
//! every decoder's memory is bounded (zstd windows over 128 MiB are refused).

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
        } else if first.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
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
        Compression::Xz => Box::new(liblzma::bufread::XzDecoder::new_multi_decoder(raw)),
        Compression::Bzip2 => {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "bzip2 compression is not supported",
            ))
        }
    })
}
