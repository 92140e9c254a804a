//! The fleet summary: one row per image (and per input that could not be
//! read) — image, declared platform, real platform, verdict, first problem —
//! failures first, then the count of each verdict. Built from the run's
//! reports ([`Summary::from_reports`]) or from the JSONL that shards wrote
//! ([`Summary::add_lines`], for `archscan summarize`); both give the same
//! rows, so the summary of N shards joined equals the summary of one run.
//! Rendered as aligned text or as a Markdown table (PR comments,
//! `$GITHUB_STEP_SUMMARY`). Every string that comes from an input is
//! escaped: for the terminal, and in Markdown for Markdown too.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde_json::Value;

use super::text::escape;
use super::{ExitPolicy, FailOn, ImageReport, Report, Verdict, SCHEMA_VERSION};
use crate::findings::Severity;

/// A row's outcome, in the order rows are listed: unreadable first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    /// The input or image could not be read (exit 2).
    Unreadable,
    Fail,
    Warn,
    Unknown,
    Ok,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Unreadable => "unreadable",
            Status::Fail => "fail",
            Status::Warn => "warn",
            Status::Unknown => "unknown",
            Status::Ok => "ok",
        }
    }

    const ALL: [Status; 5] = [
        Status::Unreadable,
        Status::Fail,
        Status::Warn,
        Status::Unknown,
        Status::Ok,
    ];

    fn from_verdict(v: Verdict) -> Status {
        match v {
            Verdict::Fail => Status::Fail,
            Verdict::Warn => Status::Warn,
            Verdict::Unknown => Status::Unknown,
            Verdict::Ok => Status::Ok,
        }
    }
}

/// One image, or one input that could not be read. Strings are raw (as the
/// report holds them); renderers escape them.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Row {
    pub status: Status,
    /// The input as given (`source.path`).
    pub input: String,
    /// The image's name in the archive or registry, when it has one.
    pub name: Option<String>,
    /// The platform its index lists it under (multi-platform inputs).
    pub index_platform: Option<String>,
    /// The platform its config declares.
    pub declared: Option<String>,
    /// The platform its bytes run on.
    pub real: Option<String>,
    /// The first error finding (`rule: message`), else the first warning;
    /// for an unreadable row, why.
    pub problem: Option<String>,
    /// An image (false: an input that could not be read at all).
    pub image: bool,
}

/// The rows of a run (or of several shards' runs), and the deploy targets
/// they were judged against.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    pub rows: Vec<Row>,
    pub targets: BTreeSet<String>,
    /// Inputs the rows come from.
    inputs: BTreeSet<String>,
}

impl Summary {
    pub fn from_reports(reports: &[Report]) -> Summary {
        let mut s = Summary::default();
        for r in reports {
            s.inputs.insert(r.source.path.clone());
            if let Some(t) = &r.target {
                s.targets.insert(t.to_string());
            }
            for e in &r.errors {
                s.rows.push(Row::unreadable(&r.source.path, e));
            }
            for img in &r.images {
                s.rows.push(Row::of_image(&r.source.path, img));
            }
        }
        s.rows.sort();
        s
    }

    /// Adds the lines of one `--format jsonl` file (`file` names it in
    /// errors). `Err` names `file:line` and what is wrong with it: not JSON,
    /// not an object, another schema version, neither `image` nor `error`.
    pub fn add_lines(&mut self, file: &str, text: &str) -> Result<(), String> {
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let at = format!("{file}:{}", i + 1);
            let v: Value = serde_json::from_str(line)
                .map_err(|e| format!("{at}: not an archscan JSONL line: {e}"))?;
            self.add_line(&v)
                .map_err(|e| format!("{at}: not an archscan JSONL line (`--format jsonl`): {e}"))?;
        }
        self.rows.sort();
        Ok(())
    }

    fn add_line(&mut self, v: &Value) -> Result<(), String> {
        let obj = v.as_object().ok_or("not a JSON object")?;
        match obj.get("schema_version").and_then(Value::as_u64) {
            Some(n) if n == u64::from(SCHEMA_VERSION) => {}
            Some(n) => {
                return Err(format!(
                    "schema_version {n}; this archscan reads {SCHEMA_VERSION}"
                ))
            }
            None => return Err("no schema_version".into()),
        }
        let input = obj
            .get("source")
            .and_then(|s| s.get("path"))
            .and_then(Value::as_str)
            .ok_or("no source.path")?;
        let target = match obj.get("target") {
            Some(Value::Null) | None => None,
            Some(Value::String(t)) => Some(t.clone()),
            Some(_) => return Err("target is not a platform string".into()),
        };
        let row = match (obj.get("image"), obj.get("error")) {
            (Some(img), None) => Row::of_json_image(input, img)?,
            (None, Some(Value::String(e))) => Row::unreadable(input, e),
            (None, Some(_)) => return Err("error is not a string".into()),
            _ => return Err("a line holds exactly one of image and error".into()),
        };
        self.inputs.insert(input.to_string());
        if let Some(t) = target {
            self.targets.insert(t);
        }
        self.rows.push(row);
        Ok(())
    }

    /// The exit code the rows give under `policy`, as
    /// [`super::exit_code_with`] gives it for reports.
    pub fn exit_code(&self, policy: &ExitPolicy) -> i32 {
        if self.rows.iter().any(|r| r.status == Status::Unreadable) {
            return 2;
        }
        let fails = |s: Status| match s {
            Status::Fail => policy.fail_on != FailOn::Never,
            Status::Warn => policy.fail_on == FailOn::Warning,
            Status::Unknown => policy.fail_on_unknown,
            Status::Ok | Status::Unreadable => false,
        };
        i32::from(self.rows.iter().any(|r| fails(r.status)))
    }

    /// `1 unreadable, 2 fail, 0 warn, 1 unknown, 5 ok`: every verdict, in
    /// table order.
    fn counts(&self) -> String {
        let mut n: BTreeMap<Status, usize> = BTreeMap::new();
        for r in &self.rows {
            *n.entry(r.status).or_default() += 1;
        }
        Status::ALL
            .iter()
            .map(|s| format!("{} {}", n.get(s).copied().unwrap_or(0), s.as_str()))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn totals(&self) -> String {
        let images = self.rows.iter().filter(|r| r.image).count();
        format!(
            "{images} image{} from {} input{}",
            plural(images),
            self.inputs.len(),
            plural(self.inputs.len())
        )
    }

    fn target_line(&self) -> Option<String> {
        match self.targets.len() {
            0 => None,
            1 => Some(format!(
                "deploy target: {}",
                self.targets.iter().next().map_or("", |t| t.as_str())
            )),
            _ => Some(format!(
                "deploy targets: {}",
                self.targets.iter().cloned().collect::<Vec<_>>().join(", ")
            )),
        }
    }

    /// The summary as an aligned table, then the counts.
    pub fn render_text(&self, color: bool) -> String {
        let mut out = String::new();
        if let Some(t) = self.target_line() {
            let _ = writeln!(out, "{}", escape(&t));
        }
        if self.rows.is_empty() {
            out.push_str("no input to judge\n");
            return out;
        }
        let header = ["IMAGE", "DECLARED", "REAL", "VERDICT", "FIRST PROBLEM"];
        let cells: Vec<[String; 5]> = self
            .rows
            .iter()
            .map(|r| {
                [
                    escape(&r.label()),
                    escape(&r.declared_cell()),
                    escape(r.real.as_deref().unwrap_or("-")),
                    r.status.as_str().to_ascii_uppercase(),
                    escape(&shorten(r.problem.as_deref().unwrap_or(""), TEXT_PROBLEM)),
                ]
            })
            .collect();
        let mut width = header.map(|h| h.chars().count());
        for c in &cells {
            for (w, s) in width.iter_mut().zip(c.iter()) {
                *w = (*w).max(s.chars().count());
            }
        }
        let line = |out: &mut String, c: &[String; 5], paint: Option<&str>| {
            let mut l = String::new();
            for (i, s) in c.iter().enumerate() {
                let pad = width[i].saturating_sub(s.chars().count());
                let cell = match (i, paint) {
                    (3, Some(code)) if color => format!("\x1b[{code}m{s}\x1b[0m"),
                    _ => s.clone(),
                };
                l.push_str(&cell);
                if i + 1 < c.len() {
                    l.push_str(&" ".repeat(pad + 2));
                }
            }
            let _ = writeln!(out, "{}", l.trim_end());
        };
        line(&mut out, &header.map(str::to_string), None);
        for (r, c) in self.rows.iter().zip(&cells) {
            line(&mut out, c, Some(colour_of(r.status)));
        }
        let _ = writeln!(out, "\n{}: {}", self.totals(), self.counts());
        out
    }

    /// The summary as a Markdown table, then the counts.
    pub fn render_markdown(&self) -> String {
        let mut out = String::from("### archscan summary\n\n");
        if let Some(t) = self.target_line() {
            let _ = writeln!(out, "{}\n", md(&t));
        }
        if self.rows.is_empty() {
            out.push_str("No input to judge.\n");
            return out;
        }
        out.push_str("| image | declared | real | verdict | first problem |\n");
        out.push_str("|---|---|---|---|---|\n");
        for r in &self.rows {
            let verdict = match r.status {
                Status::Ok | Status::Unknown => r.status.as_str().to_ascii_uppercase(),
                s => format!("**{}**", s.as_str().to_ascii_uppercase()),
            };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {verdict} | {} |",
                md(&r.label()),
                md(&r.declared_cell()),
                md(r.real.as_deref().unwrap_or("-")),
                md(&shorten(r.problem.as_deref().unwrap_or(""), MD_PROBLEM)),
            );
        }
        let _ = writeln!(out, "\n{}: {}", md(&self.totals()), self.counts());
        out
    }
}

/// Longest problem shown in a text row, and in a Markdown row.
const TEXT_PROBLEM: usize = 100;
const MD_PROBLEM: usize = 200;

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

fn colour_of(s: Status) -> &'static str {
    match s {
        Status::Unreadable | Status::Fail => "1;31",
        Status::Warn => "1;33",
        Status::Unknown => "1;35",
        Status::Ok => "1;32",
    }
}

/// At most `max` characters, `…` marking a cut.
fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let cut: String = s.chars().take(max.saturating_sub(1)).collect();
    format!("{cut}…")
}

/// Escaped for a Markdown table cell: terminal escaping first (no raw
/// controls or newlines), then every character Markdown or HTML would read
/// as syntax, so a name cannot make a link, an image, a tag or a new column.
pub fn md(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in escape(s).chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            // `:` and `@` stop autolinks (https://…, user@host).
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '~' | '@' | ':' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

impl Row {
    fn unreadable(input: &str, why: &str) -> Row {
        Row {
            status: Status::Unreadable,
            input: input.to_string(),
            name: None,
            index_platform: None,
            declared: None,
            real: None,
            problem: Some(why.to_string()),
            image: false,
        }
    }

    fn of_image(input: &str, img: &ImageReport) -> Row {
        let first = |sev: Severity| {
            img.findings
                .iter()
                .find(|f| f.severity == sev)
                .map(|f| format!("{}: {}", f.rule.id(), f.message))
        };
        Row {
            status: if img.error.is_some() {
                Status::Unreadable
            } else {
                Status::from_verdict(img.verdict)
            },
            input: input.to_string(),
            name: img.name.clone(),
            index_platform: img.index_platform.as_ref().map(ToString::to_string),
            declared: img
                .declared
                .as_ref()
                .and_then(|d| d.platform.as_ref())
                .map(ToString::to_string),
            real: img.real_platform.as_ref().map(ToString::to_string),
            problem: img
                .error
                .clone()
                .or_else(|| first(Severity::Error))
                .or_else(|| first(Severity::Warning)),
            image: true,
        }
    }

    /// The same row from a JSONL `image` object.
    fn of_json_image(input: &str, img: &Value) -> Result<Row, String> {
        let img = img.as_object().ok_or("image is not an object")?;
        let text = |v: Option<&Value>, what: &str| -> Result<Option<String>, String> {
            match v {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(format!("{what} is not a string")),
            }
        };
        let verdict = match img.get("verdict").and_then(Value::as_str) {
            Some("ok") => Status::Ok,
            Some("warn") => Status::Warn,
            Some("fail") => Status::Fail,
            Some("unknown") => Status::Unknown,
            _ => return Err("image.verdict is not ok, warn, fail or unknown".into()),
        };
        let error = text(img.get("error"), "image.error")?;
        let findings = match img.get("findings") {
            Some(Value::Array(a)) => a.as_slice(),
            None => &[],
            Some(_) => return Err("image.findings is not a list".into()),
        };
        let first = |sev: &str| {
            findings
                .iter()
                .find(|f| f.get("severity").and_then(Value::as_str) == Some(sev))
                .map(|f| {
                    format!(
                        "{}: {}",
                        f.get("rule").and_then(Value::as_str).unwrap_or("?"),
                        f.get("message").and_then(Value::as_str).unwrap_or("")
                    )
                })
        };
        let declared = match img.get("declared") {
            Some(Value::Object(d)) => text(d.get("platform"), "image.declared.platform")?,
            None | Some(Value::Null) => None,
            Some(_) => return Err("image.declared is not an object".into()),
        };
        Ok(Row {
            status: if error.is_some() {
                Status::Unreadable
            } else {
                verdict
            },
            input: input.to_string(),
            name: text(img.get("name"), "image.name")?,
            index_platform: text(img.get("index_platform"), "image.index_platform")?,
            declared,
            real: text(img.get("real_platform"), "image.real_platform")?,
            problem: error
                .or_else(|| first("error"))
                .or_else(|| first("warning")),
            image: true,
        })
    }

    /// The input, then the image's name when the input is a file or a
    /// pattern that does not already say it, then its index platform.
    fn label(&self) -> String {
        let mut s = self.input.clone();
        if let Some(n) = &self.name {
            let said = self.input.strip_prefix("registry:").unwrap_or(&self.input);
            if n != said && !said.ends_with(n.as_str()) {
                let _ = write!(s, " ({n})");
            }
        }
        if let Some(p) = &self.index_platform {
            let _ = write!(s, " [{p}]");
        }
        s
    }

    /// The declared platform; with the index's when the two disagree.
    fn declared_cell(&self) -> String {
        match (&self.declared, &self.index_platform) {
            (Some(d), Some(i)) if d != i => format!("{d} (index: {i})"),
            (Some(d), _) => d.clone(),
            (None, Some(i)) => format!("{i} (index)"),
            (None, None) => "-".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(path: &str, image: &str) -> String {
        format!(
            r#"{{"schema_version":2,"source":{{"path":"{path}","format":"docker-archive","compression":"none"}},"target":null,"image":{image}}}"#
        )
    }

    #[test]
    fn jsonl_rows_sort_failures_first_and_give_the_exit_code() {
        let mut s = Summary::default();
        let ok = line(
            "b.tar",
            r#"{"name":"b:1","verdict":"ok","findings":[],"real_platform":"linux/amd64","declared":{"platform":"linux/amd64"}}"#,
        );
        let fail = line(
            "a.tar",
            r#"{"name":null,"verdict":"fail","findings":[{"rule":"arch-mismatch","severity":"error","message":"x"}],"real_platform":"linux/arm64","declared":{"platform":"linux/amd64"}}"#,
        );
        let err = r#"{"schema_version":2,"source":{"path":"c.tar","format":"unknown","compression":"none"},"target":null,"error":"c.tar: No such file"}"#;
        s.add_lines("f.jsonl", &format!("{ok}\n\n{fail}\n{err}\n"))
            .unwrap();
        let st: Vec<Status> = s.rows.iter().map(|r| r.status).collect();
        assert_eq!(st, [Status::Unreadable, Status::Fail, Status::Ok]);
        assert_eq!(s.rows[1].problem.as_deref(), Some("arch-mismatch: x"));
        assert_eq!(s.exit_code(&ExitPolicy::default()), 2);
        s.rows.remove(0);
        assert_eq!(s.exit_code(&ExitPolicy::default()), 1);
        let never = ExitPolicy {
            fail_on: FailOn::Never,
            fail_on_unknown: false,
        };
        assert_eq!(s.exit_code(&never), 0);
    }

    #[test]
    fn foreign_lines_name_file_and_line() {
        let mut s = Summary::default();
        let e = s.add_lines("x.jsonl", "\n{\"a\":1}\n").unwrap_err();
        assert!(
            e.starts_with("x.jsonl:2: not an archscan JSONL line"),
            "{e}"
        );
        let e = s.add_lines("y.jsonl", "not json").unwrap_err();
        assert!(e.starts_with("y.jsonl:1:"), "{e}");
        let v3 = r#"{"schema_version":3,"source":{"path":"a"},"target":null,"error":"e"}"#;
        let e = s.add_lines("z.jsonl", v3).unwrap_err();
        assert!(e.contains("schema_version 3"), "{e}");
        let both =
            r#"{"schema_version":2,"source":{"path":"a"},"target":null,"error":"e","image":{}}"#;
        assert!(s.add_lines("w.jsonl", both).is_err());
    }

    #[test]
    fn markdown_cells_cannot_inject() {
        assert_eq!(md("a|b"), "a\\|b");
        assert_eq!(md("<img src=x>"), "&lt;img src=x&gt;");
        assert_eq!(md("[x](http://e)"), "\\[x\\](http\\://e)");
        assert_eq!(md("a\nb\x1b"), "a\\\\nb\\\\x1b");
    }
}
