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
    /// The Arm architecture level of the CPU (`(8, 2)` for Armv8.2-A), part
    /// of the `cpu` fact (same source); `None` when unknown or not Arm.
    pub arm_level: Option<(u8, u8)>,
    /// Page size of the usual kernel, in bytes.
    pub page_size: Fact<u64>,
    /// Whether 32-bit ARM programs run: AArch32 at EL0 in the CPU and a
    /// `COMPAT` kernel.
    pub aarch32: Fact<bool>,
    /// Whether the CPU itself implements AArch32 at EL0, whatever the
    /// kernel: what `--page-size 4k` (a kernel that can have `COMPAT`) turns
    /// into "32-bit ARM runs".
    pub cpu_aarch32: Fact<bool>,
}

const AWS_GUIDE: &str = "AWS Graviton Technical Guide, 'Building for Graviton' table, rows Core and Architecture revision (github.com/aws/aws-graviton-getting-started, README.md)";
const AWS_GUIDE_32BIT: &str = "AWS Graviton Technical Guide, 'Building for Graviton' table, row '32bit Backward Compatibility': 'Userspace only' on Graviton2 and Graviton3 (citing Arm knowledge article KA006014); 4 KiB kernel pages allow COMPAT (linux arch/arm64/Kconfig)";
const GRAVITON1_CPU: &str = "not in the AWS guide's table (it starts at Graviton2); Cortex-A72 as reported at the EC2 A1 launch (2018) — source not checked; the level is the Cortex-A72's (Arm Cortex-A72 MPCore TRM, developer.arm.com/documentation/100095)";
const PAGE_4K_GRAVITON: &str = "4 KiB is the default of the arm64 distribution kernels on Graviton; 64 KiB needs a -64k kernel (dev.to/aws-builders: 'Improve performance with 64K memory pages on AWS Graviton processors') — source not re-checked";
const A72_AARCH32: &str = "Arm Cortex-A72 MPCore TRM (developer.arm.com/documentation/100095): AArch32 and AArch64 at all exception levels; the usual kernels have 4 KiB pages, which arm64 COMPAT needs (linux arch/arm64/Kconfig: menuconfig COMPAT 'Kernel support for 32-bit EL0' depends on ARM64_4K_PAGES || EXPERT)";
const A72_EL0: &str = "Arm Cortex-A72 MPCore TRM (developer.arm.com/documentation/100095): AArch32 and AArch64 at all exception levels";
const A76_EL0: &str = "Arm Cortex-A76 Core TRM (developer.arm.com/documentation/100798): AArch32 at EL0 only — the TRM text was not fetched here; consistent with QEMU's list of CPU models whose EL1 is AArch64 only, which names cortex-a76 (qemu commit c36a0d577b82; that list is about EL1, not EL0)";
const AWS_GUIDE_32BIT_CPU: &str = "AWS Graviton Technical Guide, 'Building for Graviton' table, row '32bit Backward Compatibility': 'Userspace only' (AArch32 at EL0)";
const KCONFIG_COMPAT: &str =
    "linux arch/arm64/Kconfig: menuconfig COMPAT ('Kernel support for 32-bit EL0') depends on ARM64_4K_PAGES || EXPERT";

/// Every profile `--host` knows, as `archscan hosts` lists them.
pub const PROFILES: &[Profile] = &[
    Profile {
        name: "graviton1",
        summary: "AWS Graviton (EC2 A1)",
        platform: "linux/arm64",
        cpu: known("Cortex-A72, Armv8.0-A", GRAVITON1_CPU),
        arm_level: Some((8, 0)),
        page_size: known(4096, PAGE_4K_GRAVITON),
        aarch32: known(true, A72_AARCH32),
        cpu_aarch32: known(true, A72_EL0),
    },
    Profile {
        name: "graviton2",
        summary: "AWS Graviton2 (EC2 M6g, C6g, R6g, T4g…)",
        platform: "linux/arm64",
        cpu: known("Neoverse N1, Armv8.2-A", AWS_GUIDE),
        arm_level: Some((8, 2)),
        page_size: known(4096, PAGE_4K_GRAVITON),
        aarch32: known(true, AWS_GUIDE_32BIT),
        cpu_aarch32: known(true, AWS_GUIDE_32BIT_CPU),
    },
    Profile {
        name: "graviton3",
        summary: "AWS Graviton3 (EC2 M7g, C7g, R7g…)",
        platform: "linux/arm64",
        cpu: known("Neoverse V1, Armv8.4-A", AWS_GUIDE),
        arm_level: Some((8, 4)),
        page_size: known(4096, PAGE_4K_GRAVITON),
        aarch32: known(true, AWS_GUIDE_32BIT),
        cpu_aarch32: known(true, AWS_GUIDE_32BIT_CPU),
    },
    Profile {
        name: "graviton4",
        summary: "AWS Graviton4 (EC2 M8g, C8g, R8g…)",
        platform: "linux/arm64",
        cpu: known("Neoverse V2, Armv9.0-A", AWS_GUIDE),
        arm_level: Some((9, 0)),
        page_size: known(4096, PAGE_4K_GRAVITON),
        aarch32: known(false, "AWS Graviton Technical Guide, 'Building for Graviton' table, row '32bit Backward Compatibility': 'No support' on Graviton4 (Neoverse V2, TRM developer.arm.com/documentation/102375)"),
        cpu_aarch32: known(false, "AWS Graviton Technical Guide, 'Building for Graviton' table, row '32bit Backward Compatibility': 'No support' on Graviton4 (Neoverse V2)"),
    },
    Profile {
        name: "rpi4",
        summary: "Raspberry Pi 4 / 400 / CM4, 64-bit Raspberry Pi OS (kernel8)",
        platform: "linux/arm64",
        cpu: known("Cortex-A72, Armv8.0-A", "Raspberry Pi 4 product brief: Broadcom BCM2711, quad-core Cortex-A72 (source not fetched); the level is the Cortex-A72's (Arm TRM 100095)"),
        arm_level: Some((8, 0)),
        page_size: known(4096, "Raspberry Pi kernels: only the Pi 5 kernel (2712) has 16 KiB pages, kernel8 (Pi 3/4) 4 KiB (raspberrypi.github.io/rpi-image-gen/layer/rpi5.html) — source not re-checked"),
        aarch32: known(true, A72_AARCH32),
        cpu_aarch32: known(true, A72_EL0),
    },
    Profile {
        name: "rpi5",
        summary: "Raspberry Pi 5 / CM5, Raspberry Pi OS default kernel (kernel_2712)",
        platform: "linux/arm64",
        cpu: known("Cortex-A76, Armv8.2-A", "Raspberry Pi 5 product brief: Broadcom BCM2712, quad-core Cortex-A76 (source not fetched); the level is the Cortex-A76's (Arm Cortex-A76 Core TRM, developer.arm.com/documentation/100798)"),
        arm_level: Some((8, 2)),
        page_size: known(16384, "raspberrypi.github.io/rpi-image-gen/layer/rpi5.html: 'the 2712 kernel which has a 16kB page size' — source not re-checked"),
        aarch32: known(false, KCONFIG_COMPAT),
        cpu_aarch32: known(true, A76_EL0),
    },
    Profile {
        name: "ampere-64k",
        summary: "Ampere Altra (Neoverse N1) with a 64 KiB-page kernel (e.g. Ubuntu linux-generic-64k, RHEL kernel-64k)",
        platform: "linux/arm64",
        cpu: known("Neoverse N1, Armv8.2-A", "amperecomputing.com: Altra is built on Arm Neoverse N1 cores (source not re-checked); Neoverse N1 is Armv8.2-A (AWS Graviton Technical Guide, Graviton2 column)"),
        arm_level: Some((8, 2)),
        page_size: known(65536, "the profile's definition: a 64 KiB-page kernel"),
        aarch32: known(false, KCONFIG_COMPAT),
        cpu_aarch32: known(true, "Neoverse N1 implements AArch32 at EL0: AWS Graviton Technical Guide, '32bit Backward Compatibility' row, Graviton2 (Neoverse N1) column: 'Userspace only'"),
    },
    Profile {
        name: "apple-silicon",
        summary: "Docker Desktop's Linux VM on an Apple M-series Mac (amd64 runs there under emulation)",
        platform: "linux/arm64",
        cpu: unknown("Apple does not publish the M-series cores' Arm architecture level"),
        arm_level: None,
        page_size: unknown("the page size of Docker Desktop's VM kernel is not documented (Asahi Linux's native kernels use 16 KiB pages, which the M1's IOMMU needs — Asahi docs as quoted by talospace.com, 2022-03; that is not Docker Desktop's VM)"),
        aarch32: unknown("Apple publishes no statement on AArch32; users report none in Linux VMs on M1 (GoogleContainerTools/distroless#958, dbhi/qus#4), and Docker Desktop may run 32-bit ARM images under QEMU emulation (docker-library/golang#338) — no vendor source"),
        cpu_aarch32: unknown("Apple publishes no statement on AArch32 in the M-series cores"),
    },
    Profile {
        name: "x86-64-v2",
        summary: "any x86-64 CPU at microarchitecture level v2 (SSE4.2, POPCNT)",
        platform: "linux/amd64/v2",
        cpu: known("x86-64-v2", "x86-64 psABI, microarchitecture levels"),
        arm_level: None,
        page_size: known(4096, "x86-64 Linux has 4 KiB base pages only"),
        aarch32: unknown("not an ARM host"),
        cpu_aarch32: unknown("not an ARM host"),
    },
    Profile {
        name: "x86-64-v3",
        summary: "any x86-64 CPU at microarchitecture level v3 (AVX2, BMI2, FMA)",
        platform: "linux/amd64/v3",
        cpu: known("x86-64-v3", "x86-64 psABI, microarchitecture levels"),
        arm_level: None,
        page_size: known(4096, "x86-64 Linux has 4 KiB base pages only"),
        aarch32: unknown("not an ARM host"),
        cpu_aarch32: unknown("not an ARM host"),
    },
];

/// Does a CPU at Arm architecture level `have` run code built for `need`?
/// Armv9.n includes Armv8.(n+5) (the Arm ARM: Armv9.0-A extends
/// Armv8.5-A); Armv8 never includes an Armv9 level.
pub fn arm_level_covers(have: (u8, u8), need: (u8, u8)) -> bool {
    match (have.0, need.0) {
        (9, 8) => u16::from(need.1) <= u16::from(have.1) + 5,
        (h, n) if h == n => need.1 <= have.1,
        _ => need <= have,
    }
}

/// `v8.2` / `8.2` / `v9.0,lse` as an Arm architecture level.
pub fn parse_arm_level(s: &str) -> Option<(u8, u8)> {
    let s = s.split(',').next()?.trim().trim_start_matches('v');
    let (a, b) = s.split_once('.').unwrap_or((s, "0"));
    let level = (a.parse().ok()?, b.parse().ok()?);
    (level.0 == 8 || level.0 == 9).then_some(level)
}

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
    /// The CPU's Arm architecture level (`(8, 2)` for Armv8.2-A), when known.
    pub arm_level: Option<(u8, u8)>,
    /// The profile the facts come from, for the sources the report names.
    pub profile: Option<&'static Profile>,
    /// `--page-size` was given (it overrides the profile's).
    pub page_size_given: bool,
}

impl HostFacts {
    /// The facts of a profile, with `page_size` (bytes) overriding its own.
    /// A page size other than 4 KiB rules out AArch32 (no `COMPAT`); a 4 KiB
    /// kernel given with `--page-size` on a CPU with AArch32 at EL0 (a
    /// Raspberry Pi 5 booted with the 4 KiB `kernel8.img`) runs it, as the
    /// distribution kernels built for 4 KiB pages enable `COMPAT`.
    pub fn new(profile: Option<&'static Profile>, page_size: Option<u64>) -> HostFacts {
        let page = page_size.or(profile.and_then(|p| p.page_size.value));
        let mut aarch32 = profile.and_then(|p| p.aarch32.value);
        let mut source = profile.map(|p| p.aarch32.source);
        if page.is_some_and(|p| p != 4096) && aarch32 == Some(true) {
            aarch32 = Some(false);
            source = Some(KCONFIG_COMPAT);
        }
        let cpu = profile.map(|p| p.cpu_aarch32);
        if page_size == Some(4096) && aarch32 == Some(false) {
            if let Some(cpu) = cpu.filter(|c| c.value == Some(true)) {
                aarch32 = Some(true);
                source = Some(cpu.source);
            }
        }
        HostFacts {
            name: profile.map(|p| p.name.to_string()),
            page_size: page,
            aarch32,
            aarch32_source: source,
            kernel: None,
            arm_level: profile.and_then(|p| p.arm_level),
            profile,
            page_size_given: page_size.is_some(),
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
    fn arm_levels() {
        assert_eq!(parse_arm_level("v8.4"), Some((8, 4)));
        assert_eq!(parse_arm_level("v9.0,lse,crypto"), Some((9, 0)));
        assert_eq!(parse_arm_level("v8"), Some((8, 0)));
        assert_eq!(parse_arm_level("v7.1"), None);
        assert_eq!(parse_arm_level("vx"), None);
        assert!(arm_level_covers((8, 2), (8, 2)));
        assert!(!arm_level_covers((8, 2), (8, 4)));
        assert!(arm_level_covers((9, 0), (8, 5)));
        assert!(!arm_level_covers((9, 0), (8, 6)));
        assert!(!arm_level_covers((8, 9), (9, 0)));
        assert!(arm_level_covers((9, 2), (9, 1)));
        for p in PROFILES {
            if p.platform == "linux/arm64" {
                assert_eq!(p.arm_level.is_some(), p.cpu.value.is_some(), "{}", p.name);
            }
        }
    }

    #[test]
    fn a_non_4k_kernel_has_no_aarch32() {
        let g3 = find("graviton3").unwrap();
        assert_eq!(HostFacts::new(Some(g3), None).aarch32, Some(true));
        assert_eq!(HostFacts::new(Some(g3), Some(65536)).aarch32, Some(false));
        assert_eq!(HostFacts::new(find("Graviton4"), None).aarch32, Some(false));
        assert_eq!(HostFacts::new(find("apple-silicon"), None).aarch32, None);
    }
}
