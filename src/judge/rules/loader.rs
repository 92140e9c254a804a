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
            .map(|f| with_layer(s, f, Some(r.at)))
            .collect(),
    }
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

/// `missing-library`: every `DT_NEEDED` library (transitively) that the
/// loader will not find for this architecture.
fn missing_libraries(s: &Subject<'_>, path: &str, elf: &ElfInfo) -> Vec<Finding> {
    diagnose::missing_libraries(s.fs, path, elf, s.env)
        .into_iter()
        .map(|m| {
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
            ))
        })
        .collect()
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
