//! Host profiles: named machine classes (`--host NAME`) as rows of facts —
//! the platform, the page size of the usual kernel, whether 32-bit ARM code
//! runs (AArch32 at EL0 in the CPU *and* a kernel built with `COMPAT`, which
//! arm64 Linux allows only with 4 KiB pages), and the CPU's architecture
//! level. Every fact names its public source; a fact without one is
//! `None` ("unknown") and the check it would feed is skipped with a note.

/// One fact of a profile: its value, or `None` when unknown, and where it
/// comes from.
#[derive(Debug, Clone, Copy)]
pub struct Fact<T: 'static> {
    pub value: Option<T>,
    pub source: &'static str,
}

const fn known<T>(value: T, source: &'static str) -> Fact<T> {
    Fact {
        value: Some(value),
        source,
    }
}

const fn unknown<T>(why: &'static str) -> Fact<T> {
    Fact {
        value: None,
        source: why,
    }
}

/// A named machine class.
#[derive(Debug, Clone, Copy)]
pub struct Profile {
    pub name: &'static str,
    /// What the name stands for.
    pub summary: &'static str,
    /// The platform its containers run as (`--host` implies it).
    pub platform: &'static str,
    /// The CPU and its architecture level (`Armv8.2-A`, `x86-64-v3`).
    pub cpu: Fact<&'static str>,
    /// Page size of the usual kernel, in bytes.
    pub page_size: Fact<u64>,
    /// Whether 32-bit ARM programs run: AArch32 at EL0 in the CPU and a
    /// `COMPAT` kernel.
    pub aarch32: Fact<bool>,
}

const AWS_GUIDE: &str = "AWS Graviton Technical Guide, processor table (github.com/aws/aws-graviton-getting-started, README.md)";
const PAGE_4K_GRAVITON: &str = "4 KiB is the default of the arm64 distribution kernels on Graviton; 64 KiB needs a -64k kernel (dev.to/aws-builders: 'Improve performance with 64K memory pages on AWS Graviton processors')";
const A72_AARCH32: &str = "Arm Cortex-A72 TRM (developer.arm.com/documentation/100095): AArch32 and AArch64 at all exception levels; the usual kernels have 4 KiB pages, which arm64 COMPAT needs (linux arch/arm64/Kconfig: COMPAT depends on ARM64_4K_PAGES || EXPERT)";
const NEOVERSE_EL0: &str = "AArch32 at EL0 only on Neoverse N1/V1 (EDK2 patch 'The Neoverse reference design platforms support AArch32 execution state only at the EL0 exception level', devel@edk2.groups.io msg42117; QEMU commit c36a0d57: neoverse-n1/-v1 are AArch64-only at EL1); 4 KiB kernel pages allow COMPAT (linux arch/arm64/Kconfig)";
const KCONFIG_COMPAT: &str =
    "linux arch/arm64/Kconfig: COMPAT (32-bit EL0) depends on ARM64_4K_PAGES || EXPERT";

/// Every profile `--host` knows, as `archscan hosts` lists them.
pub const PROFILES: &[Profile] = &[
    Profile {
        name: "graviton1",
        summary: "AWS Graviton (EC2 A1)",
        platform: "linux/arm64",
        cpu: known("Cortex-A72, Armv8.0-A", AWS_GUIDE),
        page_size: known(4096, PAGE_4K_GRAVITON),
        aarch32: known(true, A72_AARCH32),
    },
    Profile {
        name: "graviton2",
        summary: "AWS Graviton2 (EC2 M6g, C6g, R6g, T4g…)",
        platform: "linux/arm64",
        cpu: known("Neoverse N1, Armv8.2-A", AWS_GUIDE),
        page_size: known(4096, PAGE_4K_GRAVITON),
        aarch32: known(true, NEOVERSE_EL0),
    },
    Profile {
        name: "graviton3",
        summary: "AWS Graviton3 (EC2 M7g, C7g, R7g…)",
        platform: "linux/arm64",
        cpu: known("Neoverse V1, Armv8.4-A", AWS_GUIDE),
        page_size: known(4096, PAGE_4K_GRAVITON),
        aarch32: known(true, NEOVERSE_EL0),
    },
    Profile {
        name: "graviton4",
        summary: "AWS Graviton4 (EC2 M8g, C8g, R8g…)",
        platform: "linux/arm64",
        cpu: known("Neoverse V2, Armv9.0-A", AWS_GUIDE),
        page_size: known(4096, PAGE_4K_GRAVITON),
        aarch32: known(false, "Arm Neoverse V2 TRM (developer.arm.com/documentation/102375): AArch64 execution state only, at every exception level"),
    },
    Profile {
        name: "rpi4",
        summary: "Raspberry Pi 4 / 400 / CM4, 64-bit Raspberry Pi OS (kernel8)",
        platform: "linux/arm64",
        cpu: known("Cortex-A72, Armv8.0-A", A72_AARCH32),
        page_size: known(4096, "Raspberry Pi kernels: only the Pi 5 kernel (2712) has 16 KiB pages, kernel8 (Pi 3/4) 4 KiB (raspberrypi.github.io/rpi-image-gen/layer/rpi5.html)"),
        aarch32: known(true, A72_AARCH32),
    },
    Profile {
        name: "rpi5",
        summary: "Raspberry Pi 5 / CM5, Raspberry Pi OS default kernel (kernel_2712)",
        platform: "linux/arm64",
        cpu: known("Cortex-A76, Armv8.2-A", "Arm Cortex-A76 TRM (developer.arm.com/documentation/100798)"),
        page_size: known(16384, "raspberrypi.github.io/rpi-image-gen/layer/rpi5.html: 'the 2712 kernel which has a 16kB page size'"),
        aarch32: known(false, KCONFIG_COMPAT),
    },
    Profile {
        name: "ampere-64k",
        summary: "Ampere Altra (Neoverse N1) with a 64 KiB-page kernel (e.g. Ubuntu linux-generic-64k, RHEL kernel-64k)",
        platform: "linux/arm64",
        cpu: known("Neoverse N1, Armv8.2-A", "amperecomputing.com: Altra is built on Arm Neoverse N1 cores"),
        page_size: known(65536, "the profile's definition: a 64 KiB-page kernel (learn.arm.com, 'arm_linux_page_size' learning path)"),
        aarch32: known(false, KCONFIG_COMPAT),
    },
    Profile {
        name: "apple-silicon",
        summary: "Docker Desktop's Linux VM on an Apple M-series Mac (amd64 runs there under emulation)",
        platform: "linux/arm64",
        cpu: unknown("the M-series cores' architecture level is not published by Apple"),
        page_size: unknown("the page size of Docker Desktop's VM kernel is not documented"),
        aarch32: known(false, "Apple M-series cores implement no AArch32 execution state (Asahi Linux documentation)"),
    },
    Profile {
        name: "x86-64-v2",
        summary: "any x86-64 CPU at microarchitecture level v2 (SSE4.2, POPCNT)",
        platform: "linux/amd64/v2",
        cpu: known("x86-64-v2", "x86-64 psABI, microarchitecture levels"),
        page_size: known(4096, "x86-64 Linux has 4 KiB base pages only"),
        aarch32: unknown("not an ARM host"),
    },
    Profile {
        name: "x86-64-v3",
        summary: "any x86-64 CPU at microarchitecture level v3 (AVX2, BMI2, FMA)",
        platform: "linux/amd64/v3",
        cpu: known("x86-64-v3", "x86-64 psABI, microarchitecture levels"),
        page_size: known(4096, "x86-64 Linux has 4 KiB base pages only"),
        aarch32: unknown("not an ARM host"),
    },
];

/// The profile named so.
pub fn find(name: &str) -> Option<&'static Profile> {
    PROFILES.iter().find(|p| p.name.eq_ignore_ascii_case(name))
}

/// The facts of the host a run judges against (`--host`, completed or
/// overridden by `--page-size`).
#[derive(Debug, Clone, Default)]
pub struct HostFacts {
    /// The profile's name, or `None` when only `--page-size` was given.
    pub name: Option<String>,
    /// Kernel page size in bytes, when known.
    pub page_size: Option<u64>,
    /// Whether 32-bit ARM code runs, when known.
    pub aarch32: Option<bool>,
    /// Why a 32-bit ARM program does not run (the source of the fact).
    pub aarch32_source: Option<&'static str>,
    /// The host's kernel version (`--kernel X.Y`): an OS fact, never a
    /// profile's.
    pub kernel: Option<(u32, u32)>,
}

impl HostFacts {
    /// The facts of a profile, with `page_size` (bytes) overriding its own.
    /// A page size other than 4 KiB also rules out AArch32 (no `COMPAT`).
    pub fn new(profile: Option<&Profile>, page_size: Option<u64>) -> HostFacts {
        let page = page_size.or(profile.and_then(|p| p.page_size.value));
        let mut aarch32 = profile.and_then(|p| p.aarch32.value);
        let mut source = profile.map(|p| p.aarch32.source);
        if page.is_some_and(|p| p != 4096) && aarch32 == Some(true) {
            aarch32 = Some(false);
            source = Some(KCONFIG_COMPAT);
        }
        HostFacts {
            name: profile.map(|p| p.name.to_string()),
            page_size: page,
            aarch32,
            aarch32_source: source,
            kernel: None,
        }
    }

    /// How the host is named in findings.
    pub fn label(&self) -> String {
        match (&self.name, self.page_size) {
            (Some(n), _) => format!("host {n}"),
            (None, Some(p)) => format!("a {} KiB-page host", p / 1024),
            (None, None) => "the host".to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_fact_names_a_source_and_names_are_unique() {
        let mut names = std::collections::BTreeSet::new();
        for p in PROFILES {
            assert!(names.insert(p.name), "{}", p.name);
            for s in [p.cpu.source, p.page_size.source, p.aarch32.source] {
                assert!(!s.is_empty(), "{}", p.name);
            }
            assert!(crate::platform::Platform::parse(p.platform).is_ok());
        }
    }

    #[test]
    fn a_non_4k_kernel_has_no_aarch32() {
        let g3 = find("graviton3").unwrap();
        assert_eq!(HostFacts::new(Some(g3), None).aarch32, Some(true));
        assert_eq!(HostFacts::new(Some(g3), Some(65536)).aarch32, Some(false));
        assert_eq!(HostFacts::new(find("Graviton4"), None).aarch32, Some(false));
    }
}
