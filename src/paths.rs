//! Paths inside an image: normalised lexically, never joined onto a host path.
//!
//! A tar name (`./usr/bin/x`, `usr//bin/../bin/x`, `/usr/bin/x`) becomes an
//! absolute image path (`/usr/bin/x`): `.` and empty components dropped, `..`
//! clamped at the root, as the container runtime's extraction does.

/// Normalises a name from an archive into an absolute image path.
pub fn normalise(raw: &[u8]) -> String {
    join_normalised("/", &decode(raw))
}

/// Decodes a name: UTF-8 as is; each byte of an invalid sequence as `\xNN`,
/// so that a name that is not UTF-8 keeps every byte (and JSON stays valid).
pub fn decode(raw: &[u8]) -> std::borrow::Cow<'_, str> {
    if let Ok(s) = std::str::from_utf8(raw) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(raw.len() + 8);
    for chunk in raw.utf8_chunks() {
        out.push_str(chunk.valid());
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Resolves `rel` against the absolute image directory `base` (an absolute
/// `rel` starts again from the root), clamping `..` at the root.
pub fn join_normalised(base: &str, rel: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    let start = if rel.starts_with('/') { "" } else { base };
    for comp in start.split('/').chain(rel.split('/')) {
        match comp {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    if parts.is_empty() {
        return "/".to_string();
    }
    let mut out = String::with_capacity(rel.len() + base.len() + 1);
    for p in parts {
        out.push('/');
        out.push_str(p);
    }
    out
}

/// The directory part of an absolute image path (`/` for `/x`).
pub fn parent(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) | None => "/",
        Some(i) => &path[..i],
    }
}

/// The last component of an image path.
pub fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_tar_names() {
        let cases = [
            ("./usr/bin/x", "/usr/bin/x"),
            ("usr//bin/./x", "/usr/bin/x"),
            ("/usr/bin/x", "/usr/bin/x"),
            ("usr/bin/", "/usr/bin"),
            ("../../etc/passwd", "/etc/passwd"),
            ("a/../../b", "/b"),
            ("./", "/"),
            ("", "/"),
            ("..", "/"),
        ];
        for (raw, want) in cases {
            assert_eq!(normalise(raw.as_bytes()), want, "{raw}");
        }
    }

    #[test]
    fn invalid_utf8_keeps_its_bytes() {
        assert_eq!(normalise(b"./bin/caf\xe9"), "/bin/caf\\xe9");
        assert_eq!(normalise("./bin/café".as_bytes()), "/bin/café");
    }

    #[test]
    fn joins_relative_and_absolute() {
        assert_eq!(join_normalised("/usr/bin", "../lib/x"), "/usr/lib/x");
        assert_eq!(join_normalised("/usr/bin", "/etc/x"), "/etc/x");
        assert_eq!(join_normalised("/", "../../x"), "/x");
        assert_eq!(parent("/usr/bin/x"), "/usr/bin");
        assert_eq!(parent("/x"), "/");
        assert_eq!(file_name("/usr/bin/x"), "x");
    }
}
