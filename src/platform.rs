//! Platforms as types: `Os`, `Arch`, `Platform`, spelled the OCI / GOARCH way.
//!
//! Parsing, normalisation and printing live here and nowhere else. Normalisation
//! follows containerd's `platforms.Normalize`: `x86_64` → `amd64`, `aarch64` →
//! `arm64`, `armhf` → `arm/v7`, `arm` without a variant → `arm/v7`, `arm64/v8` →
//! `arm64`, `amd64/v1` → `amd64`. [`Platform::can_run`] decides which binaries a
//! host of a platform can exec.

use std::fmt;

/// An operating system, spelled as GOOS / the OCI image spec spell it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Os {
    Linux,
    Windows,
    Darwin,
    FreeBsd,
    NetBsd,
    OpenBsd,
    Solaris,
    Illumos,
    Aix,
    /// Anything else, lower-cased as given.
    Other(String),
}

impl Os {
    pub fn parse(s: &str) -> Os {
        match s.to_ascii_lowercase().as_str() {
            "linux" => Os::Linux,
            "windows" => Os::Windows,
            // macOS binaries are GOOS=darwin.
            "darwin" | "macos" | "macosx" | "osx" => Os::Darwin,
            "freebsd" => Os::FreeBsd,
            "netbsd" => Os::NetBsd,
            "openbsd" => Os::OpenBsd,
            "solaris" => Os::Solaris,
            "illumos" => Os::Illumos,
            "aix" => Os::Aix,
            other => Os::Other(other.to_string()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Os::Linux => "linux",
            Os::Windows => "windows",
            Os::Darwin => "darwin",
            Os::FreeBsd => "freebsd",
            Os::NetBsd => "netbsd",
            Os::OpenBsd => "openbsd",
            Os::Solaris => "solaris",
            Os::Illumos => "illumos",
            Os::Aix => "aix",
            Os::Other(s) => s,
        }
    }
}

impl fmt::Display for Os {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A CPU architecture, spelled as GOARCH / the OCI image spec spell it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Arch {
    Amd64,
    I386,
    Arm64,
    Arm64be,
    Arm,
    Armbe,
    Ppc64le,
    Ppc64,
    Ppc,
    S390x,
    S390,
    Riscv64,
    Riscv32,
    Mips64le,
    Mips64,
    Mipsle,
    Mips,
    Loong64,
    Sparc64,
    Sparc,
    Wasm,
    /// Anything else, lower-cased as given.
    Other(String),
}

/// Every named architecture, for tests and help text.
pub const ALL_ARCHES: &[Arch] = &[
    Arch::Amd64,
    Arch::I386,
    Arch::Arm64,
    Arch::Arm64be,
    Arch::Arm,
    Arch::Armbe,
    Arch::Ppc64le,
    Arch::Ppc64,
    Arch::Ppc,
    Arch::S390x,
    Arch::S390,
    Arch::Riscv64,
    Arch::Riscv32,
    Arch::Mips64le,
    Arch::Mips64,
    Arch::Mipsle,
    Arch::Mips,
    Arch::Loong64,
    Arch::Sparc64,
    Arch::Sparc,
    Arch::Wasm,
];

impl Arch {
    /// Parses an architecture name, accepting the aliases other tools print.
    /// Returns the architecture and the variant the alias implies, if any.
    pub fn parse_with_variant(s: &str) -> (Arch, Option<&'static str>) {
        let lower = s.to_ascii_lowercase();
        let arch = match lower.as_str() {
            "amd64" | "x86_64" | "x86-64" | "x64" => Arch::Amd64,
            // `i386` is what uname, Debian and old Docker configs say.
            "386" | "i386" | "i486" | "i586" | "i686" | "x86" => Arch::I386,
            "arm64" | "aarch64" => Arch::Arm64,
            "arm64be" | "aarch64_be" => Arch::Arm64be,
            "arm" => Arch::Arm,
            // Debian's names for the two 32-bit ARM ABIs, as containerd maps them.
            "armhf" => return (Arch::Arm, Some("v7")),
            "armel" => return (Arch::Arm, Some("v6")),
            "armv5" | "armv5l" | "armv5tel" => return (Arch::Arm, Some("v5")),
            "armv6" | "armv6l" => return (Arch::Arm, Some("v6")),
            "armv7" | "armv7l" => return (Arch::Arm, Some("v7")),
            "armbe" => Arch::Armbe,
            // Debian says ppc64el.
            "ppc64le" | "ppc64el" => Arch::Ppc64le,
            "ppc64" => Arch::Ppc64,
            "ppc" | "powerpc" => Arch::Ppc,
            "s390x" => Arch::S390x,
            "s390" => Arch::S390,
            "riscv64" => Arch::Riscv64,
            "riscv32" | "riscv" => Arch::Riscv32,
            "mips64le" | "mips64el" => Arch::Mips64le,
            "mips64" => Arch::Mips64,
            "mipsle" | "mipsel" => Arch::Mipsle,
            "mips" => Arch::Mips,
            "loong64" | "loongarch64" => Arch::Loong64,
            "sparc64" => Arch::Sparc64,
            "sparc" => Arch::Sparc,
            "wasm" | "wasm32" => Arch::Wasm,
            _ => Arch::Other(lower),
        };
        (arch, None)
    }

    pub fn parse(s: &str) -> Arch {
        Arch::parse_with_variant(s).0
    }

    pub fn as_str(&self) -> &str {
        match self {
            Arch::Amd64 => "amd64",
            Arch::I386 => "386",
            Arch::Arm64 => "arm64",
            Arch::Arm64be => "arm64be",
            Arch::Arm => "arm",
            Arch::Armbe => "armbe",
            Arch::Ppc64le => "ppc64le",
            Arch::Ppc64 => "ppc64",
            Arch::Ppc => "ppc",
            Arch::S390x => "s390x",
            Arch::S390 => "s390",
            Arch::Riscv64 => "riscv64",
            Arch::Riscv32 => "riscv32",
            Arch::Mips64le => "mips64le",
            Arch::Mips64 => "mips64",
            Arch::Mipsle => "mipsle",
            Arch::Mips => "mips",
            Arch::Loong64 => "loong64",
            Arch::Sparc64 => "sparc64",
            Arch::Sparc => "sparc",
            Arch::Wasm => "wasm",
            Arch::Other(s) => s,
        }
    }
}

impl fmt::Display for Arch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An OS / architecture / variant triple, normalised.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Platform {
    pub os: Os,
    pub arch: Arch,
    /// `v5`…`v8` for arm, `v9`… for arm64, `v2`…`v4` for amd64; `None` for the
    /// architecture's baseline.
    pub variant: Option<String>,
}

/// Why a platform string could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformParseError(pub String);

impl fmt::Display for PlatformParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` is not a platform: expected os/arch[/variant], e.g. linux/amd64 or linux/arm/v7",
            self.0
        )
    }
}

impl std::error::Error for PlatformParseError {}

impl Platform {
    pub fn new(os: Os, arch: Arch, variant: Option<&str>) -> Platform {
        Platform::normalised(os, arch, variant, None)
    }

    pub fn linux(arch: Arch) -> Platform {
        Platform::new(Os::Linux, arch, None)
    }

    /// Builds a platform from the raw `os`, `architecture` and `variant` strings
    /// of an image config or index descriptor, normalising as containerd does.
    pub fn from_parts(os: &str, arch: &str, variant: Option<&str>) -> Platform {
        let (a, implied) = Arch::parse_with_variant(arch);
        let variant = variant.filter(|v| !v.is_empty());
        Platform::normalised(Os::parse(os), a, variant, implied)
    }

    fn normalised(
        os: Os,
        arch: Arch,
        variant: Option<&str>,
        implied: Option<&'static str>,
    ) -> Platform {
        let given = variant.map(|v| v.to_ascii_lowercase());
        let given = given.as_deref();
        let variant: Option<String> = match arch {
            Arch::Arm => match given.or(implied) {
                // containerd: arm with no variant is arm/v7.
                None | Some("7") | Some("v7") => Some("v7".into()),
                Some(v) => Some(with_v(v)),
            },
            Arch::Arm64 => match given {
                // arm64/v8 is the baseline: it prints as plain arm64.
                None | Some("8") | Some("v8") | Some("v8.0") => None,
                Some(v) => Some(with_v(v)),
            },
            Arch::Amd64 => match given {
                None | Some("1") | Some("v1") => None,
                Some(v) => Some(with_v(v)),
            },
            _ => given.map(str::to_string),
        };
        Platform { os, arch, variant }
    }

    /// Parses `os/arch[/variant]`, with aliases (`linux/aarch64`, `linux/armhf`).
    pub fn parse(s: &str) -> Result<Platform, PlatformParseError> {
        let err = || PlatformParseError(s.to_string());
        let parts: Vec<&str> = s.trim().split('/').collect();
        match parts.as_slice() {
            [os, arch] if !os.is_empty() && !arch.is_empty() => {
                Ok(Platform::from_parts(os, arch, None))
            }
            [os, arch, variant] if !os.is_empty() && !arch.is_empty() && !variant.is_empty() => {
                Ok(Platform::from_parts(os, arch, Some(variant)))
            }
            _ => Err(err()),
        }
    }

    /// Parses a deploy target as `docker run --platform` does: `os/arch` or
    /// `os/arch/variant`, or an architecture alone, meaning `linux/ARCH`.
    /// Unlike [`Platform::parse`] (for what archives say), an unknown OS,
    /// architecture or variant is refused, naming the nearest known value: a
    /// typo must not become a target nothing can match.
    pub fn parse_target(s: &str) -> Result<Platform, String> {
        let parts: Vec<&str> = s.trim().split('/').collect();
        let (os, arch, variant) = match parts.as_slice() {
            [one] if !one.is_empty() => {
                if KNOWN_OSES.contains(&one.to_ascii_lowercase().as_str()) {
                    return Err(format!(
                        "`{s}` is an OS alone: add the architecture, e.g. {}/amd64 or {}/arm64",
                        one.to_ascii_lowercase(),
                        one.to_ascii_lowercase()
                    ));
                }
                ("linux", *one, None)
            }
            [os, arch] if !os.is_empty() && !arch.is_empty() => (*os, *arch, None),
            [os, arch, v] if !os.is_empty() && !arch.is_empty() && !v.is_empty() => {
                (*os, *arch, Some(*v))
            }
            _ => {
                return Err(format!(
                    "`{s}` is not a platform: expected os/arch[/variant] or an architecture alone, e.g. linux/amd64, linux/arm/v7, arm64"
                ))
            }
        };
        let did_you_mean = |what: &str, word: &str, known: &[&str]| {
            let near = crate::suggest::closest(word, known.iter().copied()).unwrap_or("");
            format!("unknown {what} `{word}` in `{s}`; did you mean {near}?")
        };
        let os_l = os.to_ascii_lowercase();
        if matches!(Os::parse(&os_l), Os::Other(_)) && !KNOWN_OSES.contains(&os_l.as_str()) {
            return Err(did_you_mean("OS", os, KNOWN_OSES));
        }
        let (a, _) = Arch::parse_with_variant(arch);
        if let Arch::Other(_) = a {
            let names: Vec<&str> = ALL_ARCHES.iter().map(Arch::as_str).collect();
            return Err(did_you_mean("architecture", arch, &names));
        }
        let p = Platform::from_parts(os, arch, variant);
        if let Some(v) = variant {
            let known = known_variants(&p.arch);
            let norm = with_v(&v.to_ascii_lowercase());
            if known.is_empty() {
                return Err(format!(
                    "unknown variant `{v}` in `{s}`: {} has no variants; did you mean {}/{}?",
                    p.arch, p.os, p.arch
                ));
            }
            if !known.contains(&norm.as_str()) {
                // The numerically nearest variant (arm/v9 → v8), else the
                // nearest spelling.
                let num = |x: &str| x.trim_start_matches('v').parse::<f64>().ok();
                let near = num(&norm).and_then(|n| {
                    known.iter().copied().min_by(|a, b| {
                        let d = |x: &str| num(x).map_or(f64::MAX, |k| (k - n).abs());
                        d(a).total_cmp(&d(b))
                    })
                });
                return Err(match near {
                    Some(near) => {
                        format!("unknown variant `{v}` in `{s}`; did you mean {near}?")
                    }
                    None => did_you_mean("variant", v, known),
                });
            }
        }
        Ok(p)
    }

    /// The ARM variant as a number (`v7` → 7), when there is one.
    pub fn arm_level(&self) -> Option<u32> {
        self.variant
            .as_deref()
            .and_then(|v| v.strip_prefix('v'))
            .and_then(|v| v.split('.').next())
            .and_then(|v| v.parse().ok())
    }

    /// The platform without its variant: what binaries are counted under.
    pub fn without_variant(&self) -> Platform {
        Platform {
            os: self.os.clone(),
            arch: self.arch.clone(),
            variant: None,
        }
    }

    /// Can a host of platform `self` exec a binary of platform `binary`?
    ///
    /// The OS must match. Same architecture runs, except that an ARM binary that
    /// needs a newer variant than the host's does not. Compatible
    /// sub-architectures run: 386 on amd64 (the kernel's IA-32 emulation that
    /// every distribution kernel enables), older ARM variants on newer ones.
    /// 32-bit ARM on arm64 does NOT run: Graviton 3, Apple silicon and
    /// AArch64-only kernels have no AArch32.
    pub fn can_run(&self, binary: &Platform) -> bool {
        if self.os != binary.os {
            return false;
        }
        match (&self.arch, &binary.arch) {
            (Arch::Amd64, Arch::I386) => true,
            (Arch::Arm, Arch::Arm) => match (self.arm_level(), binary.arm_level()) {
                (Some(host), Some(bin)) => bin <= host,
                _ => true,
            },
            (h, b) => h == b,
        }
    }
}

/// OS names `--platform` accepts (GOOS spellings, and macOS aliases).
pub const KNOWN_OSES: &[&str] = &[
    "linux", "windows", "darwin", "freebsd", "netbsd", "openbsd", "solaris", "illumos", "aix",
    "macos",
];

/// The variants an architecture has (`--platform` refuses others).
fn known_variants(arch: &Arch) -> &'static [&'static str] {
    match arch {
        Arch::Arm => &["v5", "v6", "v7", "v8"],
        Arch::Arm64 => &[
            "v8", "v8.0", "v8.1", "v8.2", "v8.3", "v8.4", "v8.5", "v8.6", "v8.7", "v8.8", "v8.9",
            "v9", "v9.0", "v9.1", "v9.2", "v9.3", "v9.4", "v9.5",
        ],
        Arch::Amd64 => &["v1", "v2", "v3", "v4"],
        _ => &[],
    }
}

fn with_v(v: &str) -> String {
    if v.starts_with('v') {
        v.to_string()
    } else {
        format!("v{v}")
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.arch)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

impl std::str::FromStr for Platform {
    type Err = PlatformParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Platform::parse(s)
    }
}

impl serde::Serialize for Os {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl serde::Serialize for Arch {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl serde::Serialize for Platform {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_arch_round_trips() {
        for arch in ALL_ARCHES {
            assert_eq!(&Arch::parse(arch.as_str()), arch, "{arch}");
            let p = Platform::linux(arch.clone());
            let back = Platform::parse(&p.to_string()).unwrap();
            assert_eq!(back, p, "{p}");
        }
    }

    #[test]
    fn normalises_like_containerd() {
        let cases = [
            ("linux/aarch64", "linux/arm64"),
            ("linux/x86_64", "linux/amd64"),
            ("linux/armhf", "linux/arm/v7"),
            ("linux/armel", "linux/arm/v6"),
            ("linux/arm", "linux/arm/v7"),
            ("linux/arm/7", "linux/arm/v7"),
            ("linux/arm/v5", "linux/arm/v5"),
            ("linux/arm64/v8", "linux/arm64"),
            ("linux/arm64/8", "linux/arm64"),
            ("linux/amd64/v1", "linux/amd64"),
            ("linux/amd64/v3", "linux/amd64/v3"),
            ("linux/i386", "linux/386"),
            ("Linux/AMD64", "linux/amd64"),
            ("linux/ppc64el", "linux/ppc64le"),
            ("windows/amd64", "windows/amd64"),
            ("linux/sparc64", "linux/sparc64"),
        ];
        for (input, want) in cases {
            assert_eq!(Platform::parse(input).unwrap().to_string(), want, "{input}");
        }
    }

    #[test]
    fn from_parts_with_empty_variant() {
        let p = Platform::from_parts("linux", "arm64", Some(""));
        assert_eq!(p.to_string(), "linux/arm64");
        let p = Platform::from_parts("linux", "arm", Some(""));
        assert_eq!(p.to_string(), "linux/arm/v7");
    }

    #[test]
    fn rejects_malformed() {
        for s in ["", "linux", "/amd64", "linux/", "a/b/c/d", "linux//v7"] {
            assert!(Platform::parse(s).is_err(), "{s:?}");
        }
    }

    #[test]
    fn targets_are_strict_and_take_an_arch_alone() {
        let ok = |s: &str| Platform::parse_target(s).unwrap().to_string();
        assert_eq!(ok("amd64"), "linux/amd64");
        assert_eq!(ok("arm64"), "linux/arm64");
        assert_eq!(ok("aarch64"), "linux/arm64");
        assert_eq!(ok("linux/arm/v6"), "linux/arm/v6");
        assert_eq!(ok("linux/amd64/v3"), "linux/amd64/v3");
        assert_eq!(ok("windows/amd64"), "windows/amd64");
        let err = |s: &str| Platform::parse_target(s).unwrap_err();
        assert!(
            err("linux/amd46").contains("did you mean amd64?"),
            "{}",
            err("linux/amd46")
        );
        assert!(err("lnux/amd64").contains("did you mean linux?"));
        assert!(err("linux").contains("OS alone"));
        assert!(err("linux/arm/v9").contains("variant"));
        assert!(err("linux/386/v2").contains("no variants"));
        assert!(err("a/b/c/d").contains("not a platform"));
        assert!(err("amd46").contains("did you mean amd64?"));
    }

    #[test]
    fn compatibility_table() {
        let p = |s: &str| Platform::parse(s).unwrap();
        let cases = [
            ("linux/amd64", "linux/amd64", true),
            ("linux/amd64", "linux/386", true),
            ("linux/386", "linux/amd64", false),
            ("linux/amd64", "linux/arm64", false),
            ("linux/arm64", "linux/amd64", false),
            ("linux/arm64", "linux/arm/v7", false),
            ("linux/arm/v7", "linux/arm/v5", true),
            ("linux/arm/v7", "linux/arm/v6", true),
            ("linux/arm/v6", "linux/arm/v7", false),
            ("linux/arm/v7", "linux/arm64", false),
            ("linux/amd64", "darwin/amd64", false),
            ("linux/amd64", "windows/amd64", false),
            ("linux/ppc64le", "linux/ppc64", false),
            ("linux/s390x", "linux/s390x", true),
            ("linux/amd64/v2", "linux/amd64", true),
        ];
        for (host, bin, want) in cases {
            assert_eq!(p(host).can_run(&p(bin)), want, "{host} runs {bin}");
        }
    }
}
