//! The one integration-test binary: it runs the real `archscan` as people and
//! CI run it. `support/` holds what every test shares — the runner (deadline,
//! exit code, stdout, stderr), temporary directories and the archive builder
//! (tar entries down to raw headers, gzip/zstd, docker-archive and
//! oci-archive). The test modules:
//!
//! - `cli`: exit codes and `--fail-on`, SARIF against its schema, completions
//!   and the man page, stdin, root filesystem directories, single programs,
//!   several inputs, `--output`, a closed pipe, `--image`.
//! - `fixtures`: every committed fixture, whole output against a reviewed
//!   snapshot in `tests/snapshots/`.
//! - `hostile`: broken and hostile inputs, one module per kind of damage, and
//!   the caps of `Limits` through the library.
//!
//! Run one module with `cargo test --test it hostile::`.

mod support;

mod cli;
mod fixtures;
mod hostile;
