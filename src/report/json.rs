//! The JSON renderers. `--format json` is one document whatever the number of
//! inputs (schema 2): `schema_version`, `target`, and `inputs[]`, each input
//! with its `source`, `serves`, `notes`, `errors` and `images[]`.
//! `--format jsonl` is one line per image, `{schema_version, source, target,
//! image}`, or `{schema_version, source, target, error}` for each reason an
//! input could not be read. `docs/schema/` holds the JSON Schema of both.
//! Both are written by [`crate::escape`]: strings lossless, controls and
//! bidi characters as `\uXXXX`.

use std::io::{self, Write};

use rayon::prelude::*;
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

impl<'a> Line<'a> {
    /// The line of one image of `r`, or of one of its errors.
    fn of(r: &'a Report, image: Option<&'a ImageReport>, error: Option<&'a str>) -> Line<'a> {
        Line {
            schema_version: SCHEMA_VERSION,
            source: &r.source,
            target: r.target.as_ref(),
            image,
            error,
        }
    }
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

/// Images serialised at once (in parallel) before they are written: what
/// is held is one batch, never the whole document.
const BATCH: usize = 64;

/// [`render`], byte for byte, written to `w` as it is serialised: the
/// document's frame here, each value in it serialised on its own (images in
/// parallel, a batch at a time) and indented to its depth. A pretty-printed
/// value indented deeper is the same text with more spaces after each line
/// break: a JSON string never holds a raw line break.
pub fn render_to(reports: &[Report], w: &mut dyn Write) -> io::Result<()> {
    let target = reports.first().and_then(|r| r.target.as_ref());
    w.write_all(b"{\n  \"schema_version\": ")?;
    put(w, &SCHEMA_VERSION, 1)?;
    w.write_all(b",\n  \"target\": ")?;
    put(w, &target, 1)?;
    w.write_all(b",\n  \"inputs\": ")?;
    if reports.is_empty() {
        w.write_all(b"[]")?;
    } else {
        w.write_all(b"[")?;
        for (i, r) in reports.iter().enumerate() {
            w.write_all(if i == 0 { b"\n    {" } else { b",\n    {" })?;
            w.write_all(b"\n      \"source\": ")?;
            put(w, &r.source, 3)?;
            w.write_all(b",\n      \"serves\": ")?;
            put(w, &r.serves, 3)?;
            w.write_all(b",\n      \"notes\": ")?;
            put(w, &r.notes, 3)?;
            w.write_all(b",\n      \"errors\": ")?;
            put(w, &r.errors, 3)?;
            w.write_all(b",\n      \"images\": ")?;
            if r.images.is_empty() {
                w.write_all(b"[]")?;
            } else {
                w.write_all(b"[")?;
                let mut first = true;
                for batch in r.images.chunks(BATCH) {
                    let rendered: Vec<Vec<u8>> = batch.par_iter().map(pretty).collect();
                    for one in rendered {
                        w.write_all(if first { b"\n        " } else { b",\n        " })?;
                        first = false;
                        indented(w, &one, 4)?;
                    }
                }
                w.write_all(b"\n      ]")?;
            }
            w.write_all(b"\n    }")?;
        }
        w.write_all(b"\n  ]")?;
    }
    w.write_all(b"\n}\n")
}

/// `value` pretty-printed at depth 0 (or the error [`render`] would show).
fn pretty<T: Serialize + ?Sized>(value: &T) -> Vec<u8> {
    let mut out = Vec::new();
    if let Err(e) = crate::escape::write_json_to(&mut out, value, true) {
        out = failed(e).into_bytes();
    }
    out
}

/// `value` pretty-printed as it stands at `depth` in the document.
fn put<T: Serialize + ?Sized>(w: &mut dyn Write, value: &T, depth: usize) -> io::Result<()> {
    indented(w, &pretty(value), depth)
}

/// Writes `json` (pretty-printed at depth 0) as at `depth`: two spaces a
/// level after each line break.
fn indented(w: &mut dyn Write, json: &[u8], depth: usize) -> io::Result<()> {
    let pad = "  ".repeat(depth);
    let mut lines = json.split(|b| *b == b'\n');
    if let Some(first) = lines.next() {
        w.write_all(first)?;
    }
    for line in lines {
        w.write_all(b"\n")?;
        w.write_all(pad.as_bytes())?;
        w.write_all(line)?;
    }
    Ok(())
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
    let mut out = String::new();
    for r in reports {
        let line = |image, error| Line::of(r, image, error);
        let lines = r
            .errors
            .iter()
            .map(|e| line(None, Some(e.as_str())))
            .chain(r.images.iter().map(|i| line(Some(i), None)));
        for l in lines {
            out.push_str(&crate::escape::to_json(&l).unwrap_or_else(failed));
            out.push('\n');
        }
    }
    out
}

/// [`render_lines`], written to `w` line by line (the lines of a batch of
/// images serialised in parallel).
pub fn render_lines_to(reports: &[Report], w: &mut dyn Write) -> io::Result<()> {
    for r in reports {
        let line = |image, error| Line::of(r, image, error);
        for e in &r.errors {
            write_value(w, &line(None, Some(e.as_str())), false)?;
            w.write_all(b"\n")?;
        }
        for batch in r.images.chunks(BATCH) {
            let rendered: Vec<Vec<u8>> = batch
                .par_iter()
                .map(|i| {
                    let mut out = Vec::new();
                    if let Err(e) =
                        crate::escape::write_json_to(&mut out, &line(Some(i), None), false)
                    {
                        out = failed(e).into_bytes();
                    }
                    out.push(b'\n');
                    out
                })
                .collect();
            for one in rendered {
                w.write_all(&one)?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reports of real fixtures: several inputs, images with findings and
    /// binaries, an unreadable input, control characters in a string.
    fn reports() -> Vec<Report> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/");
        let opts = crate::ScanOptions::default();
        let mut out: Vec<Report> = [
            "amd64-ok.tar",
            "containerd-multiplatform.tar",
            "i386-in-amd64.tar",
            "no-such-file.tar",
        ]
        .iter()
        .map(|f| crate::scan(&format!("{dir}{f}"), &opts))
        .collect();
        out[0]
            .errors
            .push("a \u{1b}[31m\u{202e} message\nover two lines".into());
        // More images than a batch.
        let many = out[1].images.clone();
        for _ in 0..(BATCH / many.len().max(1) + 1) {
            out[1].images.extend(many.iter().cloned());
        }
        out
    }

    #[test]
    fn the_streamed_document_is_the_rendered_one() {
        let all = reports();
        assert!(!all[0].images[0].binaries.is_empty() && all[1].images.len() > BATCH);
        for reports in [reports(), Vec::new(), reports().split_off(3)] {
            let mut streamed = Vec::new();
            render_to(&reports, &mut streamed).unwrap();
            assert_eq!(String::from_utf8(streamed).unwrap(), render(&reports));
        }
    }

    #[test]
    fn the_streamed_lines_are_the_rendered_ones() {
        let reports = reports();
        let mut streamed = Vec::new();
        render_lines_to(&reports, &mut streamed).unwrap();
        let streamed = String::from_utf8(streamed).unwrap();
        assert!(streamed.lines().count() > BATCH);
        assert_eq!(streamed, render_lines(&reports));
    }
}
