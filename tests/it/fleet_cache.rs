//! The run-wide layer cache through the library: inputs scanned with one
//! shared [`ScanOptions`] (as `main` does for several inputs) read a layer
//! they share once, judge an image reached twice once, give the same reports
//! as scans without the cache, and never reuse a layer whose key a hash
//! disproves.

use std::sync::Arc;

use archscan::cache::LayerCache;
use archscan::ScanOptions;
use serde_json::json;

use crate::support::archive::*;
use crate::support::tmp::Tmp;

/// A 64-byte ELF header for `machine` (62 x86-64, 183 AArch64): enough for
/// an executable's platform.
fn elf(machine: u16) -> Vec<u8> {
    let mut h = vec![0u8; 64];
    h[..4].copy_from_slice(b"\x7fELF");
    h[4] = 2;
    h[5] = 1;
    h[6] = 1;
    h[16..18].copy_from_slice(&2u16.to_le_bytes());
    h[18..20].copy_from_slice(&machine.to_le_bytes());
    h[20..24].copy_from_slice(&1u32.to_le_bytes());
    h[52..54].copy_from_slice(&64u16.to_le_bytes());
    h
}

fn base_layer() -> Vec<u8> {
    let mut entries = vec![dir("bin/"), dir("etc/")];
    for i in 0..50 {
        entries.push(file(&format!("bin/tool{i}"), &elf(62), 0o755));
    }
    entries.push(file("etc/passwd", b"root:x:0:0::/root:/bin/sh\n", 0o644));
    tar(&entries)
}

fn app_layer(name: &str) -> Vec<u8> {
    tar(&[dir("app/"), file(&format!("app/{name}"), &elf(62), 0o755)])
}

/// A config whose diff_ids are the real ones of `layers` (uncompressed).
fn config_for(layers: &[&[u8]], entrypoint: &str, arch: &str) -> Vec<u8> {
    let diff_ids: Vec<String> = layers.iter().map(|l| sha(l).to_string()).collect();
    to_json(&json!({
        "architecture": arch,
        "os": "linux",
        "config": {"Entrypoint": [entrypoint], "Env": ["PATH=/bin"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": vec![json!({"created_by": "fleet test"}); layers.len()],
    }))
}

fn docker_save(layers: &[&[u8]], entrypoint: &str) -> Vec<u8> {
    let owned: Vec<Vec<u8>> = layers.iter().map(|l| l.to_vec()).collect();
    docker_archive(&config_for(layers, entrypoint, "amd64"), &owned)
}

fn opts(cache: Option<Arc<LayerCache>>) -> ScanOptions {
    ScanOptions {
        cache,
        ..ScanOptions::default()
    }
}

/// Scans `paths` one after another with one `cache` shared by all: their
/// reports, and what the cache counted.
fn scan_sharing(
    cache: LayerCache,
    paths: &[&std::path::Path],
) -> (Vec<archscan::report::Report>, archscan::cache::Stats) {
    let cache = Arc::new(cache);
    let shared = opts(Some(Arc::clone(&cache)));
    let reports = paths
        .iter()
        .map(|p| archscan::scan(p.to_str().unwrap(), &shared))
        .collect();
    (reports, cache.stats())
}

/// The report without what names the input, for comparing runs.
fn judged(r: &archscan::report::Report) -> serde_json::Value {
    let mut v = serde_json::to_value(&r.images).unwrap();
    for img in v.as_array_mut().unwrap() {
        img.as_object_mut().unwrap().remove("error");
    }
    v
}

#[test]
fn two_archives_sharing_a_base_layer_read_it_once() {
    let tmp = Tmp::new("fleet-cache");
    let base = base_layer();
    let (a1, a2) = (app_layer("one"), app_layer("two"));
    let p1 = tmp.write("one.tar", &docker_save(&[&base, &a1], "/app/one"));
    let p2 = tmp.write("two.tar", &docker_save(&[&base, &a2], "/app/two"));
    let (r, s) = scan_sharing(LayerCache::for_limits(&Default::default()), &[&p1, &p2]);
    let (r1, r2) = (&r[0], &r[1]);
    // base once, each app layer once; the second archive's base is a hit.
    assert_eq!((s.reads, s.hits, s.not_kept), (3, 1, 0), "{s:?}");
    // The same reports as scans without the cache.
    for (p, r) in [(&p1, r1), (&p2, r2)] {
        assert!(r.errors.is_empty(), "{:?}", r.errors);
        let alone = archscan::scan(p.to_str().unwrap(), &opts(None));
        assert_eq!(judged(r), judged(&alone));
    }
    assert_eq!(r1.images[0].binaries.len(), 51);
}

#[test]
fn inputs_scanned_in_parallel_read_a_shared_layer_once() {
    use rayon::prelude::*;
    let tmp = Tmp::new("fleet-cache-par");
    let base = base_layer();
    let paths: Vec<String> = (0..12)
        .map(|i| {
            let app = app_layer(&format!("a{i}"));
            tmp.write(
                &format!("{i}.tar"),
                &docker_save(&[&base, &app], &format!("/app/a{i}")),
            )
            .to_str()
            .unwrap()
            .to_string()
        })
        .collect();
    let cache = Arc::new(LayerCache::for_limits(&Default::default()));
    let shared = opts(Some(Arc::clone(&cache)));
    let reports: Vec<_> = paths
        .par_iter()
        .map(|p| archscan::scan(p, &shared))
        .collect();
    assert!(reports.iter().all(|r| r.errors.is_empty()));
    let s = cache.stats();
    // 12 app layers + the base once (a thread already reading another layer
    // may read it again rather than wait: counted apart).
    assert_eq!(s.reads - s.duplicate_reads, 13, "{s:?}");
    assert_eq!(s.hits + s.duplicate_reads, 11, "{s:?}");
}

#[test]
fn an_uncompressed_layer_is_shared_between_docker_save_and_oci() {
    let tmp = Tmp::new("fleet-cache-oci");
    let base = base_layer();
    let app = app_layer("one");
    let docker = tmp.write("docker.tar", &docker_save(&[&base, &app], "/app/one"));
    // The OCI archive's blob of the same layer is named by its digest,
    // which for an uncompressed layer is its diff_id.
    let oci = oci_archive(
        &config_for(&[&base], "/bin/tool0", "amd64"),
        &[(base.clone(), "application/vnd.oci.image.layer.v1.tar")],
    );
    let oci = tmp.write("oci.tar", &oci);
    let (r, s) = scan_sharing(
        LayerCache::for_limits(&Default::default()),
        &[&docker, &oci],
    );
    let (r1, r2) = (&r[0], &r[1]);
    assert!(r1.errors.is_empty() && r2.errors.is_empty());
    assert_eq!((s.reads, s.hits), (2, 1), "{s:?}");
    assert_eq!(r2.images[0].binaries.len(), 50);
}

#[test]
fn a_layer_whose_diff_id_is_false_is_not_reused() {
    let tmp = Tmp::new("fleet-cache-lie");
    let base = base_layer();
    let other = tar(&[dir("bin/"), file("bin/tool0", &elf(183), 0o755)]);
    // The first archive's config claims the base's diff_id for another
    // layer: the hash read with it disproves the claim, so it is not kept.
    let liar_config = config_for(&[&base], "/bin/tool0", "amd64");
    let liar = tmp.write("liar.tar", &docker_archive(&liar_config, &[other]));
    let honest = tmp.write("honest.tar", &docker_save(&[&base], "/bin/tool0"));
    let (r, s) = scan_sharing(
        LayerCache::for_limits(&Default::default()),
        &[&liar, &honest],
    );
    let (r1, r2) = (&r[0], &r[1]);
    assert_eq!((s.reads, s.hits, s.not_kept), (2, 0, 1), "{s:?}");
    // Each is judged on its own bytes.
    assert_eq!(r1.images[0].binaries.len(), 1);
    assert_eq!(r2.images[0].binaries.len(), 50);
    assert_ne!(r1.images[0].verdict, r2.images[0].verdict);
}

/// An OCI archive whose one layer blob is stored under `claimed` (its path
/// and descriptor) while holding `blob`: a content address that lies.
fn oci_with_lying_blob(config: &[u8], claimed: &str, blob: &[u8]) -> Vec<u8> {
    let real = oci_archive(
        config,
        &[(blob.to_vec(), "application/vnd.oci.image.layer.v1.tar")],
    );
    let honest = sha(blob).to_string();
    // Rename the blob and its descriptor: same length, so every tar header
    // stays valid; the checksums are recomputed by rebuilding the archive.
    let mut entries = Vec::new();
    for (name, data) in members(&real) {
        let name = name.replace(&honest["sha256:".len()..], &claimed["sha256:".len()..]);
        let data = String::from_utf8(data.to_vec())
            .map(|t| t.replace(&honest, claimed).into_bytes())
            .unwrap_or_else(|_| data.to_vec());
        entries.push(file(&name, &data, 0o644));
    }
    tar(&entries)
}

#[test]
fn a_blob_whose_content_address_lies_is_not_reused() {
    let tmp = Tmp::new("fleet-cache-lying-blob");
    let base = base_layer();
    let other = tar(&[dir("bin/"), file("bin/tool0", &elf(183), 0o755)]);
    // The first archive stores another layer under the base's address
    // (uncompressed, so nothing decodes it): the hash taken to key it
    // disproves the address, and it is not kept for the honest archive.
    let liar = oci_with_lying_blob(
        &config_for(&[&base], "/bin/tool0", "amd64"),
        &sha(&base).to_string(),
        &other,
    );
    let liar = tmp.write("liar.tar", &liar);
    let honest = tmp.write("honest.tar", &docker_save(&[&base], "/bin/tool0"));
    let (r, s) = scan_sharing(
        LayerCache::for_limits(&Default::default()),
        &[&liar, &honest],
    );
    let (r1, r2) = (&r[0], &r[1]);
    assert_eq!((s.hits, s.not_kept), (0, 1), "{s:?}");
    // Each is judged on its own bytes: the honest archive's 50 amd64 tools.
    assert_eq!(
        r2.images[0].binaries.len(),
        50,
        "{:?}",
        r2.images[0].binaries
    );
    assert_eq!(r1.images[0].binaries.len(), 1);
}

#[test]
fn verify_turns_reuse_off() {
    let tmp = Tmp::new("fleet-cache-verify");
    let base = base_layer();
    let p1 = tmp.write("one.tar", &docker_save(&[&base], "/bin/tool0"));
    let p2 = tmp.write("two.tar", &docker_save(&[&base], "/bin/tool1"));
    let cache = Arc::new(LayerCache::for_limits(&Default::default()));
    let shared = ScanOptions {
        verify: true,
        ..opts(Some(Arc::clone(&cache)))
    };
    archscan::scan(p1.to_str().unwrap(), &shared);
    archscan::scan(p2.to_str().unwrap(), &shared);
    assert_eq!(cache.stats(), Default::default());
}

#[test]
fn an_image_reached_twice_is_judged_once() {
    let tmp = Tmp::new("fleet-cache-image");
    let base = base_layer();
    let app = app_layer("one");
    let bytes = docker_save(&[&base, &app], "/app/one");
    let p1 = tmp.write("one.tar", &bytes);
    let p2 = tmp.write("copy.tar", &bytes);
    let (r, s) = scan_sharing(LayerCache::for_limits(&Default::default()), &[&p1, &p2]);
    assert_eq!((s.reads, s.hits, s.image_hits), (2, 2, 1), "{s:?}");
    assert_eq!(judged(&r[0]), judged(&r[1]));
}

#[test]
fn a_cache_with_no_room_still_reads_every_layer() {
    let tmp = Tmp::new("fleet-cache-full");
    let base = base_layer();
    let p1 = tmp.write("one.tar", &docker_save(&[&base], "/bin/tool0"));
    let p2 = tmp.write("two.tar", &docker_save(&[&base], "/bin/tool1"));
    let (r, s) = scan_sharing(LayerCache::new(0), &[&p1, &p2]);
    let (r1, r2) = (&r[0], &r[1]);
    assert!(r1.errors.is_empty() && r2.errors.is_empty());
    assert_eq!(r2.images[0].binaries.len(), 50);
    assert_eq!((s.reads, s.hits), (2, 0), "evicted, so read again: {s:?}");
    assert_eq!(s.evictions, 2);
}

/// One archive holding many images on two shared bases (one of two layers),
/// some of them alike: judged together (in parallel, bases merged once,
/// binary reports shared), every image's report is the one it gets judged
/// alone.
#[test]
fn images_of_one_input_judged_together_are_judged_as_alone() {
    let tmp = Tmp::new("fleet-cache-together");
    let base = base_layer();
    let second = tar(&[
        dir("opt/"),
        file("opt/arm", &elf(183), 0o755),
        hardlink("bin/tool7", "opt/arm"),
    ]);
    let apps: Vec<Vec<u8>> = (0..12)
        .map(|i| app_layer(&format!("app{}", i % 9)))
        .collect();
    let mut entries = Vec::new();
    let mut manifest = Vec::new();
    let mut layer_names: std::collections::HashMap<Vec<u8>, String> = Default::default();
    let mut layer = |entries: &mut Vec<Ent>, l: &[u8]| -> String {
        if let Some(n) = layer_names.get(l) {
            return n.clone();
        }
        let n = format!("{}/layer.tar", layer_names.len());
        entries.push(dir(&format!("{}/", layer_names.len())));
        entries.push(file(&n, l, 0o644));
        layer_names.insert(l.to_vec(), n.clone());
        n
    };
    for (i, app) in apps.iter().enumerate() {
        let layers: Vec<&[u8]> = if i % 2 == 0 {
            vec![&base, app]
        } else {
            vec![&base, &second, app]
        };
        let arch = if i % 5 == 4 { "arm64" } else { "amd64" };
        let config = config_for(&layers, &format!("/app/app{}", i % 9), arch);
        let cfg_name = format!("{}.json", sha(&config).hex());
        entries.push(file(&cfg_name, &config, 0o644));
        let names: Vec<String> = layers.iter().map(|l| layer(&mut entries, l)).collect();
        manifest.push(
            json!({"Config": cfg_name, "RepoTags": [format!("img{i:02}:latest")], "Layers": names}),
        );
    }
    entries.push(file("manifest.json", &to_json(&json!(manifest)), 0o644));
    let p = tmp.write("many.tar", &tar(&entries));
    let path = p.to_str().unwrap();
    let together = archscan::scan(path, &opts(None));
    assert_eq!(together.images.len(), apps.len());
    for (i, img) in together.images.iter().enumerate() {
        let alone = archscan::scan(
            path,
            &ScanOptions {
                image: Some(format!("img{i:02}:")),
                ..opts(None)
            },
        );
        assert_eq!(alone.images.len(), 1, "img{i:02}");
        assert_eq!(
            serde_json::to_value(img).unwrap(),
            serde_json::to_value(&alone.images[0]).unwrap(),
            "img{i:02}"
        );
    }
    let verdicts: Vec<&str> = together.images.iter().map(|i| i.verdict.as_str()).collect();
    assert!(
        verdicts.contains(&"fail") && verdicts.contains(&"ok"),
        "{verdicts:?}"
    );
}

/// Archives on the same base of two layers: the base's merged view is made
/// once in the run and each image merged on it, with the reports of scans
/// without the cache.
#[test]
fn a_base_shared_by_archives_is_merged_once() {
    let tmp = Tmp::new("fleet-cache-view");
    let base = base_layer();
    let second = tar(&[dir("opt/"), file("opt/arm", &elf(183), 0o755)]);
    let paths: Vec<_> = (0..3)
        .map(|i| {
            let app = app_layer(&format!("app{i}"));
            let bytes = docker_save(&[&base, &second, &app], &format!("/app/app{i}"));
            tmp.write(&format!("app{i}.tar"), &bytes)
        })
        .collect();
    let cache = Arc::new(LayerCache::for_limits(&Default::default()));
    let shared = opts(Some(Arc::clone(&cache)));
    for p in &paths {
        let p = p.to_str().unwrap();
        let with = archscan::scan(p, &shared);
        assert!(with.errors.is_empty(), "{:?}", with.errors);
        assert_eq!(judged(&with), judged(&archscan::scan(p, &opts(None))));
    }
    let s = cache.stats();
    assert_eq!(s.view_hits, 2, "{s:?}");
}
