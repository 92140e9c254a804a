//! The contract CI relies on (issue 11), one test per promise, run on the
//! real `archscan` binary: mistakes exit 2 with a reason on stderr, the JSON
//! and JSON Lines reports validate against the shipped JSON Schema
//! (`docs/schema/`) for every fixture, SARIF validates against the OASIS
//! schema and carries help, `helpUri` and Dockerfile lines, rules can be
//! listed, explained and silenced, `.archscan.toml` sets defaults, and the
//! terminal behaviours (`archscan -` on a terminal, colour, wrapping) hold.
//! Self-contained: its helpers are its own.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_archscan");
const ROOT: &str = env!("CARGO_MANIFEST_DIR");

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}\n{}", self.stdout, self.stderr))
    }
    fn all(&self) -> String {
        format!(
            "exit {}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

fn run_with(dir: Option<&Path>, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .env_remove("NO_COLOR")
        .env_remove("COLUMNS")
        .stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.current_dir(dir.unwrap_or(Path::new(ROOT)));
    let out = cmd.output().expect("run archscan");
    let r = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(!r.stderr.contains("panicked"), "{}", r.all());
    r
}

fn run(args: &[&str]) -> Run {
    run_with(None, args, &[])
}

fn fixture(name: &str) -> String {
    format!("{ROOT}/fixtures/{name}")
}

/// A fresh, empty directory for one test.
fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("archscan-contract-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Every committed fixture input: archives and OCI layout directories.
fn fixture_inputs() -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(format!("{ROOT}/fixtures"))
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            e.path().is_dir()
                || [".tar", ".tar.gz", ".tar.xz", ".tar.zst"]
                    .iter()
                    .any(|x| n.ends_with(x))
        })
        .map(|e| e.path().to_string_lossy().into_owned())
        .collect();
    out.sort();
    assert!(out.len() > 30, "fixtures: {out:?}");
    out
}

/// A tar archive of (name, bytes) regular files, written with the tar crate.
fn tar_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, name, *data).unwrap();
    }
    b.into_inner().unwrap()
}

fn schema(name: &str) -> Value {
    let text = std::fs::read_to_string(format!("{ROOT}/docs/schema/{name}")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// The schema, made strict: every object it describes may have only the
/// properties it lists, so a field the report gains must be added to the
/// shipped schema too. (The shipped schema lets consumers meet new fields.)
fn validator(name: &str) -> jsonschema::Validator {
    fn strict(v: &mut Value) {
        if let Value::Object(m) = v {
            if m.get("type") == Some(&Value::from("object")) && m.contains_key("properties") {
                m.insert("additionalProperties".into(), Value::Bool(false));
            }
            for (_, child) in m.iter_mut() {
                strict(child);
            }
        } else if let Value::Array(a) = v {
            a.iter_mut().for_each(strict);
        }
    }
    let mut s = schema(name);
    strict(&mut s);
    jsonschema::validator_for(&s).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn assert_valid(v: &jsonschema::Validator, doc: &Value, what: &str) {
    let errors: Vec<String> = v
        .iter_errors(doc)
        .take(10)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{what}: {errors:#?}");
}

fn sarif_validator() -> jsonschema::Validator {
    let text =
        std::fs::read_to_string(format!("{ROOT}/tests/sarif-schema/sarif-schema-2.1.0.json"))
            .unwrap();
    let schema: Value = serde_json::from_str(&text).unwrap();
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft7)
        .build(&schema)
        .unwrap()
}

// ---- --entrypoint / --cmd ---------------------------------------------------

/// `--entrypoint X image.tar -q` used to swallow `image.tar -q` as words of
/// the command ("INPUT not provided").
#[test]
fn entrypoint_takes_one_value_and_flags_after_it_are_flags() {
    let seed = fixture("seed-mislabelled.tar");
    let r = run(&["--entrypoint", "/bin/busybox", &seed, "-q"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert_eq!(
        r.stdout.lines().count(),
        1,
        "-q is a flag again: {}",
        r.all()
    );
    let r = run(&[
        "--format",
        "json",
        "--entrypoint",
        "/bin/busybox",
        "--cmd",
        "[\"httpd\",\"-f\"]",
        &seed,
    ]);
    let ep = &r.json()["inputs"][0]["images"][0]["entrypoint"];
    assert_eq!(
        ep["argv"],
        serde_json::json!(["/bin/busybox", "httpd", "-f"])
    );
    // One word stays one word, spaces and all.
    let r = run(&[
        "--format",
        "json",
        "--entrypoint",
        "/bin/busybox httpd",
        &seed,
    ]);
    let ep = &r.json()["inputs"][0]["images"][0]["entrypoint"];
    assert_eq!(ep["argv"], serde_json::json!(["/bin/busybox httpd"]));
    // A broken JSON array is a usage error, not a command.
    let r = run(&["--cmd", "[httpd", &seed]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        r.stderr.contains("--cmd [httpd: not a JSON array"),
        "{}",
        r.all()
    );
}

// ---- what is not an image ---------------------------------------------------

#[test]
fn inputs_that_hold_no_image_exit_2() {
    let dir = scratch("not-images");
    // A folder of archives (a CI glob gone wrong).
    let archives = dir.join("archives");
    std::fs::create_dir_all(&archives).unwrap();
    std::fs::copy(fixture("amd64-ok.tar"), archives.join("a.tar")).unwrap();
    std::fs::copy(fixture("arm64-correct.tar"), archives.join("b.tar")).unwrap();
    let a = archives.to_string_lossy().into_owned();
    let r = run(&[&a]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        r.stderr.contains(
            "not an image archive: a directory holding archives (a.tar, b.tar); pass them as files"
        ),
        "{}",
        r.all()
    );
    // A tarball of source code.
    let src = dir.join("src.tar");
    std::fs::write(
        &src,
        tar_of(&[
            ("src/main.rs", b"fn main() {}\n"),
            ("Cargo.toml", b"[package]\n"),
        ]),
    )
    .unwrap();
    let s = src.to_string_lossy().into_owned();
    let r = run(&["-q", &s]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        r.stderr.contains(
            "not an image archive: no manifest.json or index.json, and not a root filesystem"
        ),
        "{}",
        r.all()
    );
    // ... unless the user says it is a root filesystem.
    let r = run(&["--rootfs", "--format", "json", &s]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(r.json()["inputs"][0]["source"]["format"], "rootfs-tar");
    // A plain directory that is no root filesystem.
    let plain = dir.join("plain");
    std::fs::create_dir_all(plain.join("docs")).unwrap();
    let r = run(&[&plain.to_string_lossy()]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        r.stderr
            .contains("no index.json, and not a root filesystem"),
        "{}",
        r.all()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn root_filesystems_are_recognised() {
    let dir = scratch("rootfs");
    // Two of bin, sbin, usr, etc, lib, lib64.
    let fs = dir.join("fs.tar");
    std::fs::write(
        &fs,
        tar_of(&[("etc/os-release", b"ID=test\n"), ("usr/share/x", b"x")]),
    )
    .unwrap();
    let r = run(&["--format", "json", &fs.to_string_lossy()]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(r.json()["inputs"][0]["source"]["format"], "rootfs-tar");
    // `.dockerenv` alone (docker export).
    let fs = dir.join("export.tar");
    std::fs::write(&fs, tar_of(&[(".dockerenv", b""), ("app/x", b"x")])).unwrap();
    let r = run(&["--format", "json", &fs.to_string_lossy()]);
    assert_eq!(r.code, 0, "{}", r.all());
    // A directory.
    let root = dir.join("root");
    std::fs::create_dir_all(root.join("bin")).unwrap();
    std::fs::create_dir_all(root.join("lib")).unwrap();
    let r = run(&["--format", "json", &root.to_string_lossy()]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(r.json()["inputs"][0]["source"]["format"], "rootfs-dir");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn metadata_listing_no_image_exits_2() {
    let dir = scratch("no-image");
    let empty = dir.join("empty-manifest.tar");
    std::fs::write(&empty, tar_of(&[("manifest.json", b"[]")])).unwrap();
    let r = run(&["-q", &empty.to_string_lossy()]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(r.stderr.contains("no image in it"), "{}", r.all());
    let none = dir.join("empty-index.tar");
    std::fs::write(
        &none,
        tar_of(&[
            ("oci-layout", b"{\"imageLayoutVersion\":\"1.0.0\"}"),
            ("index.json", b"{\"schemaVersion\":2,\"manifests\":[]}"),
        ]),
    )
    .unwrap();
    let r = run(&["--format", "json", &none.to_string_lossy()]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        r.stderr.contains("index.json lists no manifests"),
        "{}",
        r.all()
    );
    assert_eq!(r.json()["inputs"][0]["errors"].as_array().unwrap().len(), 1);
    // An index whose only manifest is an index that lists itself.
    let inner = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.index.v1+json","digest":"sha256:1111111111111111111111111111111111111111111111111111111111111111","size":10}]}"#;
    let top = format!(
        r#"{{"schemaVersion":2,"manifests":[{{"mediaType":"application/vnd.oci.image.index.v1+json","digest":"sha256:{}","size":{}}}]}}"#,
        "1".repeat(64),
        inner.len()
    );
    let blob = format!("blobs/sha256/{}", "1".repeat(64));
    let cyc = dir.join("self-index.tar");
    std::fs::write(
        &cyc,
        tar_of(&[
            ("oci-layout", b"{\"imageLayoutVersion\":\"1.0.0\"}"),
            ("index.json", top.as_bytes()),
            (&blob, inner),
        ]),
    )
    .unwrap();
    let r = run(&[&cyc.to_string_lossy()]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(r.stderr.contains("no image in it"), "{}", r.all());
    let _ = std::fs::remove_dir_all(&dir);
}

// ---- errors on stderr -------------------------------------------------------

#[test]
fn unreadable_inputs_are_named_on_stderr_in_every_format() {
    let dir = scratch("stderr");
    let missing = dir.join("nope.tar").to_string_lossy().into_owned();
    let out = dir.join("report").to_string_lossy().into_owned();
    for args in [
        vec![],
        vec!["-q"],
        vec!["--format", "json"],
        vec!["--format", "jsonl"],
        vec!["--format", "sarif"],
        vec!["-o", out.as_str()],
    ] {
        let mut all = args.clone();
        all.push(&missing);
        let r = run(&all);
        assert_eq!(r.code, 2, "{args:?}: {}", r.all());
        let line = format!("archscan: {missing}: No such file or directory");
        assert_eq!(
            r.stderr.lines().filter(|l| l.starts_with(&line)).count(),
            1,
            "{args:?}: {}",
            r.all()
        );
    }
    // The report keeps its own record.
    let r = run(&["--format", "json", &missing]);
    assert!(r.json()["inputs"][0]["errors"][0]
        .as_str()
        .unwrap()
        .contains("nope.tar"));
    let r = run(&["--format", "sarif", &missing]);
    let inv = &r.json()["runs"][0]["invocations"][0];
    assert_eq!(inv["executionSuccessful"], false);
    assert!(inv["toolExecutionNotifications"][0]["message"]["text"]
        .as_str()
        .unwrap()
        .contains("nope.tar"));
    let _ = std::fs::remove_dir_all(&dir);
}

// ---- --platform -------------------------------------------------------------

#[test]
fn platform_takes_an_arch_alone_and_refuses_typos() {
    let arm = fixture("arm64-correct.tar");
    let r = run(&["--format", "json", "--platform", "amd64", &arm]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert_eq!(r.json()["target"], "linux/amd64");
    for (bad, says) in [
        (
            "linux/amd46",
            "unknown architecture `amd46` in `linux/amd46`; did you mean amd64?",
        ),
        (
            "lnux/amd64",
            "unknown OS `lnux` in `lnux/amd64`; did you mean linux?",
        ),
        ("linux", "`linux` is an OS alone"),
        (
            "linux/arm/v9",
            "unknown variant `v9` in `linux/arm/v9`; did you mean v8?",
        ),
        ("amd46", "did you mean amd64?"),
    ] {
        let r = run(&["--platform", bad, &arm]);
        assert_eq!(r.code, 2, "{bad}: {}", r.all());
        assert!(r.stderr.contains(says), "{bad}: {}", r.all());
        assert!(r.stdout.is_empty(), "{bad}: {}", r.all());
    }
}

// ---- JSON schema 2 ------------------------------------------------------------

#[test]
fn json_of_every_fixture_validates_against_the_shipped_schema() {
    let report = validator("report-2.schema.json");
    let line = validator("line-2.schema.json");
    let inputs = fixture_inputs();
    let missing = format!("{ROOT}/fixtures/does-not-exist.tar");
    // With a host, images also carry `runs_on_host`.
    for target in [
        &[][..],
        &["--platform", "linux/amd64"],
        &["--platform", "linux/arm64"],
        &["--host", "graviton4", "--kernel", "5.10"],
    ] {
        let mut args: Vec<&str> = vec!["--format", "json"];
        args.extend(target);
        args.extend(inputs.iter().map(String::as_str));
        args.push(&missing);
        let r = run(&args);
        assert_eq!(r.code, 2, "{}", r.stderr);
        let doc = r.json();
        assert_valid(&report, &doc, "json");
        assert_eq!(doc["schema_version"], 2);
        assert_eq!(doc["inputs"].as_array().unwrap().len(), inputs.len() + 1);
        args[1] = "jsonl";
        let r = run(&args);
        let mut images = 0;
        for l in r.stdout.lines() {
            let v: Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"));
            assert_valid(&line, &v, l);
            images += usize::from(v.get("image").is_some());
        }
        let want: usize = doc["inputs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["images"].as_array().unwrap().len())
            .sum();
        assert_eq!(images, want);
        assert!(r
            .stdout
            .lines()
            .any(|l| l.contains("\"error\"") && l.contains("does-not-exist")));
    }
    // Each fixture alone has the same shape: one input, never a bare object.
    for input in &inputs {
        let r = run(&["--format", "json", input]);
        let doc = r.json();
        assert_valid(&report, &doc, input);
        assert_eq!(doc["inputs"].as_array().unwrap().len(), 1, "{input}");
    }
}

#[test]
fn schemas_share_their_definitions_and_know_every_rule() {
    let report = schema("report-2.schema.json");
    let line = schema("line-2.schema.json");
    assert_eq!(
        report["$defs"], line["$defs"],
        "the two schemas' $defs differ"
    );
    let listed: Vec<String> = run(&["rules"])
        .stdout
        .lines()
        .take_while(|l| !l.is_empty())
        .map(|l| l.split_whitespace().next().unwrap().to_string())
        .collect();
    let in_schema: Vec<String> = report["$defs"]["finding"]["properties"]["rule"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert_eq!(listed, in_schema);
}

// ---- SARIF ----------------------------------------------------------------------

#[test]
fn sarif_rules_have_help_and_a_help_uri() {
    let r = run(&["--format", "sarif", &fixture("seed-mislabelled.tar")]);
    let doc = r.json();
    assert_valid(&sarif_validator(), &doc, "sarif");
    let rules = doc["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    assert!(rules.len() > 20);
    for rule in rules {
        let id = rule["id"].as_str().unwrap();
        let uri = rule["helpUri"].as_str().unwrap();
        assert!(
            uri.starts_with("https://") && uri.ends_with(&format!("/docs/rules.md#{id}")),
            "{uri}"
        );
        let md = rule["help"]["markdown"].as_str().unwrap();
        assert!(md.contains("How to fix it") && md.len() > 200, "{id}: {md}");
    }
}

#[test]
fn sarif_of_every_fixture_validates() {
    let v = sarif_validator();
    let inputs = fixture_inputs();
    let mut args: Vec<&str> = vec!["--format", "sarif"];
    args.extend(inputs.iter().map(String::as_str));
    let r = run(&args);
    assert_valid(&v, &r.json(), "sarif of every fixture");
}

#[test]
fn dockerfile_lines_locate_findings() {
    let dir = scratch("dockerfile");
    let df = dir.join("Dockerfile");
    std::fs::write(
        &df,
        "FROM scratch\n# the binary\nCOPY busybox-static:arm64 \\\n     /bin/busybox\nENTRYPOINT [\"/bin/busybox\"]\n",
    )
    .unwrap();
    let seed = fixture("seed-mislabelled.tar");
    let r = run_with(
        Some(&dir),
        &["--format", "sarif", "--dockerfile", "Dockerfile", &seed],
        &[],
    );
    assert_eq!(r.code, 1, "{}", r.all());
    let doc = r.json();
    assert_valid(&sarif_validator(), &doc, "sarif with --dockerfile");
    let result = &doc["runs"][0]["results"][0];
    assert_eq!(result["ruleId"], "arch-mismatch");
    let loc = &result["locations"][0];
    assert_eq!(
        loc["physicalLocation"]["artifactLocation"]["uri"],
        "Dockerfile"
    );
    assert_eq!(loc["physicalLocation"]["region"]["startLine"], 3);
    assert!(loc["logicalLocations"][0]["fullyQualifiedName"]
        .as_str()
        .unwrap()
        .contains("/bin/busybox"));
    // The same instruction twice: ambiguous, no line; the image path stays.
    std::fs::write(
        &df,
        "FROM scratch AS a\nCOPY busybox-static:arm64 /bin/busybox\nFROM scratch\nCOPY busybox-static:arm64 /bin/busybox\n",
    )
    .unwrap();
    let r = run_with(
        Some(&dir),
        &["--format", "sarif", "--dockerfile", "Dockerfile", &seed],
        &[],
    );
    let loc = &r.json()["runs"][0]["results"][0]["locations"][0];
    assert_eq!(
        loc["physicalLocation"]["artifactLocation"]["uri"],
        "bin/busybox"
    );
    assert!(loc["physicalLocation"].get("region").is_none());
    // A Dockerfile that cannot be read is a usage error.
    let r = run_with(
        Some(&dir),
        &["--format", "sarif", "--dockerfile", "Nope", &seed],
        &[],
    );
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.starts_with("archscan: --dockerfile Nope: "),
        "{}",
        r.all()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

// ---- rules --------------------------------------------------------------------------

#[test]
fn rules_explain_readme_and_man_page_agree() {
    let list = run(&["rules"]);
    assert_eq!(list.code, 0);
    let man = run(&["man"]).stdout;
    let readme = std::fs::read_to_string(format!("{ROOT}/README.md")).unwrap();
    let docs = std::fs::read_to_string(format!("{ROOT}/docs/rules.md")).unwrap();
    let ids: Vec<&str> = list
        .stdout
        .lines()
        .take_while(|l| !l.is_empty())
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert!(ids.len() > 20);
    for id in &ids {
        let e = run(&["explain", id]);
        assert_eq!(e.code, 0, "{id}");
        for part in ["Why it fails", "How archscan detects it", "How to fix it"] {
            assert!(e.stdout.contains(part), "explain {id}: {part}");
        }
        assert!(readme.contains(&format!("| `{id}` |")), "README lacks {id}");
        assert!(man.contains(&id.replace('-', "\\-")), "man page lacks {id}");
        assert!(
            docs.contains(&format!("\n## {id}\n")),
            "docs/rules.md lacks {id}"
        );
    }
    let r = run(&["explain", "arch-missmatch"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("did you mean arch-mismatch"),
        "{}",
        r.all()
    );
}

/// Every option of `--help` is in the README's options and in the man page.
#[test]
fn every_option_is_documented() {
    let help = run(&["--help"]).stdout;
    let man = run(&["man"]).stdout;
    let readme = std::fs::read_to_string(format!("{ROOT}/README.md")).unwrap();
    let mut options: Vec<&str> = help
        .split(|c: char| c.is_whitespace() || c == ',' || c == '=' || c == '[')
        .filter(|w| w.starts_with("--") && w.len() > 3)
        .filter(|w| w[2..].chars().all(|c| c.is_ascii_lowercase() || c == '-'))
        .collect();
    options.sort_unstable();
    options.dedup();
    assert!(options.contains(&"--ignore-rule") && options.contains(&"--dockerfile"));
    for o in options {
        if o == "--help" || o == "--version" {
            continue;
        }
        assert!(readme.contains(o), "README lacks {o}");
        assert!(man.contains(&o.replace('-', "\\-")), "man page lacks {o}");
    }
}

#[test]
fn ignore_rule_silences_a_rule_and_counts_it() {
    let seed = fixture("seed-mislabelled.tar");
    let r = run(&["--format", "json", "--ignore-rule", "arch-mismatch", &seed]);
    assert_eq!(r.code, 0, "{}", r.all());
    let img = &r.json()["inputs"][0]["images"][0];
    let findings = img["findings"].as_array().unwrap();
    assert!(!findings.iter().any(|f| f["rule"] == "arch-mismatch"));
    assert!(
        findings
            .iter()
            .any(|f| f["message"] == "--ignore-rule arch-mismatch: 1 finding suppressed"),
        "{findings:?}"
    );
    assert_eq!(img["verdict"], "ok");
    // A glob limits it to image paths.
    let r = run(&["-q", "--ignore-rule", "arch-mismatch:/usr/**", &seed]);
    assert_eq!(r.code, 1, "{}", r.all());
    let r = run(&["-q", "--ignore-rule", "arch-mismatch:/bin/*", &seed]);
    assert_eq!(r.code, 0, "{}", r.all());
    // An unknown rule names the nearest.
    let r = run(&["--ignore-rule", "arch-missmatch", &seed]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--ignore-rule arch-missmatch: no rule named \"arch-missmatch\"; did you mean arch-mismatch?"), "{}", r.all());
}

#[test]
fn config_file_sets_defaults_and_the_command_line_wins() {
    let dir = scratch("config");
    let arm = fixture("arm64-correct.tar");
    std::fs::write(
        dir.join(".archscan.toml"),
        "platform = \"linux/amd64\"\nignore-rule = [\"no-binaries\"]\n",
    )
    .unwrap();
    let r = run_with(Some(&dir), &["--format", "json", &arm], &[]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert_eq!(r.json()["target"], "linux/amd64");
    let r = run_with(
        Some(&dir),
        &["--format", "json", "--platform", "linux/arm64", &arm],
        &[],
    );
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(r.json()["target"], "linux/arm64");
    // Helper words ignore it.
    assert_eq!(run_with(Some(&dir), &["rules"], &[]).code, 0);
    // Mistakes in the file are named.
    std::fs::write(dir.join(".archscan.toml"), "platfrom = \"linux/amd64\"\n").unwrap();
    let r = run_with(Some(&dir), &[&arm], &[]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains(".archscan.toml: unknown key `platfrom`; did you mean platform?"),
        "{}",
        r.all()
    );
    std::fs::write(dir.join(".archscan.toml"), "platform = \"linux/amd46\"\n").unwrap();
    let r = run_with(Some(&dir), &[&arm], &[]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains(".archscan.toml") && r.stderr.contains("did you mean amd64?"),
        "{}",
        r.all()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

// ---- colour and the terminal --------------------------------------------------------

#[test]
fn color_always_wins_over_no_color() {
    let seed = fixture("seed-mislabelled.tar");
    let r = run_with(None, &["--color", "always", &seed], &[("NO_COLOR", "1")]);
    assert!(r.stdout.contains("\x1b["), "{}", r.all());
    let r = run_with(None, &[&seed], &[("NO_COLOR", "1")]);
    assert!(!r.stdout.contains("\x1b["));
    let r = run_with(None, &["--color", "never", &seed], &[]);
    assert!(!r.stdout.contains("\x1b["));
}

/// A pseudo-terminal: the master side, and a path to open the slave by.
#[cfg(target_os = "linux")]
struct Pty {
    master: std::fs::File,
    slave: std::fs::File,
}

#[cfg(target_os = "linux")]
fn pty(cols: u16) -> Pty {
    use std::os::fd::FromRawFd;
    // SAFETY: plain libc calls on a descriptor this function owns; ptsname_r
    // writes at most buf.len() bytes into buf.
    unsafe {
        let m = libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY);
        assert!(m >= 0, "posix_openpt");
        assert_eq!(libc::grantpt(m), 0);
        assert_eq!(libc::unlockpt(m), 0);
        let mut buf = [0 as libc::c_char; 128];
        assert_eq!(libc::ptsname_r(m, buf.as_mut_ptr(), buf.len()), 0);
        let ws = libc::winsize {
            ws_row: 40,
            ws_col: cols,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        libc::ioctl(m, libc::TIOCSWINSZ, &ws);
        let name = std::ffi::CStr::from_ptr(buf.as_ptr())
            .to_string_lossy()
            .into_owned();
        let slave = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&name)
            .unwrap();
        Pty {
            master: std::fs::File::from_raw_fd(m),
            slave,
        }
    }
}

/// `archscan -` with a terminal on stdin used to wait forever.
#[cfg(target_os = "linux")]
#[test]
fn stdin_on_a_terminal_exits_at_once() {
    let p = pty(80);
    let mut child = Command::new(BIN)
        .arg("-")
        .stdin(Stdio::from(p.slave.try_clone().unwrap()))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            panic!("archscan - on a terminal did not exit");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert_eq!(status.code(), Some(2), "{err}");
    assert!(
        err.contains("standard input is a terminal")
            && err.contains("docker save IMAGE | archscan -"),
        "{err}"
    );
    drop(p);
}

/// Long fix lines wrap at the terminal's width (the text report, on a
/// terminal); written to a file they stay whole.
#[cfg(target_os = "linux")]
#[test]
fn long_fix_lines_wrap_at_the_terminal_width() {
    let p = pty(70);
    let seed = fixture("seed-mislabelled.tar");
    let mut child = Command::new(BIN)
        .arg(&seed)
        .env("NO_COLOR", "1")
        .env_remove("COLUMNS")
        .stdin(Stdio::null())
        .stdout(Stdio::from(p.slave.try_clone().unwrap()))
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let Pty { mut master, slave } = p;
    drop(slave);
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        let mut buf = [0u8; 4096];
        // EIO once the child closed the last slave descriptor.
        while let Ok(n) = master.read(&mut buf) {
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
        }
        String::from_utf8_lossy(&out).replace("\r\n", "\n")
    });
    let status = child.wait().unwrap();
    let out = reader.join().unwrap();
    assert_eq!(status.code(), Some(1), "{out}");
    let fix = out
        .lines()
        .position(|l| l.trim_start().starts_with("fix:"))
        .unwrap_or_else(|| panic!("no fix line: {out}"));
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[fix + 1].starts_with("                "),
        "continuation is indented: {out}"
    );
    for l in out.lines().filter(|l| l.starts_with("           ")) {
        // Words longer than a line are never cut; the fixture has none.
        assert!(
            l.chars().count() <= 70,
            "{} columns: {l}",
            l.chars().count()
        );
    }
    let piped = run(&[&seed]);
    assert!(piped
        .stdout
        .lines()
        .any(|l| l.trim_start().starts_with("fix:") && l.chars().count() > 200));
    let _ = std::io::stdout().flush();
}
