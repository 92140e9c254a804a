//! The JSON renderer: the `Report` value, pretty-printed, one trailing newline.
//! Several inputs give an array of per-input reports, each exactly the
//! single-input contract.

use super::Report;

pub fn render(reports: &[Report]) -> String {
    let mut out = match reports {
        [one] => serde_json::to_string_pretty(one),
        many => serde_json::to_string_pretty(many),
    }
    .unwrap_or_else(|e| format!("{{\"error\": \"cannot serialise the report: {e}\"}}"));
    out.push('\n');
    out
}
