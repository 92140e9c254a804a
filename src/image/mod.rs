//! From an input's metadata to image plans: which images the input holds, what
//! each declares (config platform, index platform, Entrypoint/Cmd/Env/WorkingDir,
//! history) and which layer blobs make it, in order.
//!
//! Reads `manifest.json` (every `docker save`, podman, skopeo `docker-archive:`,
//! crane/kaniko/jib tarballs) and `index.json` (OCI layouts and archives, Docker
//! 25+, containerd: nested indexes, attestation manifests, platforms whose
//! manifests were not exported). When both exist, `index.json` leads and
//! `manifest.json` is checked against it. Digests are validated before they
//! become member names and verified against the bytes they name.

pub mod json;

use std::collections::HashSet;

use serde_json::Value;

use crate::digest::Digest;
use crate::findings::{Finding, Rule, Severity};
use crate::limits::{Exceeded, Limits};
use crate::platform::Platform;
use crate::source::Source;

/// What an image's config declares.
#[derive(Debug, Clone, Default)]
pub struct ImageConfig {
    pub os: Option<String>,
    pub architecture: Option<String>,
    pub variant: Option<String>,
    pub entrypoint: Option<Vec<String>>,
    pub cmd: Option<Vec<String>>,
    pub env: Vec<String>,
    pub working_dir: Option<String>,
    /// `User`: `name`, `uid`, `name:group` or `uid:gid` (empty: root).
    pub user: Option<String>,
    /// `created_by` of each history entry that made a layer, in layer order.
    pub layer_history: Vec<Option<String>>,
    pub diff_ids: Vec<String>,
}

impl ImageConfig {
    /// The declared platform, normalised; `None` when the config has no
    /// architecture.
    pub fn platform(&self) -> Option<Platform> {
        let arch = self.architecture.as_deref().filter(|a| !a.is_empty())?;
        let os = self
            .os
            .as_deref()
            .filter(|o| !o.is_empty())
            .unwrap_or("linux");
        Some(Platform::from_parts(os, arch, self.variant.as_deref()))
    }
}

/// One layer of an image.
#[derive(Debug, Clone)]
pub struct LayerRef {
    /// 0-based position in the manifest's layer list (skipped non-filesystem
    /// layers keep their numbers).
    pub position: usize,
    /// Member name inside the input.
    pub member: String,
    /// The blob digest when the archive gives one (OCI descriptors), else the
    /// config's diff_id for this layer.
    pub digest: Option<String>,
    /// Digest the blob's bytes must hash to, when the archive says so.
    pub expect: Option<Digest>,
    pub media_type: Option<String>,
}

/// An image to judge.
#[derive(Debug, Clone)]
pub struct ImagePlan {
    pub name: Option<String>,
    pub refs: Vec<String>,
    pub manifest_digest: Option<Digest>,
    pub config_digest: Option<Digest>,
    pub config: ImageConfig,
    pub index_platform: Option<Platform>,
    pub layers: Vec<LayerRef>,
    /// Images from one (multi-platform) index share a group: `--platform`
    /// selects one image per group.
    pub group: usize,
    /// Findings about this image's metadata (digest mismatches, notes).
    pub findings: Vec<Finding>,
}

/// An image that could not be read, with why.
#[derive(Debug, Clone)]
pub struct Unreadable {
    pub name: Option<String>,
    pub refs: Vec<String>,
    pub manifest_digest: Option<Digest>,
    pub index_platform: Option<Platform>,
    pub error: std::sync::Arc<PlanError>,
}

#[derive(Debug, Clone)]
pub enum Planned {
    Image(Box<ImagePlan>),
    Unreadable(Unreadable),
}

/// The input's shape, as `source.format` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `manifest.json` only: Docker ≤ 24, podman, skopeo, crane.
    DockerArchive,
    /// `manifest.json` and an OCI layout: Docker 25+.
    DockerOciArchive,
    /// OCI layout in a tar: skopeo/buildah `oci-archive:`.
    OciArchive,
    /// OCI layout directory.
    OciLayout,
    /// A tar with no image metadata: a root filesystem (`docker export`).
    RootfsTar,
    /// A directory with no image metadata: an unpacked root filesystem
    /// (`docker export | tar -x`, `buildah mount`).
    RootfsDir,
    /// A single executable file.
    Binary,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::DockerArchive => "docker-archive",
            Format::DockerOciArchive => "docker-oci-archive",
            Format::OciArchive => "oci-archive",
            Format::OciLayout => "oci-layout",
            Format::RootfsTar => "rootfs-tar",
            Format::RootfsDir => "rootfs-dir",
            Format::Binary => "binary",
        }
    }
}

pub struct Catalog {
    pub format: Format,
    pub images: Vec<Planned>,
    /// Notes about the archive as a whole.
    pub notes: Vec<Finding>,
}

/// Why an input's image metadata cannot be read at all.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// An OCI layout directory without its index.
    #[error("{archive}: not an OCI image layout: there is no index.json in this directory")]
    NoIndex { archive: String },

    /// Image members without the manifest that lists them (written last).
    #[error("{archive}: the archive has image members ({member}) but no manifest.json or index.json: it is incomplete or truncated")]
    Incomplete { archive: String, member: String },

    /// `index.json` or `manifest.json` cannot be read as the spec says.
    #[error("{archive}: {document}: {source}")]
    Plan {
        archive: String,
        document: &'static str,
        #[source]
        source: PlanError,
    },
}

impl CatalogError {
    /// The cap of [`Limits`] reached, if that is why the input is unreadable.
    pub fn exceeded(&self) -> Option<Exceeded> {
        match self {
            CatalogError::Plan { source, .. } => source.exceeded(),
            _ => None,
        }
    }
}

/// Why an image's metadata (an index, a manifest, a config) cannot be read.
/// The plan of such an image is [`Planned::Unreadable`], with this as its
/// reason; an unreadable `index.json` or `manifest.json` makes the whole
/// input unreadable.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// The source could not give a member.
    #[error(transparent)]
    Source(Box<crate::source::SourceError>),
    #[error(transparent)]
    Json(#[from] json::JsonError),
    #[error(transparent)]
    Field(#[from] json::FieldError),
    #[error(transparent)]
    Digest(#[from] crate::digest::DigestError),
    /// A blob or document that must be there is not.
    #[error("{0}")]
    Missing(String),
    /// A document's shape is not what the spec says.
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Limit(#[from] Exceeded),
    /// An error inside a named document, entry or descriptor.
    #[error("{context}: {source}")]
    In {
        context: String,
        #[source]
        source: Box<PlanError>,
    },
}

impl PlanError {
    /// This error inside a named context.
    pub fn inside(self, context: impl std::fmt::Display) -> PlanError {
        PlanError::In {
            context: context.to_string(),
            source: Box::new(self),
        }
    }

    /// The cap of [`Limits`] reached, if that is why this is unreadable.
    pub fn exceeded(&self) -> Option<Exceeded> {
        match self.root() {
            PlanError::Limit(e)
            | PlanError::Json(json::JsonError::TooDeep(e) | json::JsonError::TooBig(e)) => Some(*e),
            PlanError::Source(e) => e.exceeded(),
            _ => None,
        }
    }

    /// The innermost error, under every `In` context.
    pub fn root(&self) -> &PlanError {
        match self {
            PlanError::In { source, .. } => source.root(),
            other => other,
        }
    }
}

/// Puts an error inside a named context (`manifest.json: entry 3: …`).
trait Within<T> {
    fn within(self, context: impl std::fmt::Display) -> Result<T, PlanError>;
}

impl<T, E: Into<PlanError>> Within<T> for Result<T, E> {
    fn within(self, context: impl std::fmt::Display) -> Result<T, PlanError> {
        self.map_err(|e| e.into().inside(context))
    }
}

const MT_OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
const MT_DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
const MT_OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const MT_DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
const CONFIG_TYPES: &[&str] = &[
    "application/vnd.oci.image.config.v1+json",
    "application/vnd.docker.container.image.v1+json",
];

/// Reads the input's metadata into image plans.
pub fn catalog(source: &Source, limits: &Limits) -> Result<Catalog, CatalogError> {
    use CatalogError as Error;
    let has_index = source.has("index.json");
    let has_manifest = source.has("manifest.json");
    let archive = source.display.clone();
    if !has_index && !has_manifest {
        let format = if source.is_single_file() {
            Format::Binary
        } else if source.is_dir() && source.has("oci-layout") {
            return Err(Error::NoIndex { archive });
        } else if source.is_dir() {
            Format::RootfsDir
        } else if let Some(member) = source.image_member() {
            // A truncated `docker save` loses manifest.json (written last):
            // what is left is not a root filesystem to judge.
            return Err(Error::Incomplete { archive, member });
        } else {
            Format::RootfsTar
        };
        return Ok(Catalog {
            format,
            images: Vec::new(),
            notes: Vec::new(),
        });
    }
    let mut cx = Cx {
        source,
        limits,
        images: Vec::new(),
        notes: Vec::new(),
        visited: HashSet::new(),
        manifests_read: 0,
        next_group: 0,
        surrogates: std::cell::Cell::new(0),
    };
    if has_index {
        cx.read_index().map_err(|source| Error::Plan {
            archive: archive.clone(),
            document: "index.json",
            source,
        })?;
    }
    if has_manifest {
        cx.read_docker_manifest(has_index)
            .map_err(|source| Error::Plan {
                archive: archive.clone(),
                document: "manifest.json",
                source,
            })?;
    }
    if cx.surrogates.get() > 0 {
        cx.notes.push(Finding::note(format!(
            "{} lone UTF-16 surrogate escapes in the image's JSON were read as U+FFFD, as Docker's Go decoder reads them",
            cx.surrogates.get()
        )));
    }
    let format = match (source.is_dir(), has_index, has_manifest) {
        (true, _, _) => Format::OciLayout,
        (false, true, true) => Format::DockerOciArchive,
        (false, true, false) => Format::OciArchive,
        _ => Format::DockerArchive,
    };
    Ok(Catalog {
        format,
        images: cx.images,
        notes: cx.notes,
    })
}

struct Cx<'a> {
    source: &'a Source,
    limits: &'a Limits,
    images: Vec<Planned>,
    notes: Vec<Finding>,
    visited: HashSet<Digest>,
    manifests_read: usize,
    next_group: usize,
    /// Lone UTF-16 surrogate escapes read as U+FFFD in the documents read.
    surrogates: std::cell::Cell<usize>,
}

/// Adds `tags` to a plan's refs; the first becomes its name (a RepoTag is
/// what users type).
fn add_tags(plan: &mut ImagePlan, tags: &[String]) {
    for t in tags {
        if !plan.refs.contains(t) {
            plan.refs.push(t.clone());
        }
    }
    if let Some(t) = tags.first() {
        plan.name = Some(t.clone());
    }
}

/// A descriptor of an index being followed, with what its parents gave it.
struct Described<'v> {
    desc: &'v Value,
    names: Names,
    /// Its platform, or its parent's.
    platform: Option<Platform>,
    depth: usize,
    group: usize,
}

/// A descriptor's names, carried down nested indexes.
#[derive(Clone, Default)]
struct Names {
    name: Option<String>,
    refs: Vec<String>,
}

impl Names {
    fn from_annotations(annotations: &[(String, String)], parent: &Names) -> Names {
        let mut names = parent.clone();
        let get = |k: &str| {
            annotations
                .iter()
                .find(|(a, _)| a == k)
                .map(|(_, v)| v.clone())
        };
        let full = get("io.containerd.image.name");
        let short = get("org.opencontainers.image.ref.name");
        for r in [&full, &short].into_iter().flatten() {
            if !names.refs.contains(r) {
                names.refs.push(r.clone());
            }
        }
        if names.name.is_none() {
            names.name = full.or(short);
        }
        names
    }
}

fn desc_platform(desc: &Value) -> Option<Platform> {
    let p = desc.get("platform")?;
    let os = p.get("os")?.as_str()?;
    let arch = p.get("architecture")?.as_str()?;
    let variant = p.get("variant").and_then(Value::as_str);
    Some(Platform::from_parts(os, arch, variant))
}

fn is_attestation(desc: &Value, annotations: &[(String, String)]) -> bool {
    let unknown = desc
        .get("platform")
        .map(|p| {
            p.get("os").and_then(Value::as_str) == Some("unknown")
                && p.get("architecture").and_then(Value::as_str) == Some("unknown")
        })
        .unwrap_or(false);
    unknown
        || annotations
            .iter()
            .any(|(k, v)| k == "vnd.docker.reference.type" && v == "attestation-manifest")
}

impl Cx<'_> {
    fn read_json(&self, member: &str) -> Result<Option<(Vec<u8>, Value)>, PlanError> {
        let Some(bytes) = self
            .source
            .read_small(member, self.limits)
            .map_err(|e| PlanError::Source(Box::new(e)))?
        else {
            return Ok(None);
        };
        let (v, replaced) = json::parse_lossy(&bytes, self.limits).within(member)?;
        self.surrogates.set(self.surrogates.get() + replaced);
        Ok(Some((bytes, v)))
    }

    fn read_index(&mut self) -> Result<(), PlanError> {
        let (_, index) = self
            .read_json("index.json")?
            .ok_or_else(|| PlanError::Missing("index.json is missing".into()))?;
        if !index.is_object() {
            return Err(PlanError::Invalid(format!(
                "expected an object, found {}",
                json::type_name(&index)
            )));
        }
        let manifests = json::list(&index, "manifests")?;
        if manifests.is_empty() {
            self.notes
                .push(Finding::note("index.json lists no manifests"));
        }
        for desc in manifests {
            let group = self.next_group;
            self.next_group += 1;
            self.descriptor(desc, 0, &Names::default(), group, None);
        }
        Ok(())
    }

    /// Follows one descriptor of an index: an image, a nested index, or
    /// something skipped with a note. What cannot be read is planned as
    /// [`Planned::Unreadable`], with why.
    fn descriptor(
        &mut self,
        desc: &Value,
        depth: usize,
        parent: &Names,
        group: usize,
        parent_platform: Option<&Platform>,
    ) {
        let annotations = json::str_map(desc, "annotations");
        let d = Described {
            desc,
            names: Names::from_annotations(&annotations, parent),
            platform: desc_platform(desc).or_else(|| parent_platform.cloned()),
            depth,
            group,
        };
        if let Err((digest, error)) = self.follow(&d, &annotations) {
            self.images.push(Planned::Unreadable(Unreadable {
                name: d.names.name.clone(),
                refs: d.names.refs.clone(),
                manifest_digest: digest,
                index_platform: desc_platform(desc),
                error: std::sync::Arc::new(error),
            }));
        }
    }

    /// [`Cx::descriptor`]'s work; `Err` carries the digest, when known.
    fn follow(
        &mut self,
        d: &Described<'_>,
        annotations: &[(String, String)],
    ) -> Result<(), (Option<Digest>, PlanError)> {
        let raw_digest = d.desc.get("digest").and_then(Value::as_str).unwrap_or("");
        let digest = Digest::parse(raw_digest)
            .map_err(|e| (None, PlanError::from(e).inside("manifest descriptor")))?;
        let with_digest = |e: PlanError| (Some(digest.clone()), e);
        if !self.admit(d, &digest, annotations).map_err(with_digest)? {
            return Ok(());
        }
        let member = digest.blob_path();
        let Some(doc) = self
            .manifest_doc(d, &digest, &member)
            .map_err(with_digest)?
        else {
            return Ok(());
        };
        self.document(d, &digest, &member, doc).map_err(with_digest)
    }

    /// Whether a descriptor is read at all: attestations are skipped, a
    /// manifest seen before is read once, and the nesting and manifest caps
    /// apply.
    fn admit(
        &mut self,
        d: &Described<'_>,
        digest: &Digest,
        annotations: &[(String, String)],
    ) -> Result<bool, PlanError> {
        if is_attestation(d.desc, annotations) {
            self.notes.push(Finding::note(format!(
                "skipped the attestation manifest {} (build provenance/SBOM, not an image)",
                digest.short()
            )));
            return Ok(false);
        }
        if d.depth > self.limits.index_depth {
            return Err(Exceeded::IndexDepth(self.limits.index_depth).into());
        }
        if !self.visited.insert(digest.clone()) {
            // The same manifest twice (a cycle, or two tags of one image).
            let media_type = d
                .desc
                .get("mediaType")
                .and_then(Value::as_str)
                .unwrap_or("");
            if !media_type.contains("index") && !media_type.contains("list") {
                self.merge_names(digest, &d.names);
            } else {
                self.notes.push(Finding::note(format!(
                    "the index {} is listed more than once (or in a cycle); read once",
                    digest.short()
                )));
            }
            return Ok(false);
        }
        self.manifests_read += 1;
        if self.manifests_read > self.limits.manifests {
            return Err(Exceeded::Manifests(self.limits.manifests).into());
        }
        Ok(true)
    }

    /// The manifest or index a descriptor names; `None` (with a note) for a
    /// platform an export left out.
    fn manifest_doc(
        &mut self,
        d: &Described<'_>,
        digest: &Digest,
        member: &str,
    ) -> Result<Option<(Vec<u8>, Value)>, PlanError> {
        match self.read_json(member)? {
            Some(doc) => Ok(Some(doc)),
            None if d.depth > 0 && d.platform.is_some() => {
                // `docker save --platform` and containerd exports keep the index
                // but only the platforms that were pulled.
                self.notes.push(Finding::note(format!(
                    "the {} image ({}) is listed in the index but its manifest is not in the archive (platform not exported): not judged",
                    d.platform.as_ref().map(|p| p.to_string()).unwrap_or_default(),
                    digest.short()
                )));
                Ok(None)
            }
            None => Err(PlanError::Missing(format!(
                "the manifest blob {member} is missing from the archive"
            ))),
        }
    }

    /// A manifest or index document: an index's children are followed, a
    /// manifest becomes a plan, anything else is skipped with a note.
    fn document(
        &mut self,
        d: &Described<'_>,
        digest: &Digest,
        member: &str,
        (bytes, value): (Vec<u8>, Value),
    ) -> Result<(), PlanError> {
        let mut findings = Vec::new();
        let actual = Digest::of(digest.algorithm(), &bytes);
        if actual != *digest {
            findings.push(digest_mismatch("manifest", member, digest, &actual));
        }
        let media_type = d
            .desc
            .get("mediaType")
            .and_then(Value::as_str)
            .unwrap_or("");
        let doc_type = value
            .get("mediaType")
            .and_then(Value::as_str)
            .unwrap_or(media_type);
        let is_index = doc_type == MT_OCI_INDEX
            || doc_type == MT_DOCKER_LIST
            || (doc_type.is_empty() && value.get("manifests").is_some());
        if is_index {
            self.notes.extend(findings);
            for child in json::list(&value, "manifests").within(member)? {
                self.descriptor(child, d.depth + 1, &d.names, d.group, None);
            }
            return Ok(());
        }
        let is_manifest = doc_type == MT_OCI_MANIFEST
            || doc_type == MT_DOCKER_MANIFEST
            || (doc_type.is_empty() && value.get("config").is_some());
        if !is_manifest {
            self.notes.push(Finding::note(format!(
                "skipped {} of media type `{doc_type}`: not an image manifest",
                digest.short()
            )));
            return Ok(());
        }
        if let Some(mut plan) = self.image_from_manifest(&value, member, findings)? {
            plan.name = d.names.name.clone();
            plan.refs = d.names.refs.clone();
            plan.manifest_digest = Some(digest.clone());
            plan.index_platform = desc_platform(d.desc);
            plan.group = d.group;
            self.images.push(Planned::Image(Box::new(plan)));
        }
        Ok(())
    }

    /// Adds names to an image already planned from the same manifest.
    fn merge_names(&mut self, digest: &Digest, names: &Names) {
        for img in &mut self.images {
            if let Planned::Image(p) = img {
                if p.manifest_digest.as_ref() == Some(digest) {
                    for r in &names.refs {
                        if !p.refs.contains(r) {
                            p.refs.push(r.clone());
                        }
                    }
                    if p.name.is_none() {
                        p.name = names.name.clone();
                    }
                }
            }
        }
    }

    /// Builds a plan from an OCI / Docker v2 manifest. `Ok(None)` when the
    /// manifest is not a container image (an artifact), with a note.
    fn image_from_manifest(
        &mut self,
        manifest: &Value,
        member: &str,
        mut findings: Vec<Finding>,
    ) -> Result<Option<ImagePlan>, PlanError> {
        let config_desc = manifest
            .get("config")
            .ok_or_else(|| PlanError::Invalid(format!("{member}: the manifest has no config")))?;
        let config_type = config_desc
            .get("mediaType")
            .and_then(Value::as_str)
            .unwrap_or("");
        let config_digest = Digest::parse(
            config_desc
                .get("digest")
                .and_then(Value::as_str)
                .unwrap_or(""),
        )
        .within(format!("{member}: config descriptor"))?;
        if !config_type.is_empty() && !CONFIG_TYPES.contains(&config_type) {
            self.notes.push(Finding::note(format!(
                "skipped the artifact {member} (config media type `{config_type}`): not a container image"
            )));
            return Ok(None);
        }
        let config_member = config_digest.blob_path();
        let (bytes, config) = self.read_json(&config_member)?.ok_or_else(|| {
            PlanError::Missing(format!(
                "the config blob {config_member} is missing from the archive"
            ))
        })?;
        let actual = Digest::of(config_digest.algorithm(), &bytes);
        if actual != config_digest {
            findings.push(digest_mismatch(
                "config",
                &config_member,
                &config_digest,
                &actual,
            ));
        }
        let config = parse_config(&config).within(&config_member)?;
        let layers = self.manifest_layers(manifest, member, &mut findings)?;
        Ok(Some(ImagePlan {
            name: None,
            refs: Vec::new(),
            manifest_digest: None,
            config_digest: Some(config_digest),
            config,
            index_platform: None,
            layers,
            group: 0,
            findings,
        }))
    }

    /// The filesystem layers a manifest lists, in order; other layers
    /// (non-tar media types, foreign layers not shipped) are skipped with a
    /// note in `findings`.
    fn manifest_layers(
        &self,
        manifest: &Value,
        member: &str,
        findings: &mut Vec<Finding>,
    ) -> Result<Vec<LayerRef>, PlanError> {
        let mut layers = Vec::new();
        for (i, l) in json::list(manifest, "layers")
            .within(member)?
            .iter()
            .enumerate()
        {
            let media_type = l
                .get("mediaType")
                .and_then(Value::as_str)
                .map(str::to_string);
            let d = Digest::parse(l.get("digest").and_then(Value::as_str).unwrap_or(""))
                .within(format!("{member}: layer {i}"))?;
            let blob = d.blob_path();
            let mt = media_type.as_deref().unwrap_or("");
            let is_tar = mt.is_empty() || mt.contains(".tar") || mt.contains("layer.v1.tar");
            if !is_tar {
                findings.push(Finding::note(format!(
                    "layer {i} ({}) has media type `{mt}`: not a filesystem layer, skipped",
                    d.short()
                )));
                continue;
            }
            if mt.contains("foreign") && !self.source.has(&blob) {
                findings.push(Finding::note(format!(
                    "layer {i} ({}) is a foreign layer (Windows base layers are pulled from their vendor, not shipped in the archive): skipped",
                    d.short()
                )));
                continue;
            }
            if !self.source.has(&blob) {
                return Err(PlanError::Missing(format!(
                    "layer {i} blob {blob} is missing from the archive"
                )));
            }
            layers.push(LayerRef {
                position: i,
                member: blob,
                digest: Some(d.to_string()),
                expect: Some(d),
                media_type,
            });
        }
        Ok(layers)
    }

    /// Reads `manifest.json`. With `index_led`, images already planned from
    /// `index.json` are matched by config digest and only given their tags;
    /// entries that match nothing are reported as a disagreement and planned.
    fn read_docker_manifest(&mut self, index_led: bool) -> Result<(), PlanError> {
        let (_, doc) = self
            .read_json("manifest.json")?
            .ok_or_else(|| PlanError::Missing("manifest.json is missing".into()))?;
        let entries = match &doc {
            Value::Array(a) => a.as_slice(),
            other => {
                return Err(PlanError::Invalid(format!(
                    "expected a list, found {}",
                    json::type_name(other)
                )))
            }
        };
        // Each entry is a manifest: the manifest cap holds here too (50,000
        // entries naming one config used to be planned one by one).
        if entries.len() > self.limits.manifests {
            return Err(Exceeded::Manifests(self.limits.manifests).into());
        }
        for (n, entry) in entries.iter().enumerate() {
            let tags = json::opt_str_list(entry, "RepoTags")
                .within(format!("entry {n}"))?
                .unwrap_or_default();
            let names = Names {
                name: tags.first().cloned(),
                refs: tags,
            };
            if let Err(error) = self.docker_entry(entry, n, &names, index_led) {
                self.images.push(Planned::Unreadable(Unreadable {
                    name: names.name.clone(),
                    refs: names.refs.clone(),
                    manifest_digest: None,
                    index_platform: None,
                    error: std::sync::Arc::new(error),
                }));
            }
        }
        Ok(())
    }

    /// One entry of `manifest.json`: a plan of its own, or (with index.json
    /// leading) its tags given to the image index.json already planned.
    fn docker_entry(
        &mut self,
        entry: &Value,
        n: usize,
        names: &Names,
        index_led: bool,
    ) -> Result<(), PlanError> {
        let config_name = json::opt_str(entry, "Config")
            .within(format!("manifest.json entry {n}"))?
            .ok_or_else(|| PlanError::Invalid(format!("manifest.json entry {n} names no Config")))?
            .to_string();
        // With index.json leading, a layer manifest.json names but the
        // archive lacks (containerd lists foreign layers it does not
        // export) only matters if index.json does not cover the image.
        let (mut plan, missing) = self.plan_docker_entry(entry, n, &config_name, index_led)?;
        plan.name = names.name.clone();
        plan.refs = names.refs.clone();
        if index_led {
            if self.tag_index_image(&plan, &names.refs, &config_name) {
                return Ok(());
            }
            if let Some(m) = missing.first() {
                return Err(PlanError::Missing(format!(
                    "{m} named by manifest.json is missing from the archive"
                )));
            }
            self.notes.push(Finding::note(format!(
                "manifest.json lists {} (config {}) which index.json does not: judged from manifest.json",
                plan.name.as_deref().unwrap_or("an image"),
                config_name
            )));
        }
        plan.group = self.next_group;
        self.next_group += 1;
        self.images.push(Planned::Image(Box::new(plan)));
        Ok(())
    }

    /// Gives `tags` to the image index.json planned with the same config (and
    /// to the other platforms of its index: Docker lists one platform per
    /// tag). `false` when index.json has no such image.
    fn tag_index_image(&mut self, plan: &ImagePlan, tags: &[String], config_name: &str) -> bool {
        let same = self.images.iter_mut().find_map(|p| match p {
            Planned::Image(p) if p.config_digest == plan.config_digest => Some(p),
            _ => None,
        });
        let Some(existing) = same else {
            return false;
        };
        let group = existing.group;
        let ours: Vec<&str> = plan.layers.iter().map(|l| l.member.as_str()).collect();
        let theirs: Vec<&str> = existing.layers.iter().map(|l| l.member.as_str()).collect();
        let disagree = ours != theirs;
        add_tags(existing, tags);
        if disagree {
            self.notes.push(Finding::note(format!(
                "manifest.json and index.json disagree on the layers of {}: judged by index.json",
                plan.name.as_deref().unwrap_or(config_name)
            )));
        }
        for p in self.images.iter_mut() {
            if let Planned::Image(p) = p {
                if p.group == group {
                    add_tags(p, tags);
                }
            }
        }
        true
    }

    fn plan_docker_entry(
        &mut self,
        entry: &Value,
        n: usize,
        config_name: &str,
        lenient: bool,
    ) -> Result<(ImagePlan, Vec<String>), PlanError> {
        let config_member = crate::source::member_key(config_name.as_bytes());
        // crane and some podman versions name the config `sha256:<hex>`.
        let expect = digest_in_name(&config_member);
        let (bytes, config) = self.read_json(&config_member)?.ok_or_else(|| {
            PlanError::Missing(format!(
                "the config {config_member} named by manifest.json is missing from the archive"
            ))
        })?;
        let mut findings = Vec::new();
        let actual = Digest::sha256_of(&bytes);
        if let Some(e) = &expect {
            let actual = Digest::of(e.algorithm(), &bytes);
            if &actual != e {
                findings.push(digest_mismatch("config", &config_member, e, &actual));
            }
        }
        let config = parse_config(&config).within(&config_member)?;
        let layer_names = json::opt_str_list(entry, "Layers")
            .within(format!("manifest.json entry {n}"))?
            .unwrap_or_default();
        let mut layers = Vec::new();
        let mut missing = Vec::new();
        for (i, name) in layer_names.iter().enumerate() {
            let member = crate::source::member_key(name.as_bytes());
            if !self.source.has(&member) {
                let what = format!("layer {i} ({member})");
                if lenient {
                    missing.push(what);
                    continue;
                }
                return Err(PlanError::Missing(format!(
                    "{what} named by manifest.json is missing from the archive"
                )));
            }
            let in_name = digest_in_name(&member);
            let digest = in_name
                .as_ref()
                .map(|d| d.to_string())
                .or_else(|| config.diff_ids.get(i).cloned());
            layers.push(LayerRef {
                position: i,
                member,
                digest,
                // A name that is a blob path promises its content's digest.
                expect: in_name.filter(|_| name.contains("blobs/")),
                media_type: None,
            });
        }
        Ok((
            ImagePlan {
                name: None,
                refs: Vec::new(),
                manifest_digest: None,
                config_digest: Some(expect.unwrap_or(actual)),
                config,
                index_platform: None,
                layers,
                group: 0,
                findings,
            },
            missing,
        ))
    }
}

/// A digest spelled in a member name: `blobs/sha256/<hex>`, `sha256:<hex>`,
/// `<hex>.json`, `<hex>.tar`, `<hex>/layer.tar` is not one (that hex is a v1 id).
fn digest_in_name(member: &str) -> Option<Digest> {
    if let Some(rest) = member.strip_prefix("blobs/") {
        let (alg, hex) = rest.split_once('/')?;
        return Digest::parse(&format!("{alg}:{hex}")).ok();
    }
    if member.starts_with("sha256:") {
        return Digest::parse(member).ok();
    }
    let stem = member
        .strip_suffix(".json")
        .or_else(|| member.strip_suffix(".tar.gz"))
        .or_else(|| member.strip_suffix(".tar"))?;
    if stem.contains('/') {
        return None;
    }
    Digest::parse(&format!("sha256:{stem}")).ok()
}

fn digest_mismatch(what: &str, member: &str, want: &Digest, got: &Digest) -> Finding {
    Finding::new(
        Rule::DigestMismatch,
        Severity::Warning,
        format!("the {what} blob {member} does not match its digest: expected {want}, content hashes to {got}"),
    )
    .hint("the archive was modified or damaged after it was written: save or pull it again")
}

/// Extracts what archscan needs from an image config.
pub fn parse_config(v: &Value) -> Result<ImageConfig, PlanError> {
    if !v.is_object() {
        return Err(PlanError::Invalid(format!(
            "the config should be an object, found {}",
            json::type_name(v)
        )));
    }
    let mut c = ImageConfig {
        os: json::opt_str(v, "os")?.map(str::to_string),
        architecture: json::opt_str(v, "architecture")?.map(str::to_string),
        variant: json::opt_str(v, "variant")?.map(str::to_string),
        ..ImageConfig::default()
    };
    // Docker's config uses `config`; very old ones only `container_config`.
    if let Some(cc) = json::field(v, "config").filter(|c| c.is_object()) {
        c.entrypoint = json::opt_str_list(cc, "Entrypoint")?;
        c.cmd = json::opt_str_list(cc, "Cmd")?;
        c.env = json::opt_str_list(cc, "Env")?.unwrap_or_default();
        c.working_dir = json::opt_str(cc, "WorkingDir")?.map(str::to_string);
        c.user = json::opt_str(cc, "User")?.map(str::to_string);
    }
    if let Some(rootfs) = json::field(v, "rootfs") {
        c.diff_ids = json::opt_str_list(rootfs, "diff_ids")?.unwrap_or_default();
    }
    for h in json::list(v, "history")? {
        let empty = json::field(h, "empty_layer")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        if !empty {
            c.layer_history.push(
                json::field(h, "created_by")
                    .and_then(Value::as_str)
                    .map(str::to_string),
            );
        }
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_in_member_names() {
        let hex = "a".repeat(64);
        for name in [
            format!("blobs/sha256/{hex}"),
            format!("sha256:{hex}"),
            format!("{hex}.json"),
            format!("{hex}.tar"),
            format!("{hex}.tar.gz"),
        ] {
            assert_eq!(
                digest_in_name(&name).map(|d| d.hex().to_string()),
                Some(hex.clone()),
                "{name}"
            );
        }
        assert_eq!(digest_in_name(&format!("{hex}/layer.tar")), None);
        assert_eq!(digest_in_name("blobs/sha256/../../x"), None);
    }

    #[test]
    fn config_fields_and_history() {
        let v: Value = serde_json::from_str(
            r#"{"architecture":"arm64","os":"linux","config":{"Entrypoint":["/app"],"Cmd":null,
            "Env":["PATH=/bin"],"WorkingDir":"/w"},"rootfs":{"type":"layers","diff_ids":["sha256:x"]},
            "history":[{"created_by":"ENV A=b","empty_layer":true},{"created_by":"COPY app /app"}]}"#,
        )
        .unwrap();
        let c = parse_config(&v).unwrap();
        assert_eq!(c.platform().unwrap().to_string(), "linux/arm64");
        assert_eq!(c.entrypoint, Some(vec!["/app".to_string()]));
        assert_eq!(c.cmd, None);
        assert_eq!(c.layer_history, vec![Some("COPY app /app".to_string())]);
        let bad: Value = serde_json::from_str(r#"{"architecture":5}"#).unwrap();
        let err = parse_config(&bad).unwrap_err();
        assert!(
            matches!(err.root(), PlanError::Field(f) if f.key == "architecture"),
            "{err}"
        );
    }
}
