//! The judge's cost on small hostile images (the caps of `JudgeLimits`):
//! thousands of missing `DT_NEEDED` libraries × a huge `LD_LIBRARY_PATH`,
//! thousands of `include` lines in `/etc/ld.so.conf` (and a deep chain of
//! them), a huge `PATH` of symlinked directories. Each run of the real binary
//! (default caps) must come back with the findings capped and a note saying
//! what was cut; `write_cost_inputs` writes the same images for
//! `scripts/hostile-measure.sh`, which times them in release.

use super::*;

/// A minimal dynamic ELF64 little-endian for this machine: a PIE (with
/// `PT_INTERP` when `interp` is given) whose `PT_DYNAMIC` names `needed`.
fn dyn_elf(interp: Option<&str>, needed: &[String]) -> Vec<u8> {
    let machine: u16 = match crate::support::host_arch() {
        "arm64" => 183,
        _ => 62,
    };
    let phnum = if interp.is_some() { 3 } else { 2 };
    let interp_off = 64 + 56 * phnum;
    let interp_bytes = interp.map(|i| format!("{i}\0")).unwrap_or_default();
    let align8 = |n: usize| n.div_ceil(8) * 8;
    let strtab_off = align8(interp_off + interp_bytes.len());
    let mut strtab = vec![0u8];
    let mut offsets = Vec::new();
    for n in needed {
        offsets.push(strtab.len() as u64);
        strtab.extend_from_slice(n.as_bytes());
        strtab.push(0);
    }
    let dyn_off = align8(strtab_off + strtab.len());
    let mut dynamic = Vec::new();
    let mut entry = |tag: u64, val: u64| {
        dynamic.extend_from_slice(&tag.to_le_bytes());
        dynamic.extend_from_slice(&val.to_le_bytes());
    };
    for o in &offsets {
        entry(1, *o); // DT_NEEDED
    }
    entry(5, strtab_off as u64); // DT_STRTAB
    entry(10, strtab.len() as u64); // DT_STRSZ
    entry(0, 0); // DT_NULL
    let total = dyn_off + dynamic.len();

    let mut out = vec![0u8; total];
    out[..16].copy_from_slice(b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0");
    let put = |out: &mut Vec<u8>, at: usize, bytes: &[u8]| {
        out[at..at + bytes.len()].copy_from_slice(bytes)
    };
    put(&mut out, 16, &3u16.to_le_bytes()); // ET_DYN
    put(&mut out, 18, &machine.to_le_bytes());
    put(&mut out, 20, &1u32.to_le_bytes());
    put(&mut out, 24, &0x1000u64.to_le_bytes()); // e_entry
    put(&mut out, 32, &64u64.to_le_bytes()); // e_phoff
    put(&mut out, 52, &64u16.to_le_bytes()); // e_ehsize
    put(&mut out, 54, &56u16.to_le_bytes()); // e_phentsize
    put(&mut out, 56, &(phnum as u16).to_le_bytes());
    put(&mut out, 58, &64u16.to_le_bytes()); // e_shentsize
    let mut ph = 64;
    let mut phdr = |out: &mut Vec<u8>, p_type: u32, flags: u32, off: usize, size: usize| {
        put(out, ph, &p_type.to_le_bytes());
        put(out, ph + 4, &flags.to_le_bytes());
        for (i, v) in [off, off, off, size, size, 8].into_iter().enumerate() {
            put(out, ph + 8 + 8 * i, &(v as u64).to_le_bytes());
        }
        ph += 56;
    };
    phdr(&mut out, 1, 5, 0, total); // PT_LOAD, all of it at vaddr 0
    if interp.is_some() {
        phdr(&mut out, 3, 4, interp_off, interp_bytes.len()); // PT_INTERP
    }
    phdr(&mut out, 2, 6, dyn_off, dynamic.len()); // PT_DYNAMIC
    put(&mut out, interp_off, interp_bytes.as_bytes());
    put(&mut out, strtab_off, &strtab);
    put(&mut out, dyn_off, &dynamic);
    out
}

const LOADER: &str = "/lib64/ld-linux-x86-64.so.2";

/// An image whose entrypoint `/app/prog` needs `needed`, with a loader, the
/// extra `entries` and the config's `env`.
fn image(needed: &[String], entries: Vec<Ent>, env: &[String]) -> Vec<u8> {
    let loader = if crate::support::host_arch() == "arm64" {
        "/lib/ld-linux-aarch64.so.1"
    } else {
        LOADER
    };
    let mut all = vec![
        file("app/prog", &dyn_elf(Some(loader), needed), 0o755),
        file(loader.trim_start_matches('/'), &dyn_elf(None, &[]), 0o755),
    ];
    all.extend(entries);
    let mut cfg = config(&["/app/prog"], 1);
    cfg["config"]["Env"] = json!(env);
    docker_archive(&to_json(&cfg), &[tar(&all)])
}

/// 3000 missing libraries × an `LD_LIBRARY_PATH` of 5000 directories (each
/// hint used to copy the whole list: 15 million strings).
fn missing_libs_huge_ld_library_path() -> Vec<u8> {
    let needed: Vec<String> = (0..3000).map(|i| format!("libgone{i}.so")).collect();
    let lp = (0..5000)
        .map(|i| format!("/opt/l{i}"))
        .collect::<Vec<_>>()
        .join(":");
    image(&needed, vec![], &[format!("LD_LIBRARY_PATH={lp}")])
}

/// A chain of 20 configs in `/etc/ld.so.conf.d/`, each naming a directory
/// and including the next.
fn include_chain() -> Vec<Ent> {
    (0..20)
        .map(|i| {
            file(
                &format!("etc/ld.so.conf.d/c{i}"),
                format!("/usr/chain{i}\ninclude c{}\n", i + 1).as_bytes(),
                0o644,
            )
        })
        .collect()
}

/// `/etc/ld.so.conf` of 5000 `include` lines (each a walk of the whole
/// filesystem; 50 KiB, under the size of config kept) and the chain.
fn ld_so_conf_includes() -> Vec<u8> {
    let mut conf = "include ld.so.conf.d/c0\n".to_string();
    for _ in 0..5000 {
        conf.push_str("include x\n");
    }
    let mut entries = vec![file("etc/ld.so.conf", conf.as_bytes(), 0o644)];
    entries.extend(include_chain());
    for i in 0..2000 {
        entries.push(file(&format!("etc/ld.so.conf.d/f{i}"), b"", 0o644));
    }
    image(&["libgone.so".to_string()], entries, &[])
}

/// A `PATH` of 5000 directories, each a chain of symlinks (20 hops) to an
/// empty directory, and a command found in none of them.
fn huge_path_of_symlinks() -> Vec<u8> {
    let mut entries = vec![dir("real")];
    for hop in 0..20 {
        let next = if hop == 19 {
            "/real".to_string()
        } else {
            format!("/h/{}", hop + 1)
        };
        entries.push(symlink(&format!("h/{hop}"), &next));
    }
    let mut path = Vec::new();
    for i in 0..5000 {
        entries.push(symlink(&format!("p/{i}"), "/h/0"));
        path.push(format!("/p/{i}"));
    }
    let mut cfg = config(&["prog"], 1);
    cfg["config"]["Env"] = json!([format!("PATH={}", path.join(":"))]);
    docker_archive(&to_json(&cfg), &[tar(&entries)])
}

/// The findings of the first image of a JSON report.
fn findings(r: &Run) -> Vec<Value> {
    image0(r)["findings"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn notes_saying(r: &Run, words: &str) -> usize {
    findings(r)
        .iter()
        .filter(|f| f["severity"] == "info")
        .filter(|f| f["message"].as_str().is_some_and(|m| m.contains(words)))
        .count()
}

// Before: each of the 3000 missing libraries got a finding whose hint listed
// all 5000 search directories (and every name was looked for in each).
#[test]
fn missing_libraries_and_search_lists_are_capped() {
    let t = Tmp::new("costs-ld");
    let p = t.write("img.tar", &missing_libs_huge_ld_library_path());
    let r = run(&p, &[]);
    assert_judged(&r, "missing libraries");
    let missing: Vec<Value> = findings(&r)
        .into_iter()
        .filter(|f| f["rule"] == "missing-library")
        .collect();
    assert_eq!(missing.len(), 64, "{}", r.all());
    for f in &missing {
        let hint = f["hint"].as_str().unwrap();
        assert!(hint.chars().count() <= 4097, "{hint}");
        assert!(hint.contains("and 240 more directories"), "{hint}");
    }
    assert_eq!(
        notes_saying(&r, "more needed names were not looked for (limit)"),
        1,
        "{}",
        r.all()
    );
    assert_eq!(
        notes_saying(&r, "search list was cut to its first 256 directories"),
        1,
        "{}",
        r.all()
    );
}

// Before: every `include` line was a walk of the whole filesystem, for every
// object the loader maps, without bound.
#[test]
fn ld_so_conf_includes_are_capped() {
    let t = Tmp::new("costs-conf");
    let p = t.write("img.tar", &ld_so_conf_includes());
    let r = run(&p, &[]);
    assert_judged(&r, "ld.so.conf");
    assert!(
        r.rules().contains(&"missing-library".to_string()),
        "{}",
        r.all()
    );
    assert_eq!(
        notes_saying(
            &r,
            "4938 `include` lines past the first 64 were not followed (limit)"
        ),
        1,
        "{}",
        r.all()
    );
}

#[test]
fn ld_so_conf_include_chains_are_capped_in_depth() {
    let mut entries = vec![file(
        "etc/ld.so.conf",
        b"include /etc/ld.so.conf.d/c0\n",
        0o644,
    )];
    entries.extend(include_chain());
    let t = Tmp::new("costs-depth");
    let p = t.write("img.tar", &image(&["libgone.so".to_string()], entries, &[]));
    let r = run(&p, &[]);
    assert_judged(&r, "ld.so.conf chain");
    assert_eq!(
        notes_saying(&r, "nested more than 8 deep were not followed (limit)"),
        1,
        "{}",
        r.all()
    );
    // The directories of the configs within the depth are searched.
    let hint = findings(&r)
        .into_iter()
        .find(|f| f["rule"] == "missing-library")
        .and_then(|f| f["hint"].as_str().map(str::to_string))
        .unwrap_or_default();
    assert!(
        hint.contains("/usr/chain0") && !hint.contains("/usr/chain9"),
        "{hint}"
    );
}

// Before: every PATH entry was looked up (each through its symlinks) and
// listed in the finding.
#[test]
fn huge_path_of_symlinked_directories_is_capped() {
    let t = Tmp::new("costs-path");
    let p = t.write("img.tar", &huge_path_of_symlinks());
    let r = run(&p, &[]);
    assert_judged(&r, "huge PATH");
    assert_eq!(
        notes_saying(
            &r,
            "PATH has 5000 entries: commands are looked up in the first 256 only (limit)"
        ),
        1,
        "{}",
        r.all()
    );
    let missing = findings(&r)
        .into_iter()
        .find(|f| f["rule"] == "entrypoint-missing")
        .expect("entrypoint-missing");
    let msg = missing["message"].as_str().unwrap();
    assert!(msg.contains("and 240 more)"), "{msg}");
    assert!(msg.chars().count() <= 4097, "{msg}");
}

/// Writes the cost cases into `$HOSTILE_OUT` for `scripts/hostile-measure.sh`.
#[test]
#[ignore]
fn write_cost_inputs() {
    let Some(out) = super::hostile_out() else {
        return;
    };
    let w = |name: &str, data: &[u8]| std::fs::write(out.join(name), data).unwrap();
    w(
        "cost-missing-libs-x-ld-library-path.tar",
        &missing_libs_huge_ld_library_path(),
    );
    w("cost-ld-so-conf-includes.tar", &ld_so_conf_includes());
    w("cost-path-of-symlinks.tar", &huge_path_of_symlinks());
}

// Before: a finding quoted image strings whole (a 1 MiB entrypoint path was
// a 1 MiB message, in every format).
#[test]
fn one_finding_carries_at_most_finding_chars_of_the_image() {
    let long = format!("/{}", "a".repeat(1 << 20));
    let cfg = to_json(&config(&[&long], 1));
    let t = Tmp::new("costs-long");
    let p = t.write(
        "img.tar",
        &docker_archive(&cfg, &[tar(&[file("app/x", b"", 0o644)])]),
    );
    let r = run(&p, &[]);
    let f = findings(&r)
        .into_iter()
        .find(|f| f["rule"] == "entrypoint-missing")
        .expect("entrypoint-missing");
    let msg = f["message"].as_str().unwrap();
    assert_eq!(msg.chars().count(), 4097, "{}", &msg[..200]);
    assert!(msg.ends_with('…'));
}
