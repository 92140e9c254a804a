//! The judge: pure functions over one image's merged filesystem and its
//! declared metadata. It resolves what runs, lists the native files, applies
//! each rule (a small function returning findings) and gives the verdict.
//! Nothing here reads bytes; new rules never touch the readers.

pub mod entrypoint;

use std::collections::BTreeMap;

use crate::findings::{Finding, Rule, Severity};
use crate::identify::Ident;
use crate::layers::merge::{FileRef, MergedFs};
use crate::paths;
use crate::platform::{Arch, Os, Platform, ALL_ARCHES};
use crate::report::{BinaryReport, EntrypointReport, Verdict};
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
}

/// The judged parts of an image report.
pub struct Judgement {
    pub entrypoint: Option<EntrypointReport>,
    pub real_platform: Option<Platform>,
    pub runs_on: Vec<Platform>,
    pub platforms: BTreeMap<String, usize>,
    pub binaries: Vec<BinaryReport>,
    pub findings: Vec<Finding>,
    pub verdict: Verdict,
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
    let mut findings = Vec::new();
    let resolution = (!s.argv.is_empty()).then(|| {
        let path = entrypoint::path_from_env(s.env);
        let workdir = s
            .working_dir
            .filter(|w| !w.is_empty())
            .map(|w| paths::join_normalised("/", w))
            .unwrap_or_else(|| "/".to_string());
        entrypoint::resolve(s.fs, &s.argv, &path, &workdir)
    });
    let runs: Option<(&str, FileRef, &Ident)> = resolution.as_ref().and_then(|r| {
        if r.stop != Stop::Native {
            return None;
        }
        let (path, node) = r.last.as_ref()?;
        let content = node.content?;
        let ident = s.fs.entry(content)?.ident.as_ref()?;
        Some((path.as_str(), node.at, ident))
    });
    let majority = majority_platform(&natives);
    let real_platform = runs
        .and_then(|(_, _, i)| i.platforms().into_iter().next())
        .or_else(|| majority.as_ref().map(|(p, _)| p.clone()));

    match &resolution {
        None => findings.push(
            Finding::new(
                Rule::NoEntrypoint,
                Severity::Info,
                "the image has neither Entrypoint nor Cmd: judged by most of its native files",
            )
            .hint("the deploy must give a command (Kubernetes `command`, ECS `entryPoint`); pass it with --entrypoint to judge it"),
        ),
        Some(r) => findings.extend(entrypoint_findings(s, r)),
    }
    if let Some((path, at, ident)) = runs {
        findings.extend(judge_what_runs(s, path, at, ident));
    } else if resolution.is_none() {
        if let (Some((p, count)), Some(declared)) = (&majority, s.declared) {
            if !declared.can_run(p) {
                let total = natives.len();
                findings.push(
                    with_layer(
                        s,
                        Finding::new(
                            Rule::ArchMismatch,
                            Severity::Error,
                            format!(
                                "most native files ({count} of {total}) are {p}, and this image is labelled {declared}: whatever runs will fail with `exec format error`"
                            ),
                        ),
                        None,
                    )
                    .hint(rebuild_hint(declared, p)),
                );
            }
        }
    }
    findings.extend(other_natives(s, &natives, runs.map(|r| r.0)));
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
        if runs.is_none() && !target.can_run(real) {
            findings.push(target_mismatch(target, real, None));
        }
    }
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(a.rule.cmp(&b.rule))
            .then(a.path.cmp(&b.path))
    });
    let verdict = Verdict::from_findings(&findings, !natives.is_empty());
    let runs_on = real_platform.as_ref().map(hosts_for).unwrap_or_default();
    Judgement {
        entrypoint: resolution.as_ref().map(|r| entrypoint_report(s, r)),
        real_platform,
        runs_on,
        platforms,
        binaries,
        findings,
        verdict,
    }
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

/// The most common platform of native ELF code (Mach-O and PE never decide a
/// Linux image's platform), with its count. Ties go to the first in order.
fn majority_platform(natives: &[Native<'_>]) -> Option<(Platform, usize)> {
    let mut counts: BTreeMap<Platform, usize> = BTreeMap::new();
    for n in natives {
        if let Ident::Elf(e) = n.ident {
            *counts.entry(e.platform()).or_default() += 1;
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

fn target_mismatch(target: &Platform, real: &Platform, path: Option<&str>) -> Finding {
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

/// Findings from resolving the entrypoint itself.
fn entrypoint_findings(s: &Subject<'_>, r: &Resolution) -> Vec<Finding> {
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
                    format!("the entrypoint cannot be found: {where_}; the container fails with `no such file or directory`"),
                )
                .path(r.path.clone().unwrap_or(argv0))
                .hint("check the Entrypoint/Cmd path, and that a COPY puts the file there in the final stage"),
            );
        }
        Stop::InterpreterMissing {
            script,
            interpreter,
        } => {
            let at = s.fs.get(script).map(|n| n.at);
            out.push(
                with_layer(
                    s,
                    Finding::new(
                        Rule::MissingInterpreter,
                        Severity::Error,
                        format!("{script} runs {interpreter}, which is not in the image: the container fails with `no such file or directory`"),
                    )
                    .path(script.clone())
                    .hint(format!("install {interpreter} in the image, or change the script's #! line to an interpreter the image has")),
                    at,
                ),
            );
        }
        Stop::TooManyLinks { path } => out.push(
            Finding::new(
                Rule::EntrypointMissing,
                Severity::Error,
                format!("the entrypoint's symlinks loop or nest too deep at {path}: the kernel gives up (ELOOP)"),
            )
            .path(path.clone())
            .hint("fix the symlink chain"),
        ),
        Stop::NotAFile { path } => out.push(
            Finding::new(
                Rule::EntrypointMissing,
                Severity::Error,
                format!("the entrypoint {path} is not a regular file"),
            )
            .path(path.clone())
            .hint("point Entrypoint/Cmd at the program, not a directory"),
        ),
        Stop::TooDeep => out.push(
            Finding::new(
                Rule::MissingInterpreter,
                Severity::Error,
                "the entrypoint's #! interpreters nest more than 4 deep: Linux refuses to run it (ELOOP)",
            )
            .path(r.path.clone().unwrap_or(argv0))
            .hint("make the script run a real binary"),
        ),
        Stop::NotProgram | Stop::Native => {}
    }
    out
}

/// Rules about the binary the kernel execs.
fn judge_what_runs(s: &Subject<'_>, path: &str, at: FileRef, ident: &Ident) -> Vec<Finding> {
    let mut out = Vec::new();
    let Some(bin) = ident.platforms().into_iter().next() else {
        return out;
    };
    if let Some(declared) = s.declared {
        if bin.os != declared.os {
            out.push(with_layer(
                s,
                Finding::new(
                    Rule::ForeignOs,
                    Severity::Error,
                    format!(
                        "the kernel will refuse {path}: it is a {} binary for {}, and this image is {declared}",
                        format_label(ident),
                        bin
                    ),
                )
                .path(path)
                .hint(foreign_os_hint(ident, declared)),
                Some(at),
            ));
        } else if !declared.can_run(&bin) {
            out.push(with_layer(
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
            ));
        }
    }
    if let Some(target) = s.target {
        if !target.can_run(&bin) {
            out.push(with_layer(
                s,
                target_mismatch(target, &bin, Some(path)),
                Some(at),
            ));
        }
    }
    out
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

/// Rules about every other native file.
fn other_natives(s: &Subject<'_>, natives: &[Native<'_>], runs: Option<&str>) -> Vec<Finding> {
    let mut out = Vec::new();
    let Some(declared) = s.declared else {
        return out;
    };
    for n in natives {
        if Some(n.path) == runs {
            continue;
        }
        let platforms = n.ident.platforms();
        let Some(bin) = platforms.first() else {
            continue;
        };
        if bin.os != declared.os {
            let severity = if harmless_pe(n.path, n.ident) {
                Severity::Info
            } else {
                Severity::Warning
            };
            let slices = platforms
                .iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
                .join(", ");
            out.push(with_layer(
                s,
                Finding::new(
                    Rule::ForeignOs,
                    severity,
                    format!(
                        "{} is a {} file for {slices} in a {} image: it cannot run here",
                        n.path,
                        format_label(n.ident),
                        declared.os
                    ),
                )
                .path(n.path)
                .hint(foreign_os_hint(n.ident, declared)),
                Some(n.at),
            ));
        } else if !declared.can_run(bin) {
            out.push(with_layer(
                s,
                Finding::new(
                    Rule::ForeignBinary,
                    Severity::Warning,
                    format!(
                        "{} is {} code in a {declared} image: it fails with `exec format error` if run (or loaded)",
                        n.path, bin
                    ),
                )
                .path(n.path)
                .hint(format!(
                    "build or download it for {declared} (in a Dockerfile: $TARGETARCH), or remove it if unused"
                )),
                Some(n.at),
            ));
        }
    }
    out
}

/// An index advertising a platform that the config or the binaries do not match.
fn index_disagreement(s: &Subject<'_>, index: &Platform, real: &Platform) -> Vec<Finding> {
    let mut out = Vec::new();
    let config_differs = s
        .declared
        .is_some_and(|d| d.os != index.os || d.arch != index.arch);
    let binaries_differ = !index.can_run(real);
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
