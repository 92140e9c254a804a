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
