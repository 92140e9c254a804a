//! The detection functions of the rules that [`crate::rules`] defines: each a
//! small named function over the judge's [`Subject`](super::Subject) (or, for
//! the archive-level rules, over the image plans) that returns findings. The
//! judge decides what each is called on; the words of each finding are here.
//!
//! - [`exec`]: what breaks while the runtime resolves and execs the command
//!   (entrypoint-missing, missing-interpreter, no-shebang, not-executable,
//!   crlf-shebang, no-entrypoint).
//! - [`platform`]: code against the label, the index and the target
//!   (arch-mismatch, variant-mismatch, isa-level, foreign-os for what runs,
//!   target-mismatch, platform-disagreement).
//! - [`loader`]: the dynamic loader and libraries (missing-loader,
//!   libc-mismatch, missing-library).
//! - [`files`]: every other native file (foreign-binary, foreign-os,
//!   damaged-file, no-binaries).
//! - [`archive`]: facts about the archive's blobs (digest-mismatch,
//!   same-binary-across-platforms).

pub mod archive;
pub mod exec;
pub mod files;
pub mod loader;
pub mod platform;

use crate::identify::Ident;
use crate::platform::Platform;

/// The fix for code of `real` in an image labelled `declared`.
fn rebuild_hint(declared: &Platform, real: &Platform) -> String {
    format!(
        "rebuild for the label: `docker buildx build --platform {declared} .`; if the binary is copied or downloaded into the image, build or fetch it for $TARGETARCH instead of the build machine's {real}. If {real} is what you meant, fix the label: `--platform {real}`"
    )
}

/// How a file's format is named in messages.
fn format_label(ident: &Ident) -> &'static str {
    match ident {
        Ident::Elf(_) => "ELF",
        Ident::Macho(_) => "Mach-O (macOS)",
        Ident::Pe(_) => "PE (Windows)",
        Ident::Script(_) => "script",
        Ident::Other { .. } => "file",
    }
}

fn foreign_os_hint(ident: &Ident, declared: &Platform) -> String {
    match ident {
        Ident::Macho(_) => format!(
            "this macOS binary was probably copied from the build machine (node_modules, a venv, a vendored tool): install dependencies inside the image (`RUN npm ci`, `RUN pip install`) or build it for {declared}"
        ),
        Ident::Pe(_) => format!(
            "a Windows binary cannot run in a {} image: build or download the {declared} version",
            declared.os
        ),
        _ => format!("build it for {declared}"),
    }
}
