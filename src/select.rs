//! How `--platform` picks images: within each multi-platform index the image a
//! pull for the target selects (as `docker pull --platform` does), and which
//! host platforms an archive serves at all.

use std::collections::HashMap;

use crate::image::Planned;
use crate::platform::Platform;
use crate::report::{ImageReport, Verdict};

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
pub fn platforms_served(plans: &[Planned], reports: &[ImageReport]) -> Vec<Platform> {
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

/// How `--platform` applies to an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selection {
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
    pub fn judged_against_target(self) -> bool {
        matches!(self, Selection::Selected | Selection::NoneSelectable)
    }

    pub fn report(self) -> Option<bool> {
        match self {
            Selection::NoTarget => None,
            Selection::Selected => Some(true),
            Selection::NotSelected | Selection::NoneSelectable => Some(false),
        }
    }
}

/// For each plan, how `--platform` applies: within a group (a multi-platform
/// index) the image a pull for the target would select, preferring an exact
/// match, then the same architecture with an older variant, then a
/// compatible architecture (386 for amd64).
pub fn select_for_target(plans: &[Planned], target: Option<&Platform>) -> Vec<Selection> {
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
