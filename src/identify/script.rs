//! `#!` script identification: the interpreter and its one optional argument,
//! split the way Linux's `binfmt_script` splits them.
//!
//! Reads at most [`IdentLimits::shebang`] bytes of the first line. After `#!`,
//! spaces and tabs are skipped; the interpreter runs to the next space, tab or
//! end of line; the rest, trimmed of spaces and tabs, is a single argument. A
//! line ending in `\r\n` is flagged (`crlf`) and the `\r` left out of what is
//! reported. The line also ends at a NUL, as the kernel's string handling does.

use super::{read_upto, FileBytes, IdentLimits, ScriptInfo};

/// The first read; longer lines are read in growing steps up to the cap.
const FIRST_READ: usize = 16;

pub fn sniff(first: &[u8]) -> bool {
    first.starts_with(b"#!")
}

fn is_blank(c: u8) -> bool {
    c == b' ' || c == b'\t'
}

fn trim_blanks(mut s: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = s {
        if !is_blank(*first) {
            break;
        }
        s = rest;
    }
    while let [rest @ .., last] = s {
        if !is_blank(*last) {
            break;
        }
        s = rest;
    }
    s
}

pub fn parse(b: &dyn FileBytes, limits: &IdentLimits) -> Option<ScriptInfo> {
    // Read in growing steps so a short line costs a short read: a streaming
    // capture then only keeps more when the line really is longer.
    let mut len = FIRST_READ.min(limits.shebang);
    let mut head = read_upto(b, 0, len)?;
    while !head.contains(&b'\n') && len < limits.shebang && (head.len() as u64) < b.size() {
        len = len.saturating_mul(4).min(limits.shebang);
        match read_upto(b, 0, len) {
            Some(more) => head = more,
            None => break,
        }
    }
    let body = head.strip_prefix(b"#!")?;
    let (mut line, has_newline) = match body.iter().position(|&c| c == b'\n') {
        Some(n) => (body.get(..n)?, true),
        None => (body, false),
    };
    let crlf = has_newline && line.last() == Some(&b'\r');
    if crlf {
        line = line.get(..line.len() - 1)?;
    }
    if let Some(n) = line.iter().position(|&c| c == 0) {
        line = line.get(..n)?;
    }
    let line = trim_blanks(line);
    let split = line.iter().position(|&c| is_blank(c)).unwrap_or(line.len());
    let (interp, rest) = line.split_at(split);
    if interp.is_empty() {
        return None;
    }
    let arg = trim_blanks(rest);
    Some(ScriptInfo {
        interpreter: crate::paths::decode(interp).into_owned(),
        arg: (!arg.is_empty()).then(|| crate::paths::decode(arg).into_owned()),
        crlf,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identify::testutil::Mem;
    use crate::identify::{identify, Ident, Sparse};

    fn p(s: &[u8]) -> Option<(String, Option<String>, bool)> {
        parse(&Mem(s.to_vec()), &IdentLimits::default()).map(|i| (i.interpreter, i.arg, i.crlf))
    }

    fn want(i: &str, a: Option<&str>, crlf: bool) -> Option<(String, Option<String>, bool)> {
        Some((i.to_string(), a.map(str::to_string), crlf))
    }

    #[test]
    fn linux_splitting() {
        assert_eq!(p(b"#!/bin/sh\necho hi\n"), want("/bin/sh", None, false));
        assert_eq!(p(b"#! /bin/sh -e\n"), want("/bin/sh", Some("-e"), false));
        assert_eq!(
            p(b"#!\t/usr/bin/env  python3 -u \t\n"),
            want("/usr/bin/env", Some("python3 -u"), false)
        );
        assert_eq!(
            p(b"#!/usr/bin/env -S a b\n"),
            want("/usr/bin/env", Some("-S a b"), false)
        );
        assert_eq!(p(b"#!/bin/bash"), want("/bin/bash", None, false));
        assert_eq!(p(b"#!/bin/sh\r\necho\r\n"), want("/bin/sh", None, true));
        assert_eq!(p(b"#!/bin/sh -x\r\n"), want("/bin/sh", Some("-x"), true));
        assert_eq!(p(b"#!/bin/sh\0junk\n"), want("/bin/sh", None, false));
        assert_eq!(
            p(b"#!/usr/bin/\xffx\n"),
            // Invalid UTF-8 keeps its bytes, as image paths do.
            want("/usr/bin/\\xffx", None, false)
        );
    }

    #[test]
    fn empty_interpreter_is_none() {
        for s in [&b"#!"[..], b"#!\n/bin/sh\n", b"#!   \t\n", b"#! \r\n"] {
            assert_eq!(p(s), None, "{s:?}");
        }
        assert_eq!(p(b"/bin/sh\n"), None);
    }

    #[test]
    fn long_line_is_capped() {
        let mut s = b"#!/bin/".to_vec();
        s.extend(std::iter::repeat_n(b'a', 10_000));
        s.push(b'\n');
        let limits = IdentLimits {
            shebang: 100,
            ..IdentLimits::default()
        };
        let got = parse(&Mem(s), &limits).unwrap();
        assert_eq!(got.interpreter.len(), 98);
        assert!(!got.crlf);
    }

    #[test]
    fn identified_through_identify() {
        let d = Mem(b"#!/bin/sh\nexit 0\n".to_vec());
        let Some(Ident::Script(s)) = identify(&d, false, &IdentLimits::default()) else {
            panic!("not a script");
        };
        assert_eq!(s.interpreter, "/bin/sh");
    }

    #[test]
    fn every_truncation_is_safe() {
        let full = b"#!  /usr/bin/env python3 \r\nprint()\n";
        for n in 0..=full.len() {
            let _ = p(&full[..n]);
        }
        // A sparse view with the head: the short line is read from it.
        let mut s = Sparse::new(1 << 20);
        s.push(0, &full[..]);
        s.push(full.len() as u64, &[b'x'; 8192]);
        let got = parse(&s, &IdentLimits::default()).unwrap();
        assert_eq!(got.interpreter, "/usr/bin/env");
        assert_eq!(got.arg.as_deref(), Some("python3"));
        assert!(got.crlf);
    }
}
