//! The merged filesystem: layer indexes applied in order, as the container
//! runtime's snapshotter would, into one map from image path to the entry that
//! wins. Within a layer, opaque markers apply first, then whiteouts, then the
//! layer's entries. Symlinks are resolved inside this map only: absolute targets
//! start from the image root, `..` never climbs above it, and at most
//! `Limits::link_hops` links are followed, as Linux does.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::Arc;

use super::scan::{LayerEntry, LayerIndex, NodeKind};
use crate::paths;

/// Where an entry lives: layer position in the image and entry number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FileRef {
    pub layer: usize,
    pub entry: u32,
}

/// One path of the merged view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Node {
    /// The entry at this path.
    pub at: FileRef,
    /// For regular files and hardlinks: the entry whose bytes this path has
    /// (a hardlink's target). `None` for a hardlink whose target is absent.
    /// A hard link's `at` is its target's entry (the inode: type, mode,
    /// owner); only a link whose target is absent keeps its own.
    pub content: Option<FileRef>,
}

/// The outcome of resolving a path through symlinks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    /// The path (after links) and its node.
    Found { path: String, node: Node },
    /// Nothing at `path` (after following links so far).
    Missing { path: String },
    /// More than the allowed number of symlinks.
    TooManyLinks { path: String },
}

pub struct MergedFs {
    layers: Vec<Arc<LayerIndex>>,
    map: BTreeMap<Arc<str>, Node>,
    link_hops: usize,
}

impl MergedFs {
    /// Applies the layers in order (lowest first).
    pub fn merge(layers: Vec<Arc<LayerIndex>>, link_hops: usize) -> MergedFs {
        let mut fs = MergedFs {
            layers: Vec::with_capacity(layers.len()),
            map: BTreeMap::new(),
            link_hops,
        };
        for layer in layers {
            fs.push(layer);
        }
        fs
    }

    /// `base` with one more layer applied on top: the same view as merging
    /// `base`'s layers and `layer`, at the cost of copying `base`'s map
    /// (its paths are shared, not copied) instead of building it again.
    pub fn on(base: &MergedFs, layer: Arc<LayerIndex>) -> MergedFs {
        let mut layers = Vec::with_capacity(base.layers.len() + 1);
        layers.extend(base.layers.iter().cloned());
        let mut fs = MergedFs {
            layers,
            map: base.map.clone(),
            link_hops: base.link_hops,
        };
        fs.push(layer);
        fs
    }

    /// Applies one more layer on top.
    fn push(&mut self, layer: Arc<LayerIndex>) {
        let li = self.layers.len();
        self.layers.push(layer);
        let (layers, map) = (&self.layers, &mut self.map);
        let layer = &layers[li];
        let refs = || {
            layer.entries.iter().enumerate().map(move |(i, e)| {
                (
                    FileRef {
                        layer: li,
                        entry: i as u32,
                    },
                    e,
                )
            })
        };
        for (_, e) in refs().filter(|(_, e)| e.kind == NodeKind::Opaque) {
            remove_below(map, &e.path);
        }
        for (_, e) in refs().filter(|(_, e)| e.kind == NodeKind::Whiteout) {
            map.remove(&e.path);
            remove_below(map, &e.path);
        }
        for (at, e) in refs() {
            let (at, content) = match &e.kind {
                NodeKind::Opaque | NodeKind::Whiteout => continue,
                NodeKind::File => (at, Some(at)),
                // A hard link is its target's inode, as the kernel sees
                // it: the same type (a link to a symlink is that
                // symlink), mode, owner and bytes.
                NodeKind::Hardlink(target) => match map.get(target.as_str()) {
                    Some(n) if entry_of(layers, n.at).is_some_and(|t| t.kind != NodeKind::Dir) => {
                        (n.at, n.content)
                    }
                    _ => (at, None),
                },
                _ => (at, None),
            };
            if e.kind != NodeKind::Dir {
                // A file replacing a directory hides what was under it.
                if let Some(old) = map.get(&e.path) {
                    if entry_of(layers, old.at).is_some_and(|o| o.kind == NodeKind::Dir) {
                        remove_below(map, &e.path);
                    }
                }
            }
            map.insert(e.path.clone(), Node { at, content });
        }
    }

    pub fn layers(&self) -> &[Arc<LayerIndex>] {
        &self.layers
    }

    pub fn entry(&self, at: FileRef) -> Option<&LayerEntry> {
        entry_of(&self.layers, at)
    }

    /// The node at exactly `path` (no link following).
    pub fn get(&self, path: &str) -> Option<Node> {
        self.map.get(path).copied()
    }

    /// The stored path equal to `path` (borrowed from the view).
    pub fn key(&self, path: &str) -> Option<&str> {
        self.map.get_key_value(path).map(|(k, _)| &**k)
    }

    /// Every path and node, in path order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, Node)> {
        self.map.iter().map(|(p, n)| (&**p, *n))
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Resolves `path` (absolute) through symlinks in every component,
    /// including the last.
    pub fn resolve(&self, path: &str) -> Resolved {
        let mut hops = 0usize;
        // `pending` holds the components still to walk, last first.
        let mut pending: Vec<String> = components_rev(path);
        let mut current = String::from("/");
        while let Some(comp) = pending.pop() {
            if comp == ".." {
                // `current` is a resolved directory: its parent is lexical.
                current = paths::parent(&current).to_string();
                continue;
            }
            let next = paths::join_normalised(&current, &comp);
            let Some(node) = self.map.get(next.as_str()).copied() else {
                if !pending.is_empty() && self.has_children(&next) {
                    // A directory no entry lists (writers may omit parents).
                    current = next;
                    continue;
                }
                let mut missing = next;
                while let Some(rest) = pending.pop() {
                    missing = paths::join_normalised(&missing, &rest);
                }
                return Resolved::Missing { path: missing };
            };
            match self.entry(node.at).map(|e| &e.kind) {
                Some(NodeKind::Symlink(target)) => {
                    hops += 1;
                    if hops > self.link_hops {
                        return Resolved::TooManyLinks { path: next };
                    }
                    // Absolute targets start again at the image root;
                    // relative ones from the link's directory.
                    if target.starts_with('/') {
                        current = String::from("/");
                    }
                    pending.extend(components_rev(target));
                }
                _ => current = next,
            }
        }
        match self.map.get(current.as_str()) {
            Some(node) => Resolved::Found {
                path: current,
                node: *node,
            },
            // The root itself, when no layer lists it.
            None => Resolved::Missing { path: current },
        }
    }
}

impl MergedFs {
    /// Is there any path below `dir`?
    fn has_children(&self, dir: &str) -> bool {
        let prefix = format!("{dir}/");
        self.map
            .range::<str, _>((Bound::Included(prefix.as_str()), Bound::Unbounded))
            .next()
            .is_some_and(|(p, _)| p.starts_with(&prefix))
    }
}

fn components_rev(path: &str) -> Vec<String> {
    path.split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .rev()
        .map(str::to_string)
        .collect()
}

fn entry_of(layers: &[Arc<LayerIndex>], at: FileRef) -> Option<&LayerEntry> {
    layers.get(at.layer)?.entries.get(at.entry as usize)
}

/// Removes every path strictly below `dir`.
fn remove_below(map: &mut BTreeMap<Arc<str>, Node>, dir: &str) {
    let prefix = if dir == "/" {
        "/".to_string()
    } else {
        format!("{dir}/")
    };
    let doomed: Vec<Arc<str>> = map
        .range::<str, _>((Bound::Included(prefix.as_str()), Bound::Unbounded))
        .take_while(|(p, _)| p.starts_with(&prefix))
        .map(|(p, _)| Arc::clone(p))
        .collect();
    for p in doomed {
        map.remove(&*p);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layer(entries: &[(&str, NodeKind)]) -> Arc<LayerIndex> {
        Arc::new(LayerIndex {
            entries: entries
                .iter()
                .map(|(p, k)| LayerEntry {
                    path: (*p).into(),
                    kind: k.clone(),
                    mode: 0o755,
                    owner: (0, 0),
                    size: 0,
                    ident: None,
                    content: None,
                })
                .collect(),
            ..LayerIndex::default()
        })
    }

    fn paths_of(fs: &MergedFs) -> Vec<&str> {
        fs.iter().map(|(p, _)| p).collect()
    }

    #[test]
    fn a_layer_on_a_merged_base_is_the_same_as_merging_them_all() {
        use NodeKind::*;
        let layers = vec![
            layer(&[("/a", Dir), ("/a/x", File), ("/a/y", File), ("/b", File)]),
            layer(&[
                ("/d", Dir),
                ("/d/old", File),
                ("/a/y", Hardlink("/b".into())),
            ]),
            layer(&[
                ("/a/x", Whiteout),
                ("/d", Opaque),
                ("/d/new", File),
                ("/b", Symlink("/a/y".into())),
                ("/e", Hardlink("/a/y".into())),
            ]),
        ];
        let all = MergedFs::merge(layers.clone(), 40);
        let base = MergedFs::merge(layers[..2].to_vec(), 40);
        let on = MergedFs::on(&base, Arc::clone(&layers[2]));
        let view = |fs: &MergedFs| -> Vec<(String, Node)> {
            fs.iter().map(|(p, n)| (p.to_string(), n)).collect()
        };
        assert_eq!(view(&on), view(&all));
        assert_eq!(on.layers().len(), 3);
        assert_eq!(on.resolve("/b"), all.resolve("/b"));
        // The base is untouched.
        assert_eq!(
            view(&base),
            view(&MergedFs::merge(layers[..2].to_vec(), 40))
        );
    }

    #[test]
    fn later_layers_replace_and_whiteouts_delete() {
        use NodeKind::*;
        let fs = MergedFs::merge(
            vec![
                layer(&[("/a", Dir), ("/a/x", File), ("/a/y", File), ("/b", File)]),
                layer(&[("/a/x", Whiteout), ("/b", File), ("/c", File)]),
            ],
            40,
        );
        assert_eq!(paths_of(&fs), vec!["/a", "/a/y", "/b", "/c"]);
        assert_eq!(fs.get("/b").unwrap().at.layer, 1);
    }

    #[test]
    fn opaque_applies_before_the_same_layers_entries() {
        use NodeKind::*;
        let fs = MergedFs::merge(
            vec![
                layer(&[("/d", Dir), ("/d/old", File), ("/dd", File)]),
                layer(&[("/d/new", File), ("/d", Opaque)]),
            ],
            40,
        );
        assert_eq!(paths_of(&fs), vec!["/d", "/d/new", "/dd"]);
    }

    #[test]
    fn whiteout_of_a_directory_removes_its_contents() {
        use NodeKind::*;
        let fs = MergedFs::merge(
            vec![
                layer(&[("/d", Dir), ("/d/x", File), ("/d2", File)]),
                layer(&[("/d", Whiteout)]),
            ],
            40,
        );
        assert_eq!(paths_of(&fs), vec!["/d2"]);
    }

    #[test]
    fn file_replacing_a_directory_hides_its_children() {
        use NodeKind::*;
        let fs = MergedFs::merge(
            vec![
                layer(&[("/d", Dir), ("/d/x", File)]),
                layer(&[("/d", File)]),
            ],
            40,
        );
        assert_eq!(paths_of(&fs), vec!["/d"]);
    }

    // A hard link to a symlink was a file with no content: an entrypoint
    // reached through it was "not a regular file" although the kernel runs
    // what the symlink points to.
    #[test]
    fn a_hardlink_to_a_symlink_is_that_symlink() {
        use NodeKind::*;
        let fs = MergedFs::merge(
            vec![layer(&[
                ("/bin/real", File),
                ("/bin/sym", Symlink("real".into())),
                ("/bin/hard", Hardlink("/bin/sym".into())),
            ])],
            40,
        );
        let Resolved::Found { path, node } = fs.resolve("/bin/hard") else {
            panic!("not found");
        };
        assert_eq!(path, "/bin/real");
        assert_eq!(node.content, fs.get("/bin/real").unwrap().content);
    }

    // A hard link's own header mode was taken (0644 here) instead of its
    // inode's (0755): a false not-executable.
    #[test]
    fn a_hardlink_has_its_targets_mode() {
        let mut target = LayerEntry {
            path: "/app".into(),
            kind: NodeKind::File,
            mode: 0o755,
            owner: (0, 0),
            size: 0,
            ident: None,
            content: None,
        };
        let link = LayerEntry {
            path: "/run".into(),
            kind: NodeKind::Hardlink("/app".into()),
            mode: 0o644,
            ..target.clone()
        };
        target.path = "/app".into();
        let fs = MergedFs::merge(
            vec![Arc::new(LayerIndex {
                entries: vec![target, link],
                ..LayerIndex::default()
            })],
            40,
        );
        let node = fs.get("/run").unwrap();
        assert_eq!(fs.entry(node.at).unwrap().mode, 0o755);
        assert!(fs.entry(node.at).unwrap().exec_bit());
    }

    #[test]
    fn hardlinks_share_their_targets_content() {
        use NodeKind::*;
        let fs = MergedFs::merge(
            vec![layer(&[
                ("/bin/a", File),
                ("/bin/b", Hardlink("/bin/a".into())),
                ("/bin/c", Hardlink("/nope".into())),
            ])],
            40,
        );
        let a = fs.get("/bin/a").unwrap();
        assert_eq!(fs.get("/bin/b").unwrap().content, Some(a.at));
        assert_eq!(fs.get("/bin/c").unwrap().content, None);
    }

    #[test]
    fn resolves_links_inside_the_root() {
        use NodeKind::*;
        let fs = MergedFs::merge(
            vec![layer(&[
                ("/usr", Dir),
                ("/usr/lib", Dir),
                ("/usr/lib/app", Dir),
                ("/usr/lib/app/bin", File),
                ("/usr/local", Dir),
                ("/usr/local/bin", Dir),
                ("/usr/local/bin/app", Symlink("../../lib/app/bin".into())),
                ("/bin", Symlink("usr/bin".into())),
                ("/usr/bin", Dir),
                ("/usr/bin/tool", Symlink("/usr/local/bin/app".into())),
                ("/escape", Symlink("../../../../usr/lib/app/bin".into())),
                ("/loop1", Symlink("loop2".into())),
                ("/loop2", Symlink("/loop1".into())),
                ("/dangling", Symlink("/nowhere/x".into())),
            ])],
            40,
        );
        let found = |p: &str| match fs.resolve(p) {
            Resolved::Found { path, .. } => path,
            other => panic!("{p}: {other:?}"),
        };
        assert_eq!(found("/usr/local/bin/app"), "/usr/lib/app/bin");
        assert_eq!(found("/bin/tool"), "/usr/lib/app/bin");
        assert_eq!(found("/escape"), "/usr/lib/app/bin");
        assert!(matches!(
            fs.resolve("/loop1"),
            Resolved::TooManyLinks { .. }
        ));
        assert_eq!(
            fs.resolve("/dangling"),
            Resolved::Missing {
                path: "/nowhere/x".into()
            }
        );
        assert_eq!(
            fs.resolve("/bin/nothing/here"),
            Resolved::Missing {
                path: "/usr/bin/nothing/here".into()
            }
        );
    }
}
