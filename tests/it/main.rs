//! The one integration-test binary: it runs the real `archscan` as people and
//! CI run it. `support/` holds what every test shares — the runner (deadline,
//! exit code, stdout, stderr), temporary directories and the archive builder
//! (tar entries down to raw headers, gzip/zstd, docker-archive and
//! oci-archive). The test modules:
//!
//! - `cli`: exit codes and `--fail-on`, SARIF against its schema, completions
//!   and the man page, stdin, root filesystem directories, single programs,
//!   several inputs, `--output`, a closed pipe, `--image`.
//! - `fleet`: many inputs in one run (`--inputs-from`, `--recursive`,
//!   registry patterns), the summary in text, Markdown and JSONL, `--shard`
//!   and `archscan summarize`, the examples of docs/fleet.md per shard.
//! - `fixtures`: every committed fixture, whole output against a reviewed
//!   snapshot in `tests/snapshots/`.
//! - `fleet_cache`: the run-wide layer cache through the library: shared
//!   layers read once, images reached twice judged once, hashes that
//!   disprove a key, a cache with no room.
//! - `hostile`: broken and hostile inputs, one module per kind of damage, and
//!   the caps of `Limits` through the library.
//! - `hosts`: `--host`, `--page-size`, `archscan hosts`, the page-size rule
//!   and 32-bit ARM on hosts with and without AArch32.
//! - `tls`: `no-ca-certificates` on real Debian bytes and its twin.
//! - `users`: `user-cannot-exec` and `user-not-found` on real bytes, `--user`.
//! - `versions`: symbol versions (`missing-symbol-version`) on real Debian
//!   bytes, from a file and from a stream.
//!
//! Run one module with `cargo test --test it hostile::`.

mod support;

mod cli;
mod contract;
mod fixtures;
mod fleet;
mod fleet_cache;
mod hostile;
mod hosts;
mod remote;
mod tls;
mod users;
mod versions;
