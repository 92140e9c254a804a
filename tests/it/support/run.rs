//! Runs the real `archscan` binary: arguments, working directory,
//! environment and stdin as given; stdout and stderr captured; killed and
//! failed at a deadline. Every run fails the test on a panic message or a
//! death by signal.

use std::ffi::OsStr;
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_archscan");

/// Per-run deadline: generous for a debug build on a shared 2-core machine.
pub const DEADLINE: Duration = Duration::from_secs(60);

/// What one run left behind.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    /// Wall-clock seconds from spawn to exit.
    pub secs: f64,
}

impl Run {
    /// The run of an archscan started another way (through a shell, as
    /// another user): its exit code and both streams (no timing); fails the
    /// test on a signal or a panic, as [`Archscan::run`] does.
    pub fn from_output(out: std::process::Output) -> Run {
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        let Some(code) = out.status.code() else {
            panic!("archscan was killed by a signal ({})\n{stderr}", out.status);
        };
        let run = Run {
            code,
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr,
            secs: 0.0,
        };
        assert!(!run.stderr.contains("panicked"), "{}", run.all());
        run
    }

    /// stdout parsed as JSON; fails the test, showing both streams, if it is not.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.all()))
    }

    /// The report of the first input (JSON schema 2 puts them under `inputs`).
    pub fn input(&self) -> Value {
        self.json()["inputs"][0].clone()
    }

    /// Every finding id of every image of every report.
    pub fn rules(&self) -> Vec<String> {
        // Schema 2: one document, the reports under `inputs`.
        let reports = self.json()["inputs"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let mut out = Vec::new();
        for r in &reports {
            for img in r["images"].as_array().into_iter().flatten() {
                for f in img["findings"].as_array().into_iter().flatten() {
                    if let Some(id) = f["rule"].as_str() {
                        out.push(id.to_string());
                    }
                }
            }
        }
        out
    }

    /// The exit code and both streams, for assertion messages.
    pub fn all(&self) -> String {
        format!(
            "exit {}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// One invocation of archscan, built up and then `run`. Stdin is empty
/// unless bytes are given; the environment is inherited unless changed.
pub struct Archscan {
    cmd: Command,
    shown: Vec<String>,
    stdin: Option<Vec<u8>>,
    close_stdout: bool,
}

/// archscan with `args`.
pub fn archscan<S: AsRef<OsStr>>(args: impl IntoIterator<Item = S>) -> Archscan {
    let mut cmd = Command::new(BIN);
    let mut shown = Vec::new();
    for a in args {
        shown.push(a.as_ref().to_string_lossy().into_owned());
        cmd.arg(a);
    }
    Archscan {
        cmd,
        shown,
        stdin: None,
        close_stdout: false,
    }
}

impl Archscan {
    pub fn current_dir(mut self, dir: &Path) -> Self {
        self.cmd.current_dir(dir);
        self
    }

    pub fn env(mut self, key: &str, value: impl AsRef<OsStr>) -> Self {
        self.cmd.env(key, value);
        self
    }

    pub fn env_remove(mut self, key: &str) -> Self {
        self.cmd.env_remove(key);
        self
    }

    /// Feeds `bytes` on stdin (from a thread: the child may fill stdout
    /// before it has read them all).
    pub fn stdin(mut self, bytes: &[u8]) -> Self {
        self.stdin = Some(bytes.to_vec());
        self
    }

    /// Closes the read end of stdout before archscan writes, as `| head`
    /// does once it has enough; `Run::stdout` is then empty.
    pub fn close_stdout(mut self) -> Self {
        self.close_stdout = true;
        self
    }

    /// Runs to the end, or kills archscan and fails at `DEADLINE`.
    pub fn run(mut self) -> Run {
        let args = self.shown;
        self.cmd
            .stdin(if self.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let start = Instant::now();
        let mut child = self.cmd.spawn().expect("spawn archscan");
        let writer = self.stdin.map(|bytes| {
            let mut sin = child.stdin.take().unwrap();
            std::thread::spawn(move || {
                let _ = sin.write_all(&bytes);
            })
        });
        let out = child.stdout.take().unwrap();
        let out_t = if self.close_stdout {
            drop(out);
            None
        } else {
            Some(drain(out))
        };
        let err_t = drain(child.stderr.take().unwrap());
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait for archscan") {
                break status;
            }
            if start.elapsed() > DEADLINE {
                let _ = child.kill();
                let _ = child.wait();
                panic!("archscan {args:?} did not finish within {DEADLINE:?}");
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        let secs = start.elapsed().as_secs_f64();
        if let Some(w) = writer {
            let _ = w.join();
        }
        let stdout = out_t.map(|t| t.join().unwrap()).unwrap_or_default();
        let stderr = err_t.join().unwrap();
        let Some(code) = status.code() else {
            panic!("archscan {args:?} was killed by a signal ({status})\n{stderr}");
        };
        let run = Run {
            code,
            stdout,
            stderr,
            secs,
        };
        assert!(
            !run.stderr.contains("panicked"),
            "archscan {args:?} panicked\n{}",
            run.all()
        );
        run
    }
}

/// Reads a pipe to its end on a thread of its own.
fn drain(mut pipe: impl Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = pipe.read_to_end(&mut s);
        String::from_utf8_lossy(&s).into_owned()
    })
}
