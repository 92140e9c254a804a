//! Every cap on what input may make archscan allocate or follow, in one value
//! passed down from the command line, so that tests can lower them.

use crate::identify::IdentLimits;

#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest JSON document (manifest, index, config) read.
    pub json_bytes: usize,
    /// Deepest JSON nesting accepted.
    pub json_depth: usize,
    /// Deepest chain of nested image indexes followed.
    pub index_depth: usize,
    /// Most manifests read from one archive.
    pub manifests: usize,
    /// Longest path or link name in a tar header (PAX or GNU long names).
    pub name_bytes: usize,
    /// Largest PAX extended header.
    pub pax_bytes: usize,
    /// Most entries in one layer (or in the outer archive).
    pub entries: u64,
    /// Most symlinks followed when resolving one path (Linux: 40).
    pub link_hops: usize,
    /// Most bytes one layer may decompress to.
    pub layer_bytes: u64,
    /// Most memory one layer's index may take: every entry's path, link
    /// target and kept content, plus a fixed cost per entry
    /// ([`crate::layers::scan::entry_cost`]). Bounds what a small compressed
    /// layer of many long names can make archscan hold.
    pub index_bytes: u64,
    /// Most memory the indexes of all layers alive at once may take (every
    /// input of the run), charged while they are built to the run's
    /// [`crate::meter::Meter`].
    pub index_bytes_total: u64,
    /// Caps of executable identification.
    pub ident: IdentLimits,
    /// Caps of what the judge's rules may examine and carry.
    pub judge: JudgeLimits,
    /// Most memory the decoders of compressed blobs alive at once may take
    /// (zstd windows, xz dictionaries, counted from their headers before the
    /// decoder is built); a decoder that does not fit waits for others to
    /// finish, one that alone exceeds it is refused.
    pub decoder_bytes: u64,
}

/// Caps on the judge's work per image, so that its cost does not multiply
/// across inputs an image controls (`DT_NEEDED` lists × `LD_LIBRARY_PATH`,
/// `include` lines in `/etc/ld.so.conf`, `PATH`). When one cuts something,
/// the image gets a note saying so.
#[derive(Debug, Clone)]
pub struct JudgeLimits {
    /// Most directories of one object's library search list examined
    /// (`DT_RPATH`, `LD_LIBRARY_PATH`, `DT_RUNPATH`, `/etc/ld.so.conf`, the
    /// defaults, in the loader's order).
    pub search_dirs: usize,
    /// Most missing libraries looked for and reported per program; the
    /// search stops there.
    pub missing_libs: usize,
    /// Most search-list directories one finding lists (the rest counted).
    pub listed_dirs: usize,
    /// Most characters of one finding's message or hint taken from the image.
    pub finding_chars: usize,
    /// Most `include` lines of `/etc/ld.so.conf` and the files it includes
    /// followed, in all.
    pub conf_includes: usize,
    /// Deepest chain of `include`s followed from `/etc/ld.so.conf`.
    pub conf_depth: usize,
    /// Most `PATH` entries examined when looking a command up (each lookup
    /// follows at most `link_hops` symlinks).
    pub path_dirs: usize,
}

impl Default for JudgeLimits {
    fn default() -> Self {
        JudgeLimits {
            search_dirs: 256,
            missing_libs: 64,
            listed_dirs: 16,
            finding_chars: 4096,
            conf_includes: 64,
            conf_depth: 8,
            path_dirs: 256,
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            json_bytes: 16 * 1024 * 1024,
            json_depth: 64,
            index_depth: 8,
            manifests: 4096,
            name_bytes: 64 * 1024,
            pax_bytes: 1024 * 1024,
            entries: 10_000_000,
            link_hops: 40,
            layer_bytes: 1 << 40,
            index_bytes: 192 << 20,
            index_bytes_total: 224 << 20,
            ident: IdentLimits::default(),
            judge: JudgeLimits::default(),
            decoder_bytes: 160 << 20,
        }
    }
}

/// A cap of [`Limits`] that an input reached: the typed reason inside every
/// stage's "limit reached" error, so that callers and tests can tell which.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Exceeded {
    #[error("more than {0} entries (limit)")]
    Entries(u64),
    #[error("{what} of {size} bytes is over the limit of {cap}")]
    Header {
        what: &'static str,
        size: u64,
        cap: usize,
    },
    #[error("layer decompresses to more than {0} bytes (limit)")]
    LayerBytes(u64),
    #[error("what archscan keeps of these entries would take more than {0} bytes (paths, link targets, small files; limit)")]
    IndexBytes(u64),
    #[error("what archscan keeps of all layers together would take more than {0} bytes (paths, link targets, small files; limit)")]
    IndexBytesTotal(u64),
    #[error("JSON document of {size} bytes is over the {cap}-byte limit")]
    JsonBytes { size: u64, cap: usize },
    #[error("JSON nested {depth} levels deep, over the limit of {cap}")]
    JsonDepth { depth: usize, cap: usize },
    #[error("indexes nested more than {0} deep (limit)")]
    IndexDepth(usize),
    #[error("more than {0} manifests (limit)")]
    Manifests(usize),
    #[error("the decoders would need {need} bytes (window or dictionary), over the decoder memory budget of {cap} bytes (limit)")]
    DecoderBytes { need: u64, cap: u64 },
}
