//! The library's one error type. Every variant names what the user needs to act:
//! the archive, the member or layer, the path inside the image, what was wrong.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("{archive}: {what}")]
    Format { archive: String, what: String },

    #[error("{archive}: member {member}: {what}")]
    Member {
        archive: String,
        member: String,
        what: String,
    },

    #[error("{archive}: layer {layer}: {what}")]
    Layer {
        archive: String,
        layer: String,
        what: String,
    },

    #[error("{archive}: image {image}: {what}")]
    Image {
        archive: String,
        image: String,
        what: String,
    },

    #[error("limit reached: {0}")]
    Limit(String),

    #[error("{0}")]
    Usage(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Error {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}
