//! Layers: one pass over each layer blob ([`scan`]) and the merged filesystem
//! the layers make when applied in order ([`merge`]).

pub mod merge;
pub mod scan;
