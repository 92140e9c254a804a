//! archscan never writes: not beside its inputs, not in its working
//! directory, not in TMPDIR, whether it reads a file or stdin.

use super::*;

fn listing(dir: &Path) -> Vec<String> {
    let mut out: Vec<String> = walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .map(|e| e.path().display().to_string())
        .collect();
    out.sort();
    out
}

#[test]
fn scans_never_write() {
    let inputs = Tmp::new("nw-inputs");
    let cwd = Tmp::new("nw-cwd");
    let tmp = Tmp::new("nw-tmp");
    let fixture = crate::support::fixture("amd64-ok.tar");
    let mut paths = vec![
        inputs.write("small.tar", &small_image()),
        inputs.write("small.tar.zst", &compress(&small_image(), Comp::Zstd)),
        inputs.write(
            "escape.tar",
            &one_layer_image(
                &[
                    file("../../../x", b"x", 0o755),
                    symlink("bin/e", "/proc/self/exe"),
                ],
                &["/bin/e"],
                Comp::Gzip,
            ),
        ),
        inputs.write("random.tar", &[0x5a; 4096]),
    ];
    if fixture.exists() {
        paths.push(fixture);
    }
    let before_inputs = listing(inputs.path());
    for p in &paths {
        for fmt in ["json", "text"] {
            let r = run_with(
                &[p.to_str().unwrap(), "--format", fmt],
                Some(cwd.path()),
                &[
                    ("TMPDIR", tmp.path()),
                    ("TMP", tmp.path()),
                    ("TEMP", tmp.path()),
                ],
            );
            assert!(r.code <= 2);
        }
        // Reading stdin too.
        let data = std::fs::read(p).unwrap();
        let r = archscan(["-", "--format", "json"])
            .current_dir(cwd.path())
            .env("TMPDIR", tmp.path())
            .stdin(&data)
            .run();
        assert!(r.code <= 2, "stdin: {}", r.all());
    }
    assert_eq!(
        listing(cwd.path()),
        vec![cwd.path().display().to_string()],
        "the working directory changed"
    );
    assert_eq!(
        listing(tmp.path()),
        vec![tmp.path().display().to_string()],
        "TMPDIR changed"
    );
    assert_eq!(
        listing(inputs.path()),
        before_inputs,
        "the inputs' directory changed"
    );
}

// `archscan image.tar -o image.tar` replaced the archive with the report.
#[test]
fn output_over_an_input_is_refused_and_the_input_kept() {
    let t = Tmp::new("o-input");
    let img = t.write("image.tar", &small_image());
    let before = std::fs::read(&img).unwrap();
    let link = t.path().join("report.txt");
    std::os::unix::fs::symlink(&img, &link).unwrap();
    for out in [&img, &link] {
        let r = run_with(
            &[img.to_str().unwrap(), "-o", out.to_str().unwrap()],
            None,
            &[],
        );
        assert_eq!(r.code, 2, "{}", r.all());
        assert!(r.stderr.contains("refusing to overwrite"), "{}", r.all());
        assert_eq!(std::fs::read(&img).unwrap(), before, "the input changed");
    }
    // A report elsewhere is written whole, and no temporary file is left.
    let rep = t.path().join("out.json");
    let r = run_with(
        &[
            img.to_str().unwrap(),
            "--format",
            "json",
            "-o",
            rep.to_str().unwrap(),
        ],
        None,
        &[],
    );
    assert_ne!(r.code, 2, "{}", r.all());
    let doc: Value = serde_json::from_slice(&std::fs::read(&rep).unwrap()).unwrap();
    assert_eq!(doc["schema_version"], 2);
    let left: Vec<_> = std::fs::read_dir(t.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

// Writing to a full stderr panicked (exit 101).
#[test]
fn a_full_stderr_is_not_a_panic() {
    let out = std::process::Command::new(crate::support::run::BIN)
        .arg("/nonexistent/x.tar")
        .stdout(std::process::Stdio::null())
        .stderr(
            std::fs::OpenOptions::new()
                .write(true)
                .open("/dev/full")
                .unwrap(),
        )
        .status()
        .unwrap();
    assert_eq!(out.code(), Some(2));
}
