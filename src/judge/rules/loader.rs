//! Rules about what the kernel and the dynamic loader need to start a dynamic
//! program: its `PT_INTERP` loader and its `DT_NEEDED` libraries.

use std::collections::BTreeSet;

use super::super::diagnose;
use super::super::{with_layer, Runs, Subject};
use crate::findings::{Finding, Rule, Severity};
use crate::identify::{ElfInfo, Ident};

/// The loader and the libraries of a binary the kernel execs: a
/// missing-loader or libc-mismatch finding, else one missing-library finding
/// per library the loader will not find.
pub fn what_runs(s: &Subject<'_>, r: &Runs<'_>, libcs: &BTreeSet<&'static str>) -> Vec<Finding> {
    let Ident::Elf(elf) = r.ident else {
        return Vec::new();
    };
    match loader(s, r.path, elf, libcs) {
        Some(f) => vec![with_layer(s, f, Some(r.at))],
        None => missing_libraries(s, r.path, elf)
            .into_iter()
            .chain(missing_versions(s, r.path, elf))
            .map(|f| with_layer(s, f, Some(r.at)))
            .collect(),
    }
}

/// `page-size`: what runs, its loader and the libraries it loads, against
/// the host's page size (when known).
pub fn page_size(s: &Subject<'_>, r: &Runs<'_>) -> Vec<Finding> {
    let (Some(host), Ident::Elf(elf)) = (s.host, r.ident) else {
        return Vec::new();
    };
    // Code the target cannot run at all is target-mismatch, not a page matter.
    let runs = |t| {
        diagnose::code_platform(r.ident)
            .is_some_and(|b| matches!(diagnose::compat_on(s.host, t, &b), diagnose::Compat::Runs))
    };
    if s.target.is_some_and(|t| !runs(t)) {
        return Vec::new();
    }
    let Some(page) = host.page_size else {
        if host.name.is_none() {
            return Vec::new();
        }
        return vec![Finding::note(format!(
            "page size of {} unknown: the page-size check is skipped (give --page-size)",
            host.label()
        ))];
    };
    diagnose::loaded_objects(&load_cx(s), r.path, elf)
        .into_iter()
        .filter(|(_, o)| o.max_page.is_some_and(|m| m < page))
        .map(|(p, o)| {
            let what = loaded_by(&p, r);
            with_layer(
                s,
                Finding::new(
                    Rule::PageSize,
                    Severity::Error,
                    format!(
                        "{p}{what} is laid out for {} KiB pages (smallest PT_LOAD p_align {:#x}) but {} runs a {} KiB-page kernel: exec fails with `ELF load command address/offset not page-aligned` (or the loader refuses it)",
                        o.max_page.unwrap_or(0) / 1024,
                        o.load_align.unwrap_or(0),
                        host.label(),
                        page / 1024
                    ),
                )
                .path(r.path)
                .hint(format!(
                    "relink {p} with `-z max-page-size=65536` (runs on 4, 16 and 64 KiB kernels), or run a 4 KiB-page kernel on the host"
                )),
                Some(r.at),
            )
        })
        .collect()
}

/// `page-size` for the native files that neither run nor are loaded by what
/// runs: one warning naming the first and how many more do not fit the
/// host's page size (noise directories left out).
pub fn page_size_elsewhere(
    s: &Subject<'_>,
    natives: &[super::super::Native<'_>],
    runs: &[Runs<'_>],
) -> Option<Finding> {
    let page = s.host?.page_size?;
    let target = s.target?;
    let covered = covered_by(s, runs);
    let misfits: Vec<&super::super::Native<'_>> = natives
        .iter()
        .filter(|n| !covered.contains(n.path) && diagnose::noise_category(n.path).is_none())
        .filter(|n| match n.ident {
            Ident::Elf(e) => {
                e.platform().arch == target.arch && e.max_page.is_some_and(|m| m < page)
            }
            _ => false,
        })
        .collect();
    let first = misfits.first()?;
    let more = if misfits.len() > 1 {
        format!(" (and {} more native files)", misfits.len() - 1)
    } else {
        String::new()
    };
    Some(with_layer(
        s,
        Finding::new(
            Rule::PageSize,
            Severity::Warning,
            format!(
                "{}{more} is laid out for pages smaller than the {} KiB of {}: it fails to exec or load there if it is ever used",
                first.path,
                page / 1024,
                s.host.map(|h| h.label()).unwrap_or_default()
            ),
        )
        .path(first.path)
        .hint("relink with `-z max-page-size=65536`, or remove the files if unused"),
        Some(first.at),
    ))
}

/// `kernel-too-old`: the ABI tag of what runs (static) or of the objects it
/// loads (dynamic: the loader and the C library carry it) against
/// `--kernel`.
pub fn kernel_too_old(s: &Subject<'_>, r: &Runs<'_>) -> Vec<Finding> {
    let (Some(have), Ident::Elf(elf)) = (s.host.and_then(|h| h.kernel), r.ident) else {
        return Vec::new();
    };
    let objects = if elf.is_static() {
        vec![(r.path.to_string(), (**elf).clone())]
    } else {
        diagnose::loaded_objects(&load_cx(s), r.path, elf)
    };
    objects
        .into_iter()
        .filter_map(|(p, o)| {
            let [a, b, c] = o.abi_kernel?;
            ((a, b) > have).then(|| {
                let what = loaded_by(&p, r);
                with_layer(
                    s,
                    Finding::new(
                        Rule::KernelTooOld,
                        Severity::Error,
                        format!(
                            "{p}{what} needs Linux {a}.{b}.{c} or newer (its GNU ABI tag) and the host runs {}.{}: the container stops with `FATAL: kernel too old`",
                            have.0, have.1
                        ),
                    )
                    .path(r.path)
                    .hint("use a base image whose C library supports the host's kernel, or upgrade the host's kernel"),
                    Some(r.at),
                )
            })
        })
        .collect()
}

/// The usual CA-bundle paths, as the `no-ca-certificates` message names them.
const CA_PATHS: &str = "none of /etc/ssl/certs/ca-certificates.crt, /etc/pki/tls/certs/ca-bundle.crt, /etc/ssl/cert.pem…, no SSL_CERT_FILE or SSL_CERT_DIR";

/// `no-ca-certificates`: what runs links a TLS library (itself or through a
/// library it loads), or is a Go program that links `crypto/tls`, and the
/// image has no CA bundle nor `SSL_CERT_FILE`/`SSL_CERT_DIR`. For a Go
/// program whose pclntab was not read, a note says the check was skipped.
pub fn no_ca_certificates(s: &Subject<'_>, r: &Runs<'_>) -> Option<Finding> {
    let Ident::Elf(elf) = r.ident else {
        return None;
    };
    if s.env
        .iter()
        .any(|e| e.starts_with("SSL_CERT_FILE=") || e.starts_with("SSL_CERT_DIR="))
    {
        return None;
    }
    if let Some(go) = elf.go.as_ref().filter(|g| !g.fallback_roots) {
        match go.tls {
            Some(true) if !diagnose::has_ca_bundle(s.fs) => {
                return Some(with_layer(
                    s,
                    Finding::new(
                        Rule::NoCaCertificates,
                        Severity::Warning,
                        format!(
                            "{} is a Go program that links crypto/tls (its pclntab lists crypto/tls source files), but the image has no CA bundle ({CA_PATHS}): its TLS connections fail with `x509: certificate signed by unknown authority`",
                            r.path
                        ),
                    )
                    .path(r.path)
                    .hint("copy /etc/ssl/certs/ca-certificates.crt from the build stage (`COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/`), use a base image that ships CA certificates, or embed roots with golang.org/x/crypto/x509roots/fallback"),
                    Some(r.at),
                ));
            }
            None if !diagnose::has_ca_bundle(s.fs) => {
                return Some(Finding::note(format!(
                    "{} is a Go program and the image has no CA bundle, but whether it links crypto/tls was not read (no pclntab file table within the bytes kept): the no-ca-certificates check is skipped for it",
                    r.path
                )));
            }
            _ => {}
        }
    }
    if elf.is_static() {
        return None;
    }
    let objects = diagnose::loaded_objects(&load_cx(s), r.path, elf);
    let (by, lib) = objects
        .iter()
        .find_map(|(p, o)| diagnose::tls_library(o).map(|l| (p.clone(), l.to_string())))?;
    if diagnose::has_ca_bundle(s.fs) {
        return None;
    }
    let via = if by == r.path {
        String::new()
    } else {
        format!(" (through {by})")
    };
    Some(with_layer(
        s,
        Finding::new(
            Rule::NoCaCertificates,
            Severity::Warning,
            format!(
                "{} links {lib}{via}, a TLS library, but the image has no CA bundle ({CA_PATHS}): its TLS connections fail with `certificate verify failed`",
                r.path
            ),
        )
        .path(r.path)
        .hint("install ca-certificates in the final stage (`apt-get install ca-certificates`, `apk add ca-certificates`) or copy /etc/ssl/certs/ca-certificates.crt from the build stage"),
        Some(r.at),
    ))
}

/// `missing-symbol-version`: every symbol version that what runs, or a
/// library it loads, needs and the library the loader finds does not define;
/// a note naming the objects whose version tables were not read (a cap), so
/// that a skipped check never reads as a pass.
fn missing_versions(s: &Subject<'_>, path: &str, elf: &ElfInfo) -> Vec<Finding> {
    let check = diagnose::missing_versions(&load_cx(s), path, elf);
    let mut out: Vec<Finding> = check
        .missing
        .into_iter()
        .map(|m| {
            let via = if m.needed_by == path {
                String::new()
            } else {
                format!(" (needed by {})", m.needed_by)
            };
            let newest = match &m.newest {
                Some(n) => format!("the newest it defines is {n}"),
                None => "it defines no version of that family".to_string(),
            };
            Finding::new(
                Rule::MissingSymbolVersion,
                Severity::Error,
                format!(
                    "{path} needs symbol version {} of {}{via}, but the image's {} ({}) does not define it ({newest}): the container fails with `version '{}' not found`",
                    m.version, m.lib_name, m.lib_name, m.lib_path, m.version
                ),
            )
            .path(path)
            .hint(format!(
                "build the program on the base image's release (or for an older {}), or use a base image whose {} defines {}",
                m.lib_name, m.lib_name, m.version
            ))
        })
        .collect();
    if !check.unread.is_empty() {
        out.push(Finding::note(format!(
            "symbol versions not checked for {}: its version tables lie outside the bytes kept per file (the `versions` budget) or could not be read",
            check.unread.join(", ")
        )));
    }
    out
}

/// Most (library, version) groups listed by [`missing_versions_elsewhere`];
/// the rest are counted in a note.
const MAX_VERSION_GROUPS: usize = 20;

/// `missing-symbol-version` for the dynamic ELF files that neither run nor
/// are loaded by what runs (warnings): each file's own needs against the
/// library the loader would find for it, one warning per (library, version)
/// naming the first file and how many more need it; at most
/// [`MAX_VERSION_GROUPS`] warnings, then a note; a note counting the files
/// whose tables were not read (a cap), so that a skipped check never reads
/// as a pass.
pub fn missing_versions_elsewhere(
    s: &Subject<'_>,
    natives: &[super::super::Native<'_>],
    runs: &[Runs<'_>],
) -> Vec<Finding> {
    struct Group {
        count: usize,
        example: String,
        at: crate::layers::merge::FileRef,
        newest: Option<String>,
    }
    let covered = covered_by(s, runs);
    let mut lookups = diagnose::VersionLookups::new(load_cx(s));
    let mut groups: std::collections::BTreeMap<(String, String, String), Group> =
        std::collections::BTreeMap::new();
    let mut unread = BTreeSet::new();
    for n in natives {
        let Ident::Elf(elf) = n.ident else {
            continue;
        };
        if covered.contains(n.path)
            || diagnose::noise_category(n.path).is_some()
            || s.ignore.iter().any(|g| g.is_match(n.path))
        {
            continue;
        }
        if elf.versions_unread {
            unread.insert(n.path.to_string());
            continue;
        }
        let check = lookups.check(n.path, elf);
        unread.extend(check.unread);
        for m in check.missing {
            groups
                .entry((m.lib_name, m.version, m.lib_path))
                .or_insert(Group {
                    count: 0,
                    example: n.path.to_string(),
                    at: n.at,
                    newest: m.newest,
                })
                .count += 1;
        }
    }
    let total = groups.len();
    let mut out: Vec<Finding> = groups
        .into_iter()
        .take(MAX_VERSION_GROUPS)
        .map(|((lib_name, version, lib_path), g)| {
            let more = if g.count > 1 {
                format!(" (and {} more files that do not run)", g.count - 1)
            } else {
                String::new()
            };
            let newest = match &g.newest {
                Some(n) => format!("the newest it defines is {n}"),
                None => "it defines no version of that family".to_string(),
            };
            with_layer(
                s,
                Finding::new(
                    Rule::MissingSymbolVersion,
                    Severity::Warning,
                    format!(
                        "{}{more} needs symbol version {version} of {lib_name}, but the image's {lib_name} ({lib_path}) does not define it ({newest}): it fails with `version '{version}' not found` if it is ever run or loaded",
                        g.example
                    ),
                )
                .path(g.example.as_str())
                .hint(format!(
                    "rebuild it on the base image's release (or for an older {lib_name}), use a base image whose {lib_name} defines {version}, or remove it if unused"
                )),
                Some(g.at),
            )
        })
        .collect();
    if total > MAX_VERSION_GROUPS {
        out.push(Finding::note(format!(
            "missing-symbol-version: {} more (library, version) pairs missing for files that do not run, not listed",
            total - MAX_VERSION_GROUPS
        )));
    }
    if !unread.is_empty() {
        let first = unread.iter().next().cloned().unwrap_or_default();
        let more = if unread.len() > 1 {
            format!(" and {} more", unread.len() - 1)
        } else {
            String::new()
        };
        out.push(Finding::note(format!(
            "symbol versions not checked for {first}{more} (files that do not run, or libraries they need): the version tables lie outside the bytes kept per file (the `versions` budget) or could not be read"
        )));
    }
    out
}

/// The objects that what runs loads (itself included).
fn covered_by(s: &Subject<'_>, runs: &[Runs<'_>]) -> BTreeSet<String> {
    let mut covered = BTreeSet::new();
    for r in runs {
        if let Ident::Elf(e) = r.ident {
            covered.insert(r.path.to_string());
            covered.extend(
                diagnose::loaded_objects(&load_cx(s), r.path, e)
                    .into_iter()
                    .map(|(p, _)| p),
            );
        }
    }
    covered
}

/// `missing-loader` or `libc-mismatch` for what runs.
fn loader(
    s: &Subject<'_>,
    path: &str,
    elf: &ElfInfo,
    libcs: &BTreeSet<&'static str>,
) -> Option<Finding> {
    let (rule, why) = diagnose::loader_problem(s.fs, elf, libcs)?;
    Some(
        Finding::new(rule, Severity::Error, format!("{path} cannot start: {why}"))
            .path(path)
            .hint(diagnose::loader_hint(rule, elf)),
    )
}

/// The loader's search for this image, under the judge's caps.
fn load_cx<'a>(s: &Subject<'a>) -> diagnose::LoadCx<'a> {
    diagnose::LoadCx {
        fs: s.fs,
        env: s.env,
        lim: s.limits,
    }
}

/// `missing-library`: every `DT_NEEDED` library (transitively) that the
/// loader will not find for this architecture, at most `missing_libs`; a note
/// for each cap that cut the search (never a silent pass). A finding lists
/// at most `listed_dirs` directories of the search list and carries at most
/// `finding_chars` characters of the image's names.
fn missing_libraries(s: &Subject<'_>, path: &str, elf: &ElfInfo) -> Vec<Finding> {
    let lim = s.limits;
    let found = diagnose::missing_libraries(&load_cx(s), path, elf);
    let clip = |t: String| clip_chars(t, lim.finding_chars);
    let mut out: Vec<Finding> = found
        .libs
        .into_iter()
        .map(|m| {
            let also = if m.wrong_arch.is_empty() {
                String::new()
            } else {
                let copies = m
                    .wrong_arch
                    .iter()
                    .take(lim.listed_dirs)
                    .map(|(p, a)| format!("{p} is {a}"))
                    .collect::<Vec<_>>()
                    .join(", ");
                let more = m.wrong_arch.len().saturating_sub(lim.listed_dirs);
                let more = if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                };
                format!(" (only copies of another architecture: {copies}{more})")
            };
            let via = if m.needed_by == path {
                String::new()
            } else {
                format!(" (needed by {})", m.needed_by)
            };
            let mut searched = m
                .searched
                .iter()
                .take(lim.listed_dirs)
                .map(String::as_str)
                .collect::<Vec<_>>()
                .join(":");
            let more = m.searched.len().saturating_sub(lim.listed_dirs);
            if more > 0 {
                searched.push_str(&format!(" and {more} more directories"));
            }
            Finding::new(
                Rule::MissingLibrary,
                Severity::Error,
                clip(format!(
                    "{path} needs {}{via}, which the loader will not find{also}: the container fails with `error while loading shared libraries: {}`",
                    m.name, m.name
                )),
            )
            .path(path)
            .hint(clip(format!(
                "install the package that provides {} for {} in the image (searched: {searched})",
                m.name,
                elf.arch,
            )))
        })
        .collect();
    out.extend(
        found
            .cut
            .into_iter()
            .map(|c| Finding::note(clip(format!("missing-library: {c}")))),
    );
    out
}

/// `text` cut to at most `max` characters (an ellipsis marks the cut).
pub(crate) fn clip_chars(text: String, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text,
        Some((at, _)) => {
            let mut t = text;
            t.truncate(at);
            t.push('…');
            t
        }
    }
}

/// Loader problems of files that do not run, grouped per (rule, loader): one
/// warning naming the first file and how many more share it.
#[derive(Default)]
pub struct LoaderSummary {
    groups: std::collections::BTreeMap<(Rule, String), Group>,
}

struct Group {
    count: usize,
    example: String,
    at: crate::layers::merge::FileRef,
    why: String,
}

impl LoaderSummary {
    /// Notes the loader problem of a file that does not run, if any.
    pub fn add(
        &mut self,
        s: &Subject<'_>,
        path: &str,
        at: crate::layers::merge::FileRef,
        elf: &ElfInfo,
        libcs: &BTreeSet<&'static str>,
    ) {
        if let Some((rule, why)) = diagnose::loader_problem(s.fs, elf, libcs) {
            let interp = elf.interpreter.clone().unwrap_or_default();
            self.groups
                .entry((rule, interp))
                .or_insert(Group {
                    count: 0,
                    example: path.to_string(),
                    at,
                    why,
                })
                .count += 1;
        }
    }

    /// One `missing-loader` or `libc-mismatch` warning per group.
    pub fn findings(self, s: &Subject<'_>) -> Vec<Finding> {
        self.groups
            .into_iter()
            .map(|((rule, interp), g)| {
                let others = if g.count > 1 {
                    format!(
                        " (and {} more native files with the same loader)",
                        g.count - 1
                    )
                } else {
                    String::new()
                };
                with_layer(
                    s,
                    Finding::new(
                        rule,
                        Severity::Warning,
                        format!("{}{others}: {}", g.example, g.why),
                    )
                    .path(g.example)
                    .hint(format!(
                        "if these are run, the image needs {interp}; otherwise remove them"
                    )),
                    Some(g.at),
                )
            })
            .collect()
    }
}

/// ` (loaded by PROGRAM)` for a library `path` that what runs loads;
/// nothing for the program itself.
fn loaded_by(path: &str, r: &Runs<'_>) -> String {
    if path == r.path {
        String::new()
    } else {
        format!(" (loaded by {})", r.path)
    }
}
