//! Fleets: the list of inputs one run judges, before any is opened. The
//! words of the command line and of `--inputs-from` lists ([`read_list`])
//! are expanded ([`expand`]): a directory with `--recursive` into the image
//! archives and OCI layouts under it, `registry:HOST/REPO:*` into every tag
//! of the repository, `registry:HOST/*` into every tag of every repository
//! of the registry's catalog. Then duplicates are dropped and, with
//! `--shard K/N`, the sorted list is cut into N parts ([`Shard`]), so that N
//! workers each judge one and `archscan summarize` joins their JSONL.
//!
//! Inputs are paths as bytes ([`OsString`]): a file name need not be UTF-8.
//! [`display`] is how such a name is shown (each invalid byte as `\xNN`).

use std::ffi::{OsStr, OsString};
use std::path::Path;

use rayon::prelude::*;

use crate::remote::registry::Registry;
use crate::remote::{Reference, RemoteOptions, ARCHIVE_SUFFIXES};
use crate::report::Report;
use crate::ScanOptions;

/// One entry of the expanded input list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// A word for [`crate::pipeline::scan_os`]: a path or an image reference.
    Input(OsString),
    /// A word that could not be expanded (a directory that cannot be walked,
    /// a registry that lists nothing), with why: reported as an unreadable
    /// input, so the run exits 2 while every other input is still judged.
    Failed { word: OsString, error: String },
}

impl Item {
    /// The word this entry stands for (what sorting and sharding look at).
    pub fn word(&self) -> &OsStr {
        match self {
            Item::Input(w) | Item::Failed { word: w, .. } => w,
        }
    }

    /// The report of an entry that failed to expand; `None` for an input.
    pub fn failed_report(&self, opts: &ScanOptions) -> Option<Report> {
        let Item::Failed { word, error } = self else {
            return None;
        };
        Some(Report {
            errors: vec![error.clone()],
            ..Report::new(display(word), opts.target.clone())
        })
    }
}

/// How a path that may not be UTF-8 is shown and reported: UTF-8 as is,
/// each byte of an invalid sequence as `\xNN` (as names inside images are).
pub fn display(word: &OsStr) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        crate::paths::decode(word.as_bytes()).into_owned()
    }
    #[cfg(not(unix))]
    {
        word.to_string_lossy().into_owned()
    }
}

/// The bytes of a word, for sorting (on Unix, the path's own bytes).
fn bytes_of(word: &OsStr) -> Vec<u8> {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        word.as_bytes().to_vec()
    }
    #[cfg(not(unix))]
    {
        word.to_string_lossy().into_owned().into_bytes()
    }
}

fn from_bytes(b: &[u8]) -> OsString {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        OsStr::from_bytes(b).to_os_string()
    }
    #[cfg(not(unix))]
    {
        OsString::from(String::from_utf8_lossy(b).into_owned())
    }
}

/// The inputs an `--inputs-from` list names: one per line (`\n` or `\r\n`),
/// surrounding spaces and tabs trimmed; blank lines and lines whose first
/// other character is `#` skipped. A line is a path or a reference as on the
/// command line, and need not be UTF-8.
pub fn read_list(bytes: &[u8]) -> Vec<OsString> {
    bytes
        .split(|b| *b == b'\n')
        .map(|l| l.trim_ascii())
        .filter(|l| !l.is_empty() && !l.starts_with(b"#"))
        .map(from_bytes)
        .collect()
}

/// `--shard K/N`: this worker takes the inputs at positions K, K+N, K+2N, …
/// of the expanded list sorted by bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl Shard {
    /// Parses `K/N` with 0 ≤ K < N (`$JOB_COMPLETION_INDEX/N`).
    pub fn parse(s: &str) -> Result<Shard, String> {
        let bad = || {
            format!("{s}: expected K/N with 0 <= K < N, e.g. 0/4 (K counts from 0, as $JOB_COMPLETION_INDEX does)")
        };
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let index: usize = k.trim().parse().map_err(|_| bad())?;
        let count: usize = n.trim().parse().map_err(|_| bad())?;
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// What [`expand`] needs: whether directories are walked, and how
/// registries are reached.
#[derive(Debug, Clone, Copy)]
pub struct ExpandOptions<'a> {
    /// `--recursive`: a directory (that is not an OCI layout) stands for the
    /// archives and layouts under it.
    pub recursive: bool,
    pub remote: &'a RemoteOptions,
}

/// Expands every word, in order: a directory with `--recursive`, a
/// `registry:…:*` or `registry:…/*` pattern; any other word is kept.
pub fn expand(words: &[OsString], opts: ExpandOptions<'_>) -> Vec<Item> {
    let mut out = Vec::new();
    for w in words {
        if opts.recursive && w != "-" && Path::new(w).is_dir() {
            walk(Path::new(w), &mut out);
        } else if let Some(pattern) = w.to_str().and_then(RegistryPattern::parse) {
            expand_registry(w, pattern, opts.remote, &mut out);
        } else if let Some(hint) = w.to_str().and_then(unprefixed_pattern) {
            out.push(Item::Failed {
                word: w.clone(),
                error: hint,
            });
        } else {
            out.push(Item::Input(w.clone()));
        }
    }
    out
}

/// Drops repeated words (the first stays) and, with a shard, sorts by bytes
/// and keeps this shard's part: position i of the sorted list goes to shard
/// i mod N. Every worker computes the same list, so the N parts are disjoint
/// and together hold every input once.
pub fn select(items: Vec<Item>, shard: Option<Shard>) -> Vec<Item> {
    let mut seen = std::collections::HashSet::new();
    let mut items: Vec<Item> = items
        .into_iter()
        .filter(|i| seen.insert(i.word().to_os_string()))
        .collect();
    let Some(shard) = shard else {
        return items;
    };
    items.sort_by_cached_key(|i| bytes_of(i.word()));
    items
        .into_iter()
        .enumerate()
        .filter(|(i, _)| i % shard.count == shard.index)
        .map(|(_, item)| item)
        .collect()
}

/// Does this path name an image archive (by the classifier's suffixes)?
fn is_archive_name(p: &Path) -> bool {
    let name = display(p.file_name().unwrap_or_default());
    ARCHIVE_SUFFIXES.iter().any(|s| name.ends_with(s))
}

/// Is this directory an OCI layout (an `oci-layout` file at its top)?
fn is_layout(p: &Path) -> bool {
    p.join("oci-layout").is_file()
}

/// The archives and OCI layouts under `dir`, sorted by path bytes; a layout
/// is not descended into; a symbolic link is taken when it names an archive
/// or a layout, never followed into a directory (no loops).
fn walk(dir: &Path, out: &mut Vec<Item>) {
    if is_layout(dir) {
        out.push(Item::Input(dir.as_os_str().to_os_string()));
        return;
    }
    let mut found: Vec<OsString> = Vec::new();
    let mut it = walkdir::WalkDir::new(dir).min_depth(1).into_iter();
    while let Some(entry) = it.next() {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                let at = e.path().unwrap_or(dir).as_os_str().to_os_string();
                let error = format!("{}: --recursive: {e}", display(&at));
                out.push(Item::Failed { word: at, error });
                continue;
            }
        };
        let p = entry.path();
        let ft = entry.file_type();
        if ft.is_dir() {
            if is_layout(p) {
                found.push(p.as_os_str().to_os_string());
                it.skip_current_dir();
            }
        } else if ft.is_symlink() {
            let Ok(meta) = std::fs::metadata(p) else {
                continue;
            };
            if (meta.is_file() && is_archive_name(p)) || (meta.is_dir() && is_layout(p)) {
                found.push(p.as_os_str().to_os_string());
            }
        } else if ft.is_file() && is_archive_name(p) {
            found.push(p.as_os_str().to_os_string());
        }
    }
    if found.is_empty() {
        let word = dir.as_os_str().to_os_string();
        let error = format!(
            "{}: --recursive found no image archive ({}) and no OCI layout under it",
            display(&word),
            ARCHIVE_SUFFIXES.join(", ")
        );
        out.push(Item::Failed { word, error });
        return;
    }
    found.sort_by_cached_key(|w| bytes_of(w));
    out.extend(found.into_iter().map(Item::Input));
}

/// A word like a registry pattern without its `registry:` prefix (and no
/// file of that name): why it is not expanded. Patterns always go online,
/// so they must say so.
fn unprefixed_pattern(word: &str) -> Option<String> {
    let pattern = word.ends_with(":*") || word.ends_with("/*");
    (pattern && !word.starts_with("registry:") && !Path::new(word).exists()).then(|| {
        format!("{word}: no such file; to list a registry's tags or repositories, write registry:{word}")
    })
}

/// A registry word that stands for many images.
#[derive(Debug, Clone, PartialEq, Eq)]
enum RegistryPattern {
    /// `registry:HOST/REPO:*`: every tag of the repository (`name` as
    /// written, without the `:*`).
    Tags { name: String },
    /// `registry:HOST/*` (every repository) or `registry:HOST/PREFIX/*`
    /// (those under PREFIX/).
    Catalog { host: String, prefix: String },
}

impl RegistryPattern {
    fn parse(word: &str) -> Option<RegistryPattern> {
        let rest = word.strip_prefix("registry:")?;
        let rest = rest.strip_prefix("//").unwrap_or(rest);
        if let Some(name) = rest.strip_suffix(":*") {
            return Some(RegistryPattern::Tags {
                name: name.to_string(),
            });
        }
        let rest = rest.strip_suffix("/*")?;
        let (host, prefix) = match rest.split_once('/') {
            Some((h, p)) => (h.to_string(), format!("{p}/")),
            None => (rest.to_string(), String::new()),
        };
        Some(RegistryPattern::Catalog { host, prefix })
    }
}

fn expand_registry(
    word: &OsString,
    pattern: RegistryPattern,
    opts: &RemoteOptions,
    out: &mut Vec<Item>,
) {
    let fail = |error: String| Item::Failed {
        word: word.clone(),
        error: format!("{}: {error}", display(word)),
    };
    if opts.offline {
        out.push(fail(
            "--offline: listing a registry's tags or repositories needs the network".into(),
        ));
        return;
    }
    match pattern {
        RegistryPattern::Tags { name } => match tags_of(&name, opts) {
            Ok(tags) if tags.is_empty() => {
                out.push(fail("the repository has no tag".into()));
            }
            Ok(tags) => out.extend(
                tags.iter()
                    .map(|t| Item::Input(OsString::from(format!("registry:{name}:{t}")))),
            ),
            Err(e) => out.push(fail(e)),
        },
        RegistryPattern::Catalog { host, prefix } => {
            let repos = match catalog_of(&host, opts) {
                Ok(r) => r,
                Err(e) => {
                    out.push(fail(e));
                    return;
                }
            };
            let repos: Vec<&String> = repos.iter().filter(|r| r.starts_with(&prefix)).collect();
            if repos.is_empty() {
                out.push(fail(if prefix.is_empty() {
                    "the registry's catalog lists no repository".into()
                } else {
                    format!("the registry's catalog lists no repository under {prefix}")
                }));
                return;
            }
            // Each repository's tags asked for at once, within --jobs.
            let listed: Vec<(String, Result<Vec<String>, String>)> = repos
                .par_iter()
                .map(|repo| {
                    let name = format!("{host}/{repo}");
                    let tags = tags_of(&name, opts);
                    (name, tags)
                })
                .collect();
            for (name, tags) in listed {
                match tags {
                    // A repository whose tags were all deleted holds nothing
                    // to judge.
                    Ok(tags) => out.extend(
                        tags.iter()
                            .map(|t| Item::Input(OsString::from(format!("registry:{name}:{t}")))),
                    ),
                    Err(e) => {
                        let w = OsString::from(format!("registry:{name}:*"));
                        let error = format!("{}: {e}", display(&w));
                        out.push(Item::Failed { word: w, error });
                    }
                }
            }
        }
    }
}

/// The tags of `name` (`HOST/REPO`, as written).
fn tags_of(name: &str, opts: &RemoteOptions) -> Result<Vec<String>, String> {
    let r = Reference::parse(name).map_err(|e| e.to_string())?;
    if r.digest.is_some() || name.rsplit('/').next().is_some_and(|l| l.contains(':')) {
        return Err("write registry:HOST/REPOSITORY:* with no tag or digest before :*".into());
    }
    Registry::connect(&r, opts)
        .and_then(|reg| reg.tags(opts.list_page))
        .map_err(|e| e.to_string())
}

/// The repositories of the registry at `host`.
fn catalog_of(host: &str, opts: &RemoteOptions) -> Result<Vec<String>, String> {
    // Parsed with a placeholder repository: the host must read as one.
    let r = Reference::parse(&format!("{host}/catalog"))
        .ok()
        .filter(|r| r.registry == host || (host == "docker.io" && r.registry == "docker.io"))
        .ok_or_else(|| {
            format!("{host} is not a registry host (a name with a dot or a port, or localhost), as in registry:localhost:5000/*")
        })?;
    Registry::connect(&r, opts)
        .and_then(|reg| reg.catalog(opts.list_page))
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_skip_comments_and_blank_lines() {
        let got = read_list(
            b"# fleet\n\na.tar\r\n  b.tar  \n\t# later\nregistry:r.example/x:*\n\xff.tar",
        );
        let want: Vec<OsString> = vec![
            "a.tar".into(),
            "b.tar".into(),
            "registry:r.example/x:*".into(),
            from_bytes(b"\xff.tar"),
        ];
        assert_eq!(got, want);
        assert_eq!(display(&from_bytes(b"caf\xe9.tar")), "caf\\xe9.tar");
    }

    #[test]
    fn shards_parse_and_refuse() {
        assert_eq!(Shard::parse("0/1").unwrap(), Shard { index: 0, count: 1 });
        assert_eq!(Shard::parse("3/4").unwrap(), Shard { index: 3, count: 4 });
        for bad in ["4/4", "1/0", "-1/3", "a/b", "1", "1/2/3", ""] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn shards_are_disjoint_and_cover_the_sorted_list() {
        let items: Vec<Item> = ["c", "a", "b", "a", "e", "d"]
            .iter()
            .map(|w| Item::Input(OsString::from(w)))
            .collect();
        // Without a shard: the first of each word, in order.
        let all = select(items.clone(), None);
        let words: Vec<&OsStr> = all.iter().map(Item::word).collect();
        assert_eq!(words, ["c", "a", "b", "e", "d"]);
        let mut union = Vec::new();
        for k in 0..3 {
            let part = select(items.clone(), Some(Shard { index: k, count: 3 }));
            union.extend(part.iter().map(|i| i.word().to_os_string()));
        }
        union.sort();
        assert_eq!(union, ["a", "b", "c", "d", "e"]);
        let first = select(items, Some(Shard { index: 0, count: 3 }));
        let words: Vec<&OsStr> = first.iter().map(Item::word).collect();
        assert_eq!(words, ["a", "d"]);
    }

    #[test]
    fn registry_patterns() {
        use RegistryPattern::*;
        let p = RegistryPattern::parse;
        assert_eq!(
            p("registry:localhost:5000/o/app:*"),
            Some(Tags {
                name: "localhost:5000/o/app".into()
            })
        );
        assert_eq!(
            p("registry:localhost:5000/*"),
            Some(Catalog {
                host: "localhost:5000".into(),
                prefix: String::new()
            })
        );
        assert_eq!(
            p("registry:r.example/team/*"),
            Some(Catalog {
                host: "r.example".into(),
                prefix: "team/".into()
            })
        );
        assert_eq!(p("registry:localhost:5000/o/app"), None);
        assert_eq!(p("localhost:5000/o/app:*"), None);
        assert_eq!(p("app.tar"), None);
        let hint = unprefixed_pattern("localhost:5000/o/app:*").unwrap();
        assert!(hint.contains("registry:localhost:5000/o/app:*"), "{hint}");
        assert_eq!(unprefixed_pattern("registry:r.example/*"), None);
        assert_eq!(unprefixed_pattern("app.tar"), None);
    }
}
