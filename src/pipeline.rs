//! The run of one input, stage by stage: open the source, read its image
//! plans, scan every distinct layer once (in parallel, largest first), then
//! for each image merge its layers and judge the result into an
//! [`ImageReport`]. Which image `--platform` selects is [`crate::select`]'s
//! call; what is wrong is the judge's.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use rayon::prelude::*;

use crate::cache::{ImageKey, LayerCache, LayerKey};
use crate::digest::{Algorithm, Digest, Hasher};
use crate::findings::Finding;
use crate::image::{self, Catalog, Format, ImagePlan, Planned};
use crate::judge::{self, rules};
use crate::layers::merge::MergedFs;
use crate::layers::scan::{Hashing, LayerIndex};
use crate::limits::Exceeded;
use crate::platform::Platform;
use crate::progress::Task;
use crate::report::{Declared, ImageReport, Report, Verdict};
use crate::scheduler;
use crate::select::{self, Selection};
use crate::source::{LayerError, Source};
use crate::ScanOptions;

/// A layer's scan: its index, or why it could not be read.
type Scanned<'m> = HashMap<&'m str, Result<Arc<LayerIndex>, LayerError>>;

/// Scans one input and judges every image in it. Never fails: what could not
/// be read is in `Report::errors` (and per image in `ImageReport::error`).
pub fn scan(path: &str, opts: &ScanOptions) -> Report {
    scan_os(std::ffi::OsStr::new(path), opts)
}

/// [`scan`] of a word that need not be UTF-8: such a word can only be a
/// path; it is reported as [`crate::fleet::display`] shows it.
pub fn scan_os(word: &std::ffi::OsStr, opts: &ScanOptions) -> Report {
    let display = crate::fleet::display(word);
    let path = display.as_str();
    let mut report = Report::new(path.to_string(), opts.target.clone());
    let opened = match word.to_str() {
        Some(w) => crate::remote::open(
            w,
            &opts.remote,
            opts.target.as_ref(),
            &opts.limits,
            &opts.meter,
            &opts.progress,
        ),
        None => Source::open_path(
            std::path::Path::new(word),
            path,
            &opts.limits,
            &opts.meter,
            &opts.progress,
        )
        .map(|s| (s, None))
        .map_err(crate::remote::OpenError::Source),
    };
    let source = match opened {
        Ok((s, origin)) => {
            report.source.origin = origin;
            s
        }
        Err(e) => {
            report.errors.push(e.to_string());
            return report;
        }
    };
    report.source.compression = source.compression.as_str().to_string();
    let catalog = match image::catalog(&source, &opts.limits) {
        Ok(c) => c,
        Err(e) => {
            report.errors.push(e.to_string());
            return input_changed(&source, report);
        }
    };
    if let Err(e) = holds_something(&source, &catalog, opts) {
        report.errors.push(e);
        return input_changed(&source, report);
    }
    report.source.format = catalog.format.as_str().to_string();
    report.notes = catalog.notes.clone();
    suppress(&mut report.notes, &opts.ignore_rules);
    let mut serves = None;
    report.images = judge_catalog(&source, catalog, opts, &mut serves);
    report.serves = serves.unwrap_or_else(|| match report.images.as_slice() {
        [one] if one.verdict != Verdict::Fail && one.error.is_none() => one.runs_on.clone(),
        _ => Vec::new(),
    });
    input_changed(&source, report)
}

/// The report, unless the input changed while it was read (a mapped file
/// cut or replaced under the scan): then what was judged is not the input,
/// and the one error says so.
fn input_changed(source: &Source, mut report: Report) -> Report {
    if let Some(e) = source.changed() {
        report.images.clear();
        report.serves.clear();
        report.notes.clear();
        report.errors = vec![e.to_string()];
    }
    report
}

/// Refuses an input that holds nothing to judge: no image metadata and not a
/// root filesystem (unless `--rootfs` says it is one), or image metadata that
/// lists no image. `Err` is the message for the report's errors.
fn holds_something(source: &Source, catalog: &Catalog, opts: &ScanOptions) -> Result<(), String> {
    let path = &source.display;
    match catalog.format {
        Format::RootfsTar | Format::RootfsDir => {
            let top = source.top_level();
            if opts.rootfs || crate::source::rootfs::looks_like_rootfs(&top) {
                return Ok(());
            }
            let archives: Vec<&String> = top
                .iter()
                .filter(|n| {
                    [".tar", ".tar.gz", ".tgz", ".tar.zst", ".tar.xz", ".oci"]
                        .iter()
                        .any(|ext| n.ends_with(ext))
                })
                .collect();
            if catalog.format == Format::RootfsDir && !archives.is_empty() {
                let shown: Vec<&str> = archives.iter().take(3).map(|s| s.as_str()).collect();
                let more = if archives.len() > 3 { ", …" } else { "" };
                return Err(format!(
                    "{path}: not an image archive: a directory holding archives ({}{more}); pass them as files: `archscan {}/*.tar`",
                    shown.join(", "),
                    path.trim_end_matches('/')
                ));
            }
            let what = if catalog.format == Format::RootfsDir {
                "no index.json"
            } else {
                "no manifest.json or index.json"
            };
            Err(format!(
                "{path}: not an image archive: {what}, and not a root filesystem (no .dockerenv, fewer than two of {} at its top). archscan reads `docker save` tars, OCI archives and layouts, root filesystems and single programs; pass --rootfs to judge it as a root filesystem anyway",
                crate::source::rootfs::ROOTFS_DIRS.join(", ")
            ))
        }
        Format::Binary => Ok(()),
        _ if catalog.images.is_empty() => {
            let why: Vec<&str> = catalog.notes.iter().map(|n| n.message.as_str()).collect();
            let why = if why.is_empty() {
                String::new()
            } else {
                format!(" ({})", why.join("; "))
            };
            Err(format!(
                "{path}: no image in it: its manifest.json / index.json list no image to judge{why}"
            ))
        }
        _ => Ok(()),
    }
}

/// Drops the findings `--ignore-rule` suppresses, and counts them in one note
/// per filter that suppressed any.
fn suppress(findings: &mut Vec<Finding>, filters: &[crate::RuleFilter]) {
    if filters.is_empty() {
        return;
    }
    let mut counts = vec![0usize; filters.len()];
    findings.retain(|f| match filters.iter().position(|r| r.matches(f)) {
        Some(i) => {
            counts[i] += 1;
            false
        }
        None => true,
    });
    for (filter, n) in filters.iter().zip(counts) {
        if n > 0 {
            let s = if n == 1 { "" } else { "s" };
            findings.push(Finding::note(format!(
                "--ignore-rule {}: {n} finding{s} suppressed",
                filter.spec
            )));
        }
    }
}

fn judge_catalog(
    source: &Source,
    catalog: Catalog,
    opts: &ScanOptions,
    serves: &mut Option<Vec<Platform>>,
) -> Vec<ImageReport> {
    let hashing = if opts.verify {
        Hashing::Always
    } else {
        Hashing::WhenDecoded
    };
    if matches!(catalog.format, Format::RootfsTar | Format::RootfsDir) {
        return vec![judge_rootfs(source, opts, None)];
    }
    if catalog.format == Format::Binary {
        return vec![judge_binary(source, opts)];
    }
    let mut plans: Vec<Planned> = catalog.images;
    if let Some(want) = &opts.image {
        plans.retain(|p| {
            let (name, refs) = match p {
                Planned::Image(i) => (&i.name, &i.refs),
                Planned::Unreadable(u) => (&u.name, &u.refs),
            };
            name.iter()
                .chain(refs.iter())
                .any(|n| n.contains(want.as_str()))
        });
    }
    // Every distinct layer blob, scanned once, in parallel.
    let mut members: Vec<&str> = plans
        .iter()
        .filter_map(|p| match p {
            Planned::Image(i) => Some(i.layers.iter().map(|l| l.member.as_str())),
            Planned::Unreadable(_) => None,
        })
        .flatten()
        .collect();
    members.sort_unstable();
    members.dedup();
    let keys = layer_keys(&plans, opts);
    let scanned = scan_layers(source, &members, &keys, opts, hashing);
    let selected = select::select_for_target(&plans, opts.target.as_ref());
    let mut shared = rules::archive::same_binary_across_platforms(&plans, &scanned);
    // Images judged on the same layers and configuration are judged once:
    // through the run's cache when there is one, else within this input
    // (nothing is kept for an input of one image).
    let local;
    let memo = match &opts.cache {
        Some(c) => Some(c.as_ref()),
        None if plans.len() > 1 => {
            local = LayerCache::new(0);
            Some(&local)
        }
        None => None,
    };
    let merges = Merges::for_plans(&plans, opts.cache.as_deref().map(|c| (c, &keys)));
    let binaries = (plans.len() > 1).then(judge::BinaryMemo::default);
    let extras: Vec<Vec<Finding>> = (0..plans.len())
        .map(|i| shared.remove(&i).unwrap_or_default())
        .collect();
    // The images in parallel (within the run's --jobs), in their order.
    let reports: Vec<ImageReport> = plans
        .par_iter()
        .zip(extras)
        .enumerate()
        .map(|(i, (p, extra))| match p {
            Planned::Image(plan) => {
                let ctx = JudgeCtx {
                    source,
                    scanned: &scanned,
                    keys: &keys,
                    opts,
                    memo,
                    merges: &merges,
                    binaries: binaries.as_ref(),
                };
                judge_plan(ctx, plan, selected[i], extra)
            }
            Planned::Unreadable(u) => ImageReport {
                name: u.name.clone(),
                refs: u.refs.clone(),
                manifest_digest: u.manifest_digest.as_ref().map(|d| d.to_string()),
                index_platform: u.index_platform.clone(),
                error: Some(format!("{}: {}", source.display, u.error)),
                ..ImageReport::empty()
            },
        })
        .collect();
    *serves = Some(select::platforms_served(&plans, &reports));
    reports
}

/// Each layer member's key in the run's layer cache (see [`crate::cache`]
/// for which keys are trusted and how), when the run has a cache and the
/// member has one unambiguous key. Under `--verify` nothing is reused: every
/// blob is read and hashed, as that option promises.
fn layer_keys<'m>(plans: &'m [Planned], opts: &ScanOptions) -> HashMap<&'m str, Option<LayerKey>> {
    let mut keys: HashMap<&'m str, Option<LayerKey>> = HashMap::new();
    if opts.cache.is_none() || opts.verify {
        return keys;
    }
    for plan in plans {
        let Planned::Image(plan) = plan else { continue };
        for l in &plan.layers {
            let key = match &l.expect {
                Some(d) => Some(LayerKey {
                    digest: d.clone(),
                    content_address: true,
                }),
                None => l
                    .digest
                    .as_deref()
                    .and_then(|d| Digest::parse(d).ok())
                    .map(|digest| LayerKey {
                        digest,
                        content_address: false,
                    }),
            };
            match keys.get(l.member.as_str()) {
                // One member named by two different keys: reuse neither.
                Some(old) if *old != key => {
                    keys.insert(&l.member, None);
                }
                Some(_) => {}
                None => {
                    keys.insert(&l.member, key);
                }
            }
        }
    }
    keys
}

/// Scans every distinct layer once, on the [`scheduler`]'s work queue; a
/// layer with a key in the run's cache is read once per run.
fn scan_layers<'m>(
    source: &Source,
    members: &[&'m str],
    keys: &HashMap<&'m str, Option<LayerKey>>,
    opts: &ScanOptions,
    hashing: Hashing,
) -> Scanned<'m> {
    let jobs: Vec<(&'m str, u64)> = members
        .iter()
        .map(|m| (*m, source.member_size(m).unwrap_or(0)))
        .collect();
    let total_bytes = jobs.iter().map(|j| j.1).sum();
    let tracker = opts
        .progress
        .start(&source.display, Task::Layers { total_bytes });
    let read = |m: &str, hashing: Hashing| match source.scan_layer(m, &opts.limits, hashing) {
        Ok(Some(l)) => Ok(l),
        Ok(None) => Err(LayerError::Missing),
        Err(e) => Err(e),
    };
    let cached = |m: &str, cache: &LayerCache, key: &LayerKey| {
        // What the cache keeps is reused by other inputs, so a key is kept
        // only once a hash proves it, content address or diff_id alike (an
        // archive could name another layer by the base's address): hash the
        // blob while it passes (free for a compressed blob, hashed as it is
        // decoded anyway).
        let got = cache.layer(key, || read(m, Hashing::Always));
        match got {
            // What the cache keeps must never make a layer unreadable: over
            // the run's total, drop what it keeps and read again.
            Err(e)
                if e.exceeded()
                    == Some(Exceeded::IndexBytesTotal(opts.limits.index_bytes_total))
                    && cache.clear() =>
            {
                cache.layer(key, || read(m, hashing))
            }
            got => got,
        }
    };
    scheduler::largest_first(
        jobs,
        |m| match (&opts.cache, keys.get(m)) {
            (Some(cache), Some(Some(key))) => cached(m, cache, key),
            _ => read(m, hashing),
        },
        |size| {
            if let Some(t) = &tracker {
                t.advance(size);
            }
        },
    )
}

/// What judging one image of an input needs beyond the image itself.
struct JudgeCtx<'a, 'm> {
    source: &'a Source,
    scanned: &'a Scanned<'m>,
    keys: &'a HashMap<&'m str, Option<LayerKey>>,
    opts: &'a ScanOptions,
    /// Where judged images are kept for reuse.
    memo: Option<&'a LayerCache>,
    merges: &'a Merges<'m>,
    binaries: Option<&'a judge::BinaryMemo>,
}

/// Most paths the merged views an input keeps may hold together (some 65
/// bytes each, so about 32 MiB): past it, views are merged for each image
/// and dropped.
const MERGED_NODES_KEPT: usize = 500_000;

/// A kept merged view, merged by the first image that wants it.
type OnceView = std::sync::OnceLock<Arc<MergedFs>>;

/// The merged views of one input worth keeping while its images are
/// judged: a chain of layers that two or more images have as all their
/// layers (thousands of tags of one image) or as all but their top layer (a
/// base image under many application images). An image on a kept base is
/// merged as the base's view plus its own layer ([`MergedFs::on`]).
struct Merges<'m> {
    /// The chains (layer members, as [`plan_layers`] applies them) two or
    /// more images want.
    wanted: HashSet<Vec<&'m str>>,
    kept: std::sync::Mutex<HashMap<Vec<&'m str>, Arc<OnceView>>>,
    /// Paths held by the kept views.
    nodes: std::sync::atomic::AtomicUsize,
    /// The run's cache and the input's layer keys: bases shared with other
    /// inputs.
    run: Option<(&'m LayerCache, &'m HashMap<&'m str, Option<LayerKey>>)>,
}

fn merge_all(layers: &[(&str, Arc<LayerIndex>)]) -> Vec<Arc<LayerIndex>> {
    layers.iter().map(|(_, i)| Arc::clone(i)).collect()
}

impl<'m> Merges<'m> {
    /// The view of `base` (the layers under an image's own) from the run's
    /// cache, merged there when absent, when every layer of it has a
    /// verified key: images of other inputs on the same base reuse it.
    fn run_view(
        &self,
        base: &[(&'m str, Arc<LayerIndex>)],
        link_hops: usize,
    ) -> Option<Arc<MergedFs>> {
        let (cache, keys) = self.run?;
        let chain: Option<Vec<Digest>> = base
            .iter()
            .map(|(m, idx)| match keys.get(m).and_then(Option::as_ref) {
                Some(k) if k.verified_by(idx) => Some(k.digest.clone()),
                _ => None,
            })
            .collect();
        let chain = chain?;
        Some(cache.view(&chain, || MergedFs::merge(merge_all(base), link_hops)))
    }

    fn for_plans(
        plans: &'m [Planned],
        run: Option<(&'m LayerCache, &'m HashMap<&'m str, Option<LayerKey>>)>,
    ) -> Merges<'m> {
        let mut counts: HashMap<Vec<&'m str>, usize> = HashMap::new();
        for p in plans {
            let Planned::Image(plan) = p else { continue };
            // Each layer at its last position, as plan_layers applies it.
            let mut last: HashMap<&str, usize> = HashMap::with_capacity(plan.layers.len());
            for (i, l) in plan.layers.iter().enumerate() {
                last.insert(l.member.as_str(), i);
            }
            let chain: Vec<&'m str> = plan
                .layers
                .iter()
                .enumerate()
                .filter(|(i, l)| last.get(l.member.as_str()) == Some(i))
                .map(|(_, l)| l.member.as_str())
                .collect();
            if chain.len() > 1 {
                *counts.entry(chain[..chain.len() - 1].to_vec()).or_default() += 1;
            }
            *counts.entry(chain).or_default() += 1;
        }
        Merges {
            wanted: counts
                .into_iter()
                .filter(|(_, n)| *n > 1)
                .map(|(c, _)| c)
                .collect(),
            kept: Default::default(),
            nodes: Default::default(),
            run,
        }
    }

    /// The merged view of `layers` (an image's, in order).
    fn get(&self, layers: &[(&'m str, Arc<LayerIndex>)], link_hops: usize) -> Arc<MergedFs> {
        let chain: Vec<&'m str> = layers.iter().map(|(m, _)| *m).collect();
        let build = || {
            let n = layers.len();
            let base = if n < 2 {
                None
            } else if self.wanted.contains(&chain[..n - 1]) {
                Some(self.get(&layers[..n - 1], link_hops))
            } else {
                self.run_view(&layers[..n - 1], link_hops)
            };
            match base {
                Some(base) => MergedFs::on(&base, Arc::clone(&layers[n - 1].1)),
                None => MergedFs::merge(merge_all(layers), link_hops),
            }
        };
        if !self.wanted.contains(&chain) {
            return Arc::new(build());
        }
        let cell = {
            let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
            match kept.get(&chain) {
                Some(cell) => Arc::clone(cell),
                None if self.nodes.load(std::sync::atomic::Ordering::Relaxed)
                    < MERGED_NODES_KEPT =>
                {
                    let cell = Arc::new(OnceView::new());
                    kept.insert(chain.clone(), Arc::clone(&cell));
                    cell
                }
                None => return Arc::new(build()),
            }
        };
        Arc::clone(cell.get_or_init(|| {
            let fs = build();
            self.nodes
                .fetch_add(fs.len(), std::sync::atomic::Ordering::Relaxed);
            Arc::new(fs)
        }))
    }
}

/// What an image is judged on, as one digest: each layer by its verified
/// cache key (or, without one, by this input and member name), what the
/// judge knows of each layer, the configuration and the selection. Options
/// are the run's, the same for every image.
fn image_key(
    ctx: &JudgeCtx<'_, '_>,
    plan: &ImagePlan,
    layers: &[(&str, Arc<LayerIndex>)],
    metas: &[judge::LayerMeta],
    selection: Selection,
) -> ImageKey {
    let mut h = Hasher::new(Algorithm::Sha256);
    let mut put = |s: &str| {
        h.update(&(s.len() as u64).to_le_bytes());
        h.update(s.as_bytes());
    };
    for (member, idx) in layers {
        match ctx.keys.get(member).and_then(Option::as_ref) {
            Some(k) if k.verified_by(idx) => put(&format!("d{}", k.digest)),
            _ => put(&format!("m{}\0{member}", ctx.source.display)),
        }
    }
    put(&format!("{metas:?}"));
    let c = &plan.config;
    put(&format!(
        "{:?}",
        (
            c.platform(),
            &c.os,
            &c.architecture,
            &c.variant,
            &c.entrypoint,
            &c.cmd,
            &c.env,
            &c.working_dir,
            &c.user,
        )
    ));
    put(&format!("{:?}", (&plan.index_platform, selection)));
    h.finish()
}

fn judge_plan<'m>(
    ctx: JudgeCtx<'_, 'm>,
    plan: &'m ImagePlan,
    selection: Selection,
    extra: Vec<Finding>,
) -> ImageReport {
    let (source, scanned, opts) = (ctx.source, ctx.scanned, ctx.opts);
    let declared_platform = plan.config.platform();
    let mut base = ImageReport {
        name: plan.name.clone(),
        refs: plan.refs.clone(),
        manifest_digest: plan.manifest_digest.as_ref().map(|d| d.to_string()),
        config_digest: plan.config_digest.as_ref().map(|d| d.to_string()),
        declared: Some(Declared {
            platform: declared_platform.clone(),
            os: plan.config.os.clone(),
            architecture: plan.config.architecture.clone(),
            variant: plan.config.variant.clone(),
        }),
        index_platform: plan.index_platform.clone(),
        selected_for_target: selection.report(),
        findings: plan.findings.iter().cloned().chain(extra).collect(),
        ..ImageReport::empty()
    };
    let (layers, metas) = match plan_layers(source, plan, scanned, &mut base.findings) {
        Ok(layers) => layers,
        Err(e) => {
            base.error = Some(e);
            return base;
        }
    };
    let key = ctx
        .memo
        .map(|memo| (memo, image_key(&ctx, plan, &layers, &metas, selection)));
    if let Some(judged) = key
        .as_ref()
        .and_then(|(memo, key)| memo.image::<judge::Judgement>(key))
    {
        fill(&mut base, judged, opts);
        return base;
    }
    let fs = ctx.merges.get(&layers, opts.limits.link_hops);
    drop(layers);
    let subject = judge::Subject {
        limits: &opts.limits.judge,
        fs: &fs,
        layers: &metas,
        declared: declared_platform.as_ref(),
        index_platform: plan.index_platform.as_ref(),
        argv: command_line(
            plan.config.entrypoint.as_deref(),
            plan.config.cmd.as_deref(),
            opts,
        ),
        env: &plan.config.env,
        working_dir: plan.config.working_dir.as_deref(),
        target: opts
            .target
            .as_ref()
            .filter(|_| selection.judged_against_target()),
        host: opts
            .host
            .as_ref()
            .filter(|_| opts.target.is_none() || selection.judged_against_target()),
        user: opts.user.as_deref().or(plan.config.user.as_deref()),
        ignore: &opts.ignore,
        program: None,
        binaries: ctx.binaries,
    };
    let judgement = judge::judge(&subject);
    match key {
        Some((memo, key)) => {
            memo.keep_image(key, judgement.clone());
            fill(&mut base, judgement, opts);
        }
        None => fill(&mut base, judgement, opts),
    }
    base
}

/// An image's scanned layers in order (each with its member name), with
/// what the judge knows of each; findings about them (digest mismatches,
/// what a walk skipped) are added to `findings`. `Err` names the first layer
/// that could not be read.
///
/// A layer listed more than once is applied once, at its last position:
/// applying a layer again re-adds all it adds and hides again all it hides,
/// so whatever its earlier copies did is either done again or undone by the
/// layers between, and the filesystem is the same. A manifest that lists
/// one layer thousands of times therefore costs one layer, and a note says
/// so.
#[allow(clippy::type_complexity)]
fn plan_layers<'p>(
    source: &Source,
    plan: &'p ImagePlan,
    scanned: &Scanned<'_>,
    findings: &mut Vec<Finding>,
) -> Result<(Vec<(&'p str, Arc<LayerIndex>)>, Vec<judge::LayerMeta>), String> {
    let mut last: HashMap<&str, usize> = HashMap::with_capacity(plan.layers.len());
    for (i, l) in plan.layers.iter().enumerate() {
        last.insert(l.member.as_str(), i);
    }
    let repeats = plan.layers.len() - last.len();
    if repeats > 0 {
        findings.push(Finding::note(format!(
            "the manifest lists {} layers, {repeats} of them again after an earlier copy; each layer is applied once, at its last position (the same filesystem)",
            plan.layers.len(),
        )));
    }
    let mut indexes = Vec::with_capacity(last.len());
    let mut metas = Vec::with_capacity(last.len());
    let mut seen: HashSet<&str> = HashSet::with_capacity(last.len());
    for (i, l) in plan.layers.iter().enumerate() {
        let idx = match scanned.get(l.member.as_str()) {
            Some(Ok(idx)) => idx,
            Some(Err(e)) => {
                return Err(format!(
                    "{}: layer {} ({}): {e}",
                    source.display, l.position, l.member
                ))
            }
            None => {
                return Err(format!(
                    "{}: layer {} ({}) was not scanned",
                    source.display, l.position, l.member
                ))
            }
        };
        // Findings about a blob once, however often it is listed.
        if !seen.insert(l.member.as_str()) {
            if last.get(l.member.as_str()) == Some(&i) {
                indexes.push((l.member.as_str(), Arc::clone(idx)));
                metas.push(layer_meta(plan, l));
            }
            continue;
        }
        if let (Some(want), Some(got)) = (&l.expect, &idx.digest) {
            findings.extend(rules::archive::layer_digest_mismatch(
                l.position,
                &l.member,
                want,
                got,
                l.digest.clone(),
            ));
        }
        for w in &idx.warnings {
            let mut f = Finding::note(format!("layer {}: {w}", l.position));
            f.layer = Some(l.position);
            findings.push(f);
        }
        if last.get(l.member.as_str()) == Some(&i) {
            indexes.push((l.member.as_str(), Arc::clone(idx)));
            metas.push(layer_meta(plan, l));
        }
    }
    Ok((indexes, metas))
}

fn layer_meta(plan: &ImagePlan, l: &crate::image::LayerRef) -> judge::LayerMeta {
    judge::LayerMeta {
        position: l.position,
        digest: l.digest.clone(),
        created_by: plan.config.layer_history.get(l.position).cloned().flatten(),
    }
}

/// Puts a judgement into a report, after the findings it already has (about
/// the image's metadata), and gives the verdict of them all.
fn fill(report: &mut ImageReport, j: judge::Judgement, opts: &ScanOptions) {
    report.findings.extend(j.findings);
    suppress(&mut report.findings, &opts.ignore_rules);
    report.verdict = Verdict::from_findings(&report.findings, !j.binaries.is_empty());
    report.entrypoint = j.entrypoint;
    report.real_platform = j.real_platform;
    report.runs_on = j.runs_on;
    report.runs_on_host = j.runs_on_host;
    report.platforms = j.platforms;
    report.binaries = j.binaries;
}

/// Entrypoint + Cmd after overrides, as the runtime builds argv: an overridden
/// Entrypoint drops the image's Cmd (Docker and Kubernetes both do).
fn command_line(
    entrypoint: Option<&[String]>,
    cmd: Option<&[String]>,
    opts: &ScanOptions,
) -> Vec<String> {
    let (ep, cmd): (Vec<String>, Vec<String>) = match (&opts.entrypoint, &opts.cmd) {
        (Some(e), Some(c)) => (e.clone(), c.clone()),
        (Some(e), None) => (e.clone(), Vec::new()),
        (None, Some(c)) => (
            entrypoint.map(<[String]>::to_vec).unwrap_or_default(),
            c.clone(),
        ),
        (None, None) => (
            entrypoint.map(<[String]>::to_vec).unwrap_or_default(),
            cmd.map(<[String]>::to_vec).unwrap_or_default(),
        ),
    };
    ep.into_iter().chain(cmd).collect()
}

/// A flat root filesystem tarball (or directory): one layer, no config. For a
/// single program, `program` names it.
fn judge_rootfs(source: &Source, opts: &ScanOptions, program: Option<&str>) -> ImageReport {
    let mut base = ImageReport {
        selected_for_target: opts.target.as_ref().map(|_| true),
        ..ImageReport::empty()
    };
    let layer = match source.scan_as_rootfs(&opts.limits) {
        Ok(l) => l,
        Err(e) => {
            base.error = Some(format!("{}: {e}", source.display));
            return base;
        }
    };
    let fs = MergedFs::merge(vec![Arc::clone(&layer)], opts.limits.link_hops);
    let metas = [judge::LayerMeta::default()];
    let subject = judge::Subject {
        limits: &opts.limits.judge,
        fs: &fs,
        layers: &metas,
        declared: None,
        index_platform: None,
        argv: command_line(None, None, opts),
        env: &[],
        working_dir: None,
        target: opts.target.as_ref(),
        host: opts.host.as_ref(),
        user: opts.user.as_deref(),
        ignore: &opts.ignore,
        program,
        binaries: None,
    };
    // What the walk skipped (unreadable files of a rootfs directory…).
    base.findings = layer
        .warnings
        .iter()
        .map(|w| Finding::note(w.clone()))
        .collect();
    fill(&mut base, judge::judge(&subject), opts);
    base
}

/// A single executable file: what it is (like `file`, with OCI platform
/// names), judged against `--platform` when given. It is judged as a one-file
/// root filesystem whose program it is: no Entrypoint is expected, and a
/// Mach-O or PE file (which never decides a Linux image's platform) still
/// gives its own platform.
fn judge_binary(source: &Source, opts: &ScanOptions) -> ImageReport {
    judge_rootfs(source, opts, Some(source.display.as_str()))
}
