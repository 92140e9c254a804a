//! The real `archscan` binary, run as CI and people run it: exit codes and the
//! `--fail-on` policy, SARIF output checked against the OASIS SARIF 2.1.0
//! schema (vendored in tests/sarif-schema/), completions and the man page,
//! stdin, unpacked root filesystem directories, single executables, several
//! inputs, `--output`, a closed pipe and `--image`.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::support::run::{archscan, Run, BIN};
use crate::support::tmp::Tmp;

fn fixture(name: &str) -> String {
    crate::support::fixture(name).to_string_lossy().into_owned()
}

/// archscan with `args`, in `dir`, with `stdin`; `NO_COLOR` unset, as a user
/// without it has.
fn run_in(dir: Option<&Path>, args: &[&str], stdin: Option<&[u8]>) -> Run {
    let mut cmd = archscan(args).env_remove("NO_COLOR");
    if let Some(d) = dir {
        cmd = cmd.current_dir(d);
    }
    if let Some(bytes) = stdin {
        cmd = cmd.stdin(bytes);
    }
    cmd.run()
}

fn run(args: &[&str]) -> Run {
    run_in(None, args, None)
}

/// The OCI platform of this machine's own programs (`/bin/true`).
fn host_platform() -> String {
    format!("linux/{}", crate::support::host_arch())
}

/// A platform this machine cannot run.
fn foreign_platform() -> &'static str {
    if host_platform() == "linux/s390x" {
        "linux/amd64"
    } else {
        "linux/s390x"
    }
}

fn rule_ids(image: &Value) -> Vec<String> {
    image["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_string())
        .collect()
}

// ---- exit codes ------------------------------------------------------------

#[test]
fn mislabelled_image_fails_with_arch_mismatch() {
    let r = run(&["--format", "json", &fixture("seed-mislabelled.tar")]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let j = r.json();
    assert_eq!(j["images"][0]["verdict"], "fail");
    assert_eq!(j["images"][0]["real_platform"], "linux/arm64");
    assert!(rule_ids(&j["images"][0]).contains(&"arch-mismatch".to_string()));
}

#[test]
fn consistent_image_exits_0() {
    let r = run(&[&fixture("amd64-ok.tar")]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("OK"), "{}", r.stdout);
}

#[test]
fn fail_on_never_and_warning() {
    let seed = fixture("seed-mislabelled.tar");
    assert_eq!(run(&["-q", "--fail-on", "never", &seed]).code, 0);
    assert_eq!(run(&["-q", "--fail-on", "error", &seed]).code, 1);
    // A warn verdict (a Mach-O/PE file in a Linux image) passes by default…
    let warn = fixture("foreign-os-files.tar");
    let r = run(&["--format", "json", &warn]);
    assert_eq!(r.json()["images"][0]["verdict"], "warn");
    assert_eq!(r.code, 0);
    // …and fails with --fail-on warning, but not with never.
    assert_eq!(run(&["-q", "--fail-on", "warning", &warn]).code, 1);
    assert_eq!(run(&["-q", "--fail-on", "never", &warn]).code, 0);
    // An unreadable input is 2 whatever the policy.
    let missing = fixture("does-not-exist.tar");
    assert_eq!(run(&["-q", "--fail-on", "never", &missing]).code, 2);
}

#[test]
fn fail_on_unknown() {
    let unknown = fixture("no-native.tar");
    let r = run(&["--format", "json", &unknown]);
    assert_eq!(r.json()["images"][0]["verdict"], "unknown");
    assert_eq!(r.code, 0);
    assert_eq!(run(&["-q", "--fail-on-unknown", &unknown]).code, 1);
    assert_eq!(
        run(&["-q", "--fail-on", "never", "--fail-on-unknown", &unknown]).code,
        1
    );
    // An ok image is not unknown.
    assert_eq!(
        run(&["-q", "--fail-on-unknown", &fixture("amd64-ok.tar")]).code,
        0
    );
}

#[test]
fn help_documents_the_exit_code_table() {
    let r = run(&["--help"]);
    assert_eq!(r.code, 0);
    for s in [
        "Exit codes:",
        "--fail-on warning",
        "--fail-on-unknown",
        "./man",
    ] {
        assert!(
            r.stdout.contains(s),
            "{s} missing from --help:\n{}",
            r.stdout
        );
    }
}

#[test]
fn version_names_the_git_revision() {
    let r = run(&["--version"]);
    assert_eq!(r.code, 0);
    let line = r.stdout.trim();
    let rest = line
        .strip_prefix(&format!("archscan {} (", env!("CARGO_PKG_VERSION")))
        .unwrap_or_else(|| panic!("{line}"));
    let rev = rest.strip_suffix(')').unwrap();
    assert!(
        rev == "unknown" || (rev.len() >= 7 && rev.bytes().all(|b| b.is_ascii_hexdigit())),
        "{line}"
    );
}

// ---- SARIF -----------------------------------------------------------------

fn sarif_validator() -> jsonschema::Validator {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sarif-schema/sarif-schema-2.1.0.json");
    let schema: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the SARIF schema compiles")
}

fn assert_valid_sarif(v: &jsonschema::Validator, doc: &Value) {
    let errors: Vec<String> = v
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "invalid SARIF:\n{}\n{doc:#}",
        errors.join("\n")
    );
}

#[test]
fn sarif_is_valid_and_carries_the_findings() {
    let v = sarif_validator();
    let r = run(&["--format", "sarif", &fixture("seed-mislabelled.tar")]);
    assert_eq!(r.code, 1);
    let doc = r.json();
    assert_valid_sarif(&v, &doc);
    assert_eq!(doc["version"], "2.1.0");
    let run0 = &doc["runs"][0];
    let driver = &run0["tool"]["driver"];
    assert_eq!(driver["name"], "archscan");
    let rules = driver["rules"].as_array().unwrap();
    assert_eq!(rules.len(), archscan::rules::DEFS.len());
    for (rule, desc) in archscan::rules::DEFS.iter().zip(rules) {
        assert_eq!(desc["id"], rule.id);
        assert_eq!(desc["shortDescription"]["text"], rule.summary);
        // Real help for code-scanning UIs: why, detection and fix.
        assert_eq!(desc["help"]["markdown"], rule.help_markdown());
        assert!(desc["help"]["text"].as_str().unwrap().contains(rule.fix));
    }
    let results = run0["results"].as_array().unwrap();
    let hit = results
        .iter()
        .find(|r| r["ruleId"] == "arch-mismatch")
        .expect("an arch-mismatch result");
    assert_eq!(hit["level"], "error");
    let idx = hit["ruleIndex"].as_u64().unwrap() as usize;
    assert_eq!(rules[idx]["id"], "arch-mismatch");
    let loc = &hit["locations"][0];
    assert_eq!(
        loc["physicalLocation"]["artifactLocation"]["uri"],
        "bin/busybox"
    );
    assert_eq!(
        loc["logicalLocations"][0]["fullyQualifiedName"],
        "docker.io/archscan/seed:latest//layer 0/bin/busybox"
    );
    assert_eq!(hit["properties"]["layer"], 0);
    assert_eq!(hit["properties"]["platform"], "linux/arm64");
    assert!(hit["properties"]["layer_digest"]
        .as_str()
        .unwrap()
        .starts_with("sha256:"));

    // The validator does reject what the schema forbids.
    let mut bad = doc.clone();
    bad["runs"][0]["results"][0]["level"] = "fatal".into();
    assert!(!v.is_valid(&bad));
    let mut bad = doc.clone();
    bad["runs"][0]["tool"]["driver"]["informationUri"] = "not a uri".into();
    assert!(!v.is_valid(&bad));
}

#[test]
fn sarif_is_valid_for_every_input_kind_and_for_errors() {
    let v = sarif_validator();
    let dir = Tmp::new("cli-sarif");
    let rootfs = make_rootfs(dir.path());
    let runs = [
        vec![fixture("amd64-ok.tar")],
        vec![fixture("multi-platform-8.oci-archive.tar")],
        vec![fixture("oci-layout-arm-v7"), fixture("no-native.tar")],
        vec![rootfs.to_string_lossy().into_owned()],
        vec!["/bin/true".to_string()],
        vec![fixture("does-not-exist.tar")],
    ];
    for inputs in runs {
        let mut args = vec!["--format", "sarif", "--platform", "linux/arm64"];
        args.extend(inputs.iter().map(String::as_str));
        let r = run(&args);
        let doc = r.json();
        assert_valid_sarif(&v, &doc);
        assert_eq!(doc["runs"].as_array().unwrap().len(), 1);
        let ok = doc["runs"][0]["invocations"][0]["executionSuccessful"].as_bool();
        assert_eq!(ok, Some(r.code != 2), "{inputs:?}");
    }
}

// ---- completions and man page ----------------------------------------------

#[test]
fn completions_for_every_shell() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let r = run(&["completions", shell]);
        assert_eq!(r.code, 0, "{shell}: {}", r.stderr);
        assert!(r.stdout.contains("archscan"), "{shell}");
        assert!(r.stdout.contains("fail-on"), "{shell}: flags missing");
    }
    assert_ne!(run(&["completions", "tcsh"]).code, 0);
}

#[test]
fn man_page() {
    let r = run(&["man"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains(".TH archscan"));
    assert!(r.stdout.contains("fail\\-on"));
}

#[test]
fn a_file_named_man_is_scanned_through_a_path() {
    let dir = Tmp::new("cli-man-file");
    std::fs::copy(fixture("amd64-ok.tar"), dir.path().join("man")).unwrap();
    let r = run_in(Some(dir.path()), &["--format", "json", "./man"], None);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["source"]["format"], "docker-archive");
}

// ---- inputs ----------------------------------------------------------------

#[test]
fn stdin_gives_the_same_verdict_as_the_file() {
    let path = fixture("seed-mislabelled.tar");
    let from_file = run(&["--format", "json", &path]);
    for name in ["seed-mislabelled.tar", "seed-mislabelled.tar.zst"] {
        let bytes = std::fs::read(fixture(name)).unwrap();
        let from_stdin = run_in(None, &["--format", "json", "-"], Some(&bytes));
        assert_eq!(
            from_stdin.code, from_file.code,
            "{name}: {}",
            from_stdin.stderr
        );
        let (a, b) = (from_file.json(), from_stdin.json());
        assert_eq!(b["source"]["path"], "-");
        assert_eq!(a["images"][0]["verdict"], b["images"][0]["verdict"]);
        assert_eq!(
            a["images"][0]["real_platform"],
            b["images"][0]["real_platform"]
        );
        assert_eq!(rule_ids(&a["images"][0]), rule_ids(&b["images"][0]));
    }
}

/// A root filesystem directory: a copy of this machine's `/bin/true`, a
/// relative symlink to it, and links that point outside the directory.
fn make_rootfs(dir: &Path) -> PathBuf {
    let root = dir.join("rootfs");
    std::fs::create_dir_all(root.join("usr/bin")).unwrap();
    std::fs::create_dir_all(root.join("bin")).unwrap();
    std::fs::copy("/bin/true", root.join("usr/bin/true")).unwrap();
    std::fs::write(root.join("README"), b"not a program\n").unwrap();
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink("../usr/bin/true", root.join("bin/t")).unwrap();
        // Absolute targets resolve inside the image, never on the host.
        std::os::unix::fs::symlink("/bin/sh", root.join("bin/host-sh")).unwrap();
        std::os::unix::fs::symlink("/usr/bin", root.join("hostbin")).unwrap();
    }
    root
}

#[test]
fn rootfs_directory_is_judged() {
    let dir = Tmp::new("cli-rootfs");
    let root = make_rootfs(dir.path());
    let root_s = root.to_string_lossy().into_owned();
    let r = run(&["--format", "json", &root_s]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let j = r.json();
    assert_eq!(j["source"]["format"], "rootfs-dir");
    let img = &j["images"][0];
    assert!(img["declared"].is_null());
    assert_eq!(img["real_platform"], host_platform());
    let paths: Vec<&str> = img["binaries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["path"].as_str().unwrap())
        .collect();
    // Only the one file inside: nothing of the host's /usr/bin or /bin/sh.
    assert_eq!(paths, ["/usr/bin/true"]);

    // What runs, through the relative link.
    let r = run(&["--format", "json", &root_s, "--entrypoint", "/bin/t"]);
    let ep = &r.json()["images"][0]["entrypoint"];
    assert_eq!(ep["resolved"], "/usr/bin/true", "{ep:#}");
    // A link to /bin/sh means the image's /bin/sh, which it does not have.
    let r = run(&["--format", "json", &root_s, "--entrypoint", "/bin/host-sh"]);
    assert_eq!(r.code, 1);
    assert!(rule_ids(&r.json()["images"][0]).contains(&"entrypoint-missing".to_string()));

    // Against a target it cannot run on.
    let r = run(&[
        "--format",
        "json",
        "--platform",
        foreign_platform(),
        &root_s,
    ]);
    assert_eq!(r.code, 1);
    assert!(rule_ids(&r.json()["images"][0]).contains(&"target-mismatch".to_string()));
}

#[test]
fn single_binary_is_identified() {
    let r = run(&["--format", "json", "/bin/true"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let j = r.json();
    assert_eq!(j["source"]["format"], "binary");
    let img = &j["images"][0];
    assert!(img["declared"].is_null());
    assert_eq!(img["real_platform"], host_platform());
    assert_eq!(img["binaries"].as_array().unwrap().len(), 1);
    assert_eq!(img["binaries"][0]["path"], "/true");
    assert_eq!(img["binaries"][0]["format"], "elf");
    assert!(rule_ids(img).is_empty(), "{:?}", rule_ids(img));

    let r = run(&[
        "--format",
        "json",
        "--platform",
        foreign_platform(),
        "/bin/true",
    ]);
    assert_eq!(r.code, 1);
    assert_eq!(rule_ids(&r.json()["images"][0]), ["target-mismatch"]);
    let r = run(&["-q", "--platform", &host_platform(), "/bin/true"]);
    assert_eq!(r.code, 0);

    // From stdin too.
    let bytes = std::fs::read("/bin/true").unwrap();
    let r = run_in(None, &["--format", "json", "-"], Some(&bytes));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["images"][0]["real_platform"], host_platform());
}

#[test]
fn single_script_is_reported_not_judged() {
    let dir = Tmp::new("cli-script");
    let script = dir.write("run.sh", b"#!/bin/sh\necho hi\n");
    let r = run(&["--format", "json", &script.to_string_lossy()]);
    let j = r.json();
    assert_eq!(j["source"]["format"], "binary");
    assert_eq!(j["images"][0]["verdict"], "unknown");
    assert_eq!(r.code, 0);
}

#[test]
fn several_inputs_give_a_json_array() {
    let r = run(&[
        "--format",
        "json",
        &fixture("amd64-ok.tar"),
        &fixture("seed-mislabelled.tar"),
    ]);
    assert_eq!(r.code, 1);
    let j = r.json();
    let arr = j.as_array().expect("an array of reports");
    assert_eq!(arr.len(), 2);
    assert_eq!(arr[0]["images"][0]["verdict"], "ok");
    assert_eq!(arr[1]["images"][0]["verdict"], "fail");
}

#[test]
fn image_filter() {
    let multi = fixture("multi-image.docker-archive.tar");
    let r = run(&["--format", "json", &multi]);
    assert_eq!(r.code, 1);
    assert_eq!(r.json()["images"].as_array().unwrap().len(), 2);
    let r = run(&["--format", "json", "--image", "multi-ok", &multi]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let images = r.json()["images"].as_array().unwrap().clone();
    assert_eq!(images.len(), 1);
    assert_eq!(images[0]["name"], "localhost/archscan/multi-ok:latest");
    // A filter that matches nothing is an error, not a silent pass.
    let r = run(&["-q", "--image", "no-such-image", &multi]);
    assert_eq!(r.code, 2);
}

// ---- output ----------------------------------------------------------------

#[test]
fn output_file_and_nothing_on_stdout() {
    let dir = Tmp::new("cli-output");
    let out = dir.path().join("report.sarif");
    let r = run(&[
        "--format",
        "sarif",
        "-o",
        &out.to_string_lossy(),
        &fixture("seed-mislabelled.tar"),
    ]);
    assert_eq!(r.code, 1);
    assert_eq!(r.stdout, "");
    let doc: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(doc["version"], "2.1.0");
}

#[test]
fn closed_pipe_exits_quietly() {
    // The reader is gone before archscan writes: the write fails with EPIPE.
    let r = archscan(["-v", &fixture("multi-platform-8.oci-archive.tar")])
        .close_stdout()
        .run();
    assert!(r.stderr.is_empty(), "stderr: {}", r.stderr);
    assert_eq!(r.code, 0);

    // As a shell runs it: `archscan x | head -1`.
    if Path::new("/bin/sh").exists() && Path::new("/usr/bin/head").exists() {
        let out = std::process::Command::new("/bin/sh")
            .arg("-c")
            .arg(format!(
                "'{BIN}' -v '{}' '{}' | head -1",
                fixture("multi-platform-8.oci-archive.tar"),
                fixture("seed-mislabelled.tar")
            ))
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 1);
        assert!(
            out.stderr.is_empty(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
