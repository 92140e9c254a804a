//! The JSON renderers. `--format json` is one document whatever the number of
//! inputs (schema 2): `schema_version`, `target`, and `inputs[]`, each input
//! with its `source`, `serves`, `notes`, `errors` and `images[]`.
//! `--format jsonl` is one line per image, `{schema_version, source, target,
//! image}`, or `{schema_version, source, target, error}` for each reason an
//! input could not be read. `docs/schema/` holds the JSON Schema of both.
//! Both are written by [`crate::escape`]: strings lossless, controls and
//! bidi characters as `\uXXXX`.

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
    let doc = Document {
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
    };
    let mut out = crate::escape::to_json_pretty(&doc).unwrap_or_else(failed);
    out.push('\n');
    out
}

/// One compact JSON object per line: one per image, one per input error.
pub fn render_lines(reports: &[Report]) -> String {
    let mut out = String::new();
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
            out.push_str(&crate::escape::to_json(&l).unwrap_or_else(failed));
            out.push('\n');
        }
    }
    out
}
