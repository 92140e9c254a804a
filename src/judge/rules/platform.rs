//! Rules about code against the platforms it must run on: the image's label,
//! the platform its index advertises, and the deploy target.

use super::super::diagnose::{self, Compat};
use super::super::{with_layer, Native, Runs, Subject};
use super::{foreign_os_hint, format_label, rebuild_hint};
use crate::findings::{Finding, Rule, Severity};
use crate::identify::Ident;
use crate::platform::Platform;

/// Whose code a platform finding is about.
#[derive(Clone, Copy)]
pub enum Culprit<'a> {
    /// A file the kernel execs (an error).
    Runs(&'a str),
    /// Another file (a warning: it fails only if run or loaded).
    File(&'a str),
    /// Most native files of an image without Entrypoint and Cmd.
    Most { count: usize, total: usize },
}

/// The label and the target against a binary the kernel execs:
/// arch-mismatch, foreign-os, variant-mismatch, target-mismatch (unless
/// `check_target` is false: a single program is judged against the target
/// as a whole), isa-level.
pub fn what_runs(s: &Subject<'_>, r: &Runs<'_>, check_target: bool) -> Vec<Finding> {
    let mut out = Vec::new();
    let Some(bin) = diagnose::code_platform(r.ident) else {
        return out;
    };
    let culprit = Culprit::Runs(r.path);
    if let Some(declared) = s.declared {
        let f = match diagnose::compat(declared, &bin) {
            Compat::Runs => None,
            Compat::OtherOs => Some(foreign_os_runs(r.path, r.ident, &bin, declared)),
            Compat::OtherArch => Some(arch_mismatch(culprit, declared, &bin)),
            Compat::NewerVariant { need, have } => Some(variant_mismatch(
                culprit,
                need,
                have,
                &declared.to_string(),
                declared,
                &bin,
            )),
        };
        out.extend(f.map(|f| with_layer(s, f, Some(r.at))));
    }
    if let Some(target) = s.target.filter(|_| check_target) {
        let f = match diagnose::compat_on(s.host, target, &bin) {
            Compat::Runs => None,
            Compat::NewerVariant { need, have } => Some(variant_mismatch(
                culprit,
                need,
                have,
                &format!("the deploy target {target}"),
                target,
                &bin,
            )),
            _ => Some(aarch32_why(
                s,
                target,
                &bin,
                target_mismatch(target, &bin, Some(r.path)),
            )),
        };
        out.extend(f.map(|f| with_layer(s, f, Some(r.at))));
    }
    if let Some(f) = isa_level(s, r.path, r.ident, true) {
        out.push(with_layer(s, f, Some(r.at)));
    }
    out
}

/// A target-mismatch of 32-bit ARM code on an arm64 host whose facts say
/// it has no AArch32: the finding says so, with the fact's source.
fn aarch32_why(s: &Subject<'_>, target: &Platform, bin: &Platform, mut f: Finding) -> Finding {
    let Some(h) = s.host else {
        return f;
    };
    if target.arch == crate::platform::Arch::Arm64 && bin.arch == crate::platform::Arch::Arm {
        match h.aarch32 {
            Some(false) => {
                f.message.push_str(&format!(
                    " ({} runs no 32-bit ARM code: {})",
                    h.label(),
                    h.aarch32_source.unwrap_or("no source")
                ));
            }
            _ => f.message.push_str(&format!(
                " (whether {} runs 32-bit ARM code is unknown: checked as if it does not)",
                h.label()
            )),
        }
    }
    f
}

/// Without Entrypoint and Cmd: the most common platform of the native files
/// against the label (arch-mismatch or variant-mismatch).
pub fn most_files(
    s: &Subject<'_>,
    natives: &[Native<'_>],
    majority: &(Platform, usize),
) -> Option<Finding> {
    let declared = s.declared?;
    let (p, count) = majority;
    let culprit = Culprit::Most {
        count: *count,
        total: natives.len(),
    };
    match diagnose::compat(declared, p) {
        Compat::Runs => None,
        Compat::NewerVariant { need, have } => Some(variant_mismatch(
            culprit,
            need,
            have,
            &declared.to_string(),
            declared,
            p,
        )),
        Compat::OtherOs => Some(
            Finding::new(
                Rule::ForeignOs,
                Severity::Error,
                format!("most native files ({count} of {total}) are {p} code, and this image is labelled {declared}: a {} host cannot run them", declared.os, count = majority.1, total = natives.len()),
            )
            .hint(format!("label the image with the platform its programs are built for (`--platform {p}`), or build them for {declared}")),
        ),
        Compat::OtherArch => Some(arch_mismatch(culprit, declared, p)),
    }
}

/// `arch-mismatch`: code the declared platform cannot run.
pub fn arch_mismatch(culprit: Culprit<'_>, declared: &Platform, real: &Platform) -> Finding {
    match culprit {
        Culprit::Runs(path) | Culprit::File(path) => Finding::new(
            Rule::ArchMismatch,
            Severity::Error,
            format!(
                "the kernel will refuse {path}: it is {} and this image is labelled {declared}; the container dies with `exec format error`",
                real.arch
            ),
        )
        .path(path),
        Culprit::Most { count, total } => Finding::new(
            Rule::ArchMismatch,
            Severity::Error,
            format!("most native files ({count} of {total}) are {real}, and this image is labelled {declared}: whatever runs will fail with `exec format error`"),
        ),
    }
    .hint(rebuild_hint(declared, real))
}

/// `variant-mismatch`: ARM code newer than the variant of `host` (named
/// `host_name` in the message).
pub fn variant_mismatch(
    culprit: Culprit<'_>,
    need: u32,
    have: u32,
    host_name: &str,
    host: &Platform,
    real: &Platform,
) -> Finding {
    match culprit {
        Culprit::Runs(path) | Culprit::File(path) => Finding::new(
            Rule::VariantMismatch,
            diagnose::severity(matches!(culprit, Culprit::Runs(_))),
            format!(
                "{path} is ARMv{need} code, newer than the arm/v{have} of {host_name}: an ARMv{have} CPU stops with `illegal instruction`"
            ),
        )
        .path(path)
        .hint(format!("build for arm/v{have} (GOARM={have}, `-march=armv{have}`), or declare linux/arm/v{need} if only ARMv{need} hosts run it")),
        Culprit::Most { count, total } => Finding::new(
            Rule::VariantMismatch,
            Severity::Error,
            format!("most native files ({count} of {total}) are {real}, newer than the {host} this image is labelled: older CPUs stop with `illegal instruction`"),
        )
        .hint(format!("build for the declared variant (`--platform {host}`) or label the image {real}")),
    }
}

/// `foreign-os` for what runs: a Mach-O, PE or foreign ELF the kernel execs.
fn foreign_os_runs(path: &str, ident: &Ident, bin: &Platform, declared: &Platform) -> Finding {
    Finding::new(
        Rule::ForeignOs,
        Severity::Error,
        format!(
            "the kernel will refuse {path}: it is a {} binary for {bin}, and this image is {declared}",
            format_label(ident)
        ),
    )
    .path(path)
    .hint(foreign_os_hint(ident, declared))
}

/// `target-mismatch`: the deploy target cannot exec code of `real` (the
/// file at `path`, or the image as a whole).
pub fn target_mismatch(target: &Platform, real: &Platform, path: Option<&str>) -> Finding {
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

/// `isa-level`: x86-64 code needing a higher level than the target (if
/// given) or the label; arm64 code (Go's `GOARM64`) needing a higher Arm
/// architecture level than the host's CPU (`--host`).
pub fn isa_level(s: &Subject<'_>, path: &str, ident: &Ident, runs: bool) -> Option<Finding> {
    if let Some(need) = diagnose::needed_arm_level(ident) {
        return arm_level(s, path, need, runs);
    }
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

/// `isa-level` for arm64: the Arm architecture level the code needs against
/// the host's (`--host`), when the host's is known; a note when it is not.
fn arm_level(s: &Subject<'_>, path: &str, need: (u8, u8), runs: bool) -> Option<Finding> {
    let host = s.host.filter(|h| h.name.is_some())?;
    if s.target
        .is_some_and(|t| t.arch != crate::platform::Arch::Arm64)
    {
        return None;
    }
    let (na, nb) = need;
    let Some(have) = host.arm_level else {
        return Some(Finding::note(format!(
            "{path} needs Armv{na}.{nb}-A (GOARM64); the architecture level of {} is unknown, so the isa-level check is skipped",
            host.label()
        )));
    };
    if crate::hosts::arm_level_covers(have, need) {
        return None;
    }
    let (ha, hb) = have;
    Some(
        Finding::new(
            Rule::IsaLevel,
            diagnose::severity(runs),
            format!(
                "{path} needs Armv{na}.{nb}-A (GOARM64=v{na}.{nb}), more than the Armv{ha}.{hb}-A of {}: it dies with `illegal instruction` (SIGILL) when it reaches an instruction the CPU lacks",
                host.label()
            ),
        )
        .path(path)
        .hint(format!(
            "build with GOARM64=v{ha}.{hb} (or lower) for this host, or deploy to hosts at Armv{na}.{nb}-A or newer"
        )),
    )
}

/// `platform-disagreement`: an index advertising a platform that the config
/// (or, without a config platform, the binaries) does not match. When index
/// and config agree but the binaries do not, `arch-mismatch` already says so.
pub fn platform_disagreement(
    s: &Subject<'_>,
    index: &Platform,
    real: &Platform,
) -> Option<Finding> {
    let config_differs = s
        .declared
        .is_some_and(|d| d.os != index.os || d.arch != index.arch);
    let binaries_differ = s.declared.is_none() && !index.can_run(real);
    if !(config_differs || binaries_differ) {
        return None;
    }
    let config = s
        .declared
        .map(|d| d.to_string())
        .unwrap_or_else(|| "nothing".into());
    Some(
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
    )
}
