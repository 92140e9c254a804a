//! A Dockerfile's instructions and their lines, to place a finding on the
//! `COPY` or `RUN` that made its layer (SARIF `--dockerfile`). The image's
//! history says which step made each layer (`created_by`); that text is
//! matched against each instruction after the builders' decorations are
//! stripped: `/bin/sh -c ` (the legacy builder's RUN, and BuildKit's shell
//! form), `#(nop) ` (the legacy builder's non-RUN steps) and a trailing
//! ` # buildkit`. Whitespace is normalised on both sides; a step that matches
//! more than one instruction is ambiguous and gets no line.

/// One instruction: the line it starts on (1-based) and its text, with line
/// continuations joined and whitespace normalised (`RUN apt-get update`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instruction {
    pub line: usize,
    pub text: String,
}

/// A parsed Dockerfile.
#[derive(Debug, Clone, Default)]
pub struct Dockerfile {
    pub instructions: Vec<Instruction>,
}

fn normalise(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl Dockerfile {
    /// Parses the instructions of a Dockerfile (comments and blank lines
    /// skipped, `\` continuations joined; heredoc bodies are not
    /// instructions and are skipped).
    pub fn parse(text: &str) -> Dockerfile {
        let mut instructions = Vec::new();
        let mut current: Option<(usize, String)> = None;
        let mut heredoc: Option<String> = None;
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim_end_matches('\r');
            if let Some(end) = &heredoc {
                if line.trim() == end {
                    heredoc = None;
                }
                continue;
            }
            let trimmed = line.trim_start();
            if trimmed.starts_with('#') || (current.is_none() && trimmed.is_empty()) {
                continue;
            }
            let (body, continues) = match line.trim_end().strip_suffix('\\') {
                Some(b) => (b, true),
                None => (line, false),
            };
            let entry = current.get_or_insert_with(|| (i + 1, String::new()));
            entry.1.push(' ');
            entry.1.push_str(body);
            if !continues {
                if let Some((start, t)) = current.take() {
                    let t = normalise(&t);
                    heredoc = heredoc_end(&t);
                    let mut words = t.splitn(2, ' ');
                    let keyword = words.next().unwrap_or("").to_ascii_uppercase();
                    let rest = words.next().unwrap_or("");
                    let text = if rest.is_empty() {
                        keyword
                    } else {
                        format!("{keyword} {rest}")
                    };
                    instructions.push(Instruction { line: start, text });
                }
            }
        }
        Dockerfile { instructions }
    }

    /// The line of the one instruction that made a history step, when exactly
    /// one matches.
    pub fn locate(&self, created_by: &str) -> Option<usize> {
        let step = strip_step(created_by);
        if step.is_empty() {
            return None;
        }
        let mut found = self.instructions.iter().filter(|ins| {
            ins.text == step
                || ins
                    .text
                    .strip_prefix("RUN ")
                    .is_some_and(|args| args == step)
        });
        let first = found.next()?;
        match found.next() {
            Some(_) => None,
            None => Some(first.line),
        }
    }
}

/// `RUN <<EOF …`: the heredoc's end word, when the instruction opens one.
fn heredoc_end(text: &str) -> Option<String> {
    let at = text.find("<<")?;
    let word = text[at + 2..]
        .trim_start_matches('-')
        .split_whitespace()
        .next()?
        .trim_matches(|c| c == '"' || c == '\'');
    (!word.is_empty() && word.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        .then(|| word.to_string())
}

/// A history step's `created_by`, without the builders' decorations.
pub fn strip_step(created_by: &str) -> String {
    let mut s = normalise(created_by);
    if let Some(rest) = s.strip_suffix(" # buildkit") {
        s = rest.to_string();
    }
    for prefix in ["/bin/sh -c ", "#(nop) "] {
        if let Some(rest) = s.strip_prefix(prefix) {
            s = rest.trim_start().to_string();
        }
    }
    // BuildKit's shell-form RUN: `RUN /bin/sh -c apt-get update`.
    if let Some(rest) = s.strip_prefix("RUN /bin/sh -c ") {
        s = format!("RUN {}", rest.trim_start());
    }
    normalise(&s)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "\
# syntax=docker/dockerfile:1
FROM debian:bookworm AS build

RUN apt-get update && \\
    apt-get install -y   gcc
COPY busybox-static:arm64 /bin/busybox
copy app.sh /app.sh
RUN <<EOF
echo hi
EOF
RUN make
RUN make
ENTRYPOINT [\"/bin/busybox\"]
";

    #[test]
    fn instructions_keep_their_first_line() {
        let d = Dockerfile::parse(FILE);
        let lines: Vec<(usize, &str)> = d
            .instructions
            .iter()
            .map(|i| (i.line, i.text.as_str()))
            .collect();
        assert_eq!(lines[0], (2, "FROM debian:bookworm AS build"));
        assert_eq!(
            lines[1],
            (4, "RUN apt-get update && apt-get install -y gcc")
        );
        assert_eq!(lines[3], (7, "COPY app.sh /app.sh"));
        assert_eq!(lines[4].0, 8);
        assert_eq!(lines[5], (11, "RUN make"));
    }

    #[test]
    fn history_steps_find_their_line() {
        let d = Dockerfile::parse(FILE);
        // BuildKit.
        assert_eq!(
            d.locate("COPY busybox-static:arm64 /bin/busybox # buildkit"),
            Some(6)
        );
        assert_eq!(
            d.locate("RUN /bin/sh -c apt-get update &&     apt-get install -y gcc # buildkit"),
            Some(4)
        );
        // The legacy builder.
        assert_eq!(
            d.locate("/bin/sh -c apt-get update && apt-get install -y gcc"),
            Some(4)
        );
        assert_eq!(d.locate("/bin/sh -c #(nop) COPY app.sh /app.sh"), Some(7));
        assert_eq!(
            d.locate("/bin/sh -c #(nop)  ENTRYPOINT [\"/bin/busybox\"]"),
            Some(13)
        );
        // Ambiguous, or not in this Dockerfile.
        assert_eq!(d.locate("RUN /bin/sh -c make # buildkit"), None);
        assert_eq!(d.locate("COPY other /x"), None);
        assert_eq!(d.locate(""), None);
    }
}
