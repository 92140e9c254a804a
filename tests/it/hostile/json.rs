//! Broken JSON in `manifest.json`, configs and `index.json`: invalid, too deep,
//! too big, wrong types; each unreadable, saying which member and why.

use super::*;

pub(super) fn docker_with_manifest(manifest: &[u8], config: &[u8]) -> Vec<u8> {
    let layer = tar(&[file("app/run", b"#!/bin/sh\n", 0o755)]);
    tar(&[
        file(&format!("{}.json", sha(config).hex()), config, 0o644),
        file("0/layer.tar", &layer, 0o644),
        file("manifest.json", manifest, 0o644),
    ])
}

#[test]
fn broken_json_is_unreadable_and_says_why() {
    let t = Tmp::new("json");
    let cfg = to_json(&config(&["/app/run"], 1));
    let cfg_name = format!("{}.json", sha(&cfg).hex());
    let good =
        |c: &str| to_json(&json!([{"Config": c, "RepoTags": ["x:y"], "Layers": ["0/layer.tar"]}]));
    let deep = "[".repeat(10_000) + &"]".repeat(10_000);
    let mut huge = b"[\"".to_vec();
    huge.resize(17 * 1024 * 1024, b'a');
    huge.extend_from_slice(b"\"]");
    // (name, manifest.json, config, words the error must say)
    type Case<'a> = (&'a str, Vec<u8>, Vec<u8>, &'a [&'a str]);
    let cases: Vec<Case> = vec![
        (
            "invalid",
            b"[{\"Config\": ".to_vec(),
            cfg.clone(),
            &["manifest.json", "invalid JSON"],
        ),
        (
            "deep",
            deep.into_bytes(),
            cfg.clone(),
            &["manifest.json", "deep"],
        ),
        ("huge", huge, cfg.clone(), &["manifest.json", "limit"]),
        (
            "object",
            b"{}".to_vec(),
            cfg.clone(),
            &["manifest.json", "expected a list"],
        ),
        ("null", b"null".to_vec(), cfg.clone(), &["manifest.json"]),
        (
            "layers-number",
            to_json(&json!([{"Config": cfg_name, "Layers": 5}])),
            cfg.clone(),
            &["Layers", "a number"],
        ),
        (
            "config-object",
            to_json(&json!([{"Config": {"a": 1}, "Layers": []}])),
            cfg.clone(),
            &["Config", "an object"],
        ),
        (
            "repotags-number",
            to_json(&json!([{"Config": cfg_name, "RepoTags": 7, "Layers": ["0/layer.tar"]}])),
            cfg.clone(),
            &["RepoTags"],
        ),
        (
            "config-list",
            good(&format!("{}.json", sha(b"[]").hex())),
            b"[]".to_vec(),
            &["config", "a list"],
        ),
        (
            "entrypoint-number",
            good(&format!(
                "{}.json",
                sha(br#"{"config":{"Entrypoint":1}}"#).hex()
            )),
            br#"{"config":{"Entrypoint":1}}"#.to_vec(),
            &["Entrypoint", "a number"],
        ),
        (
            "history-string",
            good(&format!("{}.json", sha(br#"{"history":"x"}"#).hex())),
            br#"{"history":"x"}"#.to_vec(),
            &["history"],
        ),
        (
            "config-invalid",
            good(&format!("{}.json", sha(b"{\"a\":").hex())),
            b"{\"a\":".to_vec(),
            &["invalid JSON"],
        ),
    ];
    for (name, manifest, config, words) in cases {
        for outer in [Comp::None, Comp::Zstd] {
            let data = compress(&docker_with_manifest(&manifest, &config), outer);
            let p = t.write(&format!("{name}-{outer:?}.tar"), &data);
            let r = run(&p, &[]);
            expect_unreadable(&r, &p, words);
        }
    }
}

#[test]
fn wrong_types_in_oci_index_are_unreadable() {
    let t = Tmp::new("oci-types");
    let layout = file("oci-layout", OCI_LAYOUT, 0o644);
    let hex = "a".repeat(64);
    let cases: Vec<(&str, Value, &[&str])> = vec![
        (
            "manifests-string",
            json!({"schemaVersion": 2, "manifests": "x"}),
            &["manifests", "a string"],
        ),
        ("index-list", json!([1, 2]), &["index.json", "a list"]),
        ("desc-number", json!({"manifests": [5]}), &["digest"]),
        (
            "manifest-missing",
            json!({"manifests": [{"mediaType": MT_MANIFEST, "digest": format!("sha256:{hex}")}]}),
            &["missing"],
        ),
    ];
    for (name, index, words) in cases {
        let data = tar(&[layout.clone(), file("index.json", &to_json(&index), 0o644)]);
        let p = t.write(&format!("{name}.tar"), &data);
        let r = run_both(&p);
        expect_unreadable(&r, &p, words);
    }
}
