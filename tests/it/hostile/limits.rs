//! Every cap of `Limits`, lowered, through the library API: tar walks, layer
//! scans, the catalog, link resolution and identification.

use archscan::limits::{Exceeded, Limits};

use super::executables::fat_macho;
use super::*;

fn walk_err(data: &[u8], limits: &Limits) -> archscan::archive::tar::TarError {
    use archscan::archive::tar::{walk, SliceInput, StreamInput};
    let a = walk(&mut SliceInput::new(data), limits, |_, _| Ok(()))
        .expect_err("slice walk should fail");
    let b = walk(&mut StreamInput::new(data), limits, |_, _| Ok(()))
        .expect_err("stream walk should fail");
    assert_eq!(
        a.to_string(),
        b.to_string(),
        "slice and stream walks disagree"
    );
    a
}

#[test]
fn limit_entries() {
    let data = tar(&[
        file("a", b"", 0o644),
        file("b", b"", 0o644),
        file("c", b"", 0o644),
    ]);
    let limits = Limits {
        entries: 2,
        ..Limits::default()
    };
    let e = walk_err(&data, &limits);
    assert_eq!(e.problem.exceeded(), Some(Exceeded::Entries(2)), "{e}");
}

#[test]
fn limit_name_bytes() {
    let data = tar(&[file(&"n".repeat(300), b"", 0o644)]);
    let limits = Limits {
        name_bytes: 200,
        ..Limits::default()
    };
    let e = walk_err(&data, &limits);
    assert_eq!(
        e.problem.exceeded(),
        Some(Exceeded::Header {
            what: "GNU long name",
            size: 301,
            cap: 200
        }),
        "{e}"
    );
    let data = tar(&[symlink("l", &"t".repeat(300))]);
    let e = walk_err(&data, &limits);
    assert!(
        matches!(
            e.problem.exceeded(),
            Some(Exceeded::Header {
                what: "GNU long link name",
                ..
            })
        ),
        "{e}"
    );
}

#[test]
fn limit_pax_bytes() {
    let data = tar(&[pax_header("p", &[b'a'; 3000]), file("a", b"", 0o644)]);
    let limits = Limits {
        pax_bytes: 1000,
        ..Limits::default()
    };
    let e = walk_err(&data, &limits);
    assert_eq!(
        e.problem.exceeded(),
        Some(Exceeded::Header {
            what: "PAX header",
            size: 3000,
            cap: 1000
        }),
        "{e}"
    );
}

#[test]
fn limit_layer_bytes() {
    use archscan::layers::scan::{scan_slice, Hashing};
    let layer = tar(&[
        file("big", &vec![1u8; 1 << 20], 0o644),
        file("after", b"x", 0o644),
    ]);
    let limits = Limits {
        layer_bytes: 64 * 1024,
        ..Limits::default()
    };
    for c in [Comp::Gzip, Comp::Zstd] {
        let e = scan_slice(
            &compress(&layer, c),
            &limits,
            &archscan::meter::Meter::default(),
            Hashing::Never,
        )
        .unwrap_err();
        assert_eq!(
            e.exceeded(),
            Some(Exceeded::LayerBytes(65536)),
            "{c:?}: {e}"
        );
    }
}

#[test]
fn limit_index_bytes() {
    use archscan::layers::scan::{scan_slice, Hashing};
    let entries: Vec<Ent> = (0..100)
        .map(|i| file(&format!("{i:0>200}"), b"", 0o644))
        .collect();
    let layer = tar(&entries);
    let limits = Limits {
        index_bytes: 10_000,
        ..Limits::default()
    };
    for c in [Comp::None, Comp::Gzip] {
        let e = scan_slice(
            &compress(&layer, c),
            &limits,
            &archscan::meter::Meter::default(),
            Hashing::Never,
        )
        .unwrap_err();
        assert_eq!(
            e.exceeded(),
            Some(Exceeded::IndexBytes(10000)),
            "{c:?}: {e}"
        );
    }
    assert!(scan_slice(
        &layer,
        &Limits::default(),
        &archscan::meter::Meter::default(),
        Hashing::Never
    )
    .is_ok());
    // JSON members kept from a stream count too.
    let docs: Vec<Ent> = (0..10)
        .map(|i| file(&format!("{i}.json"), &[b'{'; 3000], 0o644))
        .collect();
    let e = catalog_of(&tar(&docs), &limits)
        .err()
        .expect("over the index cap");
    assert_eq!(e.exceeded(), Some(Exceeded::IndexBytes(10000)), "{e}");
}

fn catalog_of(data: &[u8], limits: &Limits) -> Result<archscan::image::Catalog, Unread> {
    let src = archscan::source::Source::from_stream(
        "mem",
        Box::new(data),
        limits,
        &Default::default(),
        &Default::default(),
    )
    .map_err(|e| Unread {
        exceeded: e.exceeded(),
        message: e.to_string(),
    })?;
    archscan::image::catalog(&src, limits).map_err(|e| Unread {
        exceeded: e.exceeded(),
        message: e.to_string(),
    })
}

/// Why an input's catalog could not be made: the cap it reached, if any,
/// and the message (opening the source and reading the catalog have their
/// own error types).
#[derive(Debug)]
struct Unread {
    exceeded: Option<Exceeded>,
    message: String,
}

impl Unread {
    fn exceeded(&self) -> Option<Exceeded> {
        self.exceeded
    }
}

impl std::fmt::Display for Unread {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

fn unreadable_limits(c: &archscan::image::Catalog) -> Vec<Option<Exceeded>> {
    c.images
        .iter()
        .filter_map(|p| match p {
            archscan::image::Planned::Unreadable(u) => Some(u.error.exceeded()),
            _ => None,
        })
        .collect()
}

#[test]
fn limit_json_bytes_and_depth() {
    let img = small_image();
    let limits_hit = |limits: &Limits| match catalog_of(&img, limits) {
        Ok(c) => unreadable_limits(&c),
        Err(e) => vec![e.exceeded()],
    };
    let limits = Limits {
        json_bytes: 100,
        ..Limits::default()
    };
    let hits = limits_hit(&limits);
    assert!(
        hits.iter()
            .any(|h| matches!(h, Some(Exceeded::JsonBytes { cap: 100, .. }))),
        "{hits:?}"
    );
    let limits = Limits {
        json_depth: 2,
        ..Limits::default()
    };
    let hits = limits_hit(&limits);
    assert!(
        hits.iter()
            .any(|h| matches!(h, Some(Exceeded::JsonDepth { cap: 2, .. }))),
        "{hits:?}"
    );
}

#[test]
fn limit_index_depth_and_manifests() {
    let mut entries = vec![file("oci-layout", OCI_LAYOUT, 0o644)];
    let mut child = format!("sha256:{}", "c".repeat(64));
    let mut ty = MT_MANIFEST;
    for _ in 0..5 {
        let doc = to_json(
            &json!({"mediaType": MT_INDEX, "manifests": [{"mediaType": ty, "digest": child}]}),
        );
        entries.push(file(&sha(&doc).blob_path(), &doc, 0o644));
        child = sha(&doc).to_string();
        ty = MT_INDEX;
    }
    entries.push(file(
        "index.json",
        &to_json(&json!({"manifests": [{"mediaType": MT_INDEX, "digest": child}]})),
        0o644,
    ));
    let data = tar(&entries);
    let limits = Limits {
        index_depth: 2,
        ..Limits::default()
    };
    let hits = unreadable_limits(&catalog_of(&data, &limits).unwrap());
    assert!(hits.contains(&Some(Exceeded::IndexDepth(2))), "{hits:?}");
    let limits = Limits {
        manifests: 3,
        ..Limits::default()
    };
    let hits = unreadable_limits(&catalog_of(&data, &limits).unwrap());
    assert!(hits.contains(&Some(Exceeded::Manifests(3))), "{hits:?}");
}

#[test]
fn limit_link_hops() {
    use archscan::layers::merge::{MergedFs, Resolved};
    use archscan::layers::scan::{scan_slice, Hashing};
    let mut entries = vec![file("end", b"x", 0o644)];
    for i in 0..10 {
        let next = if i == 9 {
            "end".to_string()
        } else {
            format!("l{}", i + 1)
        };
        entries.push(symlink(&format!("l{i}"), &next));
    }
    let idx = scan_slice(
        &tar(&entries),
        &Limits::default(),
        &archscan::meter::Meter::default(),
        Hashing::Never,
    )
    .unwrap();
    let fs = MergedFs::merge(vec![std::sync::Arc::new(idx)], 5);
    assert!(matches!(fs.resolve("/l0"), Resolved::TooManyLinks { .. }));
    assert!(matches!(fs.resolve("/l5"), Resolved::Found { .. }));
}

#[test]
fn limit_ident_caps() {
    use archscan::identify::{identify, Capture, Ident, IdentLimits};
    // A shebang longer than the cap is cut at the cap.
    let mut script = b"#!/".to_vec();
    script.resize(10_000, b'a');
    script.extend_from_slice(b"\n");
    let limits = IdentLimits {
        shebang: 100,
        ..IdentLimits::default()
    };
    match identify(&&script[..], true, &limits) {
        Some(Ident::Script(s)) => assert!(s.interpreter.len() <= 100, "{}", s.interpreter.len()),
        other => panic!("{other:?}"),
    }
    // A streamed capture keeps at most head + tail + extra.
    let limits = IdentLimits {
        head: 1024,
        tail: 1024,
        extra: 4096,
        ..IdentLimits::default()
    };
    let elf = std::fs::read("/bin/true").unwrap();
    let mut cap = Capture::new(elf.len() as u64, true, &limits);
    for piece in elf.chunks(1000) {
        cap.feed(piece);
    }
    let _ = cap.finish();
    // Fat Mach-O slice counts are capped by max_items.
    let limits = IdentLimits {
        max_items: 2,
        ..IdentLimits::default()
    };
    let fat = fat_macho(3, 0);
    match identify(&&fat[..], true, &limits) {
        Some(Ident::Macho(m)) => assert_eq!(m.slices.len(), 2),
        other => panic!("{other:?}"),
    }
}

// manifest.json with thousands of entries bypassed the manifest cap: each
// entry was planned (and its config read) one by one.
#[test]
fn limit_manifests_counts_manifest_json_entries() {
    let cfg = to_json(&config(&["/bin/true"], 0));
    let cfg_name = format!("{}.json", sha(&cfg).hex());
    let entry = json!({"Config": cfg_name, "RepoTags": ["t:1"], "Layers": []});
    let manifest = to_json(&Value::Array(vec![entry; 50]));
    let data = tar(&[
        file(&cfg_name, &cfg, 0o644),
        file("manifest.json", &manifest, 0o644),
    ]);
    let limits = Limits {
        manifests: 10,
        ..Limits::default()
    };
    let e = catalog_of(&data, &limits)
        .err()
        .expect("over the manifest cap");
    assert_eq!(e.exceeded(), Some(Exceeded::Manifests(10)), "{e}");
    assert!(catalog_of(&data, &Limits::default()).is_ok());
}
