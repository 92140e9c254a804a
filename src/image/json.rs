//! Bounded JSON: documents from an archive are size- and depth-checked before
//! serde_json sees them, and read through small accessors that say what was
//! expected when a field has the wrong type.

use serde_json::Value;

use crate::limits::{Exceeded, Limits};

/// Why a document is not JSON archscan reads.
#[derive(Debug, thiserror::Error)]
pub enum JsonError {
    #[error(transparent)]
    TooBig(Exceeded),
    #[error(transparent)]
    TooDeep(Exceeded),
    #[error("invalid JSON: {0}")]
    Syntax(#[source] serde_json::Error),
}

/// A field of the wrong type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{key}` should {expected}, found {found}")]
pub struct FieldError {
    pub key: String,
    /// What the spec says: "be a string", "list strings", "be a list"…
    pub expected: &'static str,
    pub found: &'static str,
}

fn field_error(key: &str, expected: &'static str, found: &Value) -> FieldError {
    FieldError {
        key: key.to_string(),
        expected,
        found: type_name(found),
    }
}

/// Parses a JSON document after checking its size and nesting depth.
pub fn parse(bytes: &[u8], limits: &Limits) -> Result<Value, JsonError> {
    if bytes.len() > limits.json_bytes {
        return Err(JsonError::TooBig(Exceeded::JsonBytes {
            size: bytes.len() as u64,
            cap: limits.json_bytes,
        }));
    }
    let depth = max_depth(bytes);
    if depth > limits.json_depth {
        return Err(JsonError::TooDeep(Exceeded::JsonDepth {
            depth,
            cap: limits.json_depth,
        }));
    }
    serde_json::from_slice(bytes).map_err(JsonError::Syntax)
}

/// The deepest nesting of arrays and objects, ignoring brackets in strings.
fn max_depth(bytes: &[u8]) -> usize {
    let (mut depth, mut max, mut in_str, mut escaped) = (0usize, 0usize, false, false);
    for &b in bytes {
        if in_str {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_str = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_str = true,
            b'{' | b'[' => {
                depth += 1;
                max = max.max(depth);
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

/// A string field, or `None` when absent or null; `Err` for another type.
pub fn opt_str<'a>(v: &'a Value, key: &str) -> Result<Option<&'a str>, FieldError> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(field_error(key, "be a string", other)),
    }
}

/// A list of strings, or `None` when absent or null. A lone string is taken as
/// a one-element list (some tools write `"Entrypoint": "/app"`).
pub fn opt_str_list(v: &Value, key: &str) -> Result<Option<Vec<String>>, FieldError> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(vec![s.clone()])),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| match i {
                Value::String(s) => Ok(s.clone()),
                other => Err(field_error(key, "list strings", other)),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(other) => Err(field_error(key, "be a list of strings", other)),
    }
}

/// An array field (absent or null is empty).
pub fn list<'a>(v: &'a Value, key: &str) -> Result<&'a [Value], FieldError> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(a)) => Ok(a),
        Some(other) => Err(field_error(key, "be a list", other)),
    }
}

/// String-to-string map (annotations, labels); other values are skipped.
pub fn str_map(v: &Value, key: &str) -> Vec<(String, String)> {
    match v.get(key) {
        Some(Value::Object(m)) => m
            .iter()
            .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
            .collect(),
        _ => Vec::new(),
    }
}

pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_ignores_strings_and_caps_nesting() {
        assert_eq!(max_depth(br#"{"a":"[[[[","b":[1,[2]]}"#), 3);
        let deep = "[".repeat(100) + &"]".repeat(100);
        let err = parse(deep.as_bytes(), &Limits::default()).unwrap_err();
        assert!(
            matches!(
                err,
                JsonError::TooDeep(Exceeded::JsonDepth {
                    depth: 100,
                    cap: 64
                })
            ),
            "{err}"
        );
    }

    #[test]
    fn typed_accessors_explain_wrong_types() {
        let v: Value = serde_json::from_str(r#"{"a":1,"b":"x","c":["y"],"d":"z"}"#).unwrap();
        assert_eq!(opt_str(&v, "a").unwrap_err().found, "a number");
        assert_eq!(opt_str(&v, "b").unwrap(), Some("x"));
        assert_eq!(opt_str_list(&v, "c").unwrap(), Some(vec!["y".to_string()]));
        assert_eq!(opt_str_list(&v, "d").unwrap(), Some(vec!["z".to_string()]));
        assert_eq!(opt_str_list(&v, "missing").unwrap(), None);
    }
}
