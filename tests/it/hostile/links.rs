//! Links, names, whiteouts and special files: cycles, long chains, names and
//! targets that climb out of the image, odd whiteouts, devices and FIFOs.

use super::*;

#[test]
fn link_cycles_and_long_chains_end() {
    let t = Tmp::new("links");
    let mut chain = vec![file("bin/real", b"#!/bin/sh\n", 0o755)];
    for i in 0..10_000 {
        let next = if i == 9_999 {
            "/bin/real".to_string()
        } else {
            format!("/l/{}", i + 1)
        };
        chain.push(symlink(&format!("l/{i}"), &next));
    }
    let cases: Vec<(&str, Vec<Ent>, &str)> = vec![
        ("chain", chain, "/l/0"),
        (
            "sym-cycle",
            vec![
                symlink("a", "b"),
                symlink("b", "/a"),
                symlink("self", "self"),
            ],
            "/a",
        ),
        ("self", vec![symlink("self", "./self")], "/self"),
        (
            "dir-cycle",
            vec![symlink("d", "d/d/d"), symlink("e", "../e/../e")],
            "/d/x",
        ),
        (
            "hard-cycle",
            vec![
                hardlink("h1", "h2"),
                hardlink("h2", "h1"),
                hardlink("h3", "h3"),
            ],
            "/h1",
        ),
    ];
    for (name, entries, ep) in cases {
        for c in [Comp::None, Comp::Gzip] {
            let p = t.write(
                &format!("{name}-{c:?}.tar"),
                &one_layer_image(&entries, &[ep], c),
            );
            let r = run_both(&p);
            assert_ne!(r.code, 2, "{name}\n{}", r.all());
            assert!(r.secs < 30.0, "{name} took {}s", r.secs);
        }
    }
    // Hardlink cycles among the members of the outer archive.
    let data = tar(&[
        hardlink("manifest.json", "x.json"),
        hardlink("x.json", "manifest.json"),
    ]);
    let p = t.write("outer-hard-cycle.tar", &data);
    let r = run_both(&p);
    assert!(r.code != 0 || r.stdout.contains("rootfs"), "{}", r.all());
}

#[test]
fn escaping_names_and_targets_resolve_inside_the_image() {
    let t = Tmp::new("escape");
    let entries = vec![
        file("../../../../etc/passwd", b"not the host's\n", 0o644),
        file("/abs/file", b"x", 0o644),
        symlink("bin/self", "/proc/self/exe"),
        symlink("bin/up", "../../../../../../../../bin/true"),
        symlink("bin/passwd", "../../../../../etc/passwd"),
        hardlink("bin/hard", "../../../../bin/true"),
    ];
    for ep in [
        "/bin/self",
        "/bin/up",
        "/bin/hard",
        "/bin/passwd",
        "../../../../proc/self/exe",
    ] {
        for c in [Comp::None, Comp::Gzip] {
            let p = t.write("e.tar", &one_layer_image(&entries, &[ep], c));
            let r = run_both(&p);
            assert_eq!(r.code, 1, "{ep} must not be found on the host\n{}", r.all());
            let img = image0(&r);
            let ep_json = img["entrypoint"].to_string();
            assert!(
                r.rules().iter().any(|x| x == "entrypoint-missing"
                    || x == "no-shebang"
                    || x == "not-executable"),
                "{ep}: {ep_json}\n{}",
                r.all()
            );
            assert!(!r.stdout.contains("x86-64"), "{}", r.all());
        }
    }
    // The escaping names are kept inside the image, clamped at its root.
    let p = t.write(
        "e.tar",
        &one_layer_image(&entries, &["/etc/passwd"], Comp::None),
    );
    let r = run(&p, &[]);
    assert_eq!(
        image0(&r)["entrypoint"]["resolved"],
        "/etc/passwd",
        "{}",
        r.all()
    );
    assert!(
        r.rules()
            .iter()
            .any(|x| x == "no-shebang" || x == "not-executable"),
        "{}",
        r.all()
    );
}

#[test]
fn whiteouts_of_dot_dot_and_root_are_harmless() {
    let t = Tmp::new("whiteouts");
    let cfg = to_json(&config(&["/app/run"], 2));
    let base = tar(&[
        dir("app"),
        file("app/run", b"#!/bin/sh\n", 0o755),
        file("etc/x", b"x", 0o644),
    ]);
    let top = tar(&[
        file("app/.wh..", b"", 0o644),
        file("app/.wh.", b"", 0o644),
        file(".wh..", b"", 0o644),
        file("app/.wh...", b"", 0o644),
        file("app/.wh..wh..wh..opq", b"", 0o644),
        file("../../.wh.nothing", b"", 0o644),
        file("/.wh.etc", b"", 0o644),
    ]);
    for c in [Comp::None, Comp::Gzip] {
        let img = docker_archive(&cfg, &[compress(&base, c), compress(&top, c)]);
        let p = t.write(&format!("w-{c:?}.tar"), &img);
        let r = run_both(&p);
        assert_judged(&r, "odd whiteouts");
        assert_eq!(
            image0(&r)["entrypoint"]["resolved"],
            "/app/run",
            "{}",
            r.all()
        );
    }
    // An opaque marker at the root hides every lower layer.
    let top = tar(&[file(".wh..wh..opq", b"", 0o644)]);
    let img = docker_archive(&cfg, &[base.clone(), top]);
    let p = t.write("opq-root.tar", &img);
    let r = run_both(&p);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.rules().contains(&"entrypoint-missing".to_string()));
}

#[test]
fn devices_and_fifos_are_never_opened() {
    let t = Tmp::new("devices");
    let entries = vec![
        special("dev/null", b'3'),
        special("dev/sda", b'4'),
        special("run/fifo", b'6'),
        special("odd/contiguous", b'7'),
        special("odd/volume", b'V'),
        special("odd/sparse", b'S'),
    ];
    for ep in ["/dev/null", "/dev/sda", "/run/fifo", "/odd/volume"] {
        for c in [Comp::None, Comp::Gzip] {
            let p = t.write("d.tar", &one_layer_image(&entries, &[ep], c));
            let r = run_both(&p);
            assert_ne!(r.code, 2, "{ep}\n{}", r.all());
        }
    }
}
