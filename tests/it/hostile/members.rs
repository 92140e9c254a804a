//! Missing members and digests: absent configs and layers, blobs whose bytes
//! do not match their digest, digests that must never become paths.

use super::*;

#[test]
fn missing_config_or_layer_is_unreadable() {
    let t = Tmp::new("missing");
    let cfg = to_json(&config(&["/app/run"], 1));
    let layer = tar(&[file("app/run", b"#!/bin/sh\n", 0o755)]);
    let no_config = tar(&[
        file("0/layer.tar", &layer, 0o644),
        file(
            "manifest.json",
            &to_json(&json!([{"Config": "nope.json", "Layers": ["0/layer.tar"]}])),
            0o644,
        ),
    ]);
    let p = t.write("no-config.tar", &no_config);
    expect_unreadable(&run_both(&p), &p, &["nope.json", "missing"]);
    let no_layer = tar(&[
        file("c.json", &cfg, 0o644),
        file(
            "manifest.json",
            &to_json(&json!([{"Config": "c.json", "Layers": ["0/layer.tar"]}])),
            0o644,
        ),
    ]);
    let p = t.write("no-layer.tar", &no_layer);
    expect_unreadable(&run_both(&p), &p, &["0/layer.tar", "missing"]);
    // The same in an OCI archive: the layer blob is gone.
    let oci = oci_archive(&cfg, &[(layer.clone(), media_type(Comp::None))]);
    let entries: Vec<Ent> = members(&oci)
        .into_iter()
        .filter(|(name, _)| *name != sha(&layer).blob_path())
        .map(|(name, body)| file(&name, body, 0o644))
        .collect();
    let p = t.write("oci-no-layer.tar", &tar(&entries));
    expect_unreadable(&run_both(&p), &p, &[&sha(&layer).blob_path(), "missing"]);
}

#[test]
fn digest_mismatch_is_a_warning_naming_both_digests() {
    let t = Tmp::new("mismatch");
    let mut files = native_files();
    files.push(file("app/run", b"#!/bin/true\n", 0o755));
    let good = compress(&tar(&files), Comp::Gzip);
    files.push(file("extra", b"tampered", 0o644));
    let tampered = compress(&tar(&files), Comp::Gzip);
    let cfg = to_json(&config(&["/app/run"], 1));
    // Write the archive with the good layer's digest but the tampered bytes.
    let oci = oci_archive(&cfg, &[(good.clone(), media_type(Comp::Gzip))]);
    let name = sha(&good).blob_path();
    let entries: Vec<Ent> = members(&oci)
        .into_iter()
        .map(|(n, body)| file(&n, if n == name { &tampered } else { body }, 0o644))
        .collect();
    let p = t.write("tampered.tar", &tar(&entries));
    let r = run_both(&p);
    assert!(r.code == 0 || r.code == 1, "{}", r.all());
    assert!(
        r.rules().contains(&"digest-mismatch".to_string()),
        "{}",
        r.all()
    );
    for d in [sha(&good).to_string(), sha(&tampered).to_string()] {
        assert!(
            r.stdout.contains(&d),
            "the report does not name {d}\n{}",
            r.all()
        );
    }
    assert!(r.stdout.contains(&name), "{}", r.all());
    // The config's digest is checked too.
    let cfg2 = to_json(&config(&["/app/run"], 1));
    let mut oci2 = oci_archive(&cfg2, &[(good, media_type(Comp::Gzip))]);
    // Same length, so the member's header stays right.
    let needle = b"hostile test";
    let pos = oci2
        .windows(needle.len())
        .position(|w| w == needle)
        .unwrap();
    oci2[pos..pos + needle.len()].copy_from_slice(b"HOSTILE TEST");
    let p = t.write("config-tampered.tar", &oci2);
    let r = run_both(&p);
    assert!(
        r.rules().contains(&"digest-mismatch".to_string()),
        "{}",
        r.all()
    );
    assert!(r.stdout.contains(&sha(&cfg2).to_string()), "{}", r.all());
}

#[test]
fn bad_digests_never_become_paths() {
    let t = Tmp::new("digests");
    let bad = [
        "md5:d41d8cd98f00b204e9800998ecf8427e".to_string(),
        "sha256:../../../../etc/passwd".to_string(),
        "sha256:../../".to_string() + &"a".repeat(58),
        String::new(),
        "sha256:".to_string(),
        "sha256:".to_string() + &"A".repeat(64),
        "sha256:".to_string() + &"a".repeat(63) + "/",
        "sha256/".to_string() + &"a".repeat(64),
        "sha256:".to_string() + &"a".repeat(64) + "\n",
    ];
    let layout = file("oci-layout", OCI_LAYOUT, 0o644);
    let cfg = to_json(&config(&["/bin/sh"], 1));
    let layer = tar(&[file("bin/sh", b"#!/bin/x\n", 0o755)]);
    for (i, d) in bad.iter().enumerate() {
        let mt = MT_MANIFEST;
        // 1. In index.json.
        let index = json!({"manifests": [{"mediaType": mt, "digest": d}]});
        let a = tar(&[layout.clone(), file("index.json", &to_json(&index), 0o644)]);
        // 2. As the config of a good manifest.
        let manifest = to_json(&json!({"mediaType": mt,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": d},
            "layers": []}));
        let index2 =
            json!({"manifests": [{"mediaType": mt, "digest": sha(&manifest).to_string()}]});
        let b = tar(&[
            layout.clone(),
            file(&sha(&manifest).blob_path(), &manifest, 0o644),
            file("index.json", &to_json(&index2), 0o644),
        ]);
        // 3. As a layer.
        let manifest3 = to_json(&json!({"mediaType": mt,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha(&cfg).to_string()},
            "layers": [{"mediaType": media_type(Comp::None), "digest": d}]}));
        let index3 =
            json!({"manifests": [{"mediaType": mt, "digest": sha(&manifest3).to_string()}]});
        let c = tar(&[
            layout.clone(),
            file(&sha(&cfg).blob_path(), &cfg, 0o644),
            file("etc/passwd", &layer, 0o644),
            file(&sha(&manifest3).blob_path(), &manifest3, 0o644),
            file("index.json", &to_json(&index3), 0o644),
        ]);
        for (k, data) in [("index", a), ("config", b), ("layer", c)] {
            let p = t.write(&format!("{k}-{i}.tar"), &data);
            let r = run_both(&p);
            expect_unreadable(&r, &p, &["digest"]);
            // The same as an OCI layout directory.
            let dir = Tmp::new("digest-dir");
            for (n, body) in members(&data) {
                dir.write(&n, body);
            }
            let r = run(dir.path(), &[]);
            expect_unreadable(&r, dir.path(), &["digest"]);
        }
    }
}

// A blob in an OCI layout directory that is a symlink out of the directory is
// never read (the host's /etc/passwd is not a layer of the image).
#[cfg(unix)]
#[test]
fn layout_blob_symlinked_out_of_the_directory_is_missing() {
    let t = Tmp::new("layout-escape");
    let cfg = to_json(&config(&["/bin/sh"], 1));
    let hex = "b".repeat(64);
    let mt = MT_MANIFEST;
    let manifest = to_json(&json!({"mediaType": mt,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha(&cfg).to_string()},
        "layers": [{"mediaType": media_type(Comp::None), "digest": format!("sha256:{hex}")}]}));
    t.write("oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#);
    t.write(&sha(&cfg).blob_path(), &cfg);
    t.write(&sha(&manifest).blob_path(), &manifest);
    t.write(
        "index.json",
        &to_json(&json!({"manifests": [{"mediaType": mt, "digest": sha(&manifest).to_string()}]})),
    );
    std::os::unix::fs::symlink("/etc/passwd", t.path().join(format!("blobs/sha256/{hex}")))
        .unwrap();
    let r = run(t.path(), &[]);
    expect_unreadable(&r, t.path(), &[&hex, "missing"]);
}
