//! Bounded JSON: documents from an archive are size- and depth-checked before
//! serde_json sees them, and read through small accessors that say what was
//! expected when a field has the wrong type.

use serde_json::Value;

use crate::limits::Limits;

/// Parses a JSON document after checking its size and nesting depth.
pub fn parse(bytes: &[u8], limits: &Limits) -> Result<Value, String> {
    if bytes.len() > limits.json_bytes {
        return Err(format!(
            "JSON document of {} bytes is over the {}-byte limit",
            bytes.len(),
            limits.json_bytes
        ));
    }
    let depth = max_depth(bytes);
    if depth > limits.json_depth {
        return Err(format!(
            "JSON nested {depth} levels deep, over the limit of {}",
            limits.json_depth
        ));
    }
    serde_json::from_slice(bytes).map_err(|e| format!("invalid JSON: {e}"))
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
pub fn opt_str<'a>(v: &'a Value, key: &str) -> Result<Option<&'a str>, String> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(format!(
            "`{key}` should be a string, found {}",
            type_name(other)
        )),
    }
}

/// A list of strings, or `None` when absent or null. A lone string is taken as
/// a one-element list (some tools write `"Entrypoint": "/app"`).
pub fn opt_str_list(v: &Value, key: &str) -> Result<Option<Vec<String>>, String> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(vec![s.clone()])),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| match i {
                Value::String(s) => Ok(s.clone()),
                other => Err(format!(
                    "`{key}` should list strings, found {}",
                    type_name(other)
                )),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(other) => Err(format!(
            "`{key}` should be a list of strings, found {}",
            type_name(other)
        )),
    }
}

/// An array field (absent or null is empty).
pub fn list<'a>(v: &'a Value, key: &str) -> Result<&'a [Value], String> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(a)) => Ok(a),
        Some(other) => Err(format!(
            "`{key}` should be a list, found {}",
            type_name(other)
        )),
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
        assert!(err.contains("deep"), "{err}");
    }

    #[test]
    fn typed_accessors_explain_wrong_types() {
        let v: Value = serde_json::from_str(r#"{"a":1,"b":"x","c":["y"],"d":"z"}"#).unwrap();
        assert!(opt_str(&v, "a").unwrap_err().contains("a number"));
        assert_eq!(opt_str(&v, "b").unwrap(), Some("x"));
        assert_eq!(opt_str_list(&v, "c").unwrap(), Some(vec!["y".to_string()]));
        assert_eq!(opt_str_list(&v, "d").unwrap(), Some(vec!["z".to_string()]));
        assert_eq!(opt_str_list(&v, "missing").unwrap(), None);
    }
}
