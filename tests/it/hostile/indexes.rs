//! OCI indexes that name each other or nest without end.

use super::*;

#[test]
fn index_cycles_end() {
    let t = Tmp::new("cycle");
    // Two indexes naming each other (their digests cannot match their bytes,
    // which is a digest-mismatch note on top).
    let da = format!("sha256:{}", "a".repeat(64));
    let db = format!("sha256:{}", "b".repeat(64));
    let ia = to_json(
        &json!({"mediaType": MT_INDEX, "manifests": [{"mediaType": MT_INDEX, "digest": db}]}),
    );
    let ib = to_json(
        &json!({"mediaType": MT_INDEX, "manifests": [{"mediaType": MT_INDEX, "digest": da}]}),
    );
    let data = tar(&[
        file("oci-layout", OCI_LAYOUT, 0o644),
        file(&format!("blobs/sha256/{}", "a".repeat(64)), &ia, 0o644),
        file(&format!("blobs/sha256/{}", "b".repeat(64)), &ib, 0o644),
        file(
            "index.json",
            &to_json(&json!({"manifests": [{"mediaType": MT_INDEX, "digest": da}]})),
            0o644,
        ),
    ]);
    let p = t.write("cycle.tar", &data);
    let r = run_both(&p);
    assert!(r.secs < 20.0);
    assert!(r.stdout.contains("cycle") || r.code == 2, "{}", r.all());
}

#[test]
fn deep_index_nesting_stops_at_the_limit() {
    let t = Tmp::new("deep-index");
    let mut entries = vec![file("oci-layout", OCI_LAYOUT, 0o644)];
    // 50 nested indexes, the innermost naming a manifest that is absent.
    let mut child = format!("sha256:{}", "c".repeat(64));
    let mut child_type = MT_MANIFEST;
    for _ in 0..50 {
        let doc = to_json(&json!({"mediaType": MT_INDEX,
            "manifests": [{"mediaType": child_type, "digest": child}]}));
        let d = sha(&doc);
        entries.push(file(&d.blob_path(), &doc, 0o644));
        child = d.to_string();
        child_type = MT_INDEX;
    }
    entries.push(file(
        "index.json",
        &to_json(&json!({"manifests": [{"mediaType": MT_INDEX, "digest": child}]})),
        0o644,
    ));
    let p = t.write("deep.tar", &tar(&entries));
    let r = run_both(&p);
    expect_unreadable(&r, &p, &["nested", "limit"]);
}
