//! Rules about the native files that do not run at start: copies of another
//! architecture or OS, modules whose name disagrees with their code, damaged
//! files. Findings under never-executed directories (debug symbols,
//! sysroots, firmware, test data) are summarised per category, and files
//! matching `--ignore` are counted, not judged.

use std::collections::{BTreeMap, BTreeSet};

use super::super::diagnose::{self, Compat};
use super::super::{with_layer, Native, Subject};
use super::loader::LoaderSummary;
use super::platform::{isa_level, variant_mismatch, Culprit};
use super::{foreign_os_hint, format_label};
use crate::findings::{Finding, Rule, Severity};
use crate::identify::Ident;
use crate::paths;
use crate::platform::Platform;

/// Every rule about the native files that are not what runs (`runs`).
pub fn other_natives(
    s: &Subject<'_>,
    natives: &[Native<'_>],
    runs: &[&str],
    libcs: &BTreeSet<&'static str>,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let Some(declared) = s.declared else {
        return out;
    };
    let mut loaders = LoaderSummary::default();
    let mut noise: BTreeMap<&'static str, (usize, BTreeSet<&'static str>)> = BTreeMap::new();
    let mut ignored: BTreeMap<usize, usize> = BTreeMap::new();
    for n in natives.iter().filter(|n| !runs.contains(&n.path)) {
        if let Some(i) = s.ignore.iter().position(|g| g.is_match(n.path)) {
            *ignored.entry(i).or_default() += 1;
            continue;
        }
        let found = one_file(s, n, declared, &mut loaders, libcs);
        match diagnose::noise_category(n.path) {
            Some(cat) if !found.is_empty() => {
                let e = noise.entry(cat).or_default();
                e.0 += 1;
                e.1.extend(found.iter().map(|f| f.rule.id()));
            }
            _ => out.extend(found.into_iter().map(|f| with_layer(s, f, Some(n.at)))),
        }
    }
    out.extend(loaders.findings(s));
    out.extend(
        noise
            .into_iter()
            .map(|(cat, (count, rules))| noise_summary(cat, count, rules)),
    );
    out.extend(ignored.into_iter().map(|(i, count)| {
        Finding::note(format!(
            "--ignore {}: {count} native files not judged",
            s.ignore[i].glob()
        ))
    }));
    out
}

/// The findings of one native file that does not run (without its layer).
fn one_file(
    s: &Subject<'_>,
    n: &Native<'_>,
    declared: &Platform,
    loaders: &mut LoaderSummary,
    libcs: &BTreeSet<&'static str>,
) -> Vec<Finding> {
    let mut found = Vec::new();
    let Some(bin) = diagnose::code_platform(n.ident) else {
        return found;
    };
    let package = diagnose::package_of(n.path)
        .map(|(name, kind)| format!(" ({kind} package {name})"))
        .unwrap_or_default();
    match diagnose::compat(declared, &bin) {
        Compat::OtherOs => found.push(foreign_os(n, &package, declared)),
        Compat::OtherArch => found.push(foreign_binary(n.path, &package, &bin, declared)),
        Compat::NewerVariant { need, have } => found.push(variant_mismatch(
            Culprit::File(n.path),
            need,
            have,
            &format!("this {declared} image"),
            declared,
            &bin,
        )),
        Compat::Runs => {
            found.extend(python_tag_mismatch(n.path, &package, &bin));
            found.extend(isa_level(s, n.path, n.ident, false));
            if let Ident::Elf(elf) = n.ident {
                loaders.add(s, n.path, n.at, elf, libcs);
            }
        }
    }
    found
}

/// `foreign-os` for a file that does not run.
fn foreign_os(n: &Native<'_>, package: &str, declared: &Platform) -> Finding {
    let harmless = harmless_pe(n.path, n.ident);
    let severity = if harmless {
        Severity::Info
    } else {
        Severity::Warning
    };
    let slices = n
        .ident
        .platforms()
        .iter()
        .map(|p| p.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let hint = if harmless {
        "nothing to do: this file never runs natively here (an IL-only .NET assembly, or a Windows launcher that pip/setuptools ship with every install)".to_string()
    } else {
        foreign_os_hint(n.ident, declared)
    };
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
    .hint(hint)
}

/// `foreign-binary`: native code of an architecture the label cannot run.
fn foreign_binary(path: &str, package: &str, bin: &Platform, declared: &Platform) -> Finding {
    Finding::new(
        Rule::ForeignBinary,
        Severity::Warning,
        format!(
            "{path}{package} is {bin} code in a {declared} image: it fails with `exec format error` if run (or loaded)"
        ),
    )
    .path(path)
    .hint(if package.is_empty() {
        format!("build or download it for {declared} (in a Dockerfile: $TARGETARCH), or remove it if unused")
    } else {
        format!("install the package inside the image for {declared} (`RUN pip install` / `RUN npm ci` in the Dockerfile) instead of copying it from the build machine")
    })
}

/// `foreign-binary`: a CPython extension whose name tag names another
/// architecture than its code (Python will not import it).
fn python_tag_mismatch(path: &str, package: &str, bin: &Platform) -> Option<Finding> {
    let (tag, tag_arch) = diagnose::python_tag_arch(path)?;
    (tag_arch != bin.arch).then(|| {
        Finding::new(
            Rule::ForeignBinary,
            Severity::Warning,
            format!(
                "{path}{package}: its name says {tag} but its code is {}: Python will not import it",
                bin.arch
            ),
        )
        .path(path)
        .hint("reinstall the package inside the image so the module and its name match the interpreter")
    })
}

/// One note for every finding under a never-executed category.
fn noise_summary(cat: &str, count: usize, rules: BTreeSet<&str>) -> Finding {
    let rules = rules.into_iter().collect::<Vec<_>>().join(", ");
    Finding::new(
        Rule::ForeignBinary,
        Severity::Info,
        format!(
            "{count} native file{} under {cat} would not run here ({rules}); never executed, so summarised, not listed",
            if count == 1 { "" } else { "s" }
        ),
    )
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

/// `damaged-file`: an ELF whose headers point past its end (truncated or
/// corrupt). The image is still judged; what runs being damaged is an error.
pub fn damaged_files(s: &Subject<'_>, natives: &[Native<'_>], runs: &[&str]) -> Vec<Finding> {
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

/// `no-binaries`: nothing native to judge.
pub fn no_binaries() -> Finding {
    Finding::new(
        Rule::NoBinaries,
        Severity::Info,
        "no native executable or library in the image: nothing to judge by architecture",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::Arch;

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
