//! The judge: pure functions over one image's merged filesystem and its
//! declared metadata. It resolves what runs ([`entrypoint`]), lists the
//! native files, and calls the detection function of each rule
//! (`rules`); the verdict follows from the findings. Nothing here reads
//! bytes; new rules never touch the readers. What it returns
//! ([`Judgement`], [`EntrypointReport`], [`BinaryReport`]) is what the
//! report renders.

pub mod diagnose;
pub mod entrypoint;
pub mod host;
pub(crate) mod rules;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use serde::Serialize;

use crate::findings::Finding;
use crate::identify::Ident;
use crate::layers::merge::{FileRef, MergedFs};
use crate::paths;
use crate::platform::{Arch, Os, Platform, ALL_ARCHES};
use entrypoint::{Resolution, Step, Stop};

/// What the judge knows of one layer of the merged view.
#[derive(Debug, Clone, Default)]
pub struct LayerMeta {
    /// Position in the manifest's layer list.
    pub position: usize,
    pub digest: Option<String>,
    /// The history step that made it.
    pub created_by: Option<String>,
}

/// Everything one image is judged on.
pub struct Subject<'a> {
    pub fs: &'a MergedFs,
    /// Per layer of `fs`, in the same order.
    pub layers: &'a [LayerMeta],
    /// The config's platform (normalised), when it declares one.
    pub declared: Option<&'a Platform>,
    /// The platform an index advertises for this image.
    pub index_platform: Option<&'a Platform>,
    /// The command line that runs (Entrypoint + Cmd, after overrides).
    pub argv: Vec<String>,
    pub env: &'a [String],
    pub working_dir: Option<&'a str>,
    /// The deploy target, when this image is the one it selects (or when no
    /// image of its group can be selected).
    pub target: Option<&'a Platform>,
    /// The host's facts (`--host`, `--page-size`), when given.
    pub host: Option<&'a crate::hosts::HostFacts>,
    /// The user the container runs as (`--user`, else the config's `User`).
    pub user: Option<&'a str>,
    /// Native files matching these are not judged (`--ignore`); what runs
    /// is always judged.
    pub ignore: &'a [globset::GlobMatcher],
    /// The input is a single program, named so: it is what runs (no
    /// Entrypoint is expected), and its own platform is the real one — a
    /// fat Mach-O's slice that the target runs, else its first.
    pub program: Option<&'a str>,
    /// Caps of what the rules examine and what a finding carries.
    pub limits: &'a crate::limits::JudgeLimits,
    /// Where the [`BinaryReport`]s of the images of one input are shared.
    pub binaries: Option<&'a BinaryMemo>,
}

/// The judged parts of an image report.
#[derive(Clone)]
pub struct Judgement {
    pub entrypoint: Option<EntrypointReport>,
    pub real_platform: Option<Platform>,
    pub runs_on: Vec<Platform>,
    /// With `--host` (or `--page-size`, `--kernel`): the host's checks.
    pub runs_on_host: Option<host::HostVerdict>,
    pub platforms: BTreeMap<String, usize>,
    pub binaries: Vec<Arc<BinaryReport>>,
    pub findings: Vec<Finding>,
}

/// What runs, as resolved (the JSON contract's `entrypoint`).
#[derive(Debug, Clone, Serialize)]
pub struct EntrypointReport {
    pub argv: Vec<String>,
    /// `argv[0]` made absolute through PATH and WorkingDir.
    pub path: Option<String>,
    /// The file the kernel execs, after links and `#!` interpreters.
    pub resolved: Option<String>,
    /// `elf|macho|pe|script|missing|other`.
    pub kind: String,
    pub platform: Option<Platform>,
    /// Every file on the way (links resolved), for the text report.
    pub chain: Vec<Step>,
    /// For `sh -c "exec /app/server …"`: the first command of the string,
    /// resolved the same way.
    pub shell_command: Option<Box<EntrypointReport>>,
}

/// One native file (the JSON contract's `binaries[]`).
#[derive(Debug, Clone, Serialize)]
pub struct BinaryReport {
    pub path: String,
    pub layer: usize,
    pub layer_digest: Option<String>,
    /// `elf|macho|pe`.
    pub format: String,
    /// One platform, or for a fat Mach-O the slices' platforms joined by `,`.
    pub platform: String,
    #[serde(rename = "type")]
    pub bin_type: String,
    pub interpreter: Option<String>,
    /// Format details (ELF class, needed libraries, ARM variant, Go build info…).
    pub details: crate::identify::Ident,
}

/// The [`BinaryReport`]s of the images of one input, shared: a report
/// depends only on the layer entry (its identification), the path it has in
/// the merged view, and the layer's position and digest in the image, so
/// images that share a layer at the same position share its reports (one
/// allocation per file, not per file per image). It holds the layers it
/// keys by, so a key is never a freed layer's address.
#[derive(Default)]
pub struct BinaryMemo {
    reports: Mutex<HashMap<BinKey, Vec<Arc<BinaryReport>>>>,
    held: Mutex<HashMap<usize, Arc<crate::layers::scan::LayerIndex>>>,
}

/// A layer (by address, kept alive by the memo), an entry of it, and the
/// position the image gives the layer; the path and the layer's digest
/// tell apart the (rare) reports under one key.
#[derive(PartialEq, Eq, Hash)]
struct BinKey {
    layer: usize,
    entry: u32,
    position: usize,
}

impl std::fmt::Debug for BinaryMemo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BinaryMemo").finish_non_exhaustive()
    }
}

impl BinaryMemo {
    fn reports(&self, s: &Subject<'_>, natives: &[Native<'_>]) -> Vec<Arc<BinaryReport>> {
        let mut map = self.reports.lock().unwrap_or_else(|e| e.into_inner());
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        natives
            .iter()
            .map(|n| {
                let Some(layer) = s.fs.layers().get(n.content.layer) else {
                    return Arc::new(binary_report(s, n));
                };
                let meta = layer_meta(s, n.at);
                let key = BinKey {
                    layer: Arc::as_ptr(layer) as usize,
                    entry: n.content.entry,
                    position: meta.map(|m| m.position).unwrap_or(n.at.layer),
                };
                let digest = meta.and_then(|m| m.digest.as_deref());
                let same = map.get(&key).and_then(|v| {
                    v.iter()
                        .find(|b| *b.path == *n.path && b.layer_digest.as_deref() == digest)
                });
                if let Some(b) = same {
                    return Arc::clone(b);
                }
                held.entry(key.layer).or_insert_with(|| Arc::clone(layer));
                let b = Arc::new(binary_report(s, n));
                map.entry(key).or_default().push(Arc::clone(&b));
                b
            })
            .collect()
    }
}

/// One native file of the merged view.
pub(crate) struct Native<'a> {
    pub(crate) path: &'a str,
    pub(crate) at: FileRef,
    /// The entry whose bytes the path has (`at`, or a hard link's target).
    pub(crate) content: FileRef,
    pub(crate) ident: &'a Ident,
}

/// A native binary the kernel execs.
pub(crate) struct Runs<'a> {
    pub(crate) path: &'a str,
    pub(crate) at: FileRef,
    pub(crate) ident: &'a Ident,
}

/// The command as resolved: the entrypoint, the command of `sh -c`, and the
/// binaries the kernel execs for them.
struct Command<'a> {
    resolution: Option<Resolution>,
    shell: Option<Resolution>,
    runs: Vec<Runs<'a>>,
}

pub fn judge(s: &Subject<'_>) -> Judgement {
    let natives = natives(s.fs);
    let libcs = diagnose::image_libcs(s.fs);
    let mut findings = Vec::new();
    let command = resolve_command(s, &mut findings);
    for r in &command.runs {
        findings.extend(rules::platform::what_runs(s, r, s.program.is_none()));
        findings.extend(rules::loader::what_runs(s, r, &libcs));
        findings.extend(rules::loader::page_size(s, r));
        findings.extend(rules::loader::kernel_too_old(s, r));
        findings.extend(rules::loader::no_ca_certificates(s, r));
    }
    // A single program has no filesystem to load from: only the checks of
    // its own bytes against the target and the host (CPU level, page size,
    // kernel).
    if let (Some(name), Some(n)) = (s.program, natives.first()) {
        let r = Runs {
            path: name,
            at: n.at,
            ident: n.ident,
        };
        let own = rules::platform::isa_level(s, r.path, r.ident, true)
            .into_iter()
            .chain(rules::loader::page_size(s, &r))
            .chain(rules::loader::kernel_too_old(s, &r));
        // No layers: the program is the input.
        findings.extend(own.map(|mut f| {
            f.layer = None;
            f.layer_digest = None;
            f.created_by = None;
            f
        }));
    }
    let workdir = s
        .working_dir
        .filter(|w| !w.is_empty())
        .map(|w| paths::join_normalised("/", w));
    findings.extend(rules::users::check(s, &command.runs, workdir.as_deref()));
    findings.extend(rules::loader::page_size_elsewhere(
        s,
        &natives,
        &command.runs,
    ));
    findings.extend(rules::loader::missing_versions_elsewhere(
        s,
        &natives,
        &command.runs,
    ));
    let majority = majority_platform(&natives, s.declared.map(|d| &d.os));
    let real_platform = real_platform(s, &command, &natives, majority.as_ref());
    if command.runs.is_empty() && command.resolution.is_none() && !natives.is_empty() {
        if let Some(m) = &majority {
            findings.extend(rules::platform::most_files(s, &natives, m));
        }
    }
    findings.extend(file_findings(s, &natives, &command, &libcs));
    if let (Some(index), Some(real)) = (s.index_platform, &real_platform) {
        findings.extend(rules::platform::platform_disagreement(s, index, real));
    }
    if let (Some(target), Some(real)) = (s.target, &real_platform) {
        let runs = matches!(
            diagnose::compat_on(s.host, target, real),
            diagnose::Compat::Runs
        );
        if command.runs.is_empty() && !runs {
            findings.push(rules::platform::target_mismatch(target, real, s.program));
        }
    }
    // What one finding may carry: image strings (paths, names, lists) are
    // cut at `finding_chars` whichever rule quoted them.
    for f in &mut findings {
        let lim = s.limits.finding_chars;
        f.message = rules::loader::clip_chars(std::mem::take(&mut f.message), lim);
        f.hint = f.hint.take().map(|h| rules::loader::clip_chars(h, lim));
    }
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(a.rule.cmp(&b.rule))
            .then(a.path.cmp(&b.path))
    });
    let runs_on_host = s
        .host
        .map(|h| host::verdict(h, s.target, real_platform.as_ref(), &findings));
    Judgement {
        runs_on_host,
        entrypoint: entrypoint_section(s, &command),
        runs_on: real_platform.as_ref().map(hosts_for).unwrap_or_default(),
        real_platform,
        platforms: platform_counts(&natives),
        binaries: match s.binaries {
            Some(memo) => memo.reports(s, &natives),
            None => natives
                .iter()
                .map(|n| Arc::new(binary_report(s, n)))
                .collect(),
        },
        findings,
    }
}

/// Resolves the entrypoint and the command of `sh -c` (with their
/// findings), or says why nothing is resolved.
fn resolve_command<'a>(s: &Subject<'a>, findings: &mut Vec<Finding>) -> Command<'a> {
    let mut command = Command {
        resolution: None,
        shell: None,
        runs: Vec::new(),
    };
    // Windows images name programs by drive paths (`C:\\app\\x.exe`) that
    // their layers store under `Files/`: judged by their PE files instead.
    let windows = s.declared.is_some_and(|d| d.os == Os::Windows);
    if s.argv.is_empty() {
        if s.program.is_none() {
            findings.push(rules::exec::no_entrypoint());
        }
        return command;
    }
    // A Linux path in a Windows image is resolved like any other: a Linux
    // program there is judged against the label (and fails).
    if windows && !s.argv[0].starts_with('/') {
        findings.push(Finding::note(format!(
            "Windows image: the entrypoint `{}` is not resolved; judged by most of its PE files",
            s.argv.join(" ")
        )));
        return command;
    }
    let search_path = capped_path(s, findings);
    let workdir = s
        .working_dir
        .filter(|w| !w.is_empty())
        .map(|w| paths::join_normalised("/", w))
        .unwrap_or_else(|| "/".to_string());
    let r = entrypoint::resolve(s.fs, &s.argv, &search_path, &workdir);
    findings.extend(rules::exec::resolution(s, &r, "the entrypoint"));
    command.runs.extend(what_runs(s, &r));
    // What the kernel execs: the entrypoint's binary, and the first command
    // of an `sh -c "…"` string.
    if let Some(inner) = entrypoint::shell_command(&s.argv) {
        let r2 = entrypoint::resolve(s.fs, &inner, &search_path, &workdir);
        findings.extend(rules::exec::resolution(s, &r2, "the command `sh -c` runs"));
        command.runs.extend(what_runs(s, &r2));
        command.shell = Some(r2);
    }
    command.runs.dedup_by(|a, b| a.path == b.path);
    command.resolution = Some(r);
    command
}

/// `PATH` from the config's Env, cut to its first `path_dirs` entries (a
/// note says so): each entry is a lookup that may follow `link_hops`
/// symlinks, and a hostile `PATH` of thousands of symlinked directories
/// must not multiply that without bound.
fn capped_path(s: &Subject<'_>, findings: &mut Vec<Finding>) -> String {
    let full = entrypoint::path_from_env(s.env);
    let cap = s.limits.path_dirs;
    let count = full.split(':').count();
    if count <= cap {
        return full;
    }
    findings.push(Finding::note(format!(
        "PATH has {count} entries: commands are looked up in the first {cap} only (limit); a program found only in a later directory is reported missing"
    )));
    full.split(':').take(cap).collect::<Vec<_>>().join(":")
}

/// What the image really runs on: for a single program its own platform;
/// else the workload's (for `sh -c "exec app"`, the app rather than the
/// shell), else most native files'.
fn real_platform(
    s: &Subject<'_>,
    command: &Command<'_>,
    natives: &[Native<'_>],
    majority: Option<&(Platform, usize)>,
) -> Option<Platform> {
    if s.program.is_some() {
        let platforms = natives
            .first()
            .map(|n| n.ident.platforms())
            .unwrap_or_default();
        // A fat Mach-O runs where any slice runs.
        let runnable = s
            .target
            .and_then(|t| platforms.iter().find(|p| t.can_run(p)));
        return runnable.or(platforms.first()).cloned();
    }
    command
        .runs
        .last()
        .and_then(|r| diagnose::code_platform(r.ident))
        .or_else(|| majority.map(|(p, _)| p.clone()))
}

/// The rules about native files other than what runs, damaged files, and
/// the note that there is nothing native at all.
fn file_findings(
    s: &Subject<'_>,
    natives: &[Native<'_>],
    command: &Command<'_>,
    libcs: &BTreeSet<&'static str>,
) -> Vec<Finding> {
    let run_paths: Vec<&str> = command.runs.iter().map(|r| r.path).collect();
    let mut out = rules::files::other_natives(s, natives, &run_paths, libcs);
    out.extend(rules::files::damaged_files(s, natives, &run_paths));
    if natives.is_empty() {
        out.push(rules::files::no_binaries());
    }
    out
}

/// Native files counted per platform (a fat Mach-O counts for each slice).
fn platform_counts(natives: &[Native<'_>]) -> BTreeMap<String, usize> {
    let mut platforms: BTreeMap<String, usize> = BTreeMap::new();
    for n in natives {
        for p in n.ident.platforms() {
            *platforms.entry(p.to_string()).or_default() += 1;
        }
    }
    platforms
}

/// The report's `entrypoint`: resolved, or (Windows) as given.
fn entrypoint_section(s: &Subject<'_>, command: &Command<'_>) -> Option<EntrypointReport> {
    match &command.resolution {
        Some(r) => Some(EntrypointReport {
            shell_command: command
                .shell
                .as_ref()
                .map(|r2| Box::new(entrypoint_report(s, r2))),
            ..entrypoint_report(s, r)
        }),
        // Windows: the command is reported as given, not resolved.
        None if !s.argv.is_empty() => Some(EntrypointReport {
            argv: s.argv.clone(),
            path: None,
            resolved: None,
            kind: "other".into(),
            platform: None,
            chain: Vec::new(),
            shell_command: None,
        }),
        None => None,
    }
}

fn what_runs<'a>(s: &Subject<'a>, r: &Resolution) -> Option<Runs<'a>> {
    if r.stop != Stop::Native {
        return None;
    }
    let (path, node) = r.last.as_ref()?;
    let content = node.content?;
    let ident = s.fs.entry(content)?.ident.as_ref()?;
    // Borrow the path from the merged view, which outlives the resolution.
    let path = s.fs.key(path)?;
    Some(Runs {
        path,
        at: node.at,
        ident,
    })
}

fn natives(fs: &MergedFs) -> Vec<Native<'_>> {
    fs.iter()
        .filter_map(|(path, node)| {
            let content = node.content?;
            let ident = fs.entry(content)?.ident.as_ref()?;
            ident.is_native().then_some(Native {
                path,
                at: node.at,
                content,
                ident,
            })
        })
        .collect()
}

/// The most common platform of native code: ELF for a Linux image (Mach-O and
/// PE never decide its platform), PE for a Windows image (ELF when it has no
/// PE file). Ties go to the first in order.
fn majority_platform(natives: &[Native<'_>], os: Option<&Os>) -> Option<(Platform, usize)> {
    let mut counts: BTreeMap<Platform, usize> = BTreeMap::new();
    // A Windows image with no PE file at all is judged by its ELF files: the
    // label's OS is then wrong, as an architecture can be.
    let windows_pe =
        os == Some(&Os::Windows) && natives.iter().any(|n| matches!(n.ident, Ident::Pe(_)));
    for n in natives {
        let counted = match (n.ident, windows_pe) {
            (Ident::Pe(_), true) => true,
            (Ident::Elf(_), true) => false,
            (Ident::Elf(_), false) => true,
            _ => false,
        };
        if counted {
            if let Some(p) = diagnose::code_platform(n.ident) {
                *counts.entry(p).or_default() += 1;
            }
        }
    }
    let mut best: Option<(Platform, usize)> = None;
    for (p, c) in counts {
        if best.as_ref().is_none_or(|(_, bc)| c > *bc) {
            best = Some((p, c));
        }
    }
    best
}

fn layer_meta<'a>(s: &'a Subject<'_>, at: FileRef) -> Option<&'a LayerMeta> {
    s.layers.get(at.layer)
}

/// Puts the layer of `at` (position, digest, the step that made it) on `f`.
fn with_layer(s: &Subject<'_>, mut f: Finding, at: Option<FileRef>) -> Finding {
    if let Some(m) = at.and_then(|at| layer_meta(s, at)) {
        f.layer = Some(m.position);
        f.layer_digest = m.digest.clone();
        f.created_by = m.created_by.clone();
    }
    f
}

fn binary_report(s: &Subject<'_>, n: &Native<'_>) -> BinaryReport {
    let meta = layer_meta(s, n.at);
    let platform = n
        .ident
        .platforms()
        .iter()
        .map(|p| p.to_string())
        .collect::<Vec<_>>()
        .join(",");
    let (bin_type, interpreter) = match n.ident {
        Ident::Elf(e) => (e.bin_type.as_str(), e.interpreter.clone()),
        Ident::Macho(m) => (
            m.slices
                .first()
                .map(|s| s.bin_type.as_str())
                .unwrap_or("other"),
            None,
        ),
        Ident::Pe(p) => (p.bin_type.as_str(), None),
        _ => ("other", None),
    };
    BinaryReport {
        path: n.path.to_string(),
        layer: meta.map(|m| m.position).unwrap_or(n.at.layer),
        layer_digest: meta.and_then(|m| m.digest.clone()),
        format: n.ident.format_name().to_string(),
        platform,
        bin_type: bin_type.to_string(),
        interpreter,
        details: n.ident.clone(),
    }
}

fn entrypoint_report(s: &Subject<'_>, r: &Resolution) -> EntrypointReport {
    let last_ident = r
        .last
        .as_ref()
        .and_then(|(_, node)| node.content)
        .and_then(|c| s.fs.entry(c))
        .and_then(|e| e.ident.as_ref());
    let kind = match (&r.stop, last_ident) {
        (Stop::Missing { .. }, _) | (Stop::InterpreterMissing { .. }, _) => "missing",
        (Stop::TooManyLinks { .. }, _) | (Stop::NotAFile { .. }, _) => "missing",
        (_, Some(i)) => i.format_name(),
        (_, None) => "other",
    };
    EntrypointReport {
        argv: r.argv.clone(),
        path: r.path.clone(),
        resolved: r.last.as_ref().map(|(p, _)| p.clone()),
        kind: kind.to_string(),
        platform: last_ident.and_then(|i| i.platforms().into_iter().next()),
        chain: r.chain.clone(),
        shell_command: None,
    }
}

/// Host platforms that can exec code of `real`.
pub fn hosts_for(real: &Platform) -> Vec<Platform> {
    let mut hosts = Vec::new();
    for arch in ALL_ARCHES {
        let variants: &[Option<&str>] = if *arch == Arch::Arm {
            &[Some("v5"), Some("v6"), Some("v7")]
        } else {
            &[None]
        };
        for v in variants {
            let host = Platform::new(real.os.clone(), arch.clone(), *v);
            if host.can_run(real) {
                hosts.push(host);
            }
        }
    }
    if hosts.is_empty() && real.os != Os::Linux {
        hosts.push(real.clone());
    }
    hosts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_for_common_platforms() {
        let p = |s: &str| Platform::parse(s).unwrap();
        let names = |v: Vec<Platform>| v.iter().map(|p| p.to_string()).collect::<Vec<_>>();
        assert_eq!(names(hosts_for(&p("linux/arm64"))), vec!["linux/arm64"]);
        assert_eq!(
            names(hosts_for(&p("linux/386"))),
            vec!["linux/amd64", "linux/386"]
        );
        assert_eq!(
            names(hosts_for(&p("linux/arm/v6"))),
            vec!["linux/arm/v6", "linux/arm/v7"]
        );
    }
}
