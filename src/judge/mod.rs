//! The judge: pure functions over one image's merged filesystem and its
//! declared metadata. It resolves what runs, lists the native files, applies
//! each rule (a small function returning findings); the verdict follows from
//! the findings (`Verdict::from_findings`).
//! Nothing here reads bytes; new rules never touch the readers.

pub mod diagnose;
pub mod entrypoint;

use std::collections::BTreeMap;

use crate::findings::{Finding, Rule, Severity};
use crate::identify::Ident;
use crate::layers::merge::{FileRef, MergedFs};
use crate::paths;
use crate::platform::{Arch, Os, Platform, ALL_ARCHES};
use crate::report::{BinaryReport, EntrypointReport};
use diagnose::Compat;
use entrypoint::{Resolution, Stop};

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
    /// Native files matching these are not judged (`--ignore`); what runs
    /// is always judged.
    pub ignore: &'a [globset::GlobMatcher],
}

/// The judged parts of an image report.
pub struct Judgement {
    pub entrypoint: Option<EntrypointReport>,
    pub real_platform: Option<Platform>,
    pub runs_on: Vec<Platform>,
    pub platforms: BTreeMap<String, usize>,
    pub binaries: Vec<BinaryReport>,
    pub findings: Vec<Finding>,
}

/// One native file of the merged view.
struct Native<'a> {
    path: &'a str,
    at: FileRef,
    ident: &'a Ident,
}

pub fn judge(s: &Subject<'_>) -> Judgement {
    let natives = natives(s.fs);
    let binaries: Vec<BinaryReport> = natives.iter().map(|n| binary_report(s, n)).collect();
    let mut platforms: BTreeMap<String, usize> = BTreeMap::new();
    for n in &natives {
        for p in n.ident.platforms() {
            *platforms.entry(p.to_string()).or_default() += 1;
        }
    }
    let libcs = diagnose::image_libcs(s.fs);
    let mut findings = Vec::new();
    let search_path = entrypoint::path_from_env(s.env);
    let workdir = s
        .working_dir
        .filter(|w| !w.is_empty())
        .map(|w| paths::join_normalised("/", w))
        .unwrap_or_else(|| "/".to_string());
    // Windows images name programs by drive paths (`C:\\app\\x.exe`) that
    // their layers store under `Files/`: judged by their PE files instead.
    let windows = s.declared.is_some_and(|d| d.os == Os::Windows);
    let mut shell_command = None;
    let resolution = (!s.argv.is_empty() && !windows)
        .then(|| entrypoint::resolve(s.fs, &s.argv, &search_path, &workdir));
    if windows && !s.argv.is_empty() {
        findings.push(Finding::note(format!(
            "Windows image: the entrypoint `{}` is not resolved; judged by most of its PE files",
            s.argv.join(" ")
        )));
    }
    // What the kernel execs: the entrypoint's binary, and the first command
    // of an `sh -c "…"` string.
    let mut runs: Vec<Runs<'_>> = Vec::new();
    match &resolution {
        None if windows && !s.argv.is_empty() => {}
        None => findings.push(
            Finding::new(
                Rule::NoEntrypoint,
                Severity::Info,
                "the image has neither Entrypoint nor Cmd: judged by most of its native files",
            )
            .hint("the deploy must give a command (Kubernetes `command`, ECS `entryPoint`); pass it with --entrypoint to judge it"),
        ),
        Some(r) => {
            findings.extend(entrypoint_findings(s, r, "the entrypoint"));
            runs.extend(what_runs(s, r));
            if let Some(inner) = entrypoint::shell_command(&s.argv) {
                let r2 = entrypoint::resolve(s.fs, &inner, &search_path, &workdir);
                findings.extend(entrypoint_findings(s, &r2, "the command `sh -c` runs"));
                runs.extend(what_runs(s, &r2));
                shell_command = Some(Box::new(entrypoint_report(s, &r2)));
            }
        }
    }
    runs.dedup_by(|a, b| a.path == b.path);
    for r in &runs {
        findings.extend(judge_what_runs(s, r, &libcs));
    }
    let majority = majority_platform(&natives, s.declared.map(|d| &d.os));
    // The workload: for `sh -c "exec app"`, the app rather than the shell.
    let real_platform = runs
        .last()
        .and_then(|r| diagnose::code_platform(r.ident))
        .or_else(|| majority.as_ref().map(|(p, _)| p.clone()));
    if runs.is_empty() && resolution.is_none() && !natives.is_empty() {
        if let (Some((p, count)), Some(declared)) = (&majority, s.declared) {
            let total = natives.len();
            let what = format!("most native files ({count} of {total}) are {p}");
            match diagnose::compat(declared, p) {
                Compat::Runs => {}
                Compat::NewerVariant { .. } => findings.push(
                    Finding::new(
                        Rule::VariantMismatch,
                        Severity::Error,
                        format!("{what}, newer than the {declared} this image is labelled: older CPUs stop with `illegal instruction`"),
                    )
                    .hint(format!("build for the declared variant (`--platform {declared}`) or label the image {p}")),
                ),
                _ => findings.push(
                    Finding::new(
                        Rule::ArchMismatch,
                        Severity::Error,
                        format!("{what}, and this image is labelled {declared}: whatever runs will fail with `exec format error`"),
                    )
                    .hint(rebuild_hint(declared, p)),
                ),
            }
        }
    }
    let run_paths: Vec<&str> = runs.iter().map(|r| r.path).collect();
    findings.extend(other_natives(s, &natives, &run_paths, &libcs));
    findings.extend(damaged_files(s, &natives, &run_paths));
    if natives.is_empty() {
        findings.push(Finding::new(
            Rule::NoBinaries,
            Severity::Info,
            "no native executable or library in the image: nothing to judge by architecture",
        ));
    }
    if let (Some(index), Some(real)) = (s.index_platform, &real_platform) {
        findings.extend(index_disagreement(s, index, real));
    }
    if let (Some(target), Some(real)) = (s.target, &real_platform) {
        if runs.is_empty() && !target.can_run(real) {
            findings.push(target_mismatch(target, real, None));
        }
    }
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(a.rule.cmp(&b.rule))
            .then(a.path.cmp(&b.path))
    });
    let runs_on = real_platform.as_ref().map(hosts_for).unwrap_or_default();
    let entrypoint = match &resolution {
        Some(r) => Some(EntrypointReport {
            shell_command,
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
    };
    Judgement {
        entrypoint,
        real_platform,
        runs_on,
        platforms,
        binaries,
        findings,
    }
}

/// A native binary the kernel execs.
struct Runs<'a> {
    path: &'a str,
    at: FileRef,
    ident: &'a Ident,
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
                ident,
            })
        })
        .collect()
}

/// The most common platform of native code: ELF for a Linux image (Mach-O and
/// PE never decide its platform), PE for a Windows image. Ties go to the
/// first in order.
fn majority_platform(natives: &[Native<'_>], os: Option<&Os>) -> Option<(Platform, usize)> {
    let mut counts: BTreeMap<Platform, usize> = BTreeMap::new();
    for n in natives {
        let counted = match (n.ident, os) {
            (Ident::Pe(_), Some(Os::Windows)) => true,
            (Ident::Elf(_), Some(Os::Windows)) => false,
            (Ident::Elf(_), _) => true,
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

fn rebuild_hint(declared: &Platform, real: &Platform) -> String {
    format!(
        "rebuild for the label: `docker buildx build --platform {declared} .`; if the binary is copied or downloaded into the image, build or fetch it for $TARGETARCH instead of the build machine's {real}. If {real} is what you meant, fix the label: `--platform {real}`"
    )
}

pub(crate) fn target_mismatch(target: &Platform, real: &Platform, path: Option<&str>) -> Finding {
    let what = path
        .map(|p| format!("{p} is {real}"))
        .unwrap_or_else(|| format!("this image is {real}"));
    let mut f = Finding::new(
        Rule::TargetMismatch,
        Severity::Error,
        format!("the deploy target {target} cannot run this image: {what}, so the container dies with `exec format error`"),
    )
    .hint(format!(
        "pull or build the image for the target: `docker pull --platform {target} …` or `docker buildx build --platform {target} .` (`--platform {target},{real}` for both)"
    ));
    f.path = path.map(str::to_string);
    f
}

/// Findings from resolving the entrypoint (or the command of `sh -c`).
fn entrypoint_findings(s: &Subject<'_>, r: &Resolution, what: &str) -> Vec<Finding> {
    let mut out = Vec::new();
    let argv0 = r.argv.first().cloned().unwrap_or_default();
    match &r.stop {
        Stop::Missing { name, searched } => {
            let where_ = if name.contains('/') {
                format!("{name} does not exist in the image")
            } else {
                format!("`{name}` is not in any PATH directory ({})", searched.join(", "))
            };
            out.push(
                Finding::new(
                    Rule::EntrypointMissing,
                    Severity::Error,
                    format!("{what} cannot be found: {where_}; the container fails with `no such file or directory`"),
                )
                .path(r.path.clone().unwrap_or(argv0.clone()))
                .hint("check the Entrypoint/Cmd path, and that a COPY puts the file there in the final stage"),
            );
        }
        Stop::InterpreterMissing {
            script,
            interpreter,
        } => {
            let at = s.fs.get(script).map(|n| n.at);
            out.push(with_layer(
                s,
                Finding::new(
                    Rule::MissingInterpreter,
                    Severity::Error,
                    format!("{script} runs {interpreter}, which is not in the image: the container fails with `no such file or directory`"),
                )
                .path(script.clone())
                .hint(format!("install {interpreter} in the image, or change the script's #! line to an interpreter the image has")),
                at,
            ));
        }
        Stop::TooManyLinks { path } => out.push(
            Finding::new(
                Rule::EntrypointMissing,
                Severity::Error,
                format!("{what}'s symlinks loop or nest too deep at {path}: the kernel gives up (ELOOP)"),
            )
            .path(path.clone())
            .hint("fix the symlink chain"),
        ),
        Stop::NotAFile { path } => out.push(
            Finding::new(
                Rule::EntrypointMissing,
                Severity::Error,
                format!("{what} {path} is not a regular file"),
            )
            .path(path.clone())
            .hint("point Entrypoint/Cmd at the program, not a directory"),
        ),
        Stop::TooDeep => out.push(
            Finding::new(
                Rule::MissingInterpreter,
                Severity::Error,
                format!("{what}'s #! interpreters nest more than 4 deep: Linux refuses to run it (ELOOP)"),
            )
            .path(r.path.clone().unwrap_or(argv0.clone()))
            .hint("make the script run a real binary"),
        ),
        Stop::NotProgram => {
            if let Some((path, node)) = &r.last {
                let entry = node.content.and_then(|c| s.fs.entry(c));
                let text = matches!(entry.and_then(|e| e.ident.as_deref()), Some(Ident::Other { text: true }));
                let message = if text {
                    format!("{what} {path} is a text file without a #! line: exec fails with `exec format error`")
                } else {
                    format!("{what} {path} is neither a native program nor a #! script: exec fails with `exec format error`")
                };
                out.push(with_layer(
                    s,
                    Finding::new(Rule::NoShebang, Severity::Error, message)
                        .path(path.clone())
                        .hint(format!("start the script with a #! line (`#!/bin/sh`), or run it through its interpreter in Entrypoint (`[\"sh\", \"{path}\"]`)")),
                    Some(node.at),
                ));
            }
        }
        Stop::Native => {}
    }
    // Every file on the way must be executable, and every #! line clean.
    for step in &r.chain {
        let Some(resolved) = &step.resolved else {
            continue;
        };
        let Some(node) = s.fs.get(resolved) else {
            continue;
        };
        let Some(entry) = s.fs.entry(node.at) else {
            continue;
        };
        if node.content.is_some() && !entry.exec_bit() {
            out.push(with_layer(
                s,
                Finding::new(
                    Rule::NotExecutable,
                    Severity::Error,
                    format!("{resolved} has no exec permission bit (mode {:o}): exec fails with `permission denied`", entry.mode & 0o7777),
                )
                .path(resolved.clone())
                .hint(format!("`RUN chmod +x {resolved}` or `COPY --chmod=755`; or commit the file with its exec bit (`git update-index --chmod=+x`)")),
                Some(node.at),
            ));
        }
    }
    for (step, script) in r.scripts(s.fs) {
        if script.crlf {
            let at = step
                .resolved
                .as_deref()
                .and_then(|p| s.fs.get(p))
                .map(|n| n.at);
            out.push(with_layer(
                s,
                diagnose::crlf_finding(
                    step.resolved.as_deref().unwrap_or(&step.path),
                    &script.interpreter,
                    true,
                ),
                at,
            ));
        }
    }
    out
}

/// Rules about a binary the kernel execs: the label, the target, the loader
/// and the libraries it needs.
fn judge_what_runs(
    s: &Subject<'_>,
    r: &Runs<'_>,
    libcs: &std::collections::BTreeSet<&'static str>,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let (path, at, ident) = (r.path, r.at, r.ident);
    let Some(bin) = diagnose::code_platform(ident) else {
        return out;
    };
    if let Some(declared) = s.declared {
        match diagnose::compat(declared, &bin) {
            Compat::Runs => {}
            Compat::OtherOs => out.push(with_layer(
                s,
                Finding::new(
                    Rule::ForeignOs,
                    Severity::Error,
                    format!(
                        "the kernel will refuse {path}: it is a {} binary for {bin}, and this image is {declared}",
                        format_label(ident)
                    ),
                )
                .path(path)
                .hint(foreign_os_hint(ident, declared)),
                Some(at),
            )),
            Compat::OtherArch => out.push(with_layer(
                s,
                Finding::new(
                    Rule::ArchMismatch,
                    Severity::Error,
                    format!(
                        "the kernel will refuse {path}: it is {} and this image is labelled {declared}; the container dies with `exec format error`",
                        bin.arch
                    ),
                )
                .path(path)
                .hint(rebuild_hint(declared, &bin)),
                Some(at),
            )),
            Compat::NewerVariant { need, have } => out.push(with_layer(
                s,
                variant_finding(path, need, have, &declared.to_string(), true),
                Some(at),
            )),
        }
    }
    if let Some(target) = s.target {
        match diagnose::compat(target, &bin) {
            Compat::Runs => {}
            Compat::NewerVariant { need, have } => out.push(with_layer(
                s,
                variant_finding(
                    path,
                    need,
                    have,
                    &format!("the deploy target {target}"),
                    true,
                ),
                Some(at),
            )),
            _ => out.push(with_layer(
                s,
                target_mismatch(target, &bin, Some(path)),
                Some(at),
            )),
        }
    }
    if let Some(f) = isa_finding(s, path, ident, true) {
        out.push(with_layer(s, f, Some(at)));
    }
    if let Ident::Elf(elf) = ident {
        let loader = diagnose::loader_problem(s.fs, elf, libcs);
        if let Some((rule, why)) = &loader {
            out.push(with_layer(
                s,
                Finding::new(
                    *rule,
                    Severity::Error,
                    format!("{path} cannot start: {why}"),
                )
                .path(path)
                .hint(diagnose::loader_hint(*rule, elf)),
                Some(at),
            ));
        } else {
            for m in diagnose::missing_libraries(s.fs, path, elf, s.env) {
                let also = if m.wrong_arch.is_empty() {
                    String::new()
                } else {
                    let copies = m
                        .wrong_arch
                        .iter()
                        .map(|(p, a)| format!("{p} is {a}"))
                        .collect::<Vec<_>>()
                        .join(", ");
                    format!(" (only copies of another architecture: {copies})")
                };
                let via = if m.needed_by == path {
                    String::new()
                } else {
                    format!(" (needed by {})", m.needed_by)
                };
                out.push(with_layer(
                    s,
                    Finding::new(
                        Rule::MissingLibrary,
                        Severity::Error,
                        format!(
                            "{path} needs {}{via}, which the loader will not find{also}: the container fails with `error while loading shared libraries: {}`",
                            m.name, m.name
                        ),
                    )
                    .path(path)
                    .hint(format!(
                        "install the package that provides {} for {} in the image (searched: {})",
                        m.name,
                        elf.arch,
                        m.searched.join(":")
                    )),
                    Some(at),
                ));
            }
        }
    }
    out
}

fn variant_finding(path: &str, need: u32, have: u32, host: &str, runs: bool) -> Finding {
    Finding::new(
        Rule::VariantMismatch,
        diagnose::severity(runs),
        format!(
            "{path} is ARMv{need} code, newer than the arm/v{have} of {host}: an ARMv{have} CPU stops with `illegal instruction`"
        ),
    )
    .path(path)
    .hint(format!("build for arm/v{have} (GOARM={have}, `-march=armv{have}`), or declare linux/arm/v{need} if only ARMv{need} hosts run it"))
}

/// The x86-64 ISA level check against the target (if given) or the label.
fn isa_finding(s: &Subject<'_>, path: &str, ident: &Ident, runs: bool) -> Option<Finding> {
    let need = diagnose::needed_isa_level(ident)?;
    let host = s.target.or(s.declared)?;
    let (level, explicit) = diagnose::host_isa_level(host)?;
    if need <= level {
        return None;
    }
    // `amd64` without a variant is the v1 baseline in the OCI spec, but few
    // labels say more: an explicit variant (or --platform) makes it an error.
    let severity = if runs && explicit {
        Severity::Error
    } else {
        Severity::Warning
    };
    let host_name = if explicit {
        format!("{host}")
    } else {
        format!("{host} (the x86-64-v1 baseline; no variant is declared)")
    };
    Some(
        Finding::new(
            Rule::IsaLevel,
            severity,
            format!(
                "{path} needs x86-64-v{need}, more than {host_name}: on an older CPU it dies with `illegal instruction`"
            ),
        )
        .path(path)
        .hint(format!(
            "build for the hosts you deploy to (`-march=x86-64-v{level}`, GOAMD64=v{level}), or run only on x86-64-v{need} hosts and say so with `--platform linux/amd64/v{need}`"
        )),
    )
}

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

/// Is this PE file one that never runs natively anyway: an IL-only .NET
/// assembly, or one of the Windows launchers pip/setuptools/distlib ship?
fn harmless_pe(path: &str, ident: &Ident) -> bool {
    let Ident::Pe(pe) = ident else {
        return false;
    };
    if pe.il_only {
        return true;
    }
    let name = paths::file_name(path);
    let launcher_dir = path.contains("/setuptools/") || path.contains("/distlib/");
    let launcher_name = name.ends_with(".exe")
        && ["cli", "gui", "t", "w"].iter().any(|p| {
            name.starts_with(p)
                && name[p.len()..]
                    .trim_start_matches('-')
                    .chars()
                    .next()
                    .is_none_or(|c| c.is_ascii_digit() || c == 'a' || c == '.')
        });
    launcher_dir && launcher_name
}

/// Rules about every other native file. Findings under noise categories
/// (debug symbols, sysroots, firmware, test data) are summarised per category.
fn other_natives(
    s: &Subject<'_>,
    natives: &[Native<'_>],
    runs: &[&str],
    libcs: &std::collections::BTreeSet<&'static str>,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let Some(declared) = s.declared else {
        return out;
    };
    let mut loaders: BTreeMap<(Rule, String), (usize, String, FileRef, String)> = BTreeMap::new();
    let mut noise: BTreeMap<&'static str, (usize, std::collections::BTreeSet<&'static str>)> =
        BTreeMap::new();
    let mut ignored: BTreeMap<usize, usize> = BTreeMap::new();
    for n in natives {
        if runs.contains(&n.path) {
            continue;
        }
        if let Some(i) = s.ignore.iter().position(|g| g.is_match(n.path)) {
            *ignored.entry(i).or_default() += 1;
            continue;
        }
        let mut found = Vec::new();
        let platforms = n.ident.platforms();
        let Some(bin) = diagnose::code_platform(n.ident) else {
            continue;
        };
        let package = diagnose::package_of(n.path)
            .map(|(name, kind)| format!(" ({kind} package {name})"))
            .unwrap_or_default();
        match diagnose::compat(declared, &bin) {
            Compat::OtherOs => {
                let severity = if harmless_pe(n.path, n.ident) {
                    Severity::Info
                } else {
                    Severity::Warning
                };
                let slices = platforms.iter().map(|p| p.to_string()).collect::<Vec<_>>().join(", ");
                let hint = if severity == Severity::Info {
                    "nothing to do: this file never runs natively here (an IL-only .NET assembly, or a Windows launcher that pip/setuptools ship with every install)".to_string()
                } else {
                    foreign_os_hint(n.ident, declared)
                };
                found.push(
                    Finding::new(
                        Rule::ForeignOs,
                        severity,
                        format!(
                            "{}{package} is a {} file for {slices} in a {} image: it cannot run here",
                            n.path,
                            format_label(n.ident),
                            declared.os
                        ),
                    )
                    .path(n.path)
                    .hint(hint),
                );
            }
            Compat::OtherArch => found.push(
                Finding::new(
                    Rule::ForeignBinary,
                    Severity::Warning,
                    format!(
                        "{}{package} is {bin} code in a {declared} image: it fails with `exec format error` if run (or loaded)",
                        n.path
                    ),
                )
                .path(n.path)
                .hint(if package.is_empty() {
                    format!("build or download it for {declared} (in a Dockerfile: $TARGETARCH), or remove it if unused")
                } else {
                    format!("install the package inside the image for {declared} (`RUN pip install` / `RUN npm ci` in the Dockerfile) instead of copying it from the build machine")
                }),
            ),
            Compat::NewerVariant { need, have } => {
                found.push(variant_finding(n.path, need, have, &format!("this {declared} image"), false))
            }
            Compat::Runs => {
                if let Some((tag, tag_arch)) = diagnose::python_tag_arch(n.path) {
                    if tag_arch != bin.arch {
                        found.push(
                            Finding::new(
                                Rule::ForeignBinary,
                                Severity::Warning,
                                format!(
                                    "{}{package}: its name says {tag} but its code is {}: Python will not import it",
                                    n.path, bin.arch
                                ),
                            )
                            .path(n.path)
                            .hint("reinstall the package inside the image so the module and its name match the interpreter"),
                        );
                    }
                }
                if let Some(f) = isa_finding(s, n.path, n.ident, false) {
                    found.push(f);
                }
                if let Ident::Elf(elf) = n.ident {
                    if let Some((rule, why)) = diagnose::loader_problem(s.fs, elf, libcs) {
                        let interp = elf.interpreter.clone().unwrap_or_default();
                        let e = loaders.entry((rule, interp)).or_insert((0, n.path.to_string(), n.at, why));
                        e.0 += 1;
                    }
                }
            }
        }
        match diagnose::noise_category(n.path) {
            Some(cat) if !found.is_empty() => {
                let e = noise.entry(cat).or_default();
                e.0 += 1;
                e.1.extend(found.iter().map(|f| f.rule.id()));
            }
            _ => out.extend(found.into_iter().map(|f| with_layer(s, f, Some(n.at)))),
        }
    }
    for ((rule, interp), (count, example, at, why)) in loaders {
        let others = if count > 1 {
            format!(
                " (and {} more native files with the same loader)",
                count - 1
            )
        } else {
            String::new()
        };
        out.push(with_layer(
            s,
            Finding::new(rule, Severity::Warning, format!("{example}{others}: {why}"))
                .path(example)
                .hint(format!(
                    "if these are run, the image needs {interp}; otherwise remove them"
                )),
            Some(at),
        ));
    }
    for (cat, (count, rules)) in noise {
        let rules = rules.into_iter().collect::<Vec<_>>().join(", ");
        out.push(Finding::new(
            Rule::ForeignBinary,
            Severity::Info,
            format!(
                "{count} native file{} under {cat} would not run here ({rules}); never executed, so summarised, not listed",
                if count == 1 { "" } else { "s" }
            ),
        ));
    }
    for (i, count) in ignored {
        out.push(Finding::note(format!(
            "--ignore {}: {count} native files not judged",
            s.ignore[i].glob()
        )));
    }
    out
}

/// `damaged-file`: an ELF whose headers point past its end (truncated or
/// corrupt). The image is still judged; what runs being damaged is an error.
fn damaged_files(s: &Subject<'_>, natives: &[Native<'_>], runs: &[&str]) -> Vec<Finding> {
    natives
        .iter()
        .filter(|n| matches!(n.ident, Ident::Elf(e) if e.damaged))
        // Files under /usr/lib/debug keep headers whose data was stripped
        // (they look truncated by design); noise and --ignore apply as for
        // every other rule, never to what runs.
        .filter(|n| {
            runs.contains(&n.path)
                || (diagnose::noise_category(n.path).is_none()
                    && !s.ignore.iter().any(|g| g.is_match(n.path)))
        })
        .map(|n| {
            let runs = runs.contains(&n.path);
            with_layer(
                s,
                Finding::new(
                    Rule::DamagedFile,
                    diagnose::severity(runs),
                    format!(
                        "{}'s headers point past its end: the file is truncated or corrupt, and loading it fails",
                        n.path
                    ),
                )
                .path(n.path)
                .hint("rebuild or re-download the file; check the step that copied it into the image"),
                Some(n.at),
            )
        })
        .collect()
}

/// An index advertising a platform that the config (or, without a config
/// platform, the binaries) does not match. When index and config agree but
/// the binaries do not, `arch-mismatch` already says so.
fn index_disagreement(s: &Subject<'_>, index: &Platform, real: &Platform) -> Vec<Finding> {
    let mut out = Vec::new();
    let config_differs = s
        .declared
        .is_some_and(|d| d.os != index.os || d.arch != index.arch);
    let binaries_differ = s.declared.is_none() && !index.can_run(real);
    if config_differs || binaries_differ {
        let config = s
            .declared
            .map(|d| d.to_string())
            .unwrap_or_else(|| "nothing".into());
        out.push(
            Finding::new(
                Rule::PlatformDisagreement,
                Severity::Error,
                format!(
                    "the index advertises this image as {index}, but its config says {config} and its binaries are {real}: {index} hosts will pull it and fail"
                ),
            )
            .hint(format!(
                "rebuild the multi-platform image with buildx so each platform's manifest holds that platform's build: `docker buildx build --platform {index},… --push .`"
            )),
        );
    }
    out
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

    #[test]
    fn pip_launchers_are_harmless() {
        use crate::identify::{BinType, PeInfo};
        let pe = Ident::Pe(PeInfo {
            machine: 0x8664,
            arch: Arch::Amd64,
            dll: false,
            il_only: false,
            bin_type: BinType::Exec,
        });
        assert!(harmless_pe(
            "/usr/lib/python3/dist-packages/setuptools/cli-64.exe",
            &pe
        ));
        assert!(harmless_pe(
            "/venv/lib/python3.11/site-packages/pip/_vendor/distlib/t64-arm.exe",
            &pe
        ));
        assert!(!harmless_pe("/app/tool.exe", &pe));
        assert!(!harmless_pe(
            "/venv/lib/site-packages/setuptools/evil.exe",
            &pe
        ));
    }
}
