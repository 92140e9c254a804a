//! Runs the real `archscan` binary on every committed fixture and compares the
//! whole output — exit code, stdout, stderr — with reviewed snapshots
//! (`tests/snapshots/`). Re-bless after an intended change with
//! `INSTA_UPDATE=always cargo test --test it fixtures::`, then review the diff.

use crate::support::run::archscan;
use crate::support::snapshot::{run, settings, whole};

/// One test per fixture: the text report, and the JSON report.
macro_rules! fixture {
    ($name:ident, $path:expr, $code:expr $(, $arg:expr)*) => {
        #[test]
        fn $name() {
            let text = run(&[$path $(, $arg)*]);
            assert_eq!(text.code, $code, "{}", whole(&text));
            assert!(!text.stderr.contains("panicked"), "{}", text.stderr);
            let json = run(&[$path, "--format", "json" $(, $arg)*]);
            assert_eq!(json.code, $code, "{}", whole(&json));
            let parsed: serde_json::Value = serde_json::from_str(&json.stdout).expect("valid JSON");
            assert_eq!(parsed["schema_version"], 2);
            settings().bind(|| {
                insta::assert_snapshot!(concat!(stringify!($name), "_text"), whole(&text));
                insta::assert_snapshot!(concat!(stringify!($name), "_json"), whole(&json));
            });
        }
    };
}

// The seed case: labelled linux/amd64, every binary arm64.
fixture!(seed_mislabelled, "fixtures/seed-mislabelled.tar", 1);
fixture!(
    seed_mislabelled_gzip_outer,
    "fixtures/seed-mislabelled.tar.gz",
    1
);
fixture!(
    seed_mislabelled_zstd_outer,
    "fixtures/seed-mislabelled.tar.zst",
    1
);
fixture!(
    seed_mislabelled_xz_outer,
    "fixtures/seed-mislabelled.tar.xz",
    1
);
fixture!(arm64_correct, "fixtures/arm64-correct.tar", 0);
// A correct arm64 image deployed to an x86 host.
fixture!(
    arm64_correct_on_amd64_target,
    "fixtures/arm64-correct.tar",
    1,
    "--platform",
    "linux/amd64"
);
fixture!(amd64_ok, "fixtures/amd64-ok.tar", 0);
fixture!(
    amd64_ok_on_arm64_target,
    "fixtures/amd64-ok.tar",
    1,
    "--platform",
    "linux/arm64"
);
fixture!(
    s390x_zstd_oci_archive,
    "fixtures/s390x-zstd.oci-archive.tar",
    0
);
fixture!(oci_layout_arm_v7, "fixtures/oci-layout-arm-v7", 0);
fixture!(
    oci_layout_ppc64le_uncompressed,
    "fixtures/oci-layout-ppc64le-uncompressed",
    0
);
fixture!(docker_save_legacy, "fixtures/docker-save-legacy.tar", 0);
fixture!(docker25_save, "fixtures/docker25-save.tar", 0);
fixture!(
    containerd_multiplatform,
    "fixtures/containerd-multiplatform.tar",
    0
);
fixture!(
    containerd_multiplatform_arm64_target,
    "fixtures/containerd-multiplatform.tar",
    0,
    "--platform",
    "linux/arm64"
);
fixture!(
    containerd_multiplatform_s390x_target,
    "fixtures/containerd-multiplatform.tar",
    1,
    "--platform",
    "linux/s390x"
);
fixture!(crane_tarball, "fixtures/crane-tarball.tar", 0);
fixture!(
    multi_platform_8,
    "fixtures/multi-platform-8.oci-archive.tar",
    0
);
fixture!(
    multi_platform_8_arm_v6_target,
    "fixtures/multi-platform-8.oci-archive.tar",
    0,
    "--platform",
    "linux/arm/v6"
);
fixture!(
    platform_disagreement,
    "fixtures/platform-disagreement.oci-archive.tar",
    1
);
fixture!(
    multi_image_docker_archive,
    "fixtures/multi-image.docker-archive.tar",
    1
);
fixture!(estargz, "fixtures/estargz.oci-archive.tar", 0);
fixture!(whiteouts, "fixtures/whiteouts.oci-archive.tar", 0);
fixture!(whiteouts_umoci, "fixtures/whiteouts-umoci", 0);
fixture!(foreign_os_files, "fixtures/foreign-os-files.tar", 0);
fixture!(foreign_module, "fixtures/foreign-module.oci-archive.tar", 0);
fixture!(
    script_env_python3,
    "fixtures/script-env-python3.oci-archive.tar",
    1
);
fixture!(script_crlf, "fixtures/script-crlf.oci-archive.tar", 1);
fixture!(loader_missing, "fixtures/loader-missing.tar", 1);
fixture!(i386_in_amd64, "fixtures/i386-in-amd64.tar", 0);
fixture!(armel_in_armv7, "fixtures/armel-in-armv7.oci-archive.tar", 0);
fixture!(armhf_in_arm64, "fixtures/armhf-in-arm64.tar", 1);
fixture!(no_entrypoint, "fixtures/no-entrypoint.tar", 1);
fixture!(no_native, "fixtures/no-native.tar", 0);

// The diagnosis rules, each on its fixture.
fixture!(missing_library, "fixtures/missing-library.tar", 1);
fixture!(libc_mismatch, "fixtures/libc-mismatch.tar", 1);
fixture!(
    variant_mismatch,
    "fixtures/variant-mismatch.oci-archive.tar",
    1
);
fixture!(go_arm64_in_amd64, "fixtures/go-arm64-in-amd64.tar", 1);
fixture!(
    go_armv7_in_armv6,
    "fixtures/go-armv7-in-armv6.oci-archive.tar",
    1
);
// x86-64-v3 code: a warning against a plain amd64 label, an error against v2.
fixture!(isa_level_v3, "fixtures/isa-level-v3.tar", 0);
fixture!(
    isa_level_v3_on_v2_target,
    "fixtures/isa-level-v3.tar",
    1,
    "--platform",
    "linux/amd64/v2"
);
fixture!(no_shebang, "fixtures/no-shebang.tar", 1);
fixture!(not_executable, "fixtures/not-executable.tar", 1);
fixture!(sh_c_foreign, "fixtures/sh-c-foreign.oci-archive.tar", 1);
fixture!(
    same_binary_across_platforms,
    "fixtures/same-binary-across-platforms.oci-archive.tar",
    1
);
fixture!(windows_pe, "fixtures/windows-pe.oci-archive.tar", 0);
fixture!(noise_summarised, "fixtures/noise.oci-archive.tar", 0);
fixture!(
    noise_ignored,
    "fixtures/noise.oci-archive.tar",
    0,
    "--ignore",
    "/usr/lib/debug/**"
);

/// stdin gives the same verdict and findings as the file.
#[test]
fn stdin_matches_file() {
    let file = run(&["fixtures/seed-mislabelled.tar", "--format", "json"]);
    let bytes = std::fs::read(crate::support::fixture("seed-mislabelled.tar")).unwrap();
    let piped = archscan(["-", "--format", "json"])
        .current_dir(env!("CARGO_MANIFEST_DIR").as_ref())
        .stdin(&bytes)
        .run();
    assert_eq!(piped.code, 1);
    let a: serde_json::Value = serde_json::from_str(&file.stdout).unwrap();
    let b: serde_json::Value = serde_json::from_str(&piped.stdout).unwrap();
    assert_eq!(a["images"], b["images"]);
}
