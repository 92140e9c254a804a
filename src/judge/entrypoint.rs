//! What the container actually runs: Entrypoint + Cmd, `argv[0]` made absolute
//! through `PATH` (from the config's `Env`) and `WorkingDir`, symlinks resolved
//! inside the image, and `#!` scripts followed to their interpreter (through
//! `PATH` for `#!/usr/bin/env NAME`) until the binary the kernel execs.

use serde::Serialize;

use crate::identify::{Ident, ScriptInfo};
use crate::layers::merge::{MergedFs, Node, Resolved};
use crate::paths;

/// The `PATH` runc and containerd use when the image sets none.
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Linux follows at most this many nested `#!` interpreters.
const MAX_SCRIPT_DEPTH: usize = 4;

/// How one step of the chain was taken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Via {
    /// `argv[0]` itself.
    Argv,
    /// A `#!` line named this interpreter.
    Shebang,
    /// `#!/usr/bin/env NAME` looked NAME up in PATH.
    Env,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    /// The path as named (made absolute).
    pub path: String,
    /// The file after symlinks, when it exists.
    pub resolved: Option<String>,
    pub via: Via,
}

/// Why resolution stopped short of a binary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// A native binary was reached.
    Native,
    /// `argv[0]` (or a PATH lookup of it) names nothing in the image.
    Missing { name: String, searched: Vec<String> },
    /// A script's interpreter is absent.
    InterpreterMissing { script: String, interpreter: String },
    /// A link chain loops or is too long.
    TooManyLinks { path: String },
    /// A file that is neither native nor a script.
    NotProgram,
    /// Scripts nested deeper than Linux follows.
    TooDeep,
    /// A directory, device, or a hardlink with no content.
    NotAFile { path: String },
}

/// The outcome of resolving what runs.
#[derive(Debug, Clone)]
pub struct Resolution {
    pub argv: Vec<String>,
    /// `argv[0]` made absolute (the first step's path).
    pub path: Option<String>,
    /// Every file on the way to the one the kernel execs.
    pub chain: Vec<Step>,
    /// The last file reached, with its node.
    pub last: Option<(String, Node)>,
    pub stop: Stop,
}

impl Resolution {
    /// The script that was reached last, if the chain went through one.
    pub fn scripts<'a>(
        &'a self,
        fs: &'a MergedFs,
    ) -> impl Iterator<Item = (&'a Step, ScriptInfo)> + 'a {
        self.chain.iter().filter_map(move |step| {
            let p = step.resolved.as_deref()?;
            let node = fs.get(p)?;
            match fs.entry(node.content?)?.ident.as_deref()? {
                Ident::Script(s) => Some((step, s.clone())),
                _ => None,
            }
        })
    }
}

/// The `PATH` from a config's `Env`, or the default.
pub fn path_from_env(env: &[String]) -> String {
    env.iter()
        .rev()
        .find_map(|e| e.strip_prefix("PATH="))
        .map(str::to_string)
        .unwrap_or_else(|| DEFAULT_PATH.to_string())
}

/// Looks `name` up: a name with a `/` is taken relative to `workdir`, a bare
/// name is searched in `path` (the first regular file wins, as execvp does).
/// Returns the absolute path and the resolution, or the places searched.
fn lookup(
    fs: &MergedFs,
    name: &str,
    path: &str,
    workdir: &str,
) -> Result<(String, Resolved), Vec<String>> {
    if name.contains('/') {
        let abs = paths::join_normalised(workdir, name);
        let r = fs.resolve(&abs);
        return Ok((abs, r));
    }
    let mut searched = Vec::new();
    let mut first_existing = None;
    for dir in path.split(':') {
        // An empty PATH element means the working directory.
        let dir = if dir.is_empty() { workdir } else { dir };
        let abs = paths::join_normalised(&paths::join_normalised(workdir, dir), name);
        let r = fs.resolve(&abs);
        if let Resolved::Found { node, .. } = &r {
            let exec = fs.entry(node.at).is_some_and(|e| e.exec_bit());
            let regular = node.content.is_some();
            if regular && exec {
                return Ok((abs, r));
            }
            if regular && first_existing.is_none() {
                first_existing = Some((abs.clone(), r.clone()));
            }
        }
        searched.push(abs);
    }
    first_existing.ok_or(searched)
}

/// Resolves argv to the binary the kernel will exec.
pub fn resolve(fs: &MergedFs, argv: &[String], path: &str, workdir: &str) -> Resolution {
    let mut res = Resolution {
        argv: argv.to_vec(),
        path: None,
        chain: Vec::new(),
        last: None,
        stop: Stop::NotProgram,
    };
    let Some(argv0) = argv.first() else {
        return res;
    };
    let mut name = argv0.clone();
    let mut via = Via::Argv;
    let mut cwd = workdir.to_string();
    for _ in 0..=MAX_SCRIPT_DEPTH {
        let found = lookup(fs, &name, path, &cwd);
        let (abs, resolved) = match found {
            Ok(x) => x,
            Err(searched) => {
                res.stop = missing(&res, &name, searched);
                return res;
            }
        };
        if res.path.is_none() {
            res.path = Some(abs.clone());
        }
        let (file, node) = match resolved {
            Resolved::Found { path, node } => (path, node),
            Resolved::Missing { .. } => {
                res.chain.push(Step {
                    path: abs.clone(),
                    resolved: None,
                    via,
                });
                res.stop = missing(&res, &abs, vec![abs.clone()]);
                return res;
            }
            Resolved::TooManyLinks { path } => {
                res.stop = Stop::TooManyLinks { path };
                return res;
            }
        };
        res.chain.push(Step {
            path: abs,
            resolved: Some(file.clone()),
            via: via.clone(),
        });
        res.last = Some((file.clone(), node));
        let Some(content) = node.content else {
            res.stop = Stop::NotAFile { path: file };
            return res;
        };
        match fs.entry(content).and_then(|e| e.ident.as_deref()) {
            Some(i) if i.is_native() => {
                res.stop = Stop::Native;
                return res;
            }
            Some(Ident::Script(s)) => {
                // The kernel resolves a relative interpreter from the
                // process's working directory.
                let (next, next_via) = interpreter_of(s);
                cwd = workdir.to_string();
                if next.is_empty() {
                    res.stop = Stop::NotProgram;
                    return res;
                }
                name = next;
                via = next_via;
            }
            _ => {
                res.stop = Stop::NotProgram;
                return res;
            }
        }
    }
    res.stop = Stop::TooDeep;
    res
}

fn missing(res: &Resolution, name: &str, searched: Vec<String>) -> Stop {
    // Past the first step, what is missing is an interpreter.
    match res.chain.iter().rev().find(|s| s.resolved.is_some()) {
        Some(script) => Stop::InterpreterMissing {
            script: script.resolved.clone().unwrap_or_default(),
            interpreter: name.to_string(),
        },
        None => Stop::Missing {
            name: name.to_string(),
            searched,
        },
    }
}

/// Shells whose `-c STRING` runs a command line.
const SHELLS: &[&str] = &["sh", "bash", "dash", "ash", "zsh", "ksh", "mksh", "busybox"];

/// For `sh -c "exec /app/server --flag"` (and `bash -ec …`, `busybox sh -c …`):
/// the first command of the string, as an argv, when it is a plain word (not
/// a variable, a builtin or a compound command).
pub fn shell_command(argv: &[String]) -> Option<Vec<String>> {
    let mut rest = argv;
    let shell = paths::file_name(rest.first()?);
    if !SHELLS.contains(&shell) {
        return None;
    }
    rest = &rest[1..];
    if shell == "busybox" {
        let applet = rest.first()?;
        if !SHELLS.contains(&applet.as_str()) {
            return None;
        }
        rest = &rest[1..];
    }
    // Options up to the one that holds `c` (-c, -ec, -xc, -lc…).
    let mut script = None;
    for (i, a) in rest.iter().enumerate() {
        if a.starts_with('-') && !a.starts_with("--") && a.len() > 1 {
            if a.contains('c') {
                script = rest.get(i + 1);
                break;
            }
            continue;
        }
        return None;
    }
    let script = script?;
    const BUILTINS: &[&str] = &[
        "set", "cd", "export", "if", "for", "while", "case", "{", "(", "[", "[[", "test", "echo",
        "printf", "true", ":", "trap", "ulimit", "umask", "source", ".", "eval", "wait", "sleep",
    ];
    let first_cmd = script.split(['\n', ';', '&', '|']).next()?.trim();
    let words: Vec<&str> = first_cmd.split_whitespace().collect();
    let mut i = 0;
    while let Some(w) = words.get(i) {
        let is_assignment = w.split_once('=').is_some_and(|(k, _)| {
            !k.is_empty() && k.chars().all(|c| c == '_' || c.is_ascii_alphanumeric())
        });
        if *w == "exec" || is_assignment {
            i += 1;
            continue;
        }
        break;
    }
    let cmd: Vec<String> = words[i.min(words.len())..]
        .iter()
        .map(|w| w.trim_matches(|c| c == '"' || c == '\''))
        .map(str::to_string)
        .collect();
    let first = cmd.first()?;
    if first.is_empty()
        || first.contains(['$', '`', '(', ')', '*', '?', '<', '>'])
        || BUILTINS.contains(&first.as_str())
    {
        return None;
    }
    Some(cmd)
}

/// The next program a `#!` line runs: its interpreter, or for `env` the
/// command `env` will look up in PATH.
fn interpreter_of(s: &ScriptInfo) -> (String, Via) {
    if paths::file_name(&s.interpreter) == "env" {
        if let Some(arg) = &s.arg {
            // `#!/usr/bin/env -S python3 -u` splits its argument; other
            // options and VAR=value assignments come before the command.
            let cmd = arg
                .split([' ', '\t'])
                .filter(|w| !w.is_empty())
                .find(|w| !w.starts_with('-') && !w.contains('='));
            if let Some(cmd) = cmd {
                return (cmd.to_string(), Via::Env);
            }
        }
    }
    (s.interpreter.clone(), Via::Shebang)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identify::{BinType, ElfInfo, Endian};
    use crate::layers::scan::{LayerEntry, LayerIndex, NodeKind};
    use crate::platform::{Arch, Os};
    use std::sync::Arc;

    fn elf() -> Ident {
        Ident::Elf(Box::new(ElfInfo {
            class: 64,
            endian: Endian::Little,
            machine: 183,
            arch: Arch::Arm64,
            osabi: 0,
            os: Os::Linux,
            bin_type: BinType::Exec,
            interpreter: None,
            needed: vec![],
            rpath: None,
            runpath: None,
            soname: None,
            arm_variant: None,
            arm_hard_float: None,
            isa_level: None,
            go: None,
            damaged: false,
        }))
    }

    fn script(interp: &str, arg: Option<&str>) -> Ident {
        Ident::Script(ScriptInfo {
            interpreter: interp.into(),
            arg: arg.map(str::to_string),
            crlf: false,
        })
    }

    fn fs(entries: Vec<(&str, NodeKind, Option<Ident>, u32)>) -> MergedFs {
        let layer = LayerIndex {
            entries: entries
                .into_iter()
                .map(|(p, kind, ident, mode)| LayerEntry {
                    path: p.into(),
                    kind,
                    mode,
                    size: 1,
                    ident: ident.map(Box::new),
                    content: None,
                })
                .collect(),
            ..LayerIndex::default()
        };
        MergedFs::merge(vec![Arc::new(layer)], 40)
    }

    fn image() -> MergedFs {
        use NodeKind::*;
        fs(vec![
            ("/bin/busybox", File, Some(elf()), 0o755),
            ("/bin/sh", Symlink("busybox".into()), None, 0o777),
            ("/usr/bin/env", File, Some(elf()), 0o755),
            ("/usr/local/bin/python3", File, Some(elf()), 0o755),
            ("/app/run.sh", File, Some(script("/bin/sh", None)), 0o755),
            (
                "/app/tool.py",
                File,
                Some(script("/usr/bin/env", Some("python3"))),
                0o755,
            ),
            (
                "/app/broken.sh",
                File,
                Some(script("/bin/bash", None)),
                0o755,
            ),
            ("/app/notexec", File, None, 0o644),
        ])
    }

    fn argv(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn bare_name_through_path_and_links() {
        let fs = image();
        let r = resolve(&fs, &argv(&["sh", "-c", "x"]), DEFAULT_PATH, "/");
        assert_eq!(r.stop, Stop::Native);
        assert_eq!(r.path.as_deref(), Some("/bin/sh"));
        assert_eq!(r.last.unwrap().0, "/bin/busybox");
    }

    #[test]
    fn scripts_are_followed_to_their_interpreter() {
        let fs = image();
        let r = resolve(&fs, &argv(&["./run.sh"]), DEFAULT_PATH, "/app");
        assert_eq!(r.stop, Stop::Native);
        assert_eq!(r.chain.len(), 2);
        assert_eq!(r.last.unwrap().0, "/bin/busybox");

        let r = resolve(&fs, &argv(&["/app/tool.py"]), DEFAULT_PATH, "/");
        assert_eq!(r.stop, Stop::Native);
        assert_eq!(r.chain[1].via, Via::Env);
        assert_eq!(r.last.unwrap().0, "/usr/local/bin/python3");
    }

    #[test]
    fn missing_program_and_interpreter() {
        let fs = image();
        let r = resolve(&fs, &argv(&["server"]), "/usr/bin:/bin", "/");
        assert!(matches!(r.stop, Stop::Missing { ref searched, .. } if searched.len() == 2));
        let r = resolve(&fs, &argv(&["/app/broken.sh"]), DEFAULT_PATH, "/");
        assert_eq!(
            r.stop,
            Stop::InterpreterMissing {
                script: "/app/broken.sh".into(),
                interpreter: "/bin/bash".into()
            }
        );
    }

    #[test]
    fn shell_command_finds_the_first_program() {
        let sc = |v: &[&str]| shell_command(&argv(v));
        assert_eq!(
            sc(&["/bin/sh", "-c", "exec /app/server --port 80"]),
            Some(argv(&["/app/server", "--port", "80"]))
        );
        assert_eq!(
            sc(&["bash", "-ec", "FOO=1 exec node index.js"]),
            Some(argv(&["node", "index.js"]))
        );
        assert_eq!(
            sc(&["busybox", "sh", "-c", "app; echo done"]),
            Some(argv(&["app"]))
        );
        assert_eq!(sc(&["sh", "-c", "set -e; app"]), None);
        assert_eq!(sc(&["sh", "-c", "$APP"]), None);
        assert_eq!(sc(&["sh", "/app/start.sh"]), None);
        assert_eq!(sc(&["/app/server", "-c", "x"]), None);
    }

    #[test]
    fn path_from_env_takes_the_last_path() {
        assert_eq!(path_from_env(&[]), DEFAULT_PATH);
        assert_eq!(path_from_env(&["A=1".into(), "PATH=/x:/y".into()]), "/x:/y");
    }
}
