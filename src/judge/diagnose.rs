//! The rules beyond the architecture label: everything else that makes a
//! container die at exec. The dynamic loader (`PT_INTERP`) and the C library it
//! belongs to, the shared libraries the loader must find, `#!` lines (missing
//! interpreter, CR LF), entrypoints that are not programs or lack the exec bit,
//! ARM variants and x86-64 ISA levels, and native modules of Python and Node
//! packages.

use crate::hosts::HostFacts;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

use crate::findings::{Rule, Severity};
use crate::identify::{ElfInfo, Ident};
use crate::layers::merge::{MergedFs, Resolved};
use crate::limits::JudgeLimits;
use crate::paths;
use crate::platform::{Arch, Platform};

/// How a binary relates to a host platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Compat {
    Runs,
    /// Another OS (Mach-O, PE, FreeBSD ELF…).
    OtherOs,
    /// Another architecture.
    OtherArch,
    /// Same architecture, but the code needs a newer ARM variant.
    NewerVariant {
        need: u32,
        have: u32,
    },
}

pub fn compat(host: &Platform, bin: &Platform) -> Compat {
    if host.os != bin.os {
        return Compat::OtherOs;
    }
    if host.can_run(bin) {
        return Compat::Runs;
    }
    match (&host.arch, &bin.arch, host.arm_level(), bin.arm_level()) {
        (Arch::Arm, Arch::Arm, Some(have), Some(need)) => Compat::NewerVariant { need, have },
        _ => Compat::OtherArch,
    }
}

/// [`compat`] on the deploy target, knowing the host's facts: an arm64 host
/// whose CPU and kernel run AArch32 also runs 32-bit ARM code up to v8.
pub fn compat_on(host: Option<&HostFacts>, target: &Platform, bin: &Platform) -> Compat {
    let aarch32 = host.and_then(|h| h.aarch32) == Some(true);
    if aarch32
        && target.os == bin.os
        && target.arch == Arch::Arm64
        && bin.arch == Arch::Arm
        && bin.arm_level().is_none_or(|l| l <= 8)
    {
        return Compat::Runs;
    }
    compat(target, bin)
}

/// The platform a native file's code is for, with the ARM variant taken from
/// the ELF attributes or, for Go programs, from GOARM.
pub fn code_platform(ident: &Ident) -> Option<Platform> {
    let mut p = ident.platforms().into_iter().next()?;
    if let Ident::Elf(e) = ident {
        if p.arch == Arch::Arm && p.variant.is_none() {
            if let Some(goarm) = e.go.as_ref().and_then(|g| g.goarm.as_deref()) {
                let level = goarm.split(',').next().unwrap_or(goarm);
                p.variant = Some(format!("v{}", level.trim_start_matches('v')));
            }
        }
    }
    Some(p)
}

/// The x86-64 ISA level a host of this platform guarantees (`amd64` alone is
/// the v1 baseline), and whether it was said explicitly.
pub fn host_isa_level(p: &Platform) -> Option<(u8, bool)> {
    if p.arch != Arch::Amd64 {
        return None;
    }
    match p
        .variant
        .as_deref()
        .and_then(|v| v.strip_prefix('v'))
        .and_then(|v| v.parse().ok())
    {
        Some(level) => Some((level, true)),
        None => Some((1, false)),
    }
}

/// The ISA level x86-64 code needs, when it says.
pub fn needed_isa_level(ident: &Ident) -> Option<u8> {
    match ident {
        Ident::Elf(e) if e.arch == Arch::Amd64 => e.isa_level.filter(|&l| l > 1),
        _ => None,
    }
}

/// The Arm architecture level arm64 code needs, when it says (Go's
/// `GOARM64` above the v8.0 baseline; C toolchains leave no such marker).
pub fn needed_arm_level(ident: &Ident) -> Option<(u8, u8)> {
    match ident {
        Ident::Elf(e) if e.arch == Arch::Arm64 => {
            e.go.as_ref()
                .and_then(|g| g.goarm64.as_deref())
                .and_then(crate::hosts::parse_arm_level)
                .filter(|&l| l > (8, 0))
        }
        _ => None,
    }
}

pub fn severity(runs: bool) -> Severity {
    if runs {
        Severity::Error
    } else {
        Severity::Warning
    }
}

/// Which C library a loader path belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Libc {
    Glibc,
    Musl,
    Other,
}

pub fn libc_of_loader(interp: &str) -> Libc {
    let name = paths::file_name(interp);
    if name.starts_with("ld-musl-") {
        Libc::Musl
    } else if name.starts_with("ld-linux")
        || name.starts_with("ld64.so")
        || name == "ld.so.1"
        || name.starts_with("ld-2.")
    {
        Libc::Glibc
    } else {
        Libc::Other
    }
}

impl Libc {
    fn name(self) -> &'static str {
        match self {
            Libc::Glibc => "glibc",
            Libc::Musl => "musl",
            Libc::Other => "another C library",
        }
    }
}

/// The ELF found at a path after links, if any.
fn elf_at<'a>(fs: &'a MergedFs, path: &str) -> Option<(String, &'a ElfInfo)> {
    match fs.resolve(path) {
        Resolved::Found { path, node } => {
            let e = fs.entry(node.content?)?;
            match e.ident.as_deref()? {
                Ident::Elf(elf) => Some((path, elf)),
                _ => None,
            }
        }
        _ => None,
    }
}

fn exists(fs: &MergedFs, path: &str) -> bool {
    matches!(fs.resolve(path), Resolved::Found { node, .. } if node.content.is_some())
}

/// What the image's C library is, from the loaders it contains (files or
/// links: Debian's musl installs `/lib/ld-musl-x86_64.so.1` as a symlink).
pub fn image_libcs(fs: &MergedFs) -> BTreeSet<&'static str> {
    let mut out = BTreeSet::new();
    for (path, _) in fs.iter() {
        let dir = paths::parent(path);
        if !(dir == "/lib"
            || dir == "/lib64"
            || dir.starts_with("/lib/")
            || dir.starts_with("/usr/lib"))
        {
            continue;
        }
        let libc = match libc_of_loader(path) {
            Libc::Glibc if paths::file_name(path).contains(".so") => "glibc",
            Libc::Musl => "musl",
            _ => continue,
        };
        if exists(fs, path) {
            out.insert(libc);
        }
    }
    out
}

/// The dynamic loader check for one binary: absent, of another architecture,
/// or of the other C library. `None` when the loader is fine.
pub fn loader_problem(
    fs: &MergedFs,
    elf: &ElfInfo,
    libcs: &BTreeSet<&'static str>,
) -> Option<(Rule, String)> {
    let interp = elf.interpreter.as_deref()?;
    match elf_at(fs, interp) {
        Some((real, loader)) => {
            if loader.arch != elf.arch || loader.class != elf.class {
                Some((
                    Rule::MissingLoader,
                    format!(
                        "its loader {interp} is in the image but is {} code ({real}), not {}",
                        loader.arch, elf.arch
                    ),
                ))
            } else {
                None
            }
        }
        None if exists(fs, interp) => None,
        None => {
            let wants = libc_of_loader(interp);
            let other = match wants {
                Libc::Glibc if libcs.contains("musl") && !libcs.contains("glibc") => {
                    Some(Libc::Musl)
                }
                Libc::Musl if libcs.contains("glibc") && !libcs.contains("musl") => {
                    Some(Libc::Glibc)
                }
                _ => None,
            };
            match other {
                Some(have) => Some((
                    Rule::LibcMismatch,
                    format!(
                        "it was built against {} (loader {interp}) but this image has {}: the kernel cannot find the loader and reports `no such file or directory`",
                        wants.name(),
                        have.name()
                    ),
                )),
                None => Some((
                    Rule::MissingLoader,
                    format!("its dynamic loader {interp} is not in the image: the kernel reports `no such file or directory` although the file exists"),
                )),
            }
        }
    }
}

pub fn loader_hint(rule: Rule, elf: &ElfInfo) -> String {
    match rule {
        Rule::LibcMismatch => "build it for the image's C library (static, or `-linux-musl` for Alpine, `-linux-gnu` for Debian/Ubuntu), or use a base image with the C library it was built for".to_string(),
        _ => format!(
            "use a base image that has the {} C library (e.g. not `scratch` or distroless/static), copy the loader and libraries in, or link the program statically",
            elf.interpreter.as_deref().map(libc_of_loader).unwrap_or(Libc::Other).name()
        ),
    }
}

/// Multiarch directory names (Debian/Ubuntu) for an architecture.
fn multiarch(arch: &Arch) -> &'static [&'static str] {
    match arch {
        Arch::Amd64 => &["x86_64-linux-gnu"],
        Arch::Arm64 => &["aarch64-linux-gnu"],
        Arch::Arm => &["arm-linux-gnueabihf", "arm-linux-gnueabi"],
        Arch::I386 => &["i386-linux-gnu"],
        Arch::Ppc64le => &["powerpc64le-linux-gnu"],
        Arch::S390x => &["s390x-linux-gnu"],
        Arch::Riscv64 => &["riscv64-linux-gnu"],
        Arch::Mips64le => &["mips64el-linux-gnuabi64"],
        Arch::Mipsle => &["mipsel-linux-gnu"],
        Arch::Loong64 => &["loongarch64-linux-gnu"],
        _ => &[],
    }
}

/// musl's name for an architecture in `/etc/ld-musl-<arch>.path`.
fn musl_arch(arch: &Arch) -> Option<&'static str> {
    Some(match arch {
        Arch::Amd64 => "x86_64",
        Arch::Arm64 => "aarch64",
        Arch::Arm => "armhf",
        Arch::I386 => "i386",
        Arch::Ppc64le => "powerpc64le",
        Arch::S390x => "s390x",
        Arch::Riscv64 => "riscv64",
        _ => return None,
    })
}

fn content_of<'a>(fs: &'a MergedFs, path: &str) -> Option<&'a [u8]> {
    match fs.resolve(path) {
        Resolved::Found { node, .. } => fs.entry(node.content?)?.content.as_deref(),
        _ => None,
    }
}

/// Directories listed in `/etc/ld.so.conf`, following `include` globs into
/// `/etc/ld.so.conf.d/` (one level of `*` matching, as glibc's configs use),
/// at most `lim.conf_includes` includes in all and `lim.conf_depth` deep;
/// what the caps cut is said in `cut`.
fn ld_so_conf_dirs(fs: &MergedFs, lim: &JudgeLimits, cut: &mut Vec<String>) -> Vec<String> {
    let mut dirs = Vec::new();
    let mut queue: VecDeque<(String, usize)> = VecDeque::from([("/etc/ld.so.conf".to_string(), 0)]);
    let mut seen = BTreeSet::new();
    let (mut includes, mut skipped, mut too_deep) = (0usize, 0usize, 0usize);
    while let Some((file, depth)) = queue.pop_front() {
        if !seen.insert(file.clone()) {
            continue;
        }
        let Some(text) = content_of(fs, &file) else {
            continue;
        };
        for line in String::from_utf8_lossy(text).lines() {
            let line = line.split('#').next().unwrap_or("").trim();
            if let Some(pattern) = line.strip_prefix("include") {
                if includes >= lim.conf_includes {
                    skipped += 1;
                    continue;
                }
                if depth >= lim.conf_depth {
                    too_deep += 1;
                    continue;
                }
                includes += 1;
                let pattern = paths::join_normalised(paths::parent(&file), pattern.trim());
                let (dir, glob) = (
                    paths::parent(&pattern).to_string(),
                    paths::file_name(&pattern).to_string(),
                );
                let (pre, suf) = glob.split_once('*').unwrap_or((&glob, ""));
                let mut matched: Vec<String> = fs
                    .iter()
                    .map(|(p, _)| p)
                    .filter(|p| paths::parent(p) == dir)
                    .filter(|p| {
                        let n = paths::file_name(p);
                        if glob.contains('*') {
                            n.len() >= pre.len() + suf.len()
                                && n.starts_with(pre)
                                && n.ends_with(suf)
                        } else {
                            n == glob
                        }
                    })
                    .map(str::to_string)
                    .collect();
                matched.sort();
                queue.extend(matched.into_iter().map(|m| (m, depth + 1)));
            } else if line.starts_with('/') {
                dirs.extend(
                    line.split([' ', '\t', ':', ','])
                        .filter(|d| d.starts_with('/'))
                        .map(str::to_string),
                );
            }
        }
    }
    if skipped > 0 {
        cut.push(format!(
            "/etc/ld.so.conf: {skipped} `include` lines past the first {} were not followed (limit): libraries in the directories they name are not looked for",
            lim.conf_includes
        ));
    }
    if too_deep > 0 {
        cut.push(format!(
            "/etc/ld.so.conf: {too_deep} `include` lines nested more than {} deep were not followed (limit)",
            lim.conf_depth
        ));
    }
    dirs
}

/// Where the loader of `elf` looks for libraries, in order, at most
/// `lim.search_dirs` of them; `conf` is `/etc/ld.so.conf`'s list (read once
/// per program). `cut` is set when the list was longer.
fn search_dirs(
    elf: &ElfInfo,
    object_path: &str,
    cx: &LoadCx<'_>,
    conf: &[String],
    cut: &mut bool,
) -> Vec<String> {
    let fs = cx.fs;
    let origin = paths::parent(object_path).to_string();
    let expand = |list: &str| -> Vec<String> {
        list.split(':')
            .filter(|d| {
                !d.is_empty()
                    && !d.contains("$LIB")
                    && !d.contains("${LIB}")
                    && !d.contains("$PLATFORM")
            })
            // Past the cap nothing is examined: no need to expand it.
            .take(cx.lim.search_dirs.saturating_add(1))
            .map(|d| d.replace("${ORIGIN}", &origin).replace("$ORIGIN", &origin))
            .map(|d| paths::join_normalised("/", &d))
            .collect()
    };
    let mut dirs = Vec::new();
    if elf.runpath.is_none() {
        if let Some(r) = &elf.rpath {
            dirs.extend(expand(r));
        }
    }
    if let Some(lp) = cx
        .env
        .iter()
        .rev()
        .find_map(|e| e.strip_prefix("LD_LIBRARY_PATH="))
    {
        dirs.extend(expand(lp));
    }
    if let Some(r) = &elf.runpath {
        dirs.extend(expand(r));
    }
    let musl = elf.interpreter.as_deref().map(libc_of_loader) == Some(Libc::Musl);
    if musl {
        let conf =
            musl_arch(&elf.arch).and_then(|a| content_of(fs, &format!("/etc/ld-musl-{a}.path")));
        match conf {
            Some(text) => dirs.extend(
                String::from_utf8_lossy(text)
                    .split(['\n', ':'])
                    .map(str::trim)
                    .filter(|d| d.starts_with('/'))
                    .take(cx.lim.search_dirs.saturating_add(1))
                    .map(str::to_string),
            ),
            None => dirs.extend(["/lib", "/usr/local/lib", "/usr/lib"].map(str::to_string)),
        }
    } else {
        dirs.extend(conf.iter().cloned());
        for t in multiarch(&elf.arch) {
            dirs.push(format!("/lib/{t}"));
            dirs.push(format!("/usr/lib/{t}"));
        }
        if elf.class == 64 {
            dirs.extend(["/lib64", "/usr/lib64"].map(str::to_string));
        }
        dirs.extend(["/lib", "/usr/lib"].map(str::to_string));
    }
    let mut seen = BTreeSet::new();
    dirs.retain(|d| seen.insert(d.clone()));
    if dirs.len() > cx.lim.search_dirs {
        dirs.truncate(cx.lim.search_dirs);
        *cut = true;
    }
    dirs
}

/// What the loader's search is judged with: the merged view, the config's
/// environment and the caps.
pub struct LoadCx<'a> {
    pub fs: &'a MergedFs,
    pub env: &'a [String],
    pub lim: &'a JudgeLimits,
}

/// A library the loader will not find.
pub struct MissingLib {
    /// The object that needs it (the program or a library it loads).
    pub needed_by: String,
    pub name: String,
    /// Copies of another architecture found on the search path.
    pub wrong_arch: Vec<(String, Arch)>,
    /// The search list (shared by the libraries one object needs: a
    /// thousand missing names do not copy it a thousand times).
    pub searched: std::rc::Rc<Vec<String>>,
}

/// The libraries the loader would not find, and what a cap cut short.
pub struct Missing {
    pub libs: Vec<MissingLib>,
    /// What the caps of [`JudgeLimits`] left unexamined, one note each.
    pub cut: Vec<String>,
}

/// Follows `DT_NEEDED` from the program at `path`, transitively, as the loader
/// would, and returns the libraries it would not find.
pub fn missing_libraries(cx: &LoadCx<'_>, path: &str, elf: &ElfInfo) -> Missing {
    let g = load_graph(cx, path, elf);
    Missing {
        libs: g.missing,
        cut: g.cut,
    }
}

/// What the loader maps for one program: the objects it finds (the program
/// first, the loader itself under its file name) and the names it does not.
struct Loaded {
    missing: Vec<MissingLib>,
    /// Every object loaded, as (path, ELF), the program first.
    objects: Vec<(String, ElfInfo)>,
    /// The object each `DT_NEEDED` name (and the loader's file name) resolved to.
    by_name: BTreeMap<String, (String, ElfInfo)>,
    /// What the caps cut.
    cut: Vec<String>,
}

fn load_graph(cx: &LoadCx<'_>, path: &str, elf: &ElfInfo) -> Loaded {
    const MAX_OBJECTS: usize = 512;
    let fs = cx.fs;
    let mut out = Loaded {
        missing: Vec::new(),
        objects: Vec::new(),
        by_name: BTreeMap::new(),
        cut: Vec::new(),
    };
    if elf.interpreter.is_none() && elf.needed.is_empty() {
        return out;
    }
    let conf = ld_so_conf_dirs(fs, cx.lim, &mut out.cut);
    let mut loaded: BTreeMap<String, ()> = BTreeMap::new();
    let mut queue: VecDeque<(String, ElfInfo)> = VecDeque::from([(path.to_string(), elf.clone())]);
    // Names the loader itself provides.
    if let Some(i) = &elf.interpreter {
        let name = paths::file_name(i).to_string();
        if let Some((real, ld)) = elf_at(fs, i) {
            out.by_name.insert(name.clone(), (real, ld.clone()));
        }
        loaded.insert(name, ());
    }
    let (mut unexamined, mut cut_lists) = (0usize, 0usize);
    while let Some((obj_path, obj)) = queue.pop_front() {
        if out.objects.len() >= MAX_OBJECTS {
            break;
        }
        let mut cut = false;
        let dirs = std::rc::Rc::new(search_dirs(&obj, &obj_path, cx, &conf, &mut cut));
        cut_lists += usize::from(cut);
        for name in &obj.needed {
            if loaded.contains_key(name) {
                continue;
            }
            if out.missing.len() >= cx.lim.missing_libs {
                unexamined += 1;
                continue;
            }
            let candidates: Vec<String> = if name.contains('/') {
                vec![paths::join_normalised("/", name)]
            } else {
                dirs.iter()
                    .map(|d| paths::join_normalised(d, name))
                    .collect()
            };
            let mut wrong = Vec::new();
            let mut found = None;
            for c in &candidates {
                if let Some((real, lib)) = elf_at(fs, c) {
                    if lib.arch == elf.arch && lib.class == elf.class {
                        found = Some((real, lib.clone()));
                        break;
                    }
                    wrong.push((c.clone(), lib.arch.clone()));
                }
            }
            loaded.insert(name.clone(), ());
            match found {
                Some(lib) => {
                    out.by_name.insert(name.clone(), lib.clone());
                    queue.push_back(lib);
                }
                None => out.missing.push(MissingLib {
                    needed_by: obj_path.clone(),
                    name: name.clone(),
                    wrong_arch: wrong,
                    searched: std::rc::Rc::clone(&dirs),
                }),
            }
        }
        out.objects.push((obj_path, obj));
    }
    if cut_lists > 0 {
        out.cut.push(format!(
            "{path}: the library search list was cut to its first {} directories for {cut_lists} of the objects loaded (limit): a library only in a later directory is reported missing",
            cx.lim.search_dirs
        ));
    }
    if unexamined > 0 {
        out.cut.push(format!(
            "{path}: after {} missing libraries, {unexamined} more needed names were not looked for (limit)",
            cx.lim.missing_libs
        ));
    }
    out
}

/// Every object the loader maps for the program at `path` (the program
/// first), as (path, ELF).
pub fn loaded_objects(cx: &LoadCx<'_>, path: &str, elf: &ElfInfo) -> Vec<(String, ElfInfo)> {
    let fs = cx.fs;
    let mut g = load_graph(cx, path, elf);
    if g.objects.is_empty() {
        g.objects.push((path.to_string(), elf.clone()));
    }
    if let Some(i) = &elf.interpreter {
        if let Some((real, ld)) = elf_at(fs, i) {
            if !g.objects.iter().any(|(p, _)| *p == real) {
                g.objects.push((real, ld.clone()));
            }
        }
    }
    g.objects
}

/// CA bundles at the paths Go's crypto/x509 and the distributions use.
const CA_FILES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/pki/tls/cacert.pem",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "/etc/ssl/cert.pem",
    "/usr/lib/ssl/cert.pem",
];
/// Directories of hashed certificates.
const CA_DIRS: &[&str] = &["/etc/ssl/certs", "/etc/pki/tls/certs"];

/// Does the image have a CA bundle (a file at a usual path, or a certificate
/// directory with something in it)?
pub fn has_ca_bundle(fs: &MergedFs) -> bool {
    if CA_FILES.iter().any(|p| exists(fs, p)) {
        return true;
    }
    fs.iter()
        .any(|(p, _)| CA_DIRS.contains(&paths::parent(p)) && exists(fs, p))
}

/// The TLS library an object links, by `DT_NEEDED` name, if any.
pub fn tls_library(elf: &ElfInfo) -> Option<&str> {
    const TLS: &[&str] = &[
        "libssl.so",
        "libgnutls.so",
        "libnss3.so",
        "libmbedtls.so",
        "libwolfssl.so",
    ];
    elf.needed
        .iter()
        .find(|n| TLS.iter().any(|t| n.starts_with(t)))
        .map(String::as_str)
}

/// A symbol version an object needs that the library the loader finds does
/// not define.
pub struct MissingVersion {
    /// The object that needs it (the program or a library it loads).
    pub needed_by: String,
    /// `GLIBC_2.34`.
    pub version: String,
    /// The library's name as linked (`libc.so.6`) and the file it resolved to.
    pub lib_name: String,
    pub lib_path: String,
    /// The newest version of the same family the library defines
    /// (`GLIBC_2.31`), when it defines any.
    pub newest: Option<String>,
}

/// The versions `need` names that `lib` (the file at `lib_path` the loader
/// finds for it) does not define, pushed on `missing` as needed by
/// `needed_by`. `false` when `lib`'s version tables were not read, so nothing
/// could be checked. A library without version definitions is no finding:
/// glibc's loader only warns (`no version information available`).
fn check_need(
    needed_by: &str,
    need: &crate::identify::VersionNeed,
    lib_path: &str,
    lib: &ElfInfo,
    missing: &mut Vec<MissingVersion>,
) -> bool {
    if lib.versions_unread {
        return false;
    }
    if lib.version_defs.is_empty() {
        return true;
    }
    for v in need
        .versions
        .iter()
        .filter(|v| !lib.version_defs.contains(v))
    {
        missing.push(MissingVersion {
            needed_by: needed_by.to_string(),
            version: v.clone(),
            lib_name: need.file.clone(),
            lib_path: lib_path.to_string(),
            newest: newest_like(&lib.version_defs, v),
        });
    }
    true
}

/// What the symbol-version check of one program found: the versions missing,
/// and the objects whose version tables were not (wholly) read, whose checks
/// were therefore skipped.
pub struct VersionCheck {
    pub missing: Vec<MissingVersion>,
    pub unread: Vec<String>,
}

/// Checks every symbol version the program at `path` and the libraries it
/// loads need against the definitions of the library the loader finds for
/// that name.
pub fn missing_versions(cx: &LoadCx<'_>, path: &str, elf: &ElfInfo) -> VersionCheck {
    let g = load_graph(cx, path, elf);
    let mut out = VersionCheck {
        missing: Vec::new(),
        unread: Vec::new(),
    };
    let mut unread = BTreeSet::new();
    for (obj_path, obj) in &g.objects {
        if obj.versions_unread {
            unread.insert(obj_path.clone());
        }
        for need in &obj.version_needs {
            let Some((lib_path, lib)) = g.by_name.get(&need.file) else {
                // Not found: missing-library reports it.
                continue;
            };
            if !check_need(obj_path, need, lib_path, lib, &mut out.missing) {
                unread.insert(lib_path.clone());
            }
        }
    }
    out.unread = unread.into_iter().collect();
    out
}

/// The symbol-version check of files that do not run, one file at a time:
/// each file's own needs against the library the loader would find for it
/// (its libraries are native files checked in their own right). Search
/// lists are shared by the files that would get the same one, and each
/// library is looked up once per list, so the cost grows with the files,
/// not with their product.
pub struct VersionLookups<'a> {
    cx: LoadCx<'a>,
    /// `/etc/ld.so.conf`'s directories, read once for every list.
    conf: Vec<String>,
    lists: BTreeMap<String, usize>,
    dirs: Vec<Vec<String>>,
    libs: BTreeMap<(usize, String), Option<(String, &'a ElfInfo)>>,
}

impl<'a> VersionLookups<'a> {
    pub fn new(cx: LoadCx<'a>) -> VersionLookups<'a> {
        // The caps' notes are the missing-library check's to give; a search
        // list cut here only leaves a library unfound, and an unfound
        // library's versions are not checked.
        let conf = ld_so_conf_dirs(cx.fs, cx.lim, &mut Vec::new());
        VersionLookups {
            cx,
            conf,
            lists: BTreeMap::new(),
            dirs: Vec::new(),
            libs: BTreeMap::new(),
        }
    }

    /// The versions `elf` (at `path`) needs that the libraries it names do
    /// not define; `unread` names those libraries whose tables were not read.
    pub fn check(&mut self, path: &str, elf: &ElfInfo) -> VersionCheck {
        let mut out = VersionCheck {
            missing: Vec::new(),
            unread: Vec::new(),
        };
        if elf.version_needs.is_empty() {
            return out;
        }
        let list = self.list_for(path, elf);
        for need in &elf.version_needs {
            let Some((lib_path, lib)) = self.lookup(list, &need.file, elf) else {
                continue;
            };
            if !check_need(path, need, &lib_path, lib, &mut out.missing) {
                out.unread.push(lib_path);
            }
        }
        out
    }

    /// The index of the search list the loader would use for `elf`.
    fn list_for(&mut self, path: &str, elf: &ElfInfo) -> usize {
        let origin = [&elf.rpath, &elf.runpath]
            .iter()
            .any(|r| r.as_deref().is_some_and(|r| r.contains("ORIGIN")));
        let key = format!(
            "{:?}|{:?}|{}|{:?}|{}|{:?}",
            elf.rpath,
            elf.runpath,
            if origin { paths::parent(path) } else { "" },
            elf.arch,
            elf.class,
            elf.interpreter.as_deref().map(libc_of_loader)
        );
        if let Some(&i) = self.lists.get(&key) {
            return i;
        }
        let mut cut = false;
        let dirs = search_dirs(elf, path, &self.cx, &self.conf, &mut cut);
        self.dirs.push(dirs);
        let i = self.dirs.len() - 1;
        self.lists.insert(key, i);
        i
    }

    /// The library the loader finds for `name` on list `list` (the loader
    /// itself for its own file name), of `elf`'s architecture and class.
    fn lookup(&mut self, list: usize, name: &str, elf: &ElfInfo) -> Option<(String, &'a ElfInfo)> {
        if let Some(i) = elf.interpreter.as_deref() {
            if paths::file_name(i) == name {
                if let Some(found) = elf_at(self.cx.fs, i) {
                    return Some(found);
                }
            }
        }
        let key = (list, name.to_string());
        if let Some(hit) = self.libs.get(&key) {
            return hit.clone();
        }
        let candidates: Vec<String> = if name.contains('/') {
            vec![paths::join_normalised("/", name)]
        } else {
            self.dirs
                .get(list)
                .map(|d| d.iter().map(|d| paths::join_normalised(d, name)).collect())
                .unwrap_or_default()
        };
        let found = candidates.iter().find_map(|c| {
            elf_at(self.cx.fs, c).filter(|(_, lib)| lib.arch == elf.arch && lib.class == elf.class)
        });
        self.libs.insert(key, found.clone());
        found
    }
}

/// A version name split into its family and numbers: `GLIBC_2.34` is
/// (`GLIBC_`, [2, 34]); `None` without a trailing number.
fn version_key(v: &str) -> Option<(&str, Vec<u64>)> {
    let at = v.rfind('_')? + 1;
    let (family, num) = v.split_at(at);
    let nums: Option<Vec<u64>> = num.split('.').map(|n| n.parse().ok()).collect();
    Some((family, nums?))
}

/// The newest version of `want`'s family among `defs`.
fn newest_like(defs: &[String], want: &str) -> Option<String> {
    let (family, _) = version_key(want)?;
    defs.iter()
        .filter_map(|d| {
            version_key(d)
                .filter(|(f, _)| *f == family)
                .map(|(_, n)| (n, d))
        })
        .max()
        .map(|(_, d)| d.clone())
}

/// The package a native module belongs to, from its path: the directory
/// after `site-packages`/`dist-packages`, or after `node_modules` (with its
/// `@scope`).
pub fn package_of(path: &str) -> Option<(String, &'static str)> {
    let comps: Vec<&str> = path.split('/').filter(|c| !c.is_empty()).collect();
    let pos = comps
        .iter()
        .rposition(|c| *c == "site-packages" || *c == "dist-packages" || *c == "node_modules")?;
    let kind = if comps[pos] == "node_modules" {
        "npm"
    } else {
        "Python"
    };
    let first = comps.get(pos + 1)?;
    if comps.len() == pos + 2 {
        // A module file directly in site-packages: the package is its stem.
        let stem = first.split('.').next().unwrap_or(first);
        return Some((stem.to_string(), kind));
    }
    let name = if first.starts_with('@') {
        format!("{first}/{}", comps.get(pos + 2)?)
    } else {
        first.to_string()
    };
    Some((name, kind))
}

/// The architecture a CPython extension module's file name promises
/// (`_speedups.cpython-311-aarch64-linux-gnu.so` → arm64).
pub fn python_tag_arch(path: &str) -> Option<(String, Arch)> {
    let name = paths::file_name(path);
    let stem = name.strip_suffix(".so")?;
    let tag = stem.rsplit('.').next()?;
    if !tag.starts_with("cpython-") && !tag.starts_with("pypy") {
        return None;
    }
    // cpython-311-aarch64-linux-gnu, cpython-312-x86_64-linux-musl,
    // cpython-311-arm-linux-gnueabihf
    let rest = tag.split_once('-')?.1.split_once('-')?.1;
    let machine = rest.split("-linux").next()?;
    let arch = match machine {
        "x86_64" => Arch::Amd64,
        "aarch64" => Arch::Arm64,
        "i386" | "i686" => Arch::I386,
        "arm" => Arch::Arm,
        "powerpc64le" => Arch::Ppc64le,
        "s390x" => Arch::S390x,
        "riscv64" => Arch::Riscv64,
        other => Arch::parse(other),
    };
    Some((machine.to_string(), arch))
}

/// Noise categories: files that are judged but summarised, not listed one by
/// one, because they are never executed in the image.
pub fn noise_category(path: &str) -> Option<&'static str> {
    if path.starts_with("/usr/lib/debug/") {
        return Some("debug symbols (/usr/lib/debug)");
    }
    if path.starts_with("/lib/firmware/") || path.starts_with("/usr/lib/firmware/") {
        return Some("firmware");
    }
    let comps: Vec<&str> = path.split('/').filter(|c| !c.is_empty()).collect();
    if path.starts_with("/usr/lib/gcc-cross/")
        || comps.iter().any(|c| c.contains("sysroot"))
        || (comps.first() == Some(&"usr")
            && comps.get(1).is_some_and(|t| {
                t.matches('-').count() >= 2 && (t.contains("-linux-") || t.ends_with("-elf"))
            }))
    {
        return Some("cross-compilation sysroots");
    }
    if comps[..comps.len().saturating_sub(1)].iter().any(|c| {
        matches!(
            *c,
            "test" | "tests" | "testdata" | "test-data" | "__tests__" | "fixtures" | "testcases"
        )
    }) {
        return Some("test data");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newest_version_of_a_family() {
        let defs: Vec<String> = ["GLIBC_2.2.5", "GLIBC_2.30", "GLIBC_2.4", "GLIBC_PRIVATE"]
            .map(str::to_string)
            .to_vec();
        assert_eq!(
            newest_like(&defs, "GLIBC_2.34").as_deref(),
            Some("GLIBC_2.30")
        );
        assert_eq!(newest_like(&defs, "GLIBCXX_3.4.32"), None);
        assert_eq!(newest_like(&defs, "GLIBC_PRIVATE"), None);
    }

    #[test]
    fn python_tags() {
        let t = |p: &str| python_tag_arch(p).map(|(_, a)| a);
        assert_eq!(
            t("/x/_speedups.cpython-311-aarch64-linux-gnu.so"),
            Some(Arch::Arm64)
        );
        assert_eq!(
            t("/x/m.cpython-312-x86_64-linux-musl.so"),
            Some(Arch::Amd64)
        );
        assert_eq!(
            t("/x/m.cpython-311-arm-linux-gnueabihf.so"),
            Some(Arch::Arm)
        );
        assert_eq!(t("/x/libfoo.so"), None);
        assert_eq!(t("/x/m.abi3.so"), None);
    }

    #[test]
    fn packages_from_paths() {
        assert_eq!(
            package_of("/usr/lib/python3/dist-packages/markupsafe/_speedups.so"),
            Some(("markupsafe".into(), "Python"))
        );
        assert_eq!(
            package_of("/app/node_modules/@esbuild/linux-arm64/bin/esbuild"),
            Some(("@esbuild/linux-arm64".into(), "npm"))
        );
        assert_eq!(
            package_of(
                "/venv/lib/python3.11/site-packages/_cffi_backend.cpython-311-x86_64-linux-gnu.so"
            ),
            Some(("_cffi_backend".into(), "Python"))
        );
        assert_eq!(package_of("/usr/bin/x"), None);
    }

    #[test]
    fn noise_categories() {
        assert_eq!(
            noise_category("/usr/lib/debug/.build-id/ab/cd.debug"),
            Some("debug symbols (/usr/lib/debug)")
        );
        assert_eq!(
            noise_category("/usr/aarch64-linux-gnu/lib/libc.so.6"),
            Some("cross-compilation sysroots")
        );
        assert_eq!(
            noise_category("/app/node_modules/x/test/fixtures/mac.node"),
            Some("test data")
        );
        assert_eq!(noise_category("/usr/bin/test"), None);
        assert_eq!(noise_category("/usr/lib/x86_64-linux-gnu/libc.so.6"), None);
    }

    #[test]
    fn compat_kinds() {
        let p = |s: &str| Platform::parse(s).unwrap();
        assert_eq!(
            compat(&p("linux/arm/v6"), &p("linux/arm/v7")),
            Compat::NewerVariant { need: 7, have: 6 }
        );
        assert_eq!(
            compat(&p("linux/amd64"), &p("linux/arm64")),
            Compat::OtherArch
        );
        assert_eq!(
            compat(&p("linux/amd64"), &p("darwin/amd64")),
            Compat::OtherOs
        );
        assert_eq!(
            compat(&p("linux/arm64"), &p("linux/arm/v7")),
            Compat::OtherArch
        );
        assert_eq!(compat(&p("linux/amd64"), &p("linux/386")), Compat::Runs);
    }

    #[test]
    fn loaders_by_libc() {
        assert_eq!(libc_of_loader("/lib/ld-musl-x86_64.so.1"), Libc::Musl);
        assert_eq!(libc_of_loader("/lib64/ld-linux-x86-64.so.2"), Libc::Glibc);
        assert_eq!(libc_of_loader("/lib/ld-linux-aarch64.so.1"), Libc::Glibc);
        assert_eq!(libc_of_loader("/lib64/ld64.so.2"), Libc::Glibc);
    }
}
