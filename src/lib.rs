//! archscan: the real CPU architecture of a container image archive, from the
//! bytes, offline.
//!
//! The pipeline, one call per stage: open the input ([`source`]) → read its
//! image plans ([`image`]) → scan every distinct layer once, in parallel
//! ([`layers::scan`], identifying executables while their bytes pass,
//! [`identify`]) → merge each image's layers ([`layers::merge`]) → judge it
//! ([`judge`]) → one [`report::Report`] that every output format and the exit
//! code are computed from.

pub mod digest;
pub mod error;
pub mod findings;
pub mod identify;
pub mod image;
pub mod judge;
pub mod layers;
pub mod limits;
pub mod paths;
pub mod platform;
pub mod progress;
pub mod remote;
pub mod report;
pub mod source;
pub mod tarwalk;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use findings::{Finding, Rule, Severity};
use image::{Catalog, Format, ImagePlan, Planned};
use layers::merge::MergedFs;
use layers::scan::{Hashing, LayerIndex};
use limits::Limits;
use platform::Platform;
use report::{Declared, ImageReport, Report, SourceInfo, Verdict};
use source::Source;

/// Resolved options of one run (the command line, turned into values).
#[derive(Debug, Clone, Default)]
pub struct ScanOptions {
    /// The deploy target (`--platform`).
    pub target: Option<Platform>,
    /// Judge only images whose name or a ref contains this (`--image`).
    pub image: Option<String>,
    /// Replaces the image's Entrypoint (as Kubernetes `command` does; Cmd is
    /// then dropped unless `cmd` is given).
    pub entrypoint: Option<Vec<String>>,
    /// Replaces the image's Cmd (Kubernetes `args`).
    pub cmd: Option<Vec<String>>,
    /// Hash every layer blob, not only the ones decoded anyway.
    pub verify: bool,
    /// Native files matching these globs are not judged (`--ignore`); the
    /// entrypoint always is.
    pub ignore: Vec<globset::GlobMatcher>,
    pub limits: Limits,
    /// Images by name: lookup order, `--offline`, registry TLS.
    pub remote: remote::RemoteOptions,
}

/// Scans one input and judges every image in it. Never fails: what could not
/// be read is in `Report::errors` (and per image in `ImageReport::error`).
pub fn scan(path: &str, opts: &ScanOptions) -> Report {
    let mut report = Report {
        schema_version: report::SCHEMA_VERSION,
        source: SourceInfo {
            path: path.to_string(),
            format: "unknown".into(),
            compression: "none".into(),
            origin: None,
        },
        target: opts.target.clone(),
        images: Vec::new(),
        serves: Vec::new(),
        notes: Vec::new(),
        errors: Vec::new(),
    };
    let source = match remote::open(path, &opts.remote, opts.target.as_ref(), &opts.limits) {
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
            return report;
        }
    };
    report.source.format = catalog.format.as_str().to_string();
    report.notes = catalog.notes.clone();
    let mut serves = None;
    report.images = judge_catalog(&source, catalog, opts, &mut serves);
    report.serves = serves.unwrap_or_else(|| match report.images.as_slice() {
        [one] if one.verdict != Verdict::Fail && one.error.is_none() => one.runs_on.clone(),
        _ => Vec::new(),
    });
    report
}

/// Host platforms a pull may ask for, to tell which an archive serves.
const HOSTS: &[&str] = &[
    "linux/amd64",
    "linux/arm64",
    "linux/arm/v7",
    "linux/arm/v6",
    "linux/arm/v5",
    "linux/386",
    "linux/ppc64le",
    "linux/s390x",
    "linux/riscv64",
    "linux/mips64le",
    "linux/loong64",
    "windows/amd64",
    "windows/arm64",
];

/// The host platforms for which a pull selects an image (as `docker pull
/// --platform` does within each index) whose verdict is not `fail` and
/// whose code that host runs.
fn platforms_served(plans: &[Planned], reports: &[ImageReport]) -> Vec<Platform> {
    let mut out = Vec::new();
    for host in HOSTS.iter().filter_map(|h| Platform::parse(h).ok()) {
        let selection = select_for_target(plans, Some(&host));
        let served = selection.iter().zip(reports).any(|(sel, r)| {
            *sel == Selection::Selected
                && r.error.is_none()
                && r.verdict != Verdict::Fail
                && r.real_platform.as_ref().is_some_and(|p| host.can_run(p))
        });
        if served {
            out.push(host);
        }
    }
    out
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
        return vec![judge_rootfs(source, opts)];
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
    let scanned = scan_layers(source, &members, opts, hashing);
    let selected = select_for_target(&plans, opts.target.as_ref());
    let mut shared = shared_native_layers(&plans, &scanned);
    let reports: Vec<ImageReport> = plans
        .iter()
        .enumerate()
        .map(|(i, p)| match p {
            Planned::Image(plan) => {
                let extra = shared.remove(&i).unwrap_or_default();
                judge_plan(source, plan, &scanned, opts, selected[i], extra)
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
    *serves = Some(platforms_served(&plans, &reports));
    reports
}

/// `same-binary-across-platforms`: a layer holding native code that the
/// images of two different platforms of one index share. The same bytes
/// cannot be right for both: the copy-paste bug of a hand-assembled index.
fn shared_native_layers(
    plans: &[Planned],
    scanned: &HashMap<&str, Result<Arc<LayerIndex>, String>>,
) -> HashMap<usize, Vec<Finding>> {
    let mut out: HashMap<usize, Vec<Finding>> = HashMap::new();
    // (group, member) → the images (index, platform, layer position) using it.
    type Users<'a> = HashMap<(usize, &'a str), Vec<(usize, Platform, usize)>>;
    let mut users: Users<'_> = HashMap::new();
    for (i, p) in plans.iter().enumerate() {
        let Planned::Image(plan) = p else { continue };
        let Some(platform) = plan
            .index_platform
            .clone()
            .or_else(|| plan.config.platform())
        else {
            continue;
        };
        for l in &plan.layers {
            users
                .entry((plan.group, l.member.as_str()))
                .or_default()
                .push((i, platform.clone(), l.position));
        }
    }
    let mut keys: Vec<_> = users.keys().copied().collect();
    keys.sort_unstable();
    for key in keys {
        let list = &users[&key];
        let distinct: std::collections::BTreeSet<String> =
            list.iter().map(|(_, p, _)| p.to_string()).collect();
        if distinct.len() < 2 {
            continue;
        }
        let Some(Ok(layer)) = scanned.get(key.1) else {
            continue;
        };
        let Some(example) = layer
            .entries
            .iter()
            .find(|e| e.ident.as_ref().is_some_and(|i| i.is_native()))
        else {
            continue;
        };
        let platforms = distinct.into_iter().collect::<Vec<_>>().join(", ");
        for (i, _, position) in list {
            let mut f = Finding::new(
                Rule::SameBinaryAcrossPlatforms,
                Severity::Warning,
                format!(
                    "layer {position} is the same blob in the {platforms} images of this index and holds native code (e.g. {}): the same binary cannot be right for every platform",
                    example.path
                ),
            )
            .path(example.path.to_string())
            .hint("build each platform's image from its own build (`docker buildx build --platform …`), not by reusing one platform's layer");
            f.layer = Some(*position);
            f.layer_digest = plans.get(*i).and_then(|p| match p {
                Planned::Image(plan) => plan
                    .layers
                    .iter()
                    .find(|l| l.position == *position)
                    .and_then(|l| l.digest.clone()),
                Planned::Unreadable(_) => None,
            });
            out.entry(*i).or_default().push(f);
        }
    }
    out
}

/// How `--platform` applies to an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Selection {
    /// No `--platform`.
    NoTarget,
    /// The image a pull for the target selects (or the only image of its group).
    Selected,
    /// Another image of its multi-platform index is selected.
    NotSelected,
    /// No image of its index can serve the target: each is judged against it.
    NoneSelectable,
}

impl Selection {
    fn judged_against_target(self) -> bool {
        matches!(self, Selection::Selected | Selection::NoneSelectable)
    }

    fn report(self) -> Option<bool> {
        match self {
            Selection::NoTarget => None,
            Selection::Selected => Some(true),
            Selection::NotSelected | Selection::NoneSelectable => Some(false),
        }
    }
}

/// Scans every layer once, largest first, each worker taking the next layer
/// as it frees up: the run then ends within about one small layer of the
/// larger of (the largest layer, the total divided among the workers).
fn scan_layers<'m>(
    source: &Source,
    members: &[&'m str],
    opts: &ScanOptions,
    hashing: Hashing,
) -> HashMap<&'m str, Result<Arc<LayerIndex>, String>> {
    let mut order: Vec<(&str, u64)> = members
        .iter()
        .map(|m| (*m, source.member_size(m).unwrap_or(0)))
        .collect();
    order.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let progress = progress::Progress::bytes(&source.display, order.iter().map(|o| o.1).sum());
    let next = AtomicUsize::new(0);
    let done = Mutex::new(HashMap::with_capacity(order.len()));
    let workers = rayon::current_num_threads().clamp(1, order.len().max(1));
    rayon::scope(|s| {
        for _ in 0..workers {
            s.spawn(|_| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(&(m, size)) = order.get(i) else {
                    break;
                };
                let r = match source.scan_layer(m, &opts.limits, hashing) {
                    Ok(Some(l)) => Ok(l),
                    Ok(None) => Err("missing from the archive".to_string()),
                    Err(e) => Err(e),
                };
                progress.inc(size);
                if let Ok(mut d) = done.lock() {
                    d.insert(m, r);
                }
            });
        }
    });
    done.into_inner().unwrap_or_default()
}

/// For each plan, how `--platform` applies: within a group (a multi-platform
/// index) the image a pull for the target would select, preferring an exact
/// match, then the same architecture with an older variant, then a
/// compatible architecture (386 for amd64).
fn select_for_target(plans: &[Planned], target: Option<&Platform>) -> Vec<Selection> {
    let Some(target) = target else {
        return vec![Selection::NoTarget; plans.len()];
    };
    let mut out = vec![Selection::NotSelected; plans.len()];
    let mut groups: HashMap<usize, Vec<(usize, Option<Platform>)>> = HashMap::new();
    for (i, p) in plans.iter().enumerate() {
        match p {
            Planned::Image(plan) => groups.entry(plan.group).or_default().push((
                i,
                plan.index_platform
                    .clone()
                    .or_else(|| plan.config.platform()),
            )),
            Planned::Unreadable(_) => out[i] = Selection::NoTarget,
        }
    }
    for members in groups.values() {
        if members.len() == 1 {
            out[members[0].0] = Selection::Selected;
            continue;
        }
        let score = |p: &Option<Platform>| -> u8 {
            let Some(p) = p else { return 0 };
            if p == target {
                4
            } else if p.os == target.os && p.arch == target.arch && target.can_run(p) {
                3
            } else if target.can_run(p) {
                1
            } else {
                0
            }
        };
        let best = members.iter().map(|(_, p)| score(p)).max().unwrap_or(0);
        if best == 0 {
            for (i, _) in members {
                out[*i] = Selection::NoneSelectable;
            }
        } else if let Some((i, _)) = members.iter().find(|(_, p)| score(p) == best) {
            out[*i] = Selection::Selected;
        }
    }
    out
}

fn judge_plan(
    source: &Source,
    plan: &ImagePlan,
    scanned: &HashMap<&str, Result<Arc<LayerIndex>, String>>,
    opts: &ScanOptions,
    selection: Selection,
    extra: Vec<Finding>,
) -> ImageReport {
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
    let mut indexes = Vec::with_capacity(plan.layers.len());
    let mut metas = Vec::with_capacity(plan.layers.len());
    for l in &plan.layers {
        match scanned.get(l.member.as_str()) {
            Some(Ok(idx)) => {
                if let (Some(want), Some(got)) = (&l.expect, &idx.digest) {
                    if want.algorithm() == got.algorithm() && want != got {
                        let mut f = Finding::new(
                            Rule::DigestMismatch,
                            Severity::Warning,
                            format!(
                                "layer {} ({}) does not match its digest: expected {want}, content hashes to {got}",
                                l.position, l.member
                            ),
                        )
                        .hint("the archive was modified or damaged after it was written: save or pull it again");
                        f.layer = Some(l.position);
                        f.layer_digest = l.digest.clone();
                        base.findings.push(f);
                    }
                }
                for w in &idx.warnings {
                    let mut f = Finding::note(format!("layer {}: {w}", l.position));
                    f.layer = Some(l.position);
                    base.findings.push(f);
                }
                indexes.push(Arc::clone(idx));
                metas.push(judge::LayerMeta {
                    position: l.position,
                    digest: l.digest.clone(),
                    created_by: plan.config.layer_history.get(l.position).cloned().flatten(),
                });
            }
            Some(Err(e)) => {
                base.error = Some(format!(
                    "{}: layer {} ({}): {e}",
                    source.display, l.position, l.member
                ));
                return base;
            }
            None => {
                base.error = Some(format!(
                    "{}: layer {} ({}) was not scanned",
                    source.display, l.position, l.member
                ));
                return base;
            }
        }
    }
    let fs = MergedFs::merge(indexes, opts.limits.link_hops);
    let argv = command_line(
        plan.config.entrypoint.as_deref(),
        plan.config.cmd.as_deref(),
        opts,
    );
    let subject = judge::Subject {
        fs: &fs,
        layers: &metas,
        declared: declared_platform.as_ref(),
        index_platform: plan.index_platform.as_ref(),
        argv,
        env: &plan.config.env,
        working_dir: plan.config.working_dir.as_deref(),
        target: opts
            .target
            .as_ref()
            .filter(|_| selection.judged_against_target()),
        ignore: &opts.ignore,
    };
    fill(&mut base, judge::judge(&subject));
    base
}

/// Puts a judgement into a report, after the findings it already has (about
/// the image's metadata), and gives the verdict of them all.
fn fill(report: &mut ImageReport, j: judge::Judgement) {
    report.findings.extend(j.findings);
    report.verdict = Verdict::from_findings(&report.findings, !j.binaries.is_empty());
    report.entrypoint = j.entrypoint;
    report.real_platform = j.real_platform;
    report.runs_on = j.runs_on;
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

/// A flat root filesystem tarball: one layer, no config.
fn judge_rootfs(source: &Source, opts: &ScanOptions) -> ImageReport {
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
        fs: &fs,
        layers: &metas,
        declared: None,
        index_platform: None,
        argv: command_line(None, None, opts),
        env: &[],
        working_dir: None,
        target: opts.target.as_ref(),
        ignore: &opts.ignore,
    };
    // What the walk skipped (unreadable files of a rootfs directory…).
    base.findings = layer
        .warnings
        .iter()
        .map(|w| Finding::note(w.clone()))
        .collect();
    fill(&mut base, judge::judge(&subject));
    base
}

/// A single executable file: what it is (like `file`, with OCI platform
/// names), judged against `--platform` when given. It is judged as a one-file
/// root filesystem; being the program itself, it needs no Entrypoint, and a
/// Mach-O or PE file (which never decides a Linux image's platform) still
/// gives its own platform.
fn judge_binary(source: &Source, opts: &ScanOptions) -> ImageReport {
    let mut r = judge_rootfs(source, opts);
    // The file is the program: no Entrypoint is expected, and the target is
    // judged against the file itself, named.
    r.findings
        .retain(|f| f.rule != Rule::NoEntrypoint && f.rule != Rule::TargetMismatch);
    let platforms: Vec<Platform> = r
        .binaries
        .first()
        .map(|b| b.details.platforms())
        .unwrap_or_default();
    // A fat Mach-O runs where any slice runs.
    let runnable = opts
        .target
        .as_ref()
        .and_then(|t| platforms.iter().find(|p| t.can_run(p)));
    r.real_platform = runnable.or(platforms.first()).cloned();
    r.runs_on = r
        .real_platform
        .as_ref()
        .map(judge::hosts_for)
        .unwrap_or_default();
    if let (Some(t), Some(real)) = (opts.target.as_ref(), r.real_platform.as_ref()) {
        if !t.can_run(real) {
            r.findings.push(judge::target_mismatch(
                t,
                real,
                Some(source.display.as_str()),
            ));
        }
    }
    r.verdict = Verdict::from_findings(&r.findings, !r.binaries.is_empty());
    r
}
