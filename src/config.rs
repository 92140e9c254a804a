//! `.archscan.toml` in the working directory: defaults for the long options,
//! one key per option with the option's name (`platform = "linux/amd64"`,
//! `ignore-rule = ["foreign-binary:/opt/sdk/**"]`, `fail-on = "warning"`,
//! `verify = true`). The file's values become command-line words placed
//! before the user's; an option the user gives on the command line replaces
//! the file's (lists included), so the command line always wins.

use std::ffi::OsString;

/// The file's name, looked up in the working directory only.
pub const FILE: &str = ".archscan.toml";

/// Keys the file may set, each with the short flag that also sets it.
const KEYS: &[(&str, Option<&str>)] = &[
    ("platform", None),
    ("image", None),
    ("entrypoint", None),
    ("cmd", None),
    ("ignore", None),
    ("ignore-rule", None),
    ("rootfs", None),
    ("dockerfile", None),
    ("format", None),
    ("output", Some("-o")),
    ("quiet", Some("-q")),
    ("verbose", Some("-v")),
    ("color", None),
    ("fail-on", None),
    ("fail-on-unknown", None),
    ("verify", None),
    ("jobs", Some("-j")),
];

/// Did the user give this option on the command line?
fn given(user: &[OsString], key: &str, short: Option<&str>) -> bool {
    let long = format!("--{key}");
    let long_eq = format!("--{key}=");
    user.iter().filter_map(|a| a.to_str()).any(|a| {
        a == long
            || a.starts_with(&long_eq)
            || short.is_some_and(|s| a == s || (a.starts_with(s) && !a.starts_with("--")))
    })
}

/// The command-line words the file's settings stand for, leaving out those
/// the user's own arguments (`user`, without the program name) set. `Err`
/// says what is wrong with the file: bad TOML, an unknown key (naming the
/// nearest), a value of the wrong type.
pub fn words(text: &str, user: &[OsString]) -> Result<Vec<OsString>, String> {
    let table: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| format!("{FILE}: {}", e.to_string().trim_end()))?;
    let mut out: Vec<OsString> = Vec::new();
    for (key, value) in &table {
        let Some((_, short)) = KEYS.iter().find(|(k, _)| k == key) else {
            let near = archscan::suggest::nearest(key, KEYS.iter().map(|(k, _)| *k), 1);
            let hint = near
                .first()
                .map(|n| format!("; did you mean {n}?"))
                .unwrap_or_default();
            return Err(format!(
                "{FILE}: unknown key `{key}`{hint} (keys are the long options, e.g. platform, ignore-rule)"
            ));
        };
        // -q and -v exclude each other: either on the command line replaces
        // both of the file's.
        let rival = match key.as_str() {
            "quiet" => Some(("verbose", Some("-v"))),
            "verbose" => Some(("quiet", Some("-q"))),
            _ => None,
        };
        if given(user, key, *short) || rival.is_some_and(|(k, s)| given(user, k, s)) {
            continue;
        }
        let flag = OsString::from(format!("--{key}"));
        let bad = |what: &str| format!("{FILE}: `{key}` {what}");
        match value {
            toml::Value::Boolean(true) => out.push(flag),
            toml::Value::Boolean(false) => {}
            toml::Value::String(s) => {
                out.push(flag);
                out.push(s.into());
            }
            toml::Value::Integer(n) => {
                out.push(flag);
                out.push(n.to_string().into());
            }
            toml::Value::Array(items) if key == "entrypoint" || key == "cmd" => {
                let words: Vec<&str> = items
                    .iter()
                    .map(|v| v.as_str().ok_or_else(|| bad("must be a list of strings")))
                    .collect::<Result<_, _>>()?;
                out.push(flag);
                out.push(
                    serde_json::to_string(&words)
                        .map_err(|e| bad(&e.to_string()))?
                        .into(),
                );
            }
            toml::Value::Array(items) => {
                for v in items {
                    let s = v.as_str().ok_or_else(|| bad("must be a list of strings"))?;
                    out.push(flag.clone());
                    out.push(s.into());
                }
            }
            _ => return Err(bad("must be a string, a boolean, a number or a list")),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(text: &str, user: &[&str]) -> Result<Vec<String>, String> {
        let user: Vec<OsString> = user.iter().map(OsString::from).collect();
        words(text, &user).map(|v| {
            v.into_iter()
                .map(|s| s.to_string_lossy().into_owned())
                .collect()
        })
    }

    #[test]
    fn keys_become_options_and_the_command_line_wins() {
        let text = "platform = \"linux/amd64\"\nignore-rule = [\"no-binaries\", \"foreign-binary:/opt/**\"]\nverify = true\nquiet = false\ncmd = [\"httpd\", \"-f\"]\njobs = 2\n";
        assert_eq!(
            w(text, &["x.tar"]).unwrap(),
            [
                "--cmd",
                "[\"httpd\",\"-f\"]",
                "--ignore-rule",
                "no-binaries",
                "--ignore-rule",
                "foreign-binary:/opt/**",
                "--jobs",
                "2",
                "--platform",
                "linux/amd64",
                "--verify"
            ]
        );
        let v = w(
            text,
            &[
                "--platform=linux/arm64",
                "-j1",
                "--ignore-rule",
                "x",
                "x.tar",
            ],
        )
        .unwrap();
        assert!(!v
            .iter()
            .any(|a| a == "--platform" || a == "--jobs" || a == "--ignore-rule"));
        assert!(w("platfrom = \"x\"", &[])
            .unwrap_err()
            .contains("did you mean platform?"));
        assert!(w("verify = ", &[]).unwrap_err().starts_with(FILE));
        // -v on the command line replaces the file's quiet.
        assert!(w("quiet = true", &["-v", "x.tar"]).unwrap().is_empty());
        assert!(w("ignore = [1]", &[])
            .unwrap_err()
            .contains("list of strings"));
    }
}
