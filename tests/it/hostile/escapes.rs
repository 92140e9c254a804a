//! Escapes on every channel: the same hostile strings (ESC sequences, BEL,
//! C1 CSI, bidi override and isolate, RLM, Arabic letter mark, tag
//! characters) in file names, the tag, the index platform, the config's
//! architecture, OS and variant, the entrypoint, labels, history and the
//! input's own file name, run through every format and both streams. No raw
//! control or bidi character may reach stdout or stderr, and the JSON
//! formats keep every string lossless (`\uXXXX` escapes that parse back).

use super::*;

use archscan::escape::hazard;

/// One of each kind of character a terminal or a bidi-aware viewer acts on.
const NASTY: &str = "\x1b[2J\x1b]0;pwn\x07\u{9b}31m\u{202e}\u{2066}\u{200f}\u{61c}\u{e0041}\x7f";

fn nasty(tag: &str) -> String {
    format!("{tag}{NASTY}{tag}")
}

/// An OCI archive whose index advertises a hostile platform (and a second
/// one whose manifest is missing: a note naming it), whose config and files
/// carry hostile strings everywhere a string can go.
fn hostile_oci() -> Vec<u8> {
    let entry = format!("/app/{}", nasty("run"));
    let layer = tar(&[
        dir("app"),
        file(
            entry.trim_start_matches('/'),
            format!("#!/{}\n", nasty("sh")).as_bytes(),
            0o755,
        ),
        file(&format!("app/{}.so", nasty("lib")), b"\x7fELF", 0o644),
    ]);
    let cfg = to_json(&json!({
        "architecture": nasty("arch"),
        "os": nasty("os"),
        "variant": nasty("v"),
        "config": {
            "Entrypoint": [entry, nasty("arg")],
            "Env": [format!("PATH=/{}", nasty("bin"))],
            "Labels": {nasty("label"): nasty("value")},
            "User": nasty("user"),
        },
        "rootfs": {"type": "layers", "diff_ids": [sha(&layer).to_string()]},
        "history": [{"created_by": nasty("created")}],
    }));
    let manifest = to_json(&json!({
        "schemaVersion": 2,
        "mediaType": MT_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": sha(&cfg).to_string(), "size": cfg.len()},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                    "digest": sha(&layer).to_string(), "size": layer.len()}],
    }));
    let absent = sha(b"absent");
    let index = json!({
        "schemaVersion": 2,
        "manifests": [
            {"mediaType": MT_MANIFEST, "digest": sha(&manifest).to_string(), "size": manifest.len(),
             "platform": {"architecture": nasty("iarch"), "os": nasty("ios"), "variant": nasty("iv")},
             "annotations": {"org.opencontainers.image.ref.name": nasty("tag")}},
            {"mediaType": MT_MANIFEST, "digest": absent.to_string(), "size": 10,
             "platform": {"architecture": nasty("garch"), "os": "linux"}},
        ],
    });
    tar(&[
        file("oci-layout", OCI_LAYOUT, 0o644),
        file(&sha(&layer).blob_path(), &layer, 0o644),
        file(&sha(&cfg).blob_path(), &cfg, 0o644),
        file(&sha(&manifest).blob_path(), &manifest, 0o644),
        file("index.json", &to_json(&index), 0o644),
    ])
}

/// A `docker save` archive whose manifest names a hostile layer member that
/// is not there: the image is unreadable and the reason, naming the member,
/// goes to stderr.
fn hostile_unreadable() -> Vec<u8> {
    let cfg = to_json(&config(&["/x"], 1));
    let cfg_name = format!("{}.json", sha(&cfg).hex());
    let manifest = json!([{"Config": cfg_name, "RepoTags": [nasty("t:t")],
                           "Layers": [format!("{}/layer.tar", nasty("gone"))]}]);
    tar(&[
        file(&cfg_name, &cfg, 0o644),
        file("manifest.json", &to_json(&manifest), 0o644),
    ])
}

/// The first raw hazard in `s` other than the newlines that end lines.
fn raw_hazard(s: &str) -> Option<(usize, char)> {
    s.char_indices().find(|&(_, c)| hazard(c) && c != '\n')
}

/// Every string in a JSON value (keys included).
fn strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
        Value::Object(o) => {
            for (k, x) in o {
                out.push(k.clone());
                strings(x, out);
            }
        }
        _ => {}
    }
}

// Before: the text report printed the index platform and the config's
// architecture raw, stderr carried archive strings raw in JSON/SARIF modes,
// and JSON/SARIF passed C1 controls and bidi overrides through unescaped.
#[test]
fn hostile_strings_never_reach_any_output_raw() {
    let t = Tmp::new("escapes");
    let good = t.write(&format!("{}.tar", nasty("in")), &hostile_oci());
    let bad = t.write(&format!("{}.tar", nasty("bad")), &hostile_unreadable());
    let (good, bad) = (good.to_str().unwrap(), bad.to_str().unwrap());
    for format in ["text", "json", "jsonl", "sarif"] {
        for verbose in [false, true] {
            let mut args = vec![good, bad, "--format", format];
            if verbose {
                args.push("--verbose");
            }
            let r = run_with(&args, None, &[]);
            assert_eq!(r.code, 2, "{format}: the unreadable input\n{}", r.all());
            for (stream, out) in [("stdout", &r.stdout), ("stderr", &r.stderr)] {
                if let Some((i, c)) = raw_hazard(out) {
                    panic!(
                        "{format}: raw U+{:04X} on {stream} at byte {i}\n{}",
                        c as u32,
                        r.all()
                    );
                }
            }
            // stderr names the missing hostile member, escaped.
            assert!(
                r.stderr.contains("gone\\x1b[2J") && r.stderr.contains("\\u{202e}"),
                "{format}\n{}",
                r.all()
            );
            if format == "text" {
                // The index platform and the config's architecture, escaped
                // (platforms are lower-cased as containerd does).
                for word in [
                    "index       ios\\x1b[2j",
                    "/arch\\x1b[2j\\x1b]0;pwn\\x07\\x9b31m\\u{202e}",
                ] {
                    assert!(r.stdout.contains(word), "text lacks {word}\n{}", r.all());
                }
                continue;
            }
            // Lossless: the original strings parse back from every document.
            let docs: Vec<Value> = if format == "jsonl" {
                r.stdout
                    .lines()
                    .map(|l| serde_json::from_str(l).expect("a JSON line"))
                    .collect()
            } else {
                vec![r.json()]
            };
            let mut all = Vec::new();
            docs.iter().for_each(|d| strings(d, &mut all));
            let has = |s: &str| all.iter().any(|x| x.contains(s));
            for s in [nasty("gone"), nasty("in")] {
                assert!(has(&s), "{format}: {s:?} not kept\n{}", r.all());
            }
            for s in [nasty("run"), nasty("tag"), nasty("created")] {
                assert!(has(&s), "{format}: {s:?} not kept\n{}", r.all());
            }
            if format == "json" || format == "jsonl" {
                let declared = docs
                    .iter()
                    .flat_map(|d| {
                        [
                            d.pointer("/inputs/0/images/0/declared/architecture"),
                            d.pointer("/image/declared/architecture"),
                        ]
                    })
                    .flatten()
                    .next()
                    .cloned();
                assert_eq!(declared, Some(json!(nasty("arch"))), "{format}");
            }
        }
    }
}
