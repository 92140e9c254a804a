//! Fleets (issue 14): the summary of `fixtures/fleet/` in text, Markdown
//! and JSONL against reviewed snapshots; `--inputs-from`, `--recursive`,
//! non-UTF-8 file names; `--shard K/N` and `archscan summarize`, down to the
//! three examples of docs/fleet.md run for every shard index; registry
//! patterns (`:*`, `/*`) against the real registry `remote` starts.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::Path;

use serde_json::Value;

use super::remote;
use super::support::run::{archscan, Run};
use super::support::snapshot::{self, whole};
use super::support::tmp::Tmp;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// archscan with `args` in `dir`, without colour.
fn run_in(dir: &Path, args: &[&str]) -> Run {
    archscan(args).current_dir(dir).env("NO_COLOR", "1").run()
}

/// A working directory where `images` is `fixtures/fleet` and `images.txt`
/// its list, as the examples of docs/fleet.md expect.
fn fleet_dir(tag: &str) -> Tmp {
    let t = Tmp::new(tag);
    let fleet = Path::new(ROOT).join("fixtures/fleet");
    std::os::unix::fs::symlink(&fleet, t.path().join("images")).unwrap();
    std::fs::copy(fleet.join("images.txt"), t.path().join("images.txt")).unwrap();
    std::fs::create_dir(t.path().join("results")).unwrap();
    t
}

// ---- the summary -------------------------------------------------------------

#[test]
fn fleet_summary_in_text_markdown_and_jsonl() {
    let text = snapshot::run(&["--recursive", "fixtures/fleet", "--summary"]);
    let md = snapshot::run(&["-r", "fixtures/fleet", "--format", "markdown"]);
    let jsonl = snapshot::run(&["-r", "fixtures/fleet", "--format", "jsonl"]);
    // Four mislabelled images fail the run.
    for r in [&text, &md, &jsonl] {
        assert_eq!(r.code, 1, "{}", whole(r));
    }
    snapshot::settings().bind(|| {
        insta::assert_snapshot!("fleet_summary_text", whole(&text));
        insta::assert_snapshot!("fleet_summary_markdown", whole(&md));
        insta::assert_snapshot!("fleet_jsonl", whole(&jsonl));
    });
    // The JSONL joined again gives the same table and exit code.
    let t = Tmp::new("fleet-jsonl");
    let file = t.path().join("all.jsonl");
    std::fs::write(&file, &jsonl.stdout).unwrap();
    let f = file.to_str().unwrap();
    let joined = snapshot::run(&["summarize", f]);
    assert_eq!((joined.code, &joined.stdout), (1, &text.stdout));
    let joined = snapshot::run(&["summarize", "--format", "markdown", f]);
    assert_eq!((joined.code, &joined.stdout), (1, &md.stdout));
    // The policy applies in summarize as in a scan.
    let never = snapshot::run(&["summarize", "--fail-on", "never", f]);
    assert_eq!(never.code, 0);
    let unknown = snapshot::run(&[
        "-r",
        "fixtures/fleet",
        "--summary",
        "--fail-on",
        "never",
        "--fail-on-unknown",
    ]);
    let joined = snapshot::run(&["summarize", "--fail-on", "never", "--fail-on-unknown", f]);
    assert_eq!(unknown.code, 1);
    assert_eq!(joined.code, 1);
}

#[test]
fn several_inputs_end_with_the_table_and_quiet_has_none() {
    let args = [
        "fixtures/fleet/amd64-ok.tar",
        "fixtures/fleet/no-native.tar",
    ];
    let r = snapshot::run(&args);
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains("FIRST PROBLEM"), "{}", r.stdout);
    assert!(
        r.stdout
            .trim_end()
            .ends_with("2 images from 2 inputs: 0 unreadable, 0 fail, 0 warn, 1 unknown, 1 ok"),
        "{}",
        r.stdout
    );
    let q = snapshot::run(&["-q", args[0], args[1]]);
    assert!(!q.stdout.contains("IMAGE"), "{}", q.stdout);
    // One input: no table.
    let one = snapshot::run(&[args[0]]);
    assert!(!one.stdout.contains("FIRST PROBLEM"), "{}", one.stdout);
    // --summary is a text (or Markdown) table.
    let bad = snapshot::run(&["--summary", "--format", "json", args[0]]);
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("--summary"), "{}", bad.stderr);
}

#[test]
fn unreadable_inputs_come_first_and_exit_2() {
    let r = snapshot::run(&[
        "--summary",
        "fixtures/fleet/amd64-ok.tar",
        "fixtures/fleet/does-not-exist.tar",
        "fixtures/fleet/seed-mislabelled.tar",
    ]);
    assert_eq!(r.code, 2, "{}", whole(&r));
    let rows: Vec<&str> = r.stdout.lines().skip(1).take(3).collect();
    assert!(rows[0].contains("UNREADABLE"), "{}", r.stdout);
    assert!(rows[1].contains("FAIL"), "{}", r.stdout);
    assert!(rows[2].contains("OK"), "{}", r.stdout);
}

// ---- inputs ------------------------------------------------------------------

#[test]
fn inputs_from_a_file_or_stdin_equal_the_directory() {
    let t = fleet_dir("fleet-list");
    let dir = run_in(t.path(), &["-r", "images", "--summary"]);
    assert_eq!(dir.code, 1, "{}", whole(&dir));
    let list = run_in(t.path(), &["--inputs-from", "images.txt", "--summary"]);
    assert_eq!((list.code, &list.stdout), (1, &dir.stdout));
    let bytes = std::fs::read(t.path().join("images.txt")).unwrap();
    let stdin = archscan(["--inputs-from", "-", "--summary"])
        .current_dir(t.path())
        .stdin(&bytes)
        .run();
    assert_eq!((stdin.code, &stdin.stdout), (1, &dir.stdout));
    // The command line's inputs first, then the list's; a repeated input is
    // judged once.
    let r = run_in(
        t.path(),
        &[
            "images/no-native.tar",
            "--inputs-from",
            "images.txt",
            "--format",
            "json",
        ],
    );
    let inputs = r.json()["inputs"].as_array().unwrap().clone();
    assert_eq!(inputs.len(), 10);
    assert_eq!(inputs[0]["source"]["path"], "images/no-native.tar");
    assert_eq!(inputs[1]["source"]["path"], "images/amd64-ok.tar");
    // Mistakes exit 2 and say what.
    let r = run_in(t.path(), &["--inputs-from", "nope.txt"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--inputs-from nope.txt"), "{}", r.stderr);
    let r = archscan(["--inputs-from", "-", "-"])
        .current_dir(t.path())
        .stdin(b"x.tar\n")
        .run();
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("both the list and an input"),
        "{}",
        r.stderr
    );
    std::fs::write(t.path().join("empty.txt"), "# nothing\n\n").unwrap();
    let r = run_in(t.path(), &["--inputs-from", "empty.txt"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("no input to judge"), "{}", r.stderr);
}

#[test]
fn recursive_takes_archives_and_layouts_sorted() {
    let r = snapshot::run(&["-r", "fixtures/fleet", "--format", "json"]);
    let paths: Vec<String> = r.json()["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["source"]["path"].as_str().unwrap().to_string())
        .collect();
    let mut sorted = paths.clone();
    sorted.sort();
    assert_eq!(paths, sorted);
    assert_eq!(paths.len(), 10, "{paths:?}");
    assert!(paths.contains(&"fixtures/fleet/oci-layout-arm-v7".to_string()));
    assert!(paths.contains(&"fixtures/fleet/base/crane-tarball.tar".to_string()));
    assert!(!paths
        .iter()
        .any(|p| p.ends_with(".md") || p.ends_with(".txt")));
    // An OCI layout given with --recursive is itself, not descended into.
    let r = snapshot::run(&["-r", "fixtures/oci-layout-arm-v7", "-q"]);
    assert_eq!(r.code, 0, "{}", whole(&r));
    // Without --recursive a directory is what it was: not an image.
    let r = snapshot::run(&["fixtures/fleet"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("a directory holding archives"),
        "{}",
        r.stderr
    );
    // A directory with nothing to judge is not a silent pass.
    let t = Tmp::new("fleet-empty");
    std::fs::write(t.path().join("notes.txt"), "x").unwrap();
    let r = archscan([OsString::from("-r"), t.path().as_os_str().to_os_string()]).run();
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("found no image archive"), "{}", r.stderr);
}

#[test]
fn file_names_that_are_not_utf8_are_read_and_shown_escaped() {
    use std::os::unix::ffi::OsStringExt;
    let t = Tmp::new("fleet-bytes");
    let name = OsString::from_vec(b"caf\xe9\x1b[31m.tar".to_vec());
    let path = t.path().join(&name);
    std::os::unix::fs::symlink(Path::new(ROOT).join("fixtures/amd64-ok.tar"), &path).unwrap();
    // Reports keep the characters (JSON escapes them its way); only the
    // invalid byte becomes `\xNN`. Terminal output escapes the rest.
    let kept = format!("{}/caf\\xe9\x1b[31m.tar", t.path().display());
    let shown = format!("{}/caf\\xe9\\x1b[31m.tar", t.path().display());
    let r = archscan([path.as_os_str(), "--format".as_ref(), "json".as_ref()]).run();
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(r.input()["source"]["path"], kept.as_str());
    assert_eq!(r.input()["images"][0]["verdict"], "ok");
    // From a list, and from a directory walk, the same; the text shows the
    // escapes, never the raw bytes.
    let mut list = path.as_os_str().to_os_string().into_vec();
    list.push(b'\n');
    let from_list = archscan(["--inputs-from", "-", "--summary"])
        .stdin(&list)
        .run();
    assert_eq!(from_list.code, 0, "{}", from_list.all());
    assert!(from_list.stdout.contains(&shown), "{}", from_list.stdout);
    assert!(!from_list.stdout.contains('\x1b'), "{}", from_list.stdout);
    let walked = archscan([OsString::from("-r"), t.path().as_os_str().to_os_string()]).run();
    assert_eq!(walked.code, 0, "{}", walked.all());
    assert!(walked.stdout.contains(&shown), "{}", walked.stdout);
    // A missing one names itself escaped too.
    let missing = t.path().join(OsString::from_vec(b"gone\xff.tar".to_vec()));
    let r = archscan([missing.as_os_str()]).run();
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("gone\\xff.tar"), "{}", r.stderr);
}

// ---- shards ------------------------------------------------------------------

#[test]
fn bad_shards_exit_2_and_say_why() {
    for bad in ["4/4", "1/0", "-1/4", "x", "1", "a/4"] {
        let r = snapshot::run(&["--shard", bad, "fixtures/fleet/amd64-ok.tar"]);
        assert_eq!(r.code, 2, "{bad}: {}", whole(&r));
        assert!(r.stderr.contains("expected K/N"), "{bad}: {}", r.stderr);
        assert!(r.stdout.is_empty());
    }
}

/// The JSONL lines of a run, sorted (shards interleave).
fn sorted_lines(s: &str) -> Vec<String> {
    let mut v: Vec<String> = s.lines().map(str::to_string).collect();
    v.sort();
    v
}

#[test]
fn shards_are_disjoint_and_their_union_is_the_fleet() {
    let all = snapshot::run(&["-r", "fixtures/fleet", "--format", "jsonl"]);
    for n in [3usize, 13] {
        let mut union = Vec::new();
        let mut empty = 0;
        for k in 0..n {
            let shard = format!("{k}/{n}");
            let r = snapshot::run(&[
                "-r",
                "fixtures/fleet",
                "--shard",
                &shard,
                "--format",
                "jsonl",
            ]);
            assert!(r.code == 0 || r.code == 1, "{shard}: {}", whole(&r));
            if r.stdout.is_empty() {
                empty += 1;
                assert!(r.stderr.contains("no input"), "{}", r.stderr);
            }
            union.extend(r.stdout.lines().map(str::to_string));
        }
        let before = union.len();
        union.sort();
        union.dedup();
        assert_eq!(union.len(), before, "an image was judged by two shards");
        assert_eq!(union, sorted_lines(&all.stdout), "N = {n}");
        // Ten inputs over 13 shards: three get none.
        assert_eq!(empty, n.saturating_sub(10));
    }
}

#[test]
fn summarize_refuses_what_archscan_did_not_write() {
    let t = Tmp::new("fleet-bad-jsonl");
    let good = snapshot::run(&["fixtures/fleet/amd64-ok.tar", "--format", "jsonl"]);
    let bad = t.path().join("bad.jsonl");
    std::fs::write(&bad, format!("{}{{\"hello\":1}}\n", good.stdout)).unwrap();
    let r = archscan(["summarize", bad.to_str().unwrap()]).run();
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains(&format!("{}:2: not an archscan JSONL line", bad.display())),
        "{}",
        r.stderr
    );
    assert!(r.stdout.is_empty());
    let json = snapshot::run(&["fixtures/fleet/amd64-ok.tar", "--format", "json"]);
    let doc = t.path().join("doc.json");
    std::fs::write(&doc, &json.stdout).unwrap();
    let r = archscan(["summarize", doc.to_str().unwrap()]).run();
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("doc.json:1:"), "{}", r.stderr);
    let r = archscan(["summarize", "/nonexistent/x.jsonl"]).run();
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("/nonexistent/x.jsonl"), "{}", r.stderr);
    // From stdin, the same rows.
    let r = archscan(["summarize", "-"])
        .stdin(good.stdout.as_bytes())
        .run();
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("1 image from 1 input"), "{}", r.stdout);
}

// ---- the examples of docs/fleet.md ---------------------------------------------

/// An example's commands: the scan (with a shard placeholder) and its
/// `archscan summarize` lines, if any.
struct Example {
    name: &'static str,
    scan: String,
    placeholder: &'static str,
    summarize: Vec<String>,
}

/// The archscan command lines of a YAML workflow or a Markdown code block:
/// lines that start with `archscan ` (after `run:` and spaces).
fn archscan_lines(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| l.trim())
        .map(|l| l.strip_prefix("run:").unwrap_or(l).trim())
        .filter(|l| l.starts_with("archscan "))
        .map(str::to_string)
        .collect()
}

fn examples() -> Vec<Example> {
    let read = |p: &str| std::fs::read_to_string(Path::new(ROOT).join(p)).unwrap();
    // The Job's args are a JSON-style flow sequence on one line.
    let job = read("docs/examples/fleet-job.yaml");
    let args_line = job
        .lines()
        .find_map(|l| l.trim().strip_prefix("args:"))
        .expect("fleet-job.yaml has an args: line");
    let args: Vec<String> = serde_json::from_str(args_line.trim()).unwrap();
    let job_summarize: Vec<String> = job
        .lines()
        .filter_map(|l| l.trim().strip_prefix('#'))
        .map(|l| l.split("  #").next().unwrap().trim().to_string())
        .filter(|l| l.starts_with("archscan summarize"))
        .collect();
    let matrix = read("docs/examples/fleet-matrix.yml");
    let lines = archscan_lines(&matrix);
    let doc = read("docs/fleet.md");
    let parallel = doc
        .lines()
        .find_map(|l| l.strip_prefix("parallel "))
        .expect("docs/fleet.md has a parallel line");
    let parallel_scan = parallel.split(" ::: ").next().unwrap().to_string();
    let parallel_block = doc.split("parallel archscan").nth(1).unwrap();
    let parallel_block = parallel_block.split("```").next().unwrap();
    vec![
        Example {
            name: "fleet-job.yaml",
            scan: format!("archscan {}", args.join(" ")),
            placeholder: "$(JOB_COMPLETION_INDEX)",
            summarize: job_summarize,
        },
        Example {
            name: "fleet-matrix.yml",
            scan: lines
                .iter()
                .find(|l| l.contains("--shard"))
                .unwrap()
                .clone(),
            placeholder: "${{ matrix.shard }}",
            summarize: lines
                .iter()
                .filter(|l| l.starts_with("archscan summarize"))
                .cloned()
                .collect(),
        },
        Example {
            name: "GNU parallel in fleet.md",
            scan: parallel_scan,
            placeholder: "{}",
            summarize: archscan_lines(parallel_block),
        },
    ]
}

/// A command line's words after `archscan`, with globs (`shard-*.jsonl`)
/// expanded in `dir` and a trailing `>> FILE` dropped (stdout is captured).
fn words(line: &str, dir: &Path) -> Vec<String> {
    let line = line.split(">>").next().unwrap();
    let mut out = Vec::new();
    for w in line.split_whitespace().skip(1) {
        let w = w.trim_matches('"').trim_matches('\'');
        if let Some((before, after)) = w.split_once('*') {
            let (sub, prefix) = match before.rsplit_once('/') {
                Some((d, p)) => (format!("{d}/"), p.to_string()),
                None => (String::new(), before.to_string()),
            };
            let mut found: Vec<String> = std::fs::read_dir(dir.join(&sub))
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with(&prefix) && n.ends_with(after))
                .map(|n| format!("{sub}{n}"))
                .collect();
            found.sort();
            assert!(
                !found.is_empty(),
                "{w} matches nothing in {}",
                dir.display()
            );
            out.extend(found);
        } else {
            out.push(w.to_string());
        }
    }
    out
}

/// The words of the same scan unsharded, as one run: no `--shard`, no
/// `--fail-on never` (summarize applies the default policy), no `-o`, no
/// `--format`.
fn unsharded(scan: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    let mut it = scan.iter();
    while let Some(w) = it.next() {
        match w.as_str() {
            "--shard" | "-o" | "--format" => {
                it.next();
            }
            "--fail-on" => {
                let v = it.next().unwrap();
                if v != "never" {
                    out.extend([w.clone(), v.clone()]);
                }
            }
            _ => out.push(w.clone()),
        }
    }
    out
}

#[test]
fn every_example_sharded_and_summarized_equals_one_run() {
    let examples = examples();
    assert_eq!(examples.len(), 3);
    for ex in examples {
        let t = fleet_dir("fleet-example");
        let n: usize = ex
            .scan
            .replace(ex.placeholder, "0")
            .split("--shard ")
            .nth(1)
            .and_then(|s| s.split_whitespace().next())
            .and_then(|s| s.rsplit('/').next())
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("{}: no --shard K/N in {}", ex.name, ex.scan));
        assert!(ex.scan.contains(ex.placeholder), "{}: {}", ex.name, ex.scan);
        let mut outputs = Vec::new();
        for k in 0..n {
            let line = ex.scan.replace(ex.placeholder, &k.to_string());
            let w = words(&line, t.path());
            let r = run_in(t.path(), &w.iter().map(String::as_str).collect::<Vec<_>>());
            assert_eq!(r.code, 0, "{} shard {k}: {}", ex.name, whole(&r));
            let o = w.iter().skip_while(|x| *x != "-o").nth(1).unwrap().clone();
            outputs.push(o);
        }
        outputs.sort();
        outputs.dedup();
        assert_eq!(outputs.len(), n, "{}: one file per shard", ex.name);
        // The unsharded run, text and Markdown.
        let scan0 = words(&ex.scan.replace(ex.placeholder, "0"), t.path());
        let one = unsharded(&scan0);
        let mut text_args: Vec<&str> = one.iter().map(String::as_str).collect();
        text_args.push("--summary");
        let whole_text = run_in(t.path(), &text_args);
        assert_eq!(whole_text.code, 1, "{}: {}", ex.name, whole(&whole_text));
        let mut md_args: Vec<&str> = one.iter().map(String::as_str).collect();
        md_args.extend(["--format", "markdown"]);
        let whole_md = run_in(t.path(), &md_args);
        // summarize over the shards' files: the same table, the same code.
        let mut s: Vec<&str> = vec!["summarize"];
        s.extend(outputs.iter().map(String::as_str));
        let joined = run_in(t.path(), &s);
        assert_eq!(
            (joined.code, &joined.stdout),
            (whole_text.code, &whole_text.stdout),
            "{}",
            ex.name
        );
        s.extend(["--format", "markdown"]);
        let joined = run_in(t.path(), &s);
        assert_eq!(joined.stdout, whole_md.stdout, "{}", ex.name);
        // And the example's own summarize lines, as written.
        for line in &ex.summarize {
            let w = words(line, t.path());
            let r = run_in(t.path(), &w.iter().map(String::as_str).collect::<Vec<_>>());
            let want = if w.iter().any(|x| x == "markdown") {
                &whole_md.stdout
            } else {
                &whole_text.stdout
            };
            assert_eq!(&r.stdout, want, "{}: {line}", ex.name);
            let code = if w.iter().any(|x| x == "never") { 0 } else { 1 };
            assert_eq!(r.code, code, "{}: {line}", ex.name);
        }
        assert!(
            ex.name.starts_with("fleet-job") || !ex.summarize.is_empty(),
            "{}: no summarize line",
            ex.name
        );
    }
}

// ---- registries --------------------------------------------------------------

/// The `source.path` of each JSONL line, and its verdict (or `error`).
fn verdicts(stdout: &str) -> BTreeMap<String, String> {
    stdout
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            let path = v["source"]["path"].as_str().unwrap().to_string();
            let verdict = v["image"]["verdict"]
                .as_str()
                .unwrap_or("error")
                .to_string();
            (path, verdict)
        })
        .collect()
}

/// A registry holding fx/app:1, :2, :3 (OK), fx/bad:1 (mislabelled) and
/// other/empty:v1 (nothing native); `None` when the tools are missing.
fn loaded_registry() -> Option<remote::Registry> {
    if let Err(why) = remote::tools(&["docker-registry", "skopeo"]) {
        eprintln!("skipped: {why}");
        return None;
    }
    let reg = remote::Registry::start("127.0.0.1", "", None);
    let archive = |f: &str| format!("docker-archive:{ROOT}/fixtures/{f}");
    for tag in ["1", "2", "3"] {
        reg.push(&archive("amd64-ok.tar"), &format!("fx/app:{tag}"), &[]);
    }
    reg.push(&archive("seed-mislabelled.tar"), "fx/bad:1", &[]);
    reg.push(&archive("no-native.tar"), "other/empty:v1", &[]);
    Some(reg)
}

#[test]
fn registry_tags_expand_to_every_tag() {
    let Some(reg) = loaded_registry() else { return };
    let h = &reg.host;
    // Every tag of one repository, one page of one tag at a time (this
    // registry ignores `n` for tags: the walk ends on a page with nothing new).
    let tags = format!("registry:{h}/fx/app:*");
    let r = remote::archscan(&[&tags, "--list-page-size", "1", "--format", "jsonl"], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let want: BTreeMap<String, String> = ["1", "2", "3"]
        .iter()
        .map(|t| (format!("registry:{h}/fx/app:{t}"), "ok".to_string()))
        .collect();
    assert_eq!(verdicts(&r.stdout), want);
    // Without :* a reference keeps meaning :latest (which is not there).
    let r = remote::archscan(&[&format!("registry:{h}/fx/app"), "-q"], &[]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("manifest latest"), "{}", r.stderr);
    // Offline, nothing is listed.
    let r = remote::archscan(&[&tags, "--offline"], &[]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--offline"), "{}", r.stderr);
    // A repository that is not there.
    let r = remote::archscan(&[&format!("registry:{h}/fx/none:*"), "-q"], &[]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("HTTP 404"), "{}", r.stderr);
}

#[test]
fn registry_catalog_expands_to_every_tag_of_every_repository() {
    let Some(reg) = loaded_registry() else { return };
    let h = &reg.host;
    // The whole catalog, one entry a page (the `Link` header's next page):
    // every tag of every repository.
    let all = format!("registry:{h}/*");
    let r = remote::archscan(&[&all, "--list-page-size", "2", "--format", "jsonl"], &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let got = verdicts(&r.stdout);
    assert_eq!(got.len(), 5, "{got:?}");
    assert_eq!(got[&format!("registry:{h}/fx/bad:1")], "fail");
    assert_eq!(got[&format!("registry:{h}/other/empty:v1")], "unknown");
    // Under a prefix.
    let fx = format!("registry:{h}/fx/*");
    let r = remote::archscan(&[&fx, "--format", "jsonl"], &[]);
    assert_eq!(verdicts(&r.stdout).len(), 4, "{}", r.stdout);
    // Sharded, the parts make the whole.
    let mut union = BTreeMap::new();
    for k in 0..2 {
        let shard = format!("{k}/2");
        let r = remote::archscan(&[&all, "--shard", &shard, "--format", "jsonl"], &[]);
        union.extend(verdicts(&r.stdout));
    }
    assert_eq!(union, got);
    // The summary says which repositories fail.
    let r = remote::archscan(&[&all, "--summary"], &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stdout
            .contains("5 images from 5 inputs: 0 unreadable, 1 fail, 0 warn, 1 unknown, 3 ok"),
        "{}",
        r.stdout
    );
}

/// A registry that answers `/v2/` and nothing else (no catalog, as Docker
/// Hub): every other request is a 404.
fn registry_without_catalog() -> String {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let host = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let mut first = String::new();
            let mut reader = BufReader::new(conn.try_clone().unwrap());
            if reader.read_line(&mut first).is_err() {
                continue;
            }
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            let (status, body) = if first.starts_with("GET /v2/ ") {
                ("200 OK", "{}")
            } else {
                (
                    "404 Not Found",
                    r#"{"errors":[{"code":"NOT_FOUND","message":"not found"}]}"#,
                )
            };
            let _ = write!(
                conn,
                "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    host
}

#[test]
fn a_registry_without_a_catalog_says_so() {
    let host = registry_without_catalog();
    let all = format!("registry:{host}/*");
    let r = remote::archscan(&[&all, "-q"], &[]);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains(&format!(
            "registry {host} does not list its repositories (GET /v2/_catalog: HTTP 404)"
        )),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains(&format!("registry:{host}/REPOSITORY:*")),
        "{}",
        r.stderr
    );
}

#[test]
fn markdown_escapes_names_that_would_be_markup() {
    let t = Tmp::new("fleet-md");
    let name = "x|y<img src=z>[l](u)*.tar";
    std::os::unix::fs::symlink(
        Path::new(ROOT).join("fixtures/amd64-ok.tar"),
        t.path().join(name),
    )
    .unwrap();
    std::fs::write(t.path().join("missing|`code`.tar"), b"").unwrap();
    let r = run_in(
        t.path(),
        &["--format", "markdown", name, "missing|`code`.tar"],
    );
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        r.stdout.contains(
            "| x\\|y&lt;img src=z&gt;\\[l\\](u)\\*.tar (docker.io/archscan/amd64-ok\\:latest) |"
        ),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("missing\\|\\`code\\`.tar"),
        "{}",
        r.stdout
    );
    // Every row has the table's five cells: no name adds a column.
    for l in r.stdout.lines().filter(|l| l.starts_with('|')) {
        let cells = l.replace("\\|", "").matches('|').count();
        assert_eq!(cells, 6, "{l}");
    }
}
