//! Every rule archscan applies, defined once: its stable id (the JSON and
//! SARIF contract), its default severity, the one-line summary, the README
//! table's cells, and the documentation `archscan explain` prints — why the
//! problem breaks the container at exec, how archscan detects it, and how to
//! fix it. The judge's detection functions (`judge::rules`) build findings of
//! these rules; the SARIF driver, `archscan rules`/`explain`, the man page and
//! the README table are produced from (or checked against) this table.
//!
//! Adding a rule: a variant of [`Rule`], one [`RuleDef`] in [`DEFS`], one
//! detection function in `judge/rules/`, a fixture that makes it fire, and the
//! README row (a test fails until the README agrees).

use serde::Serialize;

/// A rule. [`Rule::id`] is the stable string of the JSON and SARIF outputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Rule {
    ArchMismatch,
    ForeignBinary,
    ForeignOs,
    EntrypointMissing,
    NoEntrypoint,
    NoBinaries,
    PlatformDisagreement,
    TargetMismatch,
    ArchiveNote,
    DigestMismatch,
    MissingLoader,
    MissingLibrary,
    MissingSymbolVersion,
    PageSize,
    KernelTooOld,
    NoCaCertificates,
    UserCannotExec,
    UserNotFound,
    MissingInterpreter,
    CrlfShebang,
    NoShebang,
    NotExecutable,
    VariantMismatch,
    IsaLevel,
    LibcMismatch,
    SameBinaryAcrossPlatforms,
    DamagedFile,
}

/// How much a finding matters: errors fail an image, warnings warn, infos
/// are notes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// The definition of one rule: everything said about it anywhere.
#[derive(Debug)]
pub struct RuleDef {
    pub rule: Rule,
    /// Stable kebab-case id (JSON `rule`, SARIF `ruleId`).
    pub id: &'static str,
    /// The level most of its findings have (SARIF `defaultConfiguration`);
    /// each finding carries its own severity.
    pub level: Severity,
    /// The README table's severity cell: when findings are errors, warnings
    /// or notes.
    pub severity: &'static str,
    /// One line on what the rule catches.
    pub summary: &'static str,
    /// The README table's "fires when" cell (markdown).
    pub fires_when: &'static str,
    /// Why the container fails at exec (or what the note is about).
    pub why: &'static str,
    /// How archscan detects it, from the bytes.
    pub detection: &'static str,
    /// How to fix it.
    pub fix: &'static str,
}

impl Rule {
    /// This rule's definition.
    pub fn def(self) -> &'static RuleDef {
        // DEFS holds one entry per variant, in declaration order (tested).
        &DEFS[self as usize]
    }

    pub fn id(self) -> &'static str {
        self.def().id
    }

    /// One line on what the rule catches.
    pub fn summary(self) -> &'static str {
        self.def().summary
    }

    /// The rule with this id.
    pub fn from_id(id: &str) -> Option<Rule> {
        DEFS.iter().find(|d| d.id == id).map(|d| d.rule)
    }

    /// Every rule, in definition order.
    pub fn all() -> impl Iterator<Item = Rule> {
        DEFS.iter().map(|d| d.rule)
    }
}

impl Serialize for Rule {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.id())
    }
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id())
    }
}

/// The message for an unknown rule id, naming the nearest ids.
pub fn unknown_rule(id: &str) -> String {
    let close = crate::suggest::nearest(id, DEFS.iter().map(|d| d.id), 3);
    if close.is_empty() {
        format!("no rule named {id:?}; `archscan rules` lists them")
    } else {
        format!(
            "no rule named {id:?}; did you mean {}? (`archscan rules` lists them)",
            close.join(", ")
        )
    }
}

impl RuleDef {
    /// The documentation `archscan explain` prints: plain text wrapped at
    /// 78 columns, markdown-style backticks where it quotes code.
    pub fn explain(&self) -> String {
        let mut out = wrap(&format!("{} — {}", self.id, self.summary), "", "  ");
        out.push('\n');
        out.push_str(&wrap(
            &format!("Default severity: {}", self.severity),
            "",
            "  ",
        ));
        out.push_str(&wrap(&format!("Fires when: {}", self.fires_when), "", "  "));
        for (title, text) in [
            ("Why it fails", self.why),
            ("How archscan detects it", self.detection),
            ("How to fix it", self.fix),
        ] {
            out.push('\n');
            out.push_str(title);
            out.push('\n');
            out.push_str(&wrap(text, "  ", "  "));
        }
        out
    }

    /// Where this rule is documented: its section of `docs/rules.md` in the
    /// repository (SARIF `helpUri`).
    pub fn help_uri(&self) -> String {
        format!("{}/blob/main/docs/rules.md#{}", repository(), self.id)
    }

    /// This rule's section of `docs/rules.md` (markdown).
    pub fn doc_section(&self) -> String {
        format!(
            "## {id}\n\n{summary}.\n\n- Default severity: {severity}\n- Fires when: {fires_when}\n\n### Why it fails\n\n{why}\n\n### How archscan detects it\n\n{detection}\n\n### How to fix it\n\n{fix}\n",
            id = self.id,
            summary = self.summary,
            severity = self.severity,
            fires_when = self.fires_when,
            why = self.why,
            detection = self.detection,
            fix = self.fix,
        )
    }

    /// The SARIF rule's `help.markdown`.
    pub fn help_markdown(&self) -> String {
        format!(
            "**{summary}**\n\n{why}\n\n**How archscan detects it.** {detection}\n\n**How to fix it.** {fix}\n\nSeverity: {severity}.",
            summary = self.summary,
            why = self.why,
            detection = self.detection,
            fix = self.fix,
            severity = self.severity,
        )
    }

    /// The SARIF rule's `help.text`: the same, without markup.
    pub fn help_text(&self) -> String {
        format!(
            "{summary}. {why} How archscan detects it: {detection} How to fix it: {fix}",
            summary = self.summary,
            why = self.why,
            detection = self.detection,
            fix = self.fix,
        )
    }
}

/// The repository URL (Cargo.toml `repository`), with a fallback when the
/// package does not say one.
pub fn repository() -> &'static str {
    match option_env!("CARGO_PKG_REPOSITORY") {
        Some(r) if !r.is_empty() => r.trim_end_matches('/'),
        _ => "https://github.com/OWNER/archscan",
    }
}

/// `docs/rules.md`: every rule's documentation, generated from [`DEFS`] (a
/// test keeps the committed file equal to this).
pub fn docs_markdown() -> String {
    let mut out = String::from(
        "# archscan rules\n\n<!-- Generated from src/rules.rs; a test keeps it equal (regenerate: `ARCHSCAN_BLESS=1 cargo test --lib rules`). -->\n\n`archscan rules` lists these rules and `archscan explain RULE` prints one of them.\n`--ignore-rule RULE[:GLOB]` silences one (see the README).\n\n| id | default severity | catches |\n|---|---|---|\n",
    );
    for d in DEFS {
        out.push_str(&format!(
            "| [`{id}`](#{id}) | {level} | {summary} |\n",
            id = d.id,
            level = d.level.as_str(),
            summary = d.summary
        ));
    }
    for d in DEFS {
        out.push('\n');
        out.push_str(&d.doc_section());
    }
    out
}

/// Wraps `text` at 78 columns, each line starting with `indent` (the first
/// with `first`).
fn wrap(text: &str, first: &str, indent: &str) -> String {
    let mut out = String::new();
    let mut line = first.to_string();
    let mut empty = true;
    for word in text.split_whitespace() {
        if !empty && line.chars().count() + 1 + word.chars().count() > 78 {
            out.push_str(&line);
            out.push('\n');
            line = indent.to_string();
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        line.push_str(word);
        empty = false;
    }
    out.push_str(&line);
    out.push('\n');
    out
}

/// Every rule's definition, in the order of the [`Rule`] variants.
pub static DEFS: &[RuleDef] = &[
    RuleDef {
        rule: Rule::ArchMismatch,
        id: "arch-mismatch",
        level: Severity::Error,
        severity: "error",
        summary: "What the container runs is native code of an architecture the image's platform cannot run",
        fires_when: "what runs is native code of an architecture the declared platform cannot run; with no Entrypoint and no Cmd, most native files are",
        why: "The kernel only execs machine code of its own architecture (or a compatible one, such as 386 on amd64). A host pulls the image for the platform in its label, so an arm64 program in an image labelled linux/amd64 reaches an amd64 host, and `execve` fails with `exec format error` before the program starts.",
        detection: "The Entrypoint and Cmd are resolved as the runtime does (PATH, WorkingDir, symlinks, `#!` interpreters, the first command of `sh -c`) to the file the kernel execs; its ELF header's `e_machine` (and class, byte order and ABI flags) gives its platform, compared with the config's os/architecture/variant. Without Entrypoint and Cmd, the most common platform of the image's ELF files is compared instead.",
        fix: "Build the image for the platform it is labelled with (`docker buildx build --platform linux/amd64 .`); where a Dockerfile copies or downloads a binary, fetch the one for `$TARGETARCH`, not the build machine's. If the binaries are right and the label is wrong, build with `--platform` set to the binaries' platform.",
    },
    RuleDef {
        rule: Rule::ForeignBinary,
        id: "foreign-binary",
        level: Severity::Warning,
        severity: "warning",
        summary: "A native file is built for an architecture the image's platform cannot run",
        fires_when: "any other native file of such an architecture — `.so`, `.node` addons, Python extension modules (with the npm/Python package as evidence), or a module whose `cpython-311-aarch64-linux-gnu` name disagrees with its code",
        why: "A program or library of another architecture fails with `exec format error` when it is run, and `dlopen`/`require`/`import` fail with `wrong ELF class` or `cannot open shared object file` when it is loaded: typically a `node_modules` or virtualenv copied from a laptop of another architecture.",
        detection: "Every ELF file of the merged filesystem that is not what runs is identified from its header and compared with the declared platform; npm and Python package directories are named as evidence, and a CPython extension whose file name tag (`cpython-311-aarch64-linux-gnu`) disagrees with its code is reported too. Files under debug, sysroot, firmware and test directories are summarised in one note per category.",
        fix: "Install dependencies inside the image for its platform (`RUN npm ci`, `RUN pip install`) instead of copying them from the build machine, or build or download the file for `$TARGETARCH`; remove it if nothing uses it.",
    },
    RuleDef {
        rule: Rule::ForeignOs,
        id: "foreign-os",
        level: Severity::Error,
        severity: "error when it is what runs, else warning (info for IL-only .NET assemblies and the pip/setuptools launcher `.exe` files)",
        summary: "A Mach-O, PE, or non-Linux ELF file in a Linux image",
        fires_when: "Mach-O, PE, or non-Linux ELF in a Linux image (ELF in a Windows image)",
        why: "A Linux kernel cannot exec a macOS (Mach-O) or Windows (PE) program, nor an ELF built for FreeBSD or another OS ABI: the container fails with `exec format error`. Such files usually come from a build machine's `node_modules`, a virtualenv or a vendored tool.",
        detection: "Files are identified by their magic numbers (ELF, Mach-O thin and fat, PE) and the ELF OS ABI and notes; any format the image's OS cannot run is reported, as an error when it is what runs. IL-only .NET assemblies and the Windows launchers pip and setuptools ship never run natively and are only noted.",
        fix: "Install the dependency inside the image (`RUN npm ci`, `RUN pip install`) or build the tool for the image's platform instead of copying it from the build machine.",
    },
    RuleDef {
        rule: Rule::EntrypointMissing,
        id: "entrypoint-missing",
        level: Severity::Error,
        severity: "error",
        summary: "The entrypoint does not exist in the image's filesystem",
        fires_when: "the entrypoint is not in the merged filesystem (or is a directory, or its links loop)",
        why: "The runtime execs argv[0] of Entrypoint + Cmd: a path that is not in the image (often removed by a later layer's whiteout, or copied only into a build stage) fails with `no such file or directory`; a directory or a symlink loop fails too.",
        detection: "argv[0] is looked up in the merged filesystem after applying every layer's whiteouts, through `PATH` from the config's Env and the WorkingDir, following symlinks inside the image (40 hops at most, as Linux does).",
        fix: "Check the Entrypoint/Cmd path and that a `COPY` puts the file there in the final stage; point Entrypoint at the program, not at a directory; fix a looping symlink chain.",
    },
    RuleDef {
        rule: Rule::NoEntrypoint,
        id: "no-entrypoint",
        level: Severity::Info,
        severity: "info",
        summary: "The image has neither Entrypoint nor Cmd",
        fires_when: "neither Entrypoint nor Cmd",
        why: "Without Entrypoint or Cmd the deploy must give the command (Kubernetes `command`, ECS `entryPoint`); archscan cannot tell which program runs and judges the image by most of its native files.",
        detection: "The image config has no Entrypoint and no Cmd, and none was given with `--entrypoint`/`--cmd`.",
        fix: "Set `ENTRYPOINT`/`CMD` in the Dockerfile, or pass the command the deploy uses with `--entrypoint` and `--cmd` to have it judged.",
    },
    RuleDef {
        rule: Rule::NoBinaries,
        id: "no-binaries",
        level: Severity::Info,
        severity: "info",
        summary: "The image has no native code to judge",
        fires_when: "no native file to judge",
        why: "An image of scripts or data only has no architecture of its own; whether it runs depends on the interpreter it is run with, which is not in the image.",
        detection: "No file of the merged filesystem is an ELF, Mach-O or PE file.",
        fix: "Nothing to fix when this is expected; `--fail-on-unknown` makes CI fail on it.",
    },
    RuleDef {
        rule: Rule::PlatformDisagreement,
        id: "platform-disagreement",
        level: Severity::Error,
        severity: "error",
        summary: "An index advertises a platform that the image's config and binaries do not match",
        fires_when: "an index advertises a platform that the config or the binaries do not match: hosts of that platform will pull the image and fail",
        why: "A pull selects an image of a multi-platform index by the platform the index gives it, not by its config: a host of the advertised platform pulls an image whose programs are of another architecture and fails with `exec format error`.",
        detection: "Each image's index descriptor platform is compared with its config's os/architecture, and, when the config says nothing, with the platform of what runs.",
        fix: "Rebuild the multi-platform image with buildx so that each platform's manifest holds that platform's build (`docker buildx build --platform linux/amd64,linux/arm64 --push .`); do not assemble indexes by hand from other images.",
    },
    RuleDef {
        rule: Rule::TargetMismatch,
        id: "target-mismatch",
        level: Severity::Error,
        severity: "error",
        summary: "What the container runs cannot exec on the deploy target platform",
        fires_when: "with `--platform`, what runs cannot exec on the target",
        why: "The deploy target's kernel cannot exec code of another architecture: a correctly labelled arm64 image deployed to an x86 host (App Runner, x86 Fargate) fails with `exec format error`.",
        detection: "With `--platform`, the image a pull for that platform would select (exact match, then an older variant, then a compatible architecture) is judged against it: the platform of what runs must be one the target can exec. When no image of an index can be selected, every image gets this finding.",
        fix: "Pull or build the image for the target (`docker pull --platform linux/amd64 …`, `docker buildx build --platform linux/amd64 .`), or for several platforms at once (`--platform linux/amd64,linux/arm64`).",
    },
    RuleDef {
        rule: Rule::ArchiveNote,
        id: "archive-note",
        level: Severity::Info,
        severity: "info",
        summary: "Something in the archive was skipped or disagrees",
        fires_when: "skipped attestations, artifacts, foreign (Windows base) and non-tar layers, platforms not exported, `manifest.json` and `index.json` disagreeing",
        why: "Not a failure at exec: a note on what archscan did not judge (attestation manifests, artifacts, foreign or non-tar layers, platforms an index lists but the archive does not contain) or where the archive's own files disagree, so that a reader knows what the verdict covers.",
        detection: "Read from the archive's `index.json`, `manifest.json`, manifests and layer media types while the image plans are built, and from what a layer walk had to skip.",
        fix: "Usually nothing. To judge a platform that was not exported, save the image with it (`docker save --platform …`, or `skopeo copy --all`).",
    },
    RuleDef {
        rule: Rule::DigestMismatch,
        id: "digest-mismatch",
        level: Severity::Warning,
        severity: "warning",
        summary: "A blob's content does not match its digest",
        fires_when: "a manifest, config or layer does not hash to its digest",
        why: "A registry or runtime refuses a blob whose content does not hash to its digest: the archive was modified or damaged after it was written, and loading or pushing it will fail.",
        detection: "Manifests and configs are always hashed; layer blobs are hashed while they are decompressed (every layer with `--verify`) and compared with the digest the manifest gives.",
        fix: "Save or pull the image again; check the copy (`sha256sum`) against the source.",
    },
    RuleDef {
        rule: Rule::MissingLoader,
        id: "missing-loader",
        level: Severity::Error,
        severity: "error / warning",
        summary: "A dynamic ELF's loader (PT_INTERP) is absent from the image",
        fires_when: "a dynamic ELF's `PT_INTERP` (`/lib/ld-linux-aarch64.so.1`, `/lib/ld-musl-x86_64.so.1`) is absent or of another architecture: \"no such file or directory\" for a file that exists",
        why: "The kernel starts a dynamic program by loading the interpreter named in its `PT_INTERP` header; when that loader is not in the image (a glibc program in an Alpine or scratch image) or is of another architecture, exec fails with `no such file or directory` although the program itself exists.",
        detection: "The program's `PT_INTERP` path is resolved in the merged filesystem (through symlinks) and the loader's own ELF header is checked; an error for what runs, one warning per loader for other files.",
        fix: "Use a base image with the C library the program was built for (a Debian or Ubuntu base for glibc, Alpine for musl), install it (`apk add gcompat`), or build the program statically (`CGO_ENABLED=0`, `-static`).",
    },
    RuleDef {
        rule: Rule::MissingLibrary,
        id: "missing-library",
        level: Severity::Error,
        severity: "error",
        summary: "A shared library the program needs is absent or of another architecture",
        fires_when: "a `DT_NEEDED` library of what runs (followed transitively through RPATH/RUNPATH, `LD_LIBRARY_PATH`, `/etc/ld.so.conf*` and the default directories) is absent or only present for another architecture",
        why: "The dynamic loader maps every `DT_NEEDED` library before the program starts; one it cannot find (or finds only for another architecture) stops the container with `error while loading shared libraries: … cannot open shared object file`.",
        detection: "The `DT_NEEDED` entries of what runs, and of the libraries it loads, are searched the way the loader searches: `DT_RPATH`/`DT_RUNPATH` (with `$ORIGIN`), `LD_LIBRARY_PATH` from the config's Env, the directories of `/etc/ld.so.conf` and its includes, and the default directories; candidates of another architecture do not count.",
        fix: "Install the package that provides the library for the image's architecture in the final stage (`apt-get install`, `apk add`), copy the library with the program from the build stage, or link the program statically.",
    },
    RuleDef {
        rule: Rule::MissingSymbolVersion,
        id: "missing-symbol-version",
        level: Severity::Error,
        severity: "error for what runs and what it loads, else warning",
        summary: "A symbol version the program needs is not defined by the library the loader finds",
        fires_when: "a symbol version (`DT_VERNEED`, e.g. `GLIBC_2.34`) needed by what runs or a library it loads is not among the version definitions (`DT_VERDEF`) of the library the loader finds for it in the image (error); the same for any other dynamic ELF in the image (warning, one per library and version)",
        why: "The dynamic loader checks every symbol version an object was linked against before the program starts; when the library it finds (an older glibc, libstdc++, libgcc_s, OpenSSL…) does not define one, the container stops with `version 'GLIBC_2.34' not found (required by …)`. The usual cause is a program built on a newer distribution copied into an older base image.",
        detection: "The version needs (`DT_VERNEED`) and definitions (`DT_VERDEF`) and the names they give in the dynamic string table are read while the layer streams (from the first load segment of each dynamic ELF, within the `versions` budget); every need of what runs and of the libraries it loads is checked against the library found the way `missing-library` finds it; every other dynamic ELF's own needs are checked against the libraries the loader would find for it (one warning per library and version, naming the first file and the count; at most 20, then a note). A file whose tables lay outside the bytes kept is named in a note, not passed. Weak needs and libraries without version definitions, which glibc's loader only warns about, are not findings.",
        fix: "Build the program on (or for) the base image's distribution release, or use a base image at least as new as the build image (`debian:bookworm` for a bookworm build), or install the newer library in the final stage.",
    },
    RuleDef {
        rule: Rule::PageSize,
        id: "page-size",
        level: Severity::Error,
        severity: "error for what runs and what it loads, else warning",
        summary: "A program or library is laid out for smaller pages than the host kernel uses",
        fires_when: "with `--host` or `--page-size`: a `PT_LOAD` segment of what runs, its loader or a library it loads has `p_align` below the host kernel's page size, or `p_offset` and `p_vaddr` that differ modulo it",
        why: "The kernel and the dynamic loader map each load segment in whole pages; a segment aligned for 4 KiB pages cannot be mapped by a 16 KiB (Raspberry Pi 5, Asahi) or 64 KiB kernel: exec fails (`ELF load command address/offset not page-aligned`) or the loader refuses the library.",
        detection: "The program headers of what runs, its loader and every library it loads (found as `missing-library` finds them) are checked against the host's page size: every `PT_LOAD` needs `p_align` at least the page size and `p_offset ≡ p_vaddr` modulo it.",
        fix: "Link with `-z max-page-size=65536` (and `-z common-page-size=4096` to keep the file small): the binary then runs on 4, 16 and 64 KiB kernels; or run the host with a 4 KiB-page kernel (`kernel=kernel8.img` on a Raspberry Pi 5).",
    },
    RuleDef {
        rule: Rule::KernelTooOld,
        id: "kernel-too-old",
        level: Severity::Error,
        severity: "error",
        summary: "The C library or a static program needs a newer kernel than the host's",
        fires_when: "with `--kernel X.Y`: the GNU ABI tag (`NT_GNU_ABI_TAG`) of a static program that runs, or of the loader or C library a dynamic one loads, names a newer Linux kernel",
        why: "glibc is built for a minimum kernel and records it in its ABI note; on an older kernel the loader or a static program's start-up code stops with `FATAL: kernel too old` before `main`.",
        detection: "The `NT_GNU_ABI_TAG` note (OS Linux, kernel major.minor.patch) is read from the program headers' notes of what runs and, for a dynamic program, of its loader and the libraries it loads, and compared with `--kernel`.",
        fix: "Use a base image (or a static build) whose C library supports the host's kernel, or upgrade the host's kernel.",
    },
    RuleDef {
        rule: Rule::NoCaCertificates,
        id: "no-ca-certificates",
        level: Severity::Warning,
        severity: "warning",
        summary: "A TLS client in an image without a CA bundle",
        fires_when: "what runs (or a library it loads) links a TLS library (libssl, GnuTLS, NSS, mbed TLS, wolfSSL), or is a Go program that links `crypto/tls`, and the image has no CA bundle at the usual paths and no `SSL_CERT_FILE`/`SSL_CERT_DIR` in its Env",
        why: "A TLS client verifies servers against the CA certificates of the system; a `scratch` or minimal image without a bundle fails every connection with `certificate verify failed` / `x509: certificate signed by unknown authority`.",
        detection: "The `DT_NEEDED` names of what runs and of the libraries it loads are matched against the TLS libraries; the merged filesystem is searched for a bundle at the paths Go's crypto/x509 and the distributions use (`/etc/ssl/certs/ca-certificates.crt`, `/etc/pki/tls/certs/ca-bundle.crt`, `/etc/ssl/cert.pem`, …) or a non-empty `/etc/ssl/certs`. A Go program links `crypto/tls` when the file table of its pclntab (`.gopclntab`, `.data.rel.ro.gopclntab` in a PIE, Go 1.16+; found by name, or while a layer streams as the last section of the read-only or first writable segment, checked by its magic) names a `crypto/tls/` source file; up to 256 KiB of that table is read, kept while the bytes pass. A Go program whose table was not read gets a note, not a pass (so does an externally linked, cgo, program in a compressed layer: its section headers come last, after the table has passed); one built with `golang.org/x/crypto/x509roots/fallback` (roots inside the program) is not a finding.",
        fix: "Install the CA bundle in the final stage (`apt-get install ca-certificates`, `apk add ca-certificates`), or copy `/etc/ssl/certs/ca-certificates.crt` from the build stage; or point `SSL_CERT_FILE` at a bundle the image has.",
    },
    RuleDef {
        rule: Rule::UserCannotExec,
        id: "user-cannot-exec",
        level: Severity::Error,
        severity: "error",
        summary: "The non-root user the container runs as cannot exec what runs or search its directories",
        fires_when: "the config `User` (or `--user UID[:GID]`), resolved through the image's `/etc/passwd` and `/etc/group`, is not root and lacks exec permission on what runs, search permission on a directory above it, or search permission on the `WorkingDir`",
        why: "The runtime switches to the configured user before exec; the kernel then checks the file's owner, group and mode against that user and its groups. A program (or a directory on its path, or the working directory) only its owner may use stops the container with `permission denied` — the usual case under Kubernetes `runAsUser` or OpenShift's arbitrary UID in group 0.",
        detection: "The user is resolved as runc does (name or uid, `:group` or gid, supplementary groups from `/etc/group`; a uid absent from `/etc/passwd` gets gid 0); the mode and owner from the layer headers of what runs, of each directory above it and of the `WorkingDir` are checked for exec/search permission. Files with no exec bit at all are `not-executable`.",
        fix: "Make the program executable and its directories searchable by everyone (`COPY --chmod=0755`), or give them to the user's group (`COPY --chown=10001:0` and `chmod g+x` for OpenShift), or run as a user who owns them.",
    },
    RuleDef {
        rule: Rule::UserNotFound,
        id: "user-not-found",
        level: Severity::Error,
        severity: "error",
        summary: "The configured user or group name is not in the image's /etc/passwd or /etc/group",
        fires_when: "the config `User` (or `--user`) names a user absent from the image's `/etc/passwd`, or a group absent from its `/etc/group`",
        why: "The runtime resolves a user name through the image's own `/etc/passwd` before starting the process; a name it cannot find stops the container with `unable to find user NAME: no matching entries in passwd file`.",
        detection: "The `User` string is split into user and group; names (not numbers) are looked up in the merged filesystem's `/etc/passwd` and `/etc/group`.",
        fix: "Create the user in the image (`useradd`, `adduser -D`, or a line in /etc/passwd), or use a numeric UID (`USER 10001`), which needs no entry.",
    },
    RuleDef {
        rule: Rule::MissingInterpreter,
        id: "missing-interpreter",
        level: Severity::Error,
        severity: "error",
        summary: "A script's #! interpreter is absent from the image",
        fires_when: "a `#!` interpreter (or the command after `/usr/bin/env`) is not in the image",
        why: "The kernel runs a `#!` script by exec'ing the interpreter on its first line; when that interpreter (or, for `#!/usr/bin/env NAME`, NAME on PATH) is not in the image, exec fails with `no such file or directory`. Interpreters nested more than four deep fail with `ELOOP`.",
        detection: "The `#!` line of every script on the way to what runs is read; its interpreter is resolved in the merged filesystem, and for `/usr/bin/env` the command through the config's PATH.",
        fix: "Install the interpreter in the image (`apt-get install python3`), or change the script's `#!` line to an interpreter the image has (`#!/bin/sh`).",
    },
    RuleDef {
        rule: Rule::CrlfShebang,
        id: "crlf-shebang",
        level: Severity::Error,
        severity: "error / warning",
        summary: "A script's #! line ends in CR LF",
        fires_when: "a `#!` line ends in CR LF: the kernel looks for `/bin/sh\\r`",
        why: "A script saved with Windows line endings has `#!/bin/sh\\r\\n` as its first line; the kernel takes the carriage return as part of the interpreter's name, looks for `/bin/sh\\r` and fails with `no such file or directory`.",
        detection: "The first line of every `#!` script on the way to what runs (an error) and of other scripts (a warning) is checked for a CR before its LF.",
        fix: "Convert the script to LF line endings (`dos2unix`, `sed -i 's/\\r$//'`), and keep it that way with `* text=auto eol=lf` in `.gitattributes`.",
    },
    RuleDef {
        rule: Rule::NoShebang,
        id: "no-shebang",
        level: Severity::Error,
        severity: "error",
        summary: "A text file without #! is used as a program",
        fires_when: "what runs is a text file without `#!` (or no known format at all)",
        why: "`execve` only runs native programs and `#!` scripts: a shell script without a `#!` line (a shell would run it, the kernel does not) or any other file fails with `exec format error`.",
        detection: "The file the Entrypoint resolves to is neither ELF nor a `#!` script by its first bytes.",
        fix: "Start the script with a `#!` line (`#!/bin/sh`), or run it through its interpreter in Entrypoint (`[\"sh\", \"/app/start.sh\"]`).",
    },
    RuleDef {
        rule: Rule::NotExecutable,
        id: "not-executable",
        level: Severity::Error,
        severity: "error",
        summary: "The entrypoint has no exec permission bit",
        fires_when: "the entrypoint (or an interpreter on the way) has no exec bit",
        why: "The kernel refuses to exec a file without an exec permission bit: the container fails with `permission denied`. A script committed from Windows or copied without its mode is the usual cause.",
        detection: "The mode of every file on the way to what runs (the entrypoint, its symlink targets and `#!` interpreters) is read from the layer's tar header.",
        fix: "`RUN chmod +x FILE` or `COPY --chmod=755`; or commit the file with its exec bit (`git update-index --chmod=+x FILE`).",
    },
    RuleDef {
        rule: Rule::VariantMismatch,
        id: "variant-mismatch",
        level: Severity::Error,
        severity: "error / warning",
        summary: "ARM code needs a newer CPU variant than the image declares",
        fires_when: "ARM code needs a newer CPU than the declared `arm/v5`…`v8` or the `--platform` variant (`Tag_CPU_arch`, Go's GOARM)",
        why: "32-bit ARM code built for ARMv7 uses instructions an ARMv6 or ARMv5 CPU does not have (a Raspberry Pi Zero or 1 is ARMv6): it starts and then dies with `illegal instruction` on the older CPU that the label promised to serve.",
        detection: "The ARM build attributes (`Tag_CPU_arch` in `.ARM.attributes`) and, for Go programs, `GOARM` from the embedded build info give the architecture the code needs; it is compared with the declared or target variant.",
        fix: "Build for the declared variant (`GOARM=6`, `-march=armv6`), or declare the variant the code needs (`--platform linux/arm/v7`) if only such hosts run it.",
    },
    RuleDef {
        rule: Rule::IsaLevel,
        id: "isa-level",
        level: Severity::Error,
        severity: "error / warning",
        summary: "Code needs a newer x86-64 ISA level or Arm architecture level than the host provides",
        fires_when: "x86-64 code needs a higher ISA level (`GNU_PROPERTY_X86_ISA_1_NEEDED`, Go's GOAMD64) than the declared or `--platform linux/amd64/v2` variant (without an explicit variant it is a warning, since few labels say one); with `--host`, arm64 code needs a higher Arm architecture level (Go's GOARM64) than the host's CPU",
        why: "Code compiled for x86-64-v2, v3 or v4 (`-march=x86-64-v3`, `GOAMD64=v3`), or for a later Arm architecture level (`GOARM64=v8.4`), uses instructions older CPUs lack; on such a host the program dies with `illegal instruction` (SIGILL, exit 132).",
        detection: "Only explicit markers are read: the `GNU_PROPERTY_X86_ISA_1_NEEDED` property note and Go's `GOAMD64` and `GOARM64` (Go 1.23+) build settings. No instructions are scanned (glibc's IFUNCs and GCC's outline atomics would make that noise), so C and C++ arm64 code built with `-march=armv8.2-a` is not seen. The x86-64 level is compared with the `--platform` or declared `amd64` variant (v1 when none is given); the Arm level with the `--host` profile's (Armv9.n includes Armv8.(n+5)), and a host whose level is unknown gets a note.",
        fix: "Build for the oldest CPU you deploy to (`-march=x86-64-v2`, `GOAMD64=v1`, `GOARM64=v8.0`), or run only on hosts of that level and say so with `--platform linux/amd64/v3` or the matching `--host`.",
    },
    RuleDef {
        rule: Rule::LibcMismatch,
        id: "libc-mismatch",
        level: Severity::Warning,
        severity: "error / warning",
        summary: "A glibc-built program in a musl image, or the reverse",
        fires_when: "a glibc-built program in a musl image, or the reverse",
        why: "A program linked against glibc asks for glibc's loader (`ld-linux-*.so`), which a musl image (Alpine) does not have, and the reverse: exec fails with `no such file or directory`, or the program fails on missing symbols when a compatibility loader is present.",
        detection: "The program's `PT_INTERP` names its C library; the image's C library is told by the loaders and `libc.so` files it holds.",
        fix: "Use a base image with the C library the program was built for, build the program in an image of the same distribution as the final stage, or link it statically.",
    },
    RuleDef {
        rule: Rule::SameBinaryAcrossPlatforms,
        id: "same-binary-across-platforms",
        level: Severity::Warning,
        severity: "warning",
        summary: "The same binary appears under manifests of different platforms",
        fires_when: "one layer blob with native code is shared by the images of two platforms of an index; reported on the images that cannot run that code",
        why: "Native code is right for one platform at most: a layer with native code shared by the images of two platforms of one index means that one of them carries the other's binaries (a hand-assembled index reusing one platform's layer) and fails with `exec format error` there.",
        detection: "The layer digests of the images of each multi-platform index are compared; a layer shared across platforms that holds ELF, Mach-O or PE files is reported on each image whose platform cannot run that code (on every image using it when the code's platform is unknown).",
        fix: "Build each platform's image from its own build (`docker buildx build --platform …`), not by reusing one platform's layer.",
    },
    RuleDef {
        rule: Rule::DamagedFile,
        id: "damaged-file",
        level: Severity::Warning,
        severity: "error when it is what runs, else warning",
        summary: "An executable's headers point past its end",
        fires_when: "an ELF whose headers point past its end (truncated or corrupt); the image is still judged",
        why: "A truncated or corrupt ELF cannot be loaded: exec fails (`exec format error`, `Input/output error` or a crash at start), and loading it as a library fails too.",
        detection: "Program and section header tables, segments and the dynamic section are checked against the file's size; files under `/usr/lib/debug` (stripped on purpose) are left out.",
        fix: "Rebuild or re-download the file, and check the build step that copied it into the image (an interrupted download, a Git LFS pointer, a text-mode transfer).",
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_definition_per_variant_in_order() {
        for (i, d) in DEFS.iter().enumerate() {
            assert_eq!(d.rule as usize, i, "{} is out of order", d.id);
            assert_eq!(d.rule.def().id, d.id);
            assert_eq!(Rule::from_id(d.id), Some(d.rule));
        }
        // The last variant is defined, so every one before it is too.
        assert_eq!(Rule::DamagedFile.def().rule, Rule::DamagedFile);
        assert_eq!(Rule::all().count(), DEFS.len());
    }

    #[test]
    fn ids_are_unique_kebab_case_and_every_text_is_written() {
        let mut seen = std::collections::HashSet::new();
        for d in DEFS {
            assert!(seen.insert(d.id), "{} twice", d.id);
            assert!(
                d.id.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'),
                "{}",
                d.id
            );
            for (what, text) in [
                ("summary", d.summary),
                ("fires_when", d.fires_when),
                ("why", d.why),
                ("detection", d.detection),
                ("fix", d.fix),
            ] {
                assert!(text.len() > 8, "{}: {what} is empty", d.id);
            }
            assert!(
                d.severity.starts_with(d.level.as_str()) || d.severity.contains(d.level.as_str()),
                "{}: severity cell and level disagree",
                d.id
            );
        }
    }

    /// docs/rules.md (the SARIF `helpUri` target) is generated from the
    /// definitions; `ARCHSCAN_BLESS=1` rewrites it.
    #[test]
    fn docs_rules_md_is_generated_from_the_definitions() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/rules.md");
        let want = docs_markdown();
        if std::env::var_os("ARCHSCAN_BLESS").is_some() {
            std::fs::write(path, &want).unwrap();
        }
        let have = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            have == want,
            "docs/rules.md is stale: ARCHSCAN_BLESS=1 cargo test --lib rules"
        );
        for d in DEFS {
            assert!(have.contains(&format!("\n## {}\n", d.id)), "{}", d.id);
            assert!(d.help_uri().ends_with(&format!("docs/rules.md#{}", d.id)));
        }
    }

    /// The README's rules table says what the definitions say: same ids,
    /// severities and "fires when" cells.
    #[test]
    fn readme_table_agrees_with_the_definitions() {
        let readme = include_str!("../README.md");
        let table = readme
            .split("\n## Rules\n")
            .nth(1)
            .expect("README has a Rules section");
        let mut rows = std::collections::BTreeMap::new();
        for line in table.lines().skip_while(|l| !l.starts_with("| id ")) {
            if !line.starts_with('|') {
                break;
            }
            let cells: Vec<&str> = line.trim_matches('|').split(" | ").map(str::trim).collect();
            if let [id, severity, fires] = cells[..] {
                if let Some(id) = id.strip_prefix('`').and_then(|i| i.strip_suffix('`')) {
                    rows.insert(id.to_string(), (severity.to_string(), fires.to_string()));
                }
            }
        }
        for d in DEFS {
            let Some((severity, fires)) = rows.remove(d.id) else {
                panic!("README's rules table has no row for {}", d.id);
            };
            assert_eq!(severity, d.severity, "README severity of {}", d.id);
            assert_eq!(fires, d.fires_when, "README 'fires when' of {}", d.id);
        }
        assert!(
            rows.is_empty(),
            "README rows without a definition: {rows:?}"
        );
    }
}
