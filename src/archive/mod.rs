//! Reading bytes: everything that touches an archive's raw bytes, below the
//! notion of images and layers.
//!
//! - [`bytes`]: a file memory-mapped read-only (with a plain-read fallback),
//!   and pages given back once scanned — archscan's only `unsafe` code;
//! - [`decode`]: gzip, zstd and xz decoders chosen by magic bytes;
//! - [`tar`]: a bounded tar walk over a slice (bodies never read) or a
//!   one-way stream (bodies handed over once, as they pass).
//!
//! [`crate::source`] builds its backings (mapped, directory, streamed) on
//! these; [`crate::layers::scan`] walks each layer with them.

pub mod bytes;
pub mod decode;
pub mod tar;
