//! The JSON renderers. `--format json` is one document whatever the number of
//! inputs (schema 2): `schema_version`, `target`, and `inputs[]`, each input
//! with its `source`, `serves`, `notes`, `errors` and `images[]`.
//! `--format jsonl` is one line per image, `{schema_version, source, target,
//! image}`, or `{schema_version, source, target, error}` for each reason an
//! input could not be read. `docs/schema/` holds the JSON Schema of both.
//! Both are written by [`crate::escape`]: strings lossless, controls and
//! bidi characters as `\uXXXX`.

use std::io::{self, Write};

use serde::Serialize;

use super::{ImageReport, Report, SourceInfo, SCHEMA_VERSION};
use crate::findings::Finding;
use crate::platform::Platform;

#[derive(Serialize)]
struct Document<'a> {
    schema_version: u32,
    target: Option<&'a Platform>,
    inputs: Vec<Input<'a>>,
}

#[derive(Serialize)]
struct Input<'a> {
    source: &'a SourceInfo,
    serves: &'a [Platform],
    notes: &'a [Finding],
    errors: &'a [String],
    images: &'a [ImageReport],
}

#[derive(Serialize)]
struct Line<'a> {
    schema_version: u32,
    source: &'a SourceInfo,
    target: Option<&'a Platform>,
    #[serde(skip_serializing_if = "Option::is_none")]
    image: Option<&'a ImageReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
}

fn failed(e: serde_json::Error) -> String {
    format!("{{\"error\": \"cannot serialise the report: {e}\"}}")
}

/// The whole run as one pretty-printed document, one trailing newline.
pub fn render(reports: &[Report]) -> String {
    let mut out = crate::escape::to_json_pretty(&document(reports)).unwrap_or_else(failed);
    out.push('\n');
    out
}

/// [`render`], written to `w` as it is serialised (the document is never
/// held whole in memory). An error that is not the writer's (none is
/// expected: every value serialises) is written as [`render`] would show it.
pub fn render_to(reports: &[Report], w: &mut dyn Write) -> io::Result<()> {
    write_value(w, &document(reports), true)?;
    w.write_all(b"\n")
}

/// One value as JSON to `w`: an I/O error is returned, a serialisation
/// error written in the value's place.
fn write_value<T: Serialize>(w: &mut dyn Write, value: &T, pretty: bool) -> io::Result<()> {
    match crate::escape::write_json_to(&mut *w, value, pretty) {
        Ok(()) => Ok(()),
        Err(e) if e.is_io() => Err(e.into()),
        Err(e) => w.write_all(failed(e).as_bytes()),
    }
}

fn document(reports: &[Report]) -> Document<'_> {
    Document {
        schema_version: SCHEMA_VERSION,
        target: reports.first().and_then(|r| r.target.as_ref()),
        inputs: reports
            .iter()
            .map(|r| Input {
                source: &r.source,
                serves: &r.serves,
                notes: &r.notes,
                errors: &r.errors,
                images: &r.images,
            })
            .collect(),
    }
}

/// One compact JSON object per line: one per image, one per input error.
pub fn render_lines(reports: &[Report]) -> String {
    let mut out = Vec::new();
    // Writing to a Vec fails only on a value that does not serialise, and
    // that is written in its place.
    let _ = render_lines_to(reports, &mut out);
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// [`render_lines`], written to `w` line by line.
pub fn render_lines_to(reports: &[Report], w: &mut dyn Write) -> io::Result<()> {
    for r in reports {
        let line = |image, error| Line {
            schema_version: SCHEMA_VERSION,
            source: &r.source,
            target: r.target.as_ref(),
            image,
            error,
        };
        let lines = r
            .errors
            .iter()
            .map(|e| line(None, Some(e.as_str())))
            .chain(r.images.iter().map(|i| line(Some(i), None)));
        for l in lines {
            write_value(w, &l, false)?;
            w.write_all(b"\n")?;
        }
    }
    Ok(())
}
