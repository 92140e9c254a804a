//! Writers and semantics read as the kernel and Docker read them: hard links
//! are their inode, zstd blobs may start with a skippable frame, and an OS
//! label is judged against the binaries as an architecture is.

use super::*;

/// A `docker save` of one uncompressed layer, with `config` changed by `edit`.
fn image_with(entries: &[Ent], entrypoint: &[&str], edit: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut cfg = config(entrypoint, 1);
    edit(&mut cfg);
    docker_archive(&to_json(&cfg), &[tar(entries)])
}

// A hard link to a symlink was a file with no content: "not a regular file"
// for an entrypoint the kernel runs.
#[test]
fn an_entrypoint_hardlinked_to_a_symlink_runs() {
    let t = Tmp::new("hardsym");
    let mut entries = native_files();
    entries.push(symlink("bin/sym", "true"));
    entries.push(hardlink("bin/hard", "bin/sym"));
    let p = t.write("i.tar", &image_with(&entries, &["/bin/hard"], |_| {}));
    let r = run_both(&p);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        !r.rules().iter().any(|x| x == "entrypoint-missing"),
        "{}",
        r.all()
    );
    assert_eq!(image0(&r)["entrypoint"]["resolved"], "/bin/true");
}

// A hard link's own header mode (0644) was taken instead of its inode's
// (0755): a false not-executable.
#[test]
fn a_hardlink_execs_with_its_targets_mode() {
    let t = Tmp::new("hardmode");
    let mut entries = native_files();
    let mut link = hardlink("bin/run", "bin/true");
    link.mode = 0o644;
    entries.push(link);
    let p = t.write("i.tar", &image_with(&entries, &["/bin/run"], |_| {}));
    let r = run_both(&p);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        !r.rules().iter().any(|x| x == "not-executable"),
        "{}",
        r.all()
    );
}

// A layer starting with a zstd skippable frame was "not a tar".
#[test]
fn a_zstd_layer_with_a_skippable_frame_is_read() {
    let t = Tmp::new("skippable");
    let mut layer = vec![0x50, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, b'a', b'b', b'c'];
    layer.extend(compress(&tar(&native_files()), Comp::Zstd));
    let cfg = to_json(&config(&["/bin/true"], 1));
    let p = t.write("i.tar", &docker_archive(&cfg, &[layer]));
    let r = run_both(&p);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_judged(&r, "a zstd layer after a skippable frame");
}

// A `windows` label on Linux programs said "no native code" and warned: the
// OS label is judged against the binaries as the architecture is.
#[test]
fn a_windows_label_on_linux_programs_fails() {
    let t = Tmp::new("winlabel");
    let entries = native_files();
    let windows = |c: &mut Value| c["os"] = json!("windows");
    let with_ep = t.write("ep.tar", &image_with(&entries, &["/bin/true"], windows));
    let r = run_both(&with_ep);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.rules().iter().any(|x| x == "foreign-os"), "{}", r.all());
    let no_ep = t.write("noep.tar", &image_with(&entries, &[], windows));
    let r = run_both(&no_ep);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.rules().iter().any(|x| x == "foreign-os"), "{}", r.all());
}

// `--jobs 100000` started threads for minutes: it is capped, with a note.
#[test]
fn huge_jobs_are_capped_with_a_note() {
    let started = std::time::Instant::now();
    let r = run_with(
        &[
            "--jobs",
            "100000",
            "-q",
            &crate::support::fixture("amd64-ok.tar").to_string_lossy(),
        ],
        None,
        &[],
    );
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stderr.contains("--jobs 100000: using"), "{}", r.all());
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
}
