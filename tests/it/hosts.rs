//! Host profiles (issue 12): `--host NAME`, `--page-size`, `archscan hosts`,
//! the `page-size` rule on real arm64 programs linked for 4 KiB and 64 KiB
//! pages by Debian's cross toolchain, and 32-bit ARM code on hosts with and
//! without AArch32.

use crate::support::snapshot::{run, text_and_json as snapshot};

/// `fixture` judged in JSON with `args` runs clean: exit 0 and no finding.
fn assert_clean(fixture: &str, args: &[&str]) {
    let mut a = vec![fixture, "--format", "json"];
    a.extend_from_slice(args);
    let r = run(&a);
    assert_eq!(r.code, 0, "{args:?}: {}", r.all());
    assert!(r.rules().is_empty(), "{args:?}: {}", r.all());
}

#[test]
fn rpi5_refuses_a_4k_aligned_arm64_program() {
    snapshot(
        "host_rpi5_arm64_4k_pages",
        &["fixtures/arm64-4k-pages.tar", "--host", "rpi5"],
        1,
    );
}

#[test]
fn rpi5_runs_the_64k_aligned_twin() {
    snapshot(
        "host_rpi5_arm64_64k_pages",
        &["fixtures/arm64-64k-pages.tar", "--host", "rpi5"],
        0,
    );
}

#[test]
fn page_size_alone_and_4k_hosts() {
    let r = run(&[
        "fixtures/arm64-4k-pages.tar",
        "--page-size",
        "64k",
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert_eq!(r.rules(), vec!["page-size".to_string()]);
    for host in ["graviton2", "graviton4", "rpi4"] {
        assert_clean("fixtures/arm64-4k-pages.tar", &["--host", host]);
    }
    // Without a host, nothing is said about pages.
    let r = run(&["fixtures/arm64-4k-pages.tar", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.all());
}

#[test]
fn graviton4_refuses_arm_v7_and_says_why() {
    snapshot(
        "host_graviton4_arm_v7",
        &["fixtures/oci-layout-arm-v7", "--host", "graviton4"],
        1,
    );
}

#[test]
fn aarch32_hosts_run_arm_v7() {
    for host in ["graviton1", "graviton2", "graviton3", "rpi4"] {
        assert_clean("fixtures/oci-layout-arm-v7", &["--host", host]);
    }
    // A CPU with AArch32 at EL0 under a 4 KiB kernel (a Raspberry Pi 5 booted
    // with kernel8.img, an Ampere server with the 4 KiB kernel) runs it.
    for host in ["rpi5", "ampere-64k"] {
        assert_clean(
            "fixtures/oci-layout-arm-v7",
            &["--host", host, "--page-size", "4k"],
        );
    }
    // A 64 KiB kernel has no COMPAT, whatever the CPU.
    for args in [
        &["--host", "ampere-64k"][..],
        &["--host", "graviton3", "--page-size", "64k"],
        &["--host", "apple-silicon"],
        &["--host", "rpi5"],
        // No AArch32 in the CPU: no kernel brings it back.
        &["--host", "graviton4", "--page-size", "4k"],
    ] {
        let mut a = vec!["fixtures/oci-layout-arm-v7", "--format", "json"];
        a.extend_from_slice(args);
        let r = run(&a);
        assert_eq!(r.code, 1, "{args:?}: {}", r.all());
        assert_eq!(r.rules(), vec!["target-mismatch".to_string()], "{args:?}");
    }
}

#[test]
fn unknown_host_exits_2_with_the_nearest_names() {
    let r = run(&["fixtures/amd64-ok.tar", "--host", "graviton5x"]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(r.stderr.contains("unknown host"), "{}", r.all());
    assert!(r.stderr.contains("graviton"), "{}", r.all());
}

#[test]
fn hosts_lists_every_profile_with_sources() {
    let r = run(&["hosts"]);
    assert_eq!(r.code, 0, "{}", r.all());
    for name in [
        "graviton1",
        "graviton2",
        "graviton3",
        "graviton4",
        "rpi4",
        "rpi5",
        "ampere-64k",
        "apple-silicon",
        "x86-64-v2",
        "x86-64-v3",
    ] {
        assert!(r.stdout.contains(name), "{name}: {}", r.all());
    }
    assert!(r.stdout.contains("source:"), "{}", r.all());
    assert!(r.stdout.contains("unknown"), "{}", r.all());
}

#[test]
fn host_implies_its_platform() {
    let r = run(&[
        "fixtures/amd64-ok.tar",
        "--host",
        "graviton3",
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert_eq!(r.rules(), vec!["target-mismatch".to_string()]);
    let r = run(&[
        "fixtures/amd64-ok.tar",
        "--host",
        "x86-64-v3",
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 0, "{}", r.all());
}

#[test]
fn kernel_older_than_glibc_abi_tag() {
    // Debian 12's glibc and hello carry NT_GNU_ABI_TAG Linux 3.2.0.
    snapshot(
        "kernel_too_old_amd64_ok",
        &["fixtures/amd64-ok.tar", "--kernel", "3.1"],
        1,
    );
    for k in ["3.2", "6.1.0"] {
        assert_clean("fixtures/amd64-ok.tar", &["--kernel", k]);
    }
    let r = run(&["fixtures/amd64-ok.tar", "--kernel", "six"]);
    assert_eq!(r.code, 2, "{}", r.all());
}

#[test]
fn x86_64_level_hosts_check_isa_level() {
    let r = run(&[
        "fixtures/isa-level-v3.tar",
        "--host",
        "x86-64-v2",
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert_eq!(r.rules(), vec!["isa-level".to_string()]);
    assert_clean("fixtures/isa-level-v3.tar", &["--host", "x86-64-v3"]);
}

#[test]
fn a_4k_file_that_does_not_run_is_a_warning() {
    // libc.so.6 runs (Debian's, 64 KiB-aligned); the 4 KiB hello only sits there.
    let r = run(&[
        "fixtures/arm64-4k-pages.tar",
        "--host",
        "rpi5",
        "--format",
        "json",
        "--entrypoint",
        "/lib/aarch64-linux-gnu/libc.so.6",
    ]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(r.rules(), vec!["page-size".to_string()], "{}", r.all());
    assert!(r.stdout.contains("\"warning\""), "{}", r.all());
    assert!(r.stdout.contains("/usr/bin/hello"), "{}", r.all());
}

#[test]
fn goarm64_against_the_hosts_arm_level() {
    // Go 1.23, GOARM64=v8.4: more than Graviton2's Armv8.2-A.
    snapshot(
        "host_graviton2_goarm64_v8_4",
        &["fixtures/go-arm64-v8.4.tar", "--host", "graviton2"],
        1,
    );
    let r = run(&[
        "fixtures/go-arm64-v8.4.tar",
        "--host",
        "rpi4",
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert_eq!(r.rules(), vec!["isa-level".to_string()], "{}", r.all());
    // Armv8.4-A (Graviton3) and Armv9.0-A (Graviton4, which includes v8.5) run it.
    for host in ["graviton3", "graviton4"] {
        assert_clean("fixtures/go-arm64-v8.4.tar", &["--host", host]);
    }
    // An unknown level is a note, never a pass or a fail.
    let r = run(&["fixtures/go-arm64-v8.4.tar", "--host", "apple-silicon"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stdout
            .contains("architecture level of host apple-silicon is unknown"),
        "{}",
        r.all()
    );
    // Without a host, the label alone says nothing of Arm levels.
    let r = run(&["fixtures/go-arm64-v8.4.tar", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.rules().is_empty(), "{}", r.all());
}

#[test]
fn runs_on_host_names_the_check_that_decided() {
    // GOAMD64=v3 on an x86-64-v2 host: the cpu-level check fails with isa-level.
    let r = run(&[
        "fixtures/isa-level-v3.tar",
        "--host",
        "x86-64-v2",
        "--format",
        "json",
    ]);
    let img = &r.json()["inputs"][0]["images"][0];
    let h = &img["runs_on_host"];
    assert_eq!(h["host"], "x86-64-v2", "{}", r.all());
    assert_eq!(h["runs"], false, "{}", r.all());
    let checks = h["checks"].as_array().unwrap();
    let cpu = checks.iter().find(|c| c["check"] == "cpu-level").unwrap();
    assert_eq!(cpu["result"], "failed");
    assert_eq!(cpu["rules"][0], "isa-level");
    assert_eq!(cpu["fact"], "x86-64-v2");
    // On x86-64-v3 every check passes or is skipped, and the image runs.
    let r = run(&[
        "fixtures/isa-level-v3.tar",
        "--host",
        "x86-64-v3",
        "--format",
        "json",
    ]);
    let h = &r.json()["inputs"][0]["images"][0]["runs_on_host"];
    assert_eq!(h["runs"], true, "{}", r.all());
    // Without host options the field is absent.
    let r = run(&["fixtures/isa-level-v3.tar", "--format", "json"]);
    assert!(r.json()["inputs"][0]["images"][0]
        .get("runs_on_host")
        .is_none());
}

/// `/app/hello` of a docker-archive fixture, written alone to a scratch file.
fn program_of(fixture: &str, name: &str) -> std::path::PathBuf {
    use std::io::Read;
    for layer in crate::support::archive::fixture_layers(fixture) {
        for f in tar::Archive::new(layer.as_slice()).entries().unwrap() {
            let mut f = f.unwrap();
            if f.path().unwrap().to_string_lossy() == "app/hello" {
                let dir = std::env::temp_dir()
                    .join(format!("archscan-hosts-{}-{name}", std::process::id()));
                std::fs::create_dir_all(&dir).unwrap();
                let out = dir.join(name);
                let mut bytes = Vec::new();
                f.read_to_end(&mut bytes).unwrap();
                std::fs::write(&out, bytes).unwrap();
                return out;
            }
        }
    }
    panic!("no app/hello in {fixture}");
}

#[test]
fn a_single_program_is_checked_against_the_host() {
    // A single program used to get no isa-level at all: nothing ran.
    let p = program_of("fixtures/go-arm64-v8.4.tar", "hello-arm64-v8.4");
    let p = p.to_string_lossy();
    let r = run(&[&p, "--host", "graviton2", "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert_eq!(r.rules(), vec!["isa-level".to_string()], "{}", r.all());
    let r = run(&[&p, "--host", "graviton3", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.rules().is_empty(), "{}", r.all());
    let p = program_of("fixtures/isa-level-v3.tar", "hello-v3");
    let p = p.to_string_lossy();
    let r = run(&[&p, "--host", "x86-64-v2", "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert_eq!(r.rules(), vec!["isa-level".to_string()], "{}", r.all());
}
