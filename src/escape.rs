//! The one escaping of strings that come from an input (names, tags, config
//! fields, paths, messages quoting them), in the two forms every output
//! needs. [`hazard`] says which characters are escaped; [`terminal`] shows
//! them as visible escapes (`\x1b`, `\u{202e}`) for the text report and
//! stderr; [`to_json`] and [`to_json_pretty`] write JSON (and so SARIF) in
//! which every string stays lossless but those characters are written as
//! `\uXXXX` escapes, so that a report piped to a terminal, `jq -r`-free,
//! cannot rewrite it or reorder what it shows.

use std::fmt::Write as _;
use std::io;

use serde::Serialize;

/// Whether `c` must never reach an output raw: C0 and C1 controls and DEL
/// (escape sequences, newlines, CSI `U+009B`), bidi embeddings, overrides,
/// isolates and marks (`U+202A`–`U+202E`, `U+2066`–`U+2069`, `U+200E`,
/// `U+200F`, `U+061C`), and the other invisible format characters
/// (zero-width spaces and joiners, the BOM, line and paragraph separators,
/// interlinear annotation, tag characters, soft hyphen).
pub fn hazard(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{00ad}'
                | '\u{034f}'
                | '\u{0600}'..='\u{0605}'
                | '\u{061c}'
                | '\u{06dd}'
                | '\u{070f}'
                | '\u{0890}'..='\u{0891}'
                | '\u{08e2}'
                | '\u{115f}'..='\u{1160}'
                | '\u{17b4}'..='\u{17b5}'
                | '\u{180b}'..='\u{180f}'
                | '\u{200b}'..='\u{200f}'
                | '\u{2028}'..='\u{202e}'
                | '\u{2060}'..='\u{206f}'
                | '\u{3164}'
                | '\u{fe00}'..='\u{fe0f}'
                | '\u{feff}'
                | '\u{ffa0}'
                | '\u{fff9}'..='\u{fffb}'
                | '\u{110bd}'
                | '\u{110cd}'
                | '\u{13430}'..='\u{1343f}'
                | '\u{1bca0}'..='\u{1bca3}'
                | '\u{1d173}'..='\u{1d17a}'
                | '\u{e0000}'..='\u{e0fff}'
        )
}

/// `s` for a terminal: each [`hazard`] as a visible escape (`\n`, `\x1b`,
/// `\x9b`, `\u{202e}`), everything else as is.
pub fn terminal(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if !hazard(c) {
            out.push(c);
            continue;
        }
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x100 => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => {
                let _ = write!(out, "\\u{{{:04x}}}", c as u32);
            }
        }
    }
    out
}

/// A serde_json formatter that writes every [`hazard`] inside a string as
/// `\uXXXX` (a surrogate pair above U+FFFF); serde_json already escapes C0,
/// `"` and `\` before a fragment reaches it.
struct Escaping<F>(F);

impl<F: serde_json::ser::Formatter> serde_json::ser::Formatter for Escaping<F> {
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        // Printable ASCII holds no hazard: written as is, without a look at
        // each character.
        if fragment.bytes().all(|b| (0x20..0x7f).contains(&b)) {
            return w.write_all(fragment.as_bytes());
        }
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            if !hazard(c) {
                continue;
            }
            w.write_all(&fragment.as_bytes()[start..i])?;
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                write!(w, "\\u{:04x}", u)?;
            }
            start = i + c.len_utf8();
        }
        w.write_all(&fragment.as_bytes()[start..])
    }

    // Everything else as the wrapped formatter writes it (pretty or compact).
    fn begin_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_array(w)
    }
    fn end_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array(w)
    }
    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.0.begin_array_value(w, first)
    }
    fn end_array_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array_value(w)
    }
    fn begin_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object(w)
    }
    fn end_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object(w)
    }
    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.0.begin_object_key(w, first)
    }
    fn end_object_key<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object_key(w)
    }
    fn begin_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object_value(w)
    }
    fn end_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object_value(w)
    }
}

fn write_json<T: Serialize + ?Sized, F: serde_json::ser::Formatter>(
    value: &T,
    formatter: F,
) -> Result<String, serde_json::Error> {
    let mut buf = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, Escaping(formatter));
    value.serialize(&mut ser)?;
    // The serializer writes only UTF-8 (strings are `str`, escapes ASCII).
    String::from_utf8(buf).map_err(|e| serde::ser::Error::custom(e.to_string()))
}

/// `value` as JSON written to `w` (pretty with two-space indent, or
/// compact), every [`hazard`] in a string escaped: what [`to_json_pretty`]
/// and [`to_json`] return, without holding it all in memory.
pub fn write_json_to<W: io::Write, T: Serialize + ?Sized>(
    w: W,
    value: &T,
    pretty: bool,
) -> Result<(), serde_json::Error> {
    if pretty {
        let f = Escaping(serde_json::ser::PrettyFormatter::new());
        value.serialize(&mut serde_json::Serializer::with_formatter(w, f))
    } else {
        let f = Escaping(serde_json::ser::CompactFormatter);
        value.serialize(&mut serde_json::Serializer::with_formatter(w, f))
    }
}

/// `value` as compact JSON (one line), every [`hazard`] in a string escaped.
pub fn to_json<T: Serialize + ?Sized>(value: &T) -> Result<String, serde_json::Error> {
    write_json(value, serde_json::ser::CompactFormatter)
}

/// `value` as pretty JSON (two-space indent), every [`hazard`] in a string
/// escaped.
pub fn to_json_pretty<T: Serialize + ?Sized>(value: &T) -> Result<String, serde_json::Error> {
    write_json(value, serde_json::ser::PrettyFormatter::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    const NASTY: &str =
        "a\x1b[31mb\x07c\u{9b}2Jd\u{202e}e\u{2066}f\u{200f}g\u{61c}h\u{7f}i\u{e0041}j\nk";

    #[test]
    fn terminal_shows_every_hazard_as_an_escape() {
        assert_eq!(terminal("/bin/ok ß €"), "/bin/ok ß €");
        assert_eq!(
            terminal(NASTY),
            "a\\x1b[31mb\\x07c\\x9b2Jd\\u{202e}e\\u{2066}f\\u{200f}g\\u{061c}h\\x7fi\\u{e0041}j\\nk"
        );
        assert_eq!(terminal("zw\u{200b}j\u{feff}"), "zw\\u{200b}j\\u{feff}");
    }

    #[test]
    fn json_escapes_hazards_and_stays_lossless() {
        for pretty in [false, true] {
            let v = serde_json::json!({ "k\u{202e}": [NASTY, "plain ß"] });
            let out = if pretty {
                to_json_pretty(&v).unwrap()
            } else {
                to_json(&v).unwrap()
            };
            assert!(!out.chars().any(|c| hazard(c) && c != '\n'), "{out}");
            assert!(out.contains("\\u009b") && out.contains("\\u202e"), "{out}");
            assert!(out.contains("\\udb40\\udc41"), "{out}");
            let back: serde_json::Value = serde_json::from_str(&out).unwrap();
            assert_eq!(back, v);
        }
        assert_eq!(
            to_json_pretty(&serde_json::json!({"a": [1]})).unwrap(),
            serde_json::to_string_pretty(&serde_json::json!({"a": [1]})).unwrap()
        );
    }
}
