//! Rules about the archive's blobs rather than one image's files: a layer
//! whose content does not hash to its digest, and a layer with native code
//! that the images of several platforms of one index share.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use crate::digest::Digest;
use crate::findings::{Finding, Rule, Severity};
use crate::image::Planned;
use crate::layers::scan::LayerIndex;
use crate::platform::Platform;

/// `digest-mismatch` for a layer: its content hashes to `got`, not `want`.
pub fn layer_digest_mismatch(
    position: usize,
    member: &str,
    want: &Digest,
    got: &Digest,
    digest: Option<String>,
) -> Option<Finding> {
    if want.algorithm() != got.algorithm() || want == got {
        return None;
    }
    let mut f = Finding::new(
        Rule::DigestMismatch,
        Severity::Warning,
        format!(
            "layer {position} ({member}) does not match its digest: expected {want}, content hashes to {got}"
        ),
    )
    .hint("the archive was modified or damaged after it was written: save or pull it again");
    f.layer = Some(position);
    f.layer_digest = digest;
    Some(f)
}

/// `same-binary-across-platforms`: a layer holding native code that the
/// images of two different platforms of one index share. The same bytes
/// cannot be right for both: the copy-paste bug of a hand-assembled index.
/// Returns the findings per plan index.
pub fn same_binary_across_platforms<E>(
    plans: &[Planned],
    scanned: &HashMap<&str, Result<Arc<LayerIndex>, E>>,
) -> HashMap<usize, Vec<Finding>> {
    let mut out: HashMap<usize, Vec<Finding>> = HashMap::new();
    let users = layer_users(plans);
    let mut keys: Vec<_> = users.keys().copied().collect();
    keys.sort_unstable();
    for key in keys {
        let list = &users[&key];
        let distinct: BTreeSet<String> = list.iter().map(|(_, p, _)| p.to_string()).collect();
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
            f.layer_digest = layer_digest(plans, *i, *position);
            out.entry(*i).or_default().push(f);
        }
    }
    out
}

/// (index group, layer member) → the images using it: (plan index, the
/// image's platform, the layer's position in it).
type Users<'a> = HashMap<(usize, &'a str), Vec<(usize, Platform, usize)>>;

fn layer_users(plans: &[Planned]) -> Users<'_> {
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
    users
}

fn layer_digest(plans: &[Planned], i: usize, position: usize) -> Option<String> {
    match plans.get(i)? {
        Planned::Image(plan) => plan
            .layers
            .iter()
            .find(|l| l.position == position)
            .and_then(|l| l.digest.clone()),
        Planned::Unreadable(_) => None,
    }
}
