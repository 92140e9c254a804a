//! Rules about the user the container runs as (config `User`, or `--user`
//! as Kubernetes `runAsUser`/`runAsGroup` set it): a named user or group the
//! image's `/etc/passwd` / `/etc/group` do not have (the runtime refuses to
//! start), and a non-root user who cannot exec what runs or search its
//! directories or the `WorkingDir`.

use super::super::{with_layer, Runs, Subject};
use crate::findings::{Finding, Rule, Severity};
use crate::layers::merge::{MergedFs, Resolved};

/// The identity the container process gets.
struct Who {
    uid: u32,
    /// Primary group first, then supplementary groups from `/etc/group`.
    gids: Vec<u32>,
    /// As written (`app`, `1000:0`).
    shown: String,
}

fn content<'a>(fs: &'a MergedFs, path: &str) -> Option<&'a [u8]> {
    match fs.resolve(path) {
        Resolved::Found { node, .. } => fs.entry(node.content?)?.content.as_deref(),
        _ => None,
    }
}

/// Colon-separated records of a small text database.
fn records(text: Option<&[u8]>) -> Vec<Vec<String>> {
    String::from_utf8_lossy(text.unwrap_or(b""))
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| l.split(':').map(str::to_string).collect())
        .collect()
}

/// Resolves `User` through the image's databases, as runc does: a name must
/// be in `/etc/passwd` (a group name in `/etc/group`); a numeric uid absent
/// from it runs with gid 0 unless a gid is given. `Err` is the finding
/// message for a name the image does not have.
fn resolve(fs: &MergedFs, user: &str) -> Result<Option<Who>, String> {
    let user = user.trim();
    if user.is_empty() {
        return Ok(None);
    }
    let (u, g) = match user.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (user, None),
    };
    let passwd = records(content(fs, "/etc/passwd"));
    let group = records(content(fs, "/etc/group"));
    let num = |s: &str| s.parse::<u32>().ok();
    let entry = passwd
        .iter()
        .find(|r| r.first().map(String::as_str) == Some(u))
        .or_else(|| {
            num(u).and_then(|id| {
                passwd
                    .iter()
                    .find(|r| r.get(2).and_then(|x| num(x)) == Some(id))
            })
        });
    let (uid, name, primary) = match (num(u), entry) {
        (Some(id), e) => (
            id,
            e.and_then(|r| r.first().cloned()),
            e.and_then(|r| r.get(3).and_then(|x| num(x))).unwrap_or(0),
        ),
        (None, Some(r)) => (
            r.get(2).and_then(|x| num(x)).unwrap_or(0),
            Some(u.to_string()),
            r.get(3).and_then(|x| num(x)).unwrap_or(0),
        ),
        (None, None) => {
            return Err(format!(
                "the image runs as user `{u}`, which its /etc/passwd does not have: the runtime refuses to start the container (`unable to find user {u}: no matching entries in passwd file`)"
            ))
        }
    };
    let primary = match g {
        None | Some("") => primary,
        Some(g) => match num(g) {
            Some(id) => id,
            None => match group.iter().find(|r| r.first().map(String::as_str) == Some(g)) {
                Some(r) => r.get(2).and_then(|x| num(x)).unwrap_or(0),
                None => {
                    return Err(format!(
                        "the image runs as group `{g}`, which its /etc/group does not have: the runtime refuses to start the container (`unable to find group {g}`)"
                    ))
                }
            },
        },
    };
    let mut gids = vec![primary];
    if let Some(n) = &name {
        for r in &group {
            let members = r.get(3).map(String::as_str).unwrap_or("");
            if members.split(',').any(|m| m == n) {
                if let Some(id) = r.get(2).and_then(|x| num(x)) {
                    gids.push(id);
                }
            }
        }
    }
    Ok(Some(Who {
        uid,
        gids,
        shown: user.to_string(),
    }))
}

/// The permission bit (`1` exec/search, `4` read) `who` has on a node of
/// this mode and owner.
fn allowed(who: &Who, mode: u32, owner: (u32, u32), bit: u32) -> bool {
    let class = if who.uid == owner.0 {
        mode >> 6
    } else if who.gids.contains(&owner.1) {
        mode >> 3
    } else {
        mode
    };
    class & bit != 0
}

/// The mode and owner at a path (after links); a directory no layer lists
/// is created by the runtime as 0755 root.
fn mode_at(fs: &MergedFs, path: &str) -> Option<(u32, (u32, u32))> {
    match fs.resolve(path) {
        Resolved::Found { node, .. } => fs.entry(node.at).map(|e| (e.mode, e.owner)),
        _ => None,
    }
}

/// The first directory on the way to `path` (itself excluded) that `who`
/// cannot search.
fn unsearchable(fs: &MergedFs, who: &Who, path: &str) -> Option<(String, u32, (u32, u32))> {
    let mut dir = String::new();
    let comps: Vec<&str> = path.split('/').filter(|c| !c.is_empty()).collect();
    for c in comps.iter().take(comps.len().saturating_sub(1)) {
        dir.push('/');
        dir.push_str(c);
        if let Some((mode, owner)) = mode_at(fs, &dir) {
            if !allowed(who, mode, owner, 1) {
                return Some((dir, mode, owner));
            }
        }
    }
    None
}

/// The user findings of one image: a user or group it does not have, or
/// what runs (and the `WorkingDir`) that the user cannot exec or search.
pub fn check(s: &Subject<'_>, runs: &[Runs<'_>], workdir: Option<&str>) -> Vec<Finding> {
    let Some(user) = s.user else {
        return Vec::new();
    };
    // Windows users (`ContainerUser`) are not in any /etc/passwd.
    if s.declared
        .is_some_and(|d| d.os != crate::platform::Os::Linux)
    {
        return Vec::new();
    }
    let who = match resolve(s.fs, user) {
        Ok(Some(w)) if w.uid != 0 => w,
        Ok(_) => return Vec::new(),
        Err(msg) => {
            return vec![Finding::new(Rule::UserNotFound, Severity::Error, msg).hint(
                "add the user to /etc/passwd in the image (`useradd`, `adduser -D`), or run as a numeric UID (`USER 10001`)",
            )]
        }
    };
    let groups = who
        .gids
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let as_who = format!("user {} (uid {}, groups {groups})", who.shown, who.uid);
    let mut out = Vec::new();
    for r in runs {
        let Some((mode, owner)) = mode_at(s.fs, r.path) else {
            continue;
        };
        // No exec bit at all is not-executable's.
        let problem = if let Some((dir, m, o)) = unsearchable(s.fs, &who, r.path) {
            Some(format!(
                "cannot search {dir} (mode {m:04o}, owner {}:{})",
                o.0, o.1
            ))
        } else if mode & 0o111 != 0 && !allowed(&who, mode, owner, 1) {
            Some(format!(
                "cannot exec it (mode {mode:04o}, owner {}:{})",
                owner.0, owner.1
            ))
        } else {
            None
        };
        if let Some(p) = problem {
            out.push(with_layer(
                s,
                Finding::new(
                    Rule::UserCannotExec,
                    Severity::Error,
                    format!(
                        "{} runs as {as_who}, who {p}: the container fails with `permission denied`",
                        r.path
                    ),
                )
                .path(r.path)
                .hint(format!(
                    "make it executable by everyone (`COPY --chmod=0755`, `chmod o+x`) or owned by the user (`COPY --chown={}`), or run as a user who may exec it",
                    who.uid
                )),
                Some(r.at),
            ));
        }
    }
    if let Some(wd) = workdir.filter(|w| *w != "/") {
        let mut probe = wd.trim_end_matches('/').to_string();
        probe.push_str("/.");
        let blocked = unsearchable(s.fs, &who, &probe);
        if let Some((dir, m, o)) = blocked {
            out.push(Finding::new(
                Rule::UserCannotExec,
                Severity::Error,
                format!(
                    "the WorkingDir {wd} is not searchable by {as_who}: {dir} has mode {m:04o}, owner {}:{}; the container fails with `permission denied` on chdir",
                    o.0, o.1
                ),
            )
            .path(wd)
            .hint("make the directory searchable (`chmod o+x`) or owned by the user"));
        }
    }
    out
}
