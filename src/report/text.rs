//! The text renderer: one block per image, written for a tired engineer at
//! 3 a.m. — the verdict, declared vs real platform, what runs, the findings with
//! their evidence and fix. Paths from the image are escaped before they reach
//! the terminal (control, bidi and zero-width characters).

use std::fmt::Write as _;

use super::{ImageReport, Report, Verdict};
use crate::findings::{Finding, Rule, Severity};

/// How much to print.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Detail {
    /// The verdict line only.
    Quiet,
    #[default]
    Normal,
    /// Every binary, every finding.
    Verbose,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct Style {
    pub color: bool,
    pub detail: Detail,
    /// The terminal's width: long message and fix lines wrap at it (none:
    /// one line each, for files and pipes).
    pub width: Option<usize>,
}

/// Findings of one rule shown before the rest are summarised.
const SHOWN_PER_RULE: usize = 5;

pub fn render(reports: &[Report], style: Style) -> String {
    let mut out = String::new();
    for (i, r) in reports.iter().enumerate() {
        if i > 0 && style.detail != Detail::Quiet {
            out.push('\n');
        }
        render_one(&mut out, r, style);
    }
    out
}

fn paint(style: Style, code: &str, s: &str) -> String {
    if style.color {
        format!("\x1b[{code}m{s}\x1b[0m")
    } else {
        s.to_string()
    }
}

fn verdict_word(style: Style, v: Verdict) -> String {
    match v {
        Verdict::Ok => paint(style, "1;32", "OK"),
        Verdict::Warn => paint(style, "1;33", "WARN"),
        Verdict::Fail => paint(style, "1;31", "FAIL"),
        Verdict::Unknown => paint(style, "1;35", "UNKNOWN"),
    }
}

fn severity_word(style: Style, s: Severity) -> String {
    match s {
        Severity::Error => paint(style, "1;31", "error  "),
        Severity::Warning => paint(style, "1;33", "warning"),
        Severity::Info => paint(style, "2", "info   "),
    }
}

/// A platform for the terminal: an unknown architecture, OS or variant is
/// the input's own string (`Other`), so it is escaped like any other.
fn plat(p: &crate::platform::Platform) -> String {
    escape(&p.to_string())
}

fn image_label(img: &ImageReport) -> String {
    let name = img.name.clone().unwrap_or_else(|| {
        img.manifest_digest
            .as_deref()
            .or(img.config_digest.as_deref())
            .map(|d| d.chars().take(19).collect())
            .unwrap_or_else(|| "(unnamed image)".into())
    });
    match (&img.index_platform, &img.declared) {
        (Some(p), _) => format!("{} [{}]", escape(&name), plat(p)),
        _ => escape(&name),
    }
}

fn render_one(out: &mut String, r: &Report, style: Style) {
    if style.detail == Detail::Quiet {
        let _ = writeln!(out, "{}", summary_line(r, style));
        return;
    }
    if let Some(o) = &r.source.origin {
        // An image by name: where it came from, not the shape archscan reads
        // it through (a registry's blobs as an OCI layout, an engine's export
        // as a docker save stream).
        let (place, id) = match o.kind.as_str() {
            "registry" => ("registry", "digest"),
            "docker" => ("Docker engine", "image ID"),
            "podman" => ("Podman", "image ID"),
            _ => (o.kind.as_str(), "digest"),
        };
        let _ = writeln!(
            out,
            "{}  ({place} {})",
            escape(&r.source.path),
            escape(&o.endpoint)
        );
        let digest = o
            .digest
            .as_deref()
            .map(|d| format!(", {id} {}", escape(d)))
            .unwrap_or_default();
        let _ = writeln!(out, "image: {}{digest}", escape(&o.reference));
    } else if r.source.format == "unknown" {
        let _ = writeln!(out, "{}", escape(&r.source.path));
    } else {
        let compression = match r.source.compression.as_str() {
            "none" => "uncompressed".to_string(),
            other => format!("{other}-compressed"),
        };
        let _ = writeln!(
            out,
            "{}  ({}, {compression})",
            escape(&r.source.path),
            r.source.format,
        );
    }
    if let Some(t) = &r.target {
        let _ = writeln!(out, "deploy target: {}", plat(t));
    }
    for e in &r.errors {
        let _ = writeln!(
            out,
            "\n{}: {}",
            paint(style, "1;31", "cannot read"),
            escape(e)
        );
    }
    for img in &r.images {
        out.push('\n');
        if r.source.format == "binary" && img.error.is_none() {
            render_program(out, img, style);
        } else {
            render_image(out, img, r.target.is_some(), style);
        }
    }
    if r.errors.is_empty()
        && r.images
            .iter()
            .filter(|i| i.index_platform.is_some())
            .count()
            > 1
    {
        let serves = r.serves.iter().map(plat).collect::<Vec<_>>();
        let line = if serves.is_empty() {
            "no host platform: every image fails".to_string()
        } else {
            serves.join(", ")
        };
        let _ = writeln!(out, "\nserves: {line}");
    }
    if !r.notes.is_empty() {
        out.push('\n');
        for n in &r.notes {
            let _ = writeln!(out, "note: {}", escape(&n.message));
        }
    }
    let _ = writeln!(out, "\n{}", summary_line(r, style));
}

fn summary_line(r: &Report, style: Style) -> String {
    let n = r.images.len();
    let count = |v: Verdict| {
        r.images
            .iter()
            .filter(|i| i.verdict == v && i.error.is_none())
            .count()
    };
    let unreadable = r.images.iter().filter(|i| i.error.is_some()).count() + r.errors.len();
    let overall = if unreadable > 0 {
        paint(style, "1;31", "ERROR")
    } else {
        verdict_word(
            style,
            r.images
                .iter()
                .map(|i| i.verdict)
                .max()
                .unwrap_or(Verdict::Unknown),
        )
    };
    let mut parts = Vec::new();
    for (v, word) in [
        (Verdict::Fail, "fail"),
        (Verdict::Warn, "warn"),
        (Verdict::Unknown, "unknown"),
        (Verdict::Ok, "ok"),
    ] {
        let c = count(v);
        if c > 0 {
            parts.push(format!("{c} {word}"));
        }
    }
    if unreadable > 0 {
        parts.push(format!("{unreadable} unreadable"));
    }
    format!(
        "{}: {overall} — {n} image{} ({})",
        escape(&r.source.path),
        if n == 1 { "" } else { "s" },
        parts.join(", ")
    )
}

fn render_image(out: &mut String, img: &ImageReport, has_target: bool, style: Style) {
    let _ = writeln!(
        out,
        "{}  {}",
        paint(style, "1", &image_label(img)),
        if img.error.is_some() {
            paint(style, "1;31", "UNREADABLE")
        } else {
            verdict_word(style, img.verdict)
        }
    );
    if let Some(e) = &img.error {
        let _ = writeln!(out, "  {}", escape(e));
        return;
    }
    let declared = img
        .declared
        .as_ref()
        .and_then(|d| d.platform.as_ref())
        .map(|p| format!("{}  (image config)", plat(p)))
        .unwrap_or_else(|| "none (no image config)".into());
    let _ = writeln!(out, "  declared    {declared}");
    if let Some(p) = &img.index_platform {
        let _ = writeln!(
            out,
            "  index       {}  (what the index advertises)",
            plat(p)
        );
    }
    match &img.real_platform {
        Some(real) => {
            let hosts = img.runs_on.iter().map(plat).collect::<Vec<_>>();
            let runs = match hosts.as_slice() {
                [] => String::new(),
                [one] => format!("  — runs only on {one} hosts"),
                many => format!("  — runs on {} hosts", many.join(", ")),
            };
            let _ = writeln!(
                out,
                "  real        {}{runs}",
                paint(style, "1", &plat(real))
            );
        }
        None => {
            let _ = writeln!(out, "  real        unknown (no native code found)");
        }
    }
    if let Some(ep) = &img.entrypoint {
        let argv = ep
            .argv
            .iter()
            .map(|a| escape(a))
            .collect::<Vec<_>>()
            .join(" ");
        let _ = writeln!(out, "  runs        {argv}");
        if let Some(line) = exec_line(ep) {
            let _ = writeln!(out, "  exec        {line}");
        }
        if let Some(line) = ep.shell_command.as_deref().and_then(exec_line) {
            let _ = writeln!(out, "  then        {line}  (the command `sh -c` runs)");
        }
    } else {
        let _ = writeln!(out, "  runs        (no Entrypoint or Cmd)");
    }
    if img.platforms.is_empty() {
        let _ = writeln!(out, "  binaries    none");
    } else {
        let counts = img
            .platforms
            .iter()
            .map(|(p, c)| format!("{c} × {}", escape(p)))
            .collect::<Vec<_>>()
            .join(", ");
        let _ = writeln!(out, "  binaries    {counts}");
    }
    if has_target {
        if let Some(sel) = img.selected_for_target {
            let judged = img.findings.iter().any(|f| f.rule == Rule::TargetMismatch);
            let line = match (sel, judged) {
                (true, _) => "this is the image the deploy target pulls",
                (false, true) => {
                    "no image of this index is for the deploy target: each is judged against it"
                }
                (false, false) => {
                    "not selected by the deploy target (another platform of this index is)"
                }
            };
            let _ = writeln!(out, "  target      {line}");
        }
    }
    host_line(out, img);
    let shown: Vec<&Finding> = visible_findings(&img.findings, style.detail);
    if !shown.is_empty() {
        out.push('\n');
    }
    for f in &shown {
        render_finding(out, f, style);
    }
    let hidden = img.findings.len() - shown.len();
    if hidden > 0 {
        let mut by_rule: std::collections::BTreeMap<&str, usize> = Default::default();
        for f in &img.findings {
            if !shown.iter().any(|s| std::ptr::eq(*s, f)) {
                *by_rule.entry(f.rule.id()).or_default() += 1;
            }
        }
        let list = by_rule
            .iter()
            .map(|(r, c)| format!("{c} more {r}"))
            .collect::<Vec<_>>()
            .join(", ");
        let _ = writeln!(
            out,
            "  … and {list} (--verbose or --format json lists them all)"
        );
    }
    if style.detail == Detail::Verbose && !img.binaries.is_empty() {
        let _ = writeln!(out, "\n  native files:");
        for b in &img.binaries {
            let interp = b
                .interpreter
                .as_deref()
                .map(|i| format!("  interp {}", escape(i)))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "    {:<14} {:<5} {:<4} layer {:<3} {}{interp}",
                escape(&b.platform),
                b.format,
                b.bin_type,
                b.layer,
                escape(&b.path)
            );
        }
    }
}

/// A single program given as the input: what it is, like `file` with OCI
/// platform names, and where it runs.
/// `host NAME — runs|does not run (failed: …; skipped: …)` with `--host`.
fn host_line(out: &mut String, img: &ImageReport) {
    let Some(h) = &img.runs_on_host else {
        return;
    };
    let list = |result: &str| {
        h.checks
            .iter()
            .filter(|c| c.result == result)
            .map(|c| c.check)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let why: Vec<String> = [("failed", "failed"), ("skipped", "skipped")]
        .into_iter()
        .map(|(label, result)| (label, list(result)))
        .filter(|(_, l)| !l.is_empty())
        .map(|(label, l)| format!("{label}: {l}"))
        .collect();
    let why = if why.is_empty() {
        String::new()
    } else {
        format!(" ({})", why.join("; "))
    };
    let _ = writeln!(
        out,
        "  host        {} — {}{why}",
        h.host.as_deref().unwrap_or("(--page-size, --kernel)"),
        if h.runs { "runs" } else { "does not run" }
    );
}

fn render_program(out: &mut String, img: &ImageReport, style: Style) {
    match img.binaries.first() {
        Some(b) => {
            let _ = writeln!(out, "  {}", describe(&b.details));
        }
        None => {
            let _ = writeln!(out, "  not native code (no ELF, Mach-O or PE header)");
        }
    }
    if !img.runs_on.is_empty() {
        let hosts = img.runs_on.iter().map(plat).collect::<Vec<_>>();
        let _ = writeln!(out, "  runs on     {} hosts", hosts.join(", "));
    }
    host_line(out, img);
    let shown = visible_findings(&img.findings, style.detail);
    if !shown.is_empty() {
        out.push('\n');
    }
    for f in shown {
        render_finding(out, f, style);
    }
}

/// One line on what a file is.
fn describe(ident: &crate::identify::Ident) -> String {
    use crate::identify::{Endian, Ident};
    let platforms = ident
        .platforms()
        .iter()
        .map(plat)
        .collect::<Vec<_>>()
        .join(", ");
    match ident {
        Ident::Elf(e) => {
            let mut parts = vec![format!(
                "ELF {}-bit {}, {platforms}, {}",
                e.class,
                if e.endian == Endian::Little {
                    "LSB"
                } else {
                    "MSB"
                },
                match e.bin_type.as_str() {
                    "dyn" if e.interpreter.is_some() => "executable (PIE)",
                    "dyn" => "shared object",
                    "exec" => "executable",
                    "rel" => "relocatable object",
                    "core" => "core dump",
                    _ => "other",
                }
            )];
            match &e.interpreter {
                Some(i) => parts.push(format!("interpreter {}", escape(i))),
                None if e.bin_type.as_str() == "exec" => parts.push("static".into()),
                None => {}
            }
            if let Some(g) = &e.go {
                parts.push(format!(
                    "Go {}",
                    escape(g.version.as_deref().unwrap_or("(unknown version)"))
                ));
            }
            if let Some(l) = e.isa_level {
                parts.push(format!("needs x86-64-v{l}"));
            }
            if let Some(v) = e.go.as_ref().and_then(|g| g.goarm64.as_deref()) {
                parts.push(format!("GOARM64={}", escape(v)));
            }
            if e.damaged {
                parts.push("damaged: headers point past the end".into());
            }
            parts.join(", ")
        }
        Ident::Macho(m) => format!(
            "Mach-O{}, {platforms}",
            if m.fat { " universal (fat)" } else { "" }
        ),
        Ident::Pe(p) => format!(
            "PE {}, {platforms}{}",
            if p.dll { "DLL" } else { "executable" },
            if p.il_only { ", .NET IL only" } else { "" }
        ),
        Ident::Script(s) => format!("#! script for {}", escape(&s.interpreter)),
        Ident::Other { .. } => "not a known executable format".into(),
    }
}

/// The files on the way to what the kernel execs, and what that is.
fn exec_line(ep: &super::EntrypointReport) -> Option<String> {
    let chain: Vec<String> = ep
        .chain
        .iter()
        .map(|step| match &step.resolved {
            Some(r) if r != &step.path => format!("{} → {}", escape(&step.path), escape(r)),
            _ => escape(&step.path),
        })
        .collect();
    if chain.is_empty() {
        return None;
    }
    let what = match (&ep.platform, ep.kind.as_str()) {
        (Some(p), k) => format!("{} {}", k.to_uppercase(), plat(p)),
        (None, "missing") => "MISSING".to_string(),
        (None, k) => k.to_string(),
    };
    Some(format!("{}  [{what}]", chain.join(" ⇒ ")))
}

/// Errors always; otherwise at most a few findings per rule.
fn visible_findings(findings: &[Finding], detail: Detail) -> Vec<&Finding> {
    if detail == Detail::Verbose {
        return findings.iter().collect();
    }
    let mut per_rule: std::collections::HashMap<(Rule, Severity), usize> = Default::default();
    findings
        .iter()
        .filter(|f| {
            let n = per_rule.entry((f.rule, f.severity)).or_default();
            *n += 1;
            f.severity == Severity::Error || *n <= SHOWN_PER_RULE
        })
        .collect()
}

fn render_finding(out: &mut String, f: &Finding, style: Style) {
    let mut head = format!("  {}  {}", severity_word(style, f.severity), f.rule.id());
    if let Some(p) = &f.path {
        head.push_str("  ");
        head.push_str(&escape(p));
    }
    let _ = writeln!(out, "{head}");
    push_wrapped(out, "           ", 11, &escape(&f.message), style.width);
    let mut evidence = Vec::new();
    if let Some(l) = f.layer {
        evidence.push(format!("layer {l}"));
    }
    if let Some(d) = &f.layer_digest {
        evidence.push(escape(&d.chars().take(19).collect::<String>()));
    }
    if let Some(c) = &f.created_by {
        evidence.push(format!("made by: {}", escape(&shorten(c, 100))));
    }
    if !evidence.is_empty() {
        push_wrapped_painted(
            out,
            "           ",
            11,
            &evidence.join(", "),
            style.width,
            &|s| paint(style, "2", s),
        );
    }
    if let Some(h) = &f.hint {
        let prefix = format!("           {} ", paint(style, "36", "fix:"));
        push_wrapped(out, &prefix, 16, &escape(h), style.width);
    }
}

/// Writes `prefix` and `text`, wrapped at `width` columns when given: the
/// following lines are indented to `indent` (the prefix's visible width). A
/// word longer than a line stays whole.
fn push_wrapped(out: &mut String, prefix: &str, indent: usize, text: &str, width: Option<usize>) {
    push_wrapped_painted(out, prefix, indent, text, width, &|s| s.to_string());
}

/// [`push_wrapped`], each line of `text` painted by `paint`.
fn push_wrapped_painted(
    out: &mut String,
    prefix: &str,
    indent: usize,
    text: &str,
    width: Option<usize>,
    paint: &dyn Fn(&str) -> String,
) {
    let mut lines: Vec<String> = Vec::new();
    match width.filter(|w| *w > indent + 20) {
        None => lines.push(text.to_string()),
        Some(width) => {
            let mut line = String::new();
            let mut col = indent;
            for word in text.split(' ') {
                let len = word.chars().count();
                if !line.is_empty() && col + 1 + len > width {
                    lines.push(std::mem::take(&mut line));
                    col = indent;
                }
                if !line.is_empty() {
                    line.push(' ');
                    col += 1;
                }
                line.push_str(word);
                col += len;
            }
            lines.push(line);
        }
    }
    for (i, l) in lines.iter().enumerate() {
        if i == 0 {
            out.push_str(prefix);
        } else {
            out.push_str(&" ".repeat(indent));
        }
        out.push_str(&paint(l));
        out.push('\n');
    }
}

fn shorten(s: &str, max: usize) -> String {
    let s = s.trim();
    // Docker's history prefixes RUN steps with `/bin/sh -c #(nop) `.
    let s = s.strip_prefix("/bin/sh -c #(nop) ").unwrap_or(s).trim();
    if s.chars().count() > max {
        let cut: String = s.chars().take(max - 1).collect();
        format!("{cut}…")
    } else {
        s.to_string()
    }
}

/// Escapes what must not reach a terminal raw ([`crate::escape::terminal`]):
/// C0/C1 controls (ESC sequences, newlines), DEL, bidi overrides and
/// isolates, zero-width and other invisible format characters.
pub fn escape(s: &str) -> String {
    crate::escape::terminal(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_terminal_tricks() {
        assert_eq!(escape("/bin/ok"), "/bin/ok");
        assert_eq!(escape("/x\x1b[31mred"), "/x\\x1b[31mred");
        assert_eq!(escape("a\nb\r"), "a\\nb\\r");
        assert_eq!(escape("evil\u{202e}txt.exe"), "evil\\u{202e}txt.exe");
        assert_eq!(escape("zw\u{200b}j"), "zw\\u{200b}j");
        assert_eq!(escape("\u{9b}"), "\\x9b");
    }

    #[test]
    fn history_steps_are_shortened() {
        assert_eq!(
            shorten("/bin/sh -c #(nop) COPY file:abc in /app ", 100),
            "COPY file:abc in /app"
        );
        assert_eq!(shorten(&"x".repeat(10), 5), "xxxx…");
    }
}
