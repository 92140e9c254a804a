//! The host's verdict on one image (`--host`, `--page-size`, `--kernel`):
//! the checks the platform string cannot carry, each with the host's fact,
//! its source and the rules whose errors failed it — the report's
//! `runs_on_host`, beside `runs_on`.

use serde::Serialize;

use super::diagnose::{self, Compat};
use crate::findings::{Finding, Rule, Severity};
use crate::hosts::HostFacts;
use crate::platform::{Arch, Platform};

/// Whether an image runs on the host of `--host`, and why.
#[derive(Debug, Clone, Serialize)]
pub struct HostVerdict {
    /// The profile's name; `None` when only `--page-size`/`--kernel` were given.
    pub host: Option<String>,
    /// The platform the host runs containers as (the deploy target).
    pub platform: Option<Platform>,
    /// No check failed.
    pub runs: bool,
    pub checks: Vec<HostCheck>,
}

/// One check of the host's facts against the image.
#[derive(Debug, Clone, Serialize)]
pub struct HostCheck {
    /// `platform`, `aarch32`, `page-size`, `cpu-level` or `kernel`.
    pub check: &'static str,
    /// `passed`, `failed`, `skipped` (the fact is unknown) or
    /// `not-applicable` (the image has nothing it concerns).
    pub result: &'static str,
    /// The host's fact, as text (`4 KiB`, `Neoverse V2, Armv9.0-A`).
    pub fact: Option<String>,
    /// Where the fact comes from.
    pub source: Option<String>,
    /// The rules whose errors failed the check.
    pub rules: Vec<&'static str>,
}

/// The host's checks on an image whose findings are `findings`, whose
/// code is `real` and whose deploy target is `target`.
pub fn verdict(
    host: &HostFacts,
    target: Option<&Platform>,
    real: Option<&Platform>,
    findings: &[Finding],
) -> HostVerdict {
    let profile = host.profile;
    let failed_by = |rules: &[Rule]| -> Vec<&'static str> {
        let mut v: Vec<&'static str> = findings
            .iter()
            .filter(|f| f.severity == Severity::Error && rules.contains(&f.rule))
            .map(|f| f.rule.id())
            .collect();
        v.dedup();
        v
    };
    let check = |check, fact: Option<String>, source: Option<String>, rules: Vec<&'static str>| {
        let result = if !rules.is_empty() {
            "failed"
        } else if fact.is_none() {
            "skipped"
        } else {
            "passed"
        };
        HostCheck {
            check,
            result,
            fact,
            source,
            rules,
        }
    };
    let mut checks = Vec::new();
    if let Some(t) = target {
        checks.push(check(
            "platform",
            Some(t.to_string()),
            Some(match profile {
                Some(p) if p.platform == t.to_string() => format!("--host {}", p.name),
                _ => "--platform".to_string(),
            }),
            failed_by(&[Rule::TargetMismatch]),
        ));
    }
    let arm32_on_arm64 =
        target.is_some_and(|t| t.arch == Arch::Arm64) && real.is_some_and(|r| r.arch == Arch::Arm);
    if arm32_on_arm64 {
        let runs = match (target, real) {
            (Some(t), Some(r)) => matches!(diagnose::compat_on(Some(host), t, r), Compat::Runs),
            _ => false,
        };
        let mut c = check(
            "aarch32",
            host.aarch32.map(|a| {
                if a {
                    "runs 32-bit ARM code"
                } else {
                    "no 32-bit ARM code"
                }
                .to_string()
            }),
            host.aarch32_source.map(str::to_string),
            if runs || host.aarch32.is_none() {
                Vec::new()
            } else {
                failed_by(&[Rule::TargetMismatch])
            },
        );
        if host.aarch32.is_none() {
            c.result = "skipped";
        }
        checks.push(c);
    } else if host.aarch32.is_some() {
        checks.push(not_applicable("aarch32"));
    }
    checks.push(check(
        "page-size",
        host.page_size.map(|p| format!("{} KiB", p / 1024)),
        if host.page_size_given {
            Some("--page-size".to_string())
        } else {
            profile.map(|p| p.page_size.source.to_string())
        },
        failed_by(&[Rule::PageSize]),
    ));
    if let Some(p) = profile {
        checks.push(check(
            "cpu-level",
            p.cpu.value.map(str::to_string),
            Some(p.cpu.source.to_string()),
            failed_by(&[Rule::IsaLevel]),
        ));
    }
    checks.push(match host.kernel {
        Some((a, b)) => check(
            "kernel",
            Some(format!("Linux {a}.{b}")),
            Some("--kernel".to_string()),
            failed_by(&[Rule::KernelTooOld]),
        ),
        None => HostCheck {
            check: "kernel",
            result: "skipped",
            fact: None,
            source: Some("a kernel version belongs to the OS: give --kernel X.Y".to_string()),
            rules: Vec::new(),
        },
    });
    HostVerdict {
        host: host.name.clone(),
        platform: target.cloned(),
        runs: !checks.iter().any(|c| c.result == "failed"),
        checks,
    }
}

fn not_applicable(check: &'static str) -> HostCheck {
    HostCheck {
        check,
        result: "not-applicable",
        fact: None,
        source: None,
        rules: Vec::new(),
    }
}
