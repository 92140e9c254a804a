//! Repeated layers and images: a manifest that lists one layer thousands of
//! times, and an input whose thousands of images share one large layer. The
//! cost must not multiply: a layer is read once per input (by member) and
//! applied once per image (at its last position), and images that share all
//! their layers are merged once and, when judged on the same configuration,
//! judged once. `full_scale` writes the large versions for
//! `scripts/hostile-measure.sh`.

use super::*;
use crate::support::host_arch;

/// A layer of `files` entries under `data/` (each `bytes` long) and the
/// host's `/bin/true` with its loader and libraries: large in bytes and
/// entries, small in what the judge reports.
pub(super) fn large_layer(files: usize, bytes: usize) -> Vec<u8> {
    let mut entries = native_files();
    entries.push(dir("data/"));
    let body = vec![b'x'; bytes];
    for i in 0..files {
        entries.push(file(&format!("data/f{i:06}"), &body, 0o644));
    }
    tar(&entries)
}

/// A `docker save` archive whose manifest lists `layer` `times` times (one
/// member), with a config of as many diff_ids and history entries.
pub(super) fn layer_listed(layer: &[u8], times: usize) -> Vec<u8> {
    let config = to_json(&json!({
        "architecture": host_arch(),
        "os": "linux",
        "config": {"Entrypoint": ["/bin/true"], "Env": ["PATH=/bin"]},
        "rootfs": {"type": "layers", "diff_ids": vec![sha(layer).to_string(); times]},
        "history": vec![json!({"created_by": "repeat"}); times],
    }));
    let cfg_name = format!("{}.json", sha(&config).hex());
    let manifest = json!([{
        "Config": cfg_name,
        "RepoTags": ["repeat:latest"],
        "Layers": vec!["0/layer.tar"; times],
    }]);
    tar(&[
        file(&cfg_name, &config, 0o644),
        dir("0/"),
        file("0/layer.tar", layer, 0o644),
        file("manifest.json", &to_json(&manifest), 0o644),
    ])
}

/// An OCI archive of `images` images on the one `layer` blob. With
/// `distinct_env`, every config has its own `Env` (each image must be judged
/// on its own); else they differ only in a label (judged once).
pub(super) fn images_sharing(layer: &[u8], images: usize, distinct_env: bool) -> Vec<u8> {
    let mut entries = vec![file("oci-layout", OCI_LAYOUT, 0o644)];
    let ld = sha(layer);
    entries.push(file(&ld.blob_path(), layer, 0o644));
    let mut descs = Vec::new();
    for i in 0..images {
        let env = if distinct_env {
            vec!["PATH=/bin".to_string(), format!("N={i}")]
        } else {
            vec!["PATH=/bin".to_string()]
        };
        let config = to_json(&json!({
            "architecture": host_arch(),
            "os": "linux",
            "config": {"Entrypoint": ["/bin/true"], "Env": env, "Labels": {"n": i.to_string()}},
            "rootfs": {"type": "layers", "diff_ids": [ld.to_string()]},
        }));
        let manifest = to_json(&json!({
            "schemaVersion": 2,
            "mediaType": MT_MANIFEST,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                       "digest": sha(&config).to_string(), "size": config.len()},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                        "digest": ld.to_string(), "size": layer.len()}],
        }));
        entries.push(file(&sha(&config).blob_path(), &config, 0o644));
        entries.push(file(&sha(&manifest).blob_path(), &manifest, 0o644));
        descs.push(json!({"mediaType": MT_MANIFEST,
                          "digest": sha(&manifest).to_string(), "size": manifest.len(),
                          "annotations": {"org.opencontainers.image.ref.name": format!("t{i}")}}));
    }
    let index = json!({"schemaVersion": 2, "manifests": descs});
    entries.push(file("index.json", &to_json(&index), 0o644));
    tar(&entries)
}

#[test]
fn a_layer_listed_thousands_of_times_is_applied_once() {
    let tmp = Tmp::new("repeat-layer");
    let layer = large_layer(2_000, 16);
    let p = tmp.write("repeat.tar", &layer_listed(&layer, 5_000));
    let start = std::time::Instant::now();
    let r = run(&p, &[]);
    let took = start.elapsed();
    assert_judged(&r, "5,000 copies of one layer");
    let img = image0(&r);
    assert_eq!(img["verdict"], "ok", "{}", r.all());
    let notes: Vec<&str> = img["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["message"].as_str())
        .collect();
    assert!(
        notes
            .iter()
            .any(|m| m.contains("5000 layers, 4999 of them again")),
        "{notes:?}"
    );
    // Applying 5,000 copies of 2,000 entries would be ten million map
    // operations; once is a few thousand. Generous for a loaded debug run.
    assert!(took.as_secs() < 30, "took {took:?}");
}

#[test]
fn repeated_layers_give_the_filesystem_of_their_last_positions() {
    // base, app, base: the app's file over /bin/true is undone by the base
    // applied again, so the entrypoint is the base's program again.
    let tmp = Tmp::new("repeat-order");
    let base = large_layer(1, 1);
    let app = tar(&[dir("bin/"), file("bin/true", b"#!/bin/missing\n", 0o755)]);
    let mk = |order: &[&Vec<u8>]| {
        let owned: Vec<Vec<u8>> = order.iter().map(|l| l.to_vec()).collect();
        let config = to_json(&json!({
            "architecture": host_arch(),
            "os": "linux",
            "config": {"Entrypoint": ["/bin/true"], "Env": ["PATH=/bin"]},
            "rootfs": {"type": "layers", "diff_ids": owned.iter().map(|l| sha(l).to_string()).collect::<Vec<_>>()},
        }));
        docker_archive(&config, &owned)
    };
    // Rebuild with the base listed again after the app.
    let config = to_json(&json!({
        "architecture": host_arch(),
        "os": "linux",
        "config": {"Entrypoint": ["/bin/true"], "Env": ["PATH=/bin"]},
        "rootfs": {"type": "layers", "diff_ids": [sha(&base).to_string(), sha(&app).to_string(), sha(&base).to_string()]},
    }));
    let cfg_name = format!("{}.json", sha(&config).hex());
    let manifest = json!([{"Config": cfg_name, "RepoTags": ["order:latest"],
                           "Layers": ["0/layer.tar", "1/layer.tar", "0/layer.tar"]}]);
    let data = tar(&[
        file(&cfg_name, &config, 0o644),
        dir("0/"),
        file("0/layer.tar", &base, 0o644),
        dir("1/"),
        file("1/layer.tar", &app, 0o644),
        file("manifest.json", &to_json(&manifest), 0o644),
    ]);
    let p = tmp.write("order.tar", &data);
    let r = run(&p, &[]);
    assert_judged(&r, "base, app, base");
    let img = image0(&r);
    assert_eq!(img["entrypoint"]["kind"], "elf", "{}", r.all());
    // Without the repeat, the app's script wins.
    let p = tmp.write("plain.tar", &mk(&[&base, &app]));
    let r = run(&p, &[]);
    assert_ne!(image0(&r)["entrypoint"]["kind"], "elf", "{}", r.all());
}

#[test]
fn thousands_of_images_on_one_large_layer_cost_one_layer() {
    let tmp = Tmp::new("shared-layer");
    let layer = large_layer(3_000, 64);
    for distinct in [false, true] {
        let p = tmp.write("shared.tar", &images_sharing(&layer, 1_000, distinct));
        let start = std::time::Instant::now();
        let r = run(&p, &[]);
        let took = start.elapsed();
        assert_eq!(r.code, 0, "{}", r.all());
        let images = r.json()["inputs"][0]["images"].as_array().unwrap().clone();
        assert_eq!(images.len(), 1_000);
        assert!(images.iter().all(|i| i["verdict"] == "ok"));
        assert!(
            took.as_secs() < 40,
            "distinct env {distinct}: took {took:?}"
        );
    }
}
