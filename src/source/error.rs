//! Why an input cannot be opened, or a member read from it: each variant
//! names what the user needs to act — the archive, the member, what was
//! wrong — and keeps the typed cause as its `source`. The other stages have
//! their own error types: [`crate::archive::tar::TarError`],
//! [`crate::layers::scan::ScanError`], [`super::LayerError`],
//! [`crate::image::PlanError`] and [`crate::image::CatalogError`]; a cap
//! that was reached is a [`crate::limits::Exceeded`] inside them.

use std::path::PathBuf;

use crate::archive::tar::TarError;

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// Nothing was saved (a failed `docker save`).
    #[error("{archive}: the input is empty")]
    Empty { archive: String },

    /// A tar with no entry at all holds no image and no filesystem.
    #[error("{archive}: the archive is empty: no tar entries (nothing to judge)")]
    NoEntries { archive: String },

    /// No tar header at the start: not an archive archscan reads.
    #[error("{archive}: not an image archive: there is no tar header at its start ({}). archscan reads `docker save` tars, OCI archives and layouts (plain or gzip/zstd/xz-compressed), root filesystems and single programs", .source.problem)]
    NotAnArchive {
        archive: String,
        #[source]
        source: TarError,
    },

    /// The outer archive ends early: a copy or download not finished.
    #[error("{archive}: {source}: the file is incomplete; check the copy or download")]
    Truncated {
        archive: String,
        #[source]
        source: TarError,
    },

    /// The outer archive is damaged or over a cap.
    #[error("{archive}: {source}")]
    Tar {
        archive: String,
        #[source]
        source: TarError,
    },

    /// The outer compression cannot be decoded.
    #[error("{archive}: {source}")]
    Decoder {
        archive: String,
        #[source]
        source: std::io::Error,
    },

    /// A program read from a stream failed or is too large to hold.
    #[error("{archive}: {what}")]
    Program { archive: String, what: String },

    #[error("{archive}: member {member}: {member} is {size} bytes, over the {cap}-byte limit for a JSON document")]
    MemberTooBig {
        archive: String,
        member: String,
        size: u64,
        cap: usize,
    },

    /// A member of a blob store (a registry) could not be read.
    #[error("{archive}: member {member}: {what}")]
    Blob {
        archive: String,
        member: String,
        what: String,
    },

    /// The input (a mapped file) changed while it was read: what was read
    /// is not the file, so nothing is judged from it.
    #[error("{archive}: {changed}")]
    Changed {
        archive: String,
        changed: crate::archive::bytes::Changed,
    },

    #[error("{archive}: member {member}: not a JSON document")]
    NotJson { archive: String, member: String },
}

pub type Result<T, E = SourceError> = std::result::Result<T, E>;

impl SourceError {
    /// The cap of [`crate::limits::Limits`] reached, if that is why the
    /// input is unreadable.
    pub fn exceeded(&self) -> Option<crate::limits::Exceeded> {
        match self {
            SourceError::Tar { source, .. } | SourceError::Truncated { source, .. } => {
                source.problem.exceeded()
            }
            SourceError::MemberTooBig { size, cap, .. } => {
                Some(crate::limits::Exceeded::JsonBytes {
                    size: *size,
                    cap: *cap,
                })
            }
            _ => None,
        }
    }

    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> SourceError {
        SourceError::Io {
            path: path.into(),
            source,
        }
    }
}
