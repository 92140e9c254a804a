//! Rules about resolving and exec'ing the command: what the runtime and the
//! kernel refuse before any code of the image runs.

use super::super::entrypoint::{Resolution, Stop};
use super::super::{with_layer, Subject};
use crate::findings::{Finding, Rule, Severity};
use crate::identify::Ident;
use crate::judge::diagnose;

/// `no-entrypoint`: neither Entrypoint nor Cmd.
pub fn no_entrypoint() -> Finding {
    Finding::new(
        Rule::NoEntrypoint,
        Severity::Info,
        "the image has neither Entrypoint nor Cmd: judged by most of its native files",
    )
    .hint("the deploy must give a command (Kubernetes `command`, ECS `entryPoint`); pass it with --entrypoint to judge it")
}

/// Every finding of resolving `what` (the entrypoint, or the command `sh -c`
/// runs): why resolution stopped, then each file on the way without an exec
/// bit or with a CR LF `#!` line.
pub fn resolution(s: &Subject<'_>, r: &Resolution, what: &str) -> Vec<Finding> {
    let mut out: Vec<Finding> = stopped(s, r, what).into_iter().collect();
    out.extend(not_executable(s, r));
    out.extend(crlf_shebang(s, r));
    out
}

/// The finding for why resolution stopped short of a native binary.
fn stopped(s: &Subject<'_>, r: &Resolution, what: &str) -> Option<Finding> {
    let argv0 = || {
        r.path
            .clone()
            .unwrap_or(r.argv.first().cloned().unwrap_or_default())
    };
    match &r.stop {
        Stop::Native => None,
        Stop::Missing { name, searched } => Some(entrypoint_missing(
            what,
            name,
            searched,
            argv0(),
            s.limits,
        )),
        Stop::InterpreterMissing {
            script,
            interpreter,
        } => Some(missing_interpreter(s, script, interpreter)),
        Stop::TooManyLinks { path } => Some(
            Finding::new(
                Rule::EntrypointMissing,
                Severity::Error,
                format!("{what}'s symlinks loop or nest too deep at {path}: the kernel gives up (ELOOP)"),
            )
            .path(path.clone())
            .hint("fix the symlink chain"),
        ),
        Stop::NotAFile { path } => Some(
            Finding::new(
                Rule::EntrypointMissing,
                Severity::Error,
                format!("{what} {path} is not a regular file"),
            )
            .path(path.clone())
            .hint("point Entrypoint/Cmd at the program, not a directory"),
        ),
        Stop::TooDeep => Some(
            Finding::new(
                Rule::MissingInterpreter,
                Severity::Error,
                format!("{what}'s #! interpreters nest more than 4 deep: Linux refuses to run it (ELOOP)"),
            )
            .path(argv0())
            .hint("make the script run a real binary"),
        ),
        Stop::NotProgram => no_shebang(s, r, what),
    }
}

/// `entrypoint-missing`: argv[0] names nothing in the image.
/// At most `listed_dirs` of the PATH directories are listed (the rest
/// counted) and the message carries at most `finding_chars` characters.
fn entrypoint_missing(
    what: &str,
    name: &str,
    searched: &[String],
    path: String,
    lim: &crate::limits::JudgeLimits,
) -> Finding {
    let where_ = if name.contains('/') {
        format!("{name} does not exist in the image")
    } else {
        let mut dirs = searched
            .iter()
            .take(lim.listed_dirs)
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join(", ");
        let more = searched.len().saturating_sub(lim.listed_dirs);
        if more > 0 {
            dirs.push_str(&format!(" and {more} more"));
        }
        format!("`{name}` is not in any PATH directory ({dirs})")
    };
    Finding::new(
        Rule::EntrypointMissing,
        Severity::Error,
        super::loader::clip_chars(
            format!("{what} cannot be found: {where_}; the container fails with `no such file or directory`"),
            lim.finding_chars,
        ),
    )
    .path(path)
    .hint("check the Entrypoint/Cmd path, and that a COPY puts the file there in the final stage")
}

/// `missing-interpreter`: a script's `#!` interpreter is absent.
fn missing_interpreter(s: &Subject<'_>, script: &str, interpreter: &str) -> Finding {
    let at = s.fs.get(script).map(|n| n.at);
    with_layer(
        s,
        Finding::new(
            Rule::MissingInterpreter,
            Severity::Error,
            format!("{script} runs {interpreter}, which is not in the image: the container fails with `no such file or directory`"),
        )
        .path(script)
        .hint(format!("install {interpreter} in the image, or change the script's #! line to an interpreter the image has")),
        at,
    )
}

/// `no-shebang`: what runs is neither native code nor a `#!` script.
fn no_shebang(s: &Subject<'_>, r: &Resolution, what: &str) -> Option<Finding> {
    let (path, node) = r.last.as_ref()?;
    let entry = node.content.and_then(|c| s.fs.entry(c));
    let text = matches!(
        entry.and_then(|e| e.ident.as_deref()),
        Some(Ident::Other { text: true })
    );
    let message = if text {
        format!(
            "{what} {path} is a text file without a #! line: exec fails with `exec format error`"
        )
    } else {
        format!("{what} {path} is neither a native program nor a #! script: exec fails with `exec format error`")
    };
    Some(with_layer(
        s,
        Finding::new(Rule::NoShebang, Severity::Error, message)
            .path(path.clone())
            .hint(format!("start the script with a #! line (`#!/bin/sh`), or run it through its interpreter in Entrypoint (`[\"sh\", \"{path}\"]`)")),
        Some(node.at),
    ))
}

/// `not-executable`: a file on the way has no exec bit.
fn not_executable(s: &Subject<'_>, r: &Resolution) -> Vec<Finding> {
    let mut out = Vec::new();
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
    out
}

/// `crlf-shebang`: a script on the way has a CR LF `#!` line.
fn crlf_shebang(s: &Subject<'_>, r: &Resolution) -> Vec<Finding> {
    let mut out = Vec::new();
    for (step, script) in r.scripts(s.fs) {
        if !script.crlf {
            continue;
        }
        let at = step
            .resolved
            .as_deref()
            .and_then(|p| s.fs.get(p))
            .map(|n| n.at);
        let path = step.resolved.as_deref().unwrap_or(&step.path);
        let interpreter = &script.interpreter;
        let f = Finding::new(
            Rule::CrlfShebang,
            diagnose::severity(true),
            format!(
                "{path} has a Windows (CR LF) line ending on its #! line: the kernel looks for `{interpreter}\\r` and fails with `no such file or directory`"
            ),
        )
        .path(path)
        .hint("convert the script to LF line endings (`dos2unix`, or `* text eol=lf` in .gitattributes so Windows checkouts stop adding CR)");
        out.push(with_layer(s, f, at));
    }
    out
}
