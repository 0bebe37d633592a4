//! Resource limits in the OCI spec: `linux.resources` (memory, cpu, cpuset, pids, blkio),
//! `process.rlimits` (`--ulimit`) and the size of `/dev/shm`, as dockerd sets them.
//!
//! [`plan`] resolves what needs the host (device numbers of throttled block devices, the
//! current hard rlimits, which cannot be raised without CAP_SYS_RESOURCE); [`apply`] is pure
//! and is called by [`crate::spec::build`].

use std::path::PathBuf;

use oci_spec::runtime::{
    LinuxBlockIoBuilder, LinuxCpuBuilder, LinuxMemoryBuilder, LinuxPidsBuilder, LinuxThrottleDevice,
    LinuxThrottleDeviceBuilder, PosixRlimit, PosixRlimitBuilder, PosixRlimitType, Spec,
};

/// A block device throttle as the client gave it (`--device-read-bps /dev/vda:1mb`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeviceRate {
    pub path: PathBuf,
    pub rate: u64,
}

/// `--ulimit name=soft:hard`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rlimit {
    pub name: String,
    pub soft: i64,
    pub hard: i64,
}

/// The container's limits; zero / empty / `None` mean "not set".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResourceLimits {
    pub memory: i64,
    /// Memory + swap; -1 = unlimited swap.
    pub memory_swap: i64,
    pub memory_reservation: i64,
    pub nano_cpus: i64,
    pub cpu_shares: u64,
    pub cpu_quota: i64,
    pub cpu_period: u64,
    pub cpuset_cpus: String,
    pub cpuset_mems: String,
    pub pids_limit: Option<i64>,
    pub blkio_weight: u16,
    pub device_read_bps: Vec<DeviceRate>,
    pub device_write_bps: Vec<DeviceRate>,
    pub device_read_iops: Vec<DeviceRate>,
    pub device_write_iops: Vec<DeviceRate>,
    pub rlimits: Vec<Rlimit>,
    pub oom_kill_disable: bool,
    /// Bytes; 0 = leave the default mount alone.
    pub shm_size: i64,
}

/// A throttle with the device's numbers resolved.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Throttle {
    pub major: i64,
    pub minor: i64,
    pub rate: u64,
}

/// [`ResourceLimits`] with host lookups done: what [`apply`] writes into a spec.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResourcePlan {
    pub limits: ResourceLimits,
    pub read_bps: Vec<Throttle>,
    pub write_bps: Vec<Throttle>,
    pub read_iops: Vec<Throttle>,
    pub write_iops: Vec<Throttle>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ResourceError {
    /// dockerd's text for a missing device.
    #[error("stat {0}: no such file or directory")]
    NoDevice(String),
    #[error("{0} is not a block device")]
    NotBlockDevice(String),
    #[error("invalid ulimit type: {0}")]
    UnknownUlimit(String),
    #[error(
        "cannot set ulimit {name}={soft}:{hard}: the hard limit is above the current hard limit {current}, and raising it needs CAP_SYS_RESOURCE"
    )]
    AboveHardLimit { name: String, soft: i64, hard: i64, current: u64 },
}

/// Docker's ulimit names → the OCI rlimit type and the host resource.
const RLIMITS: [(&str, PosixRlimitType, nix::sys::resource::Resource); 16] = {
    use nix::sys::resource::Resource as R;
    use PosixRlimitType as T;
    [
        ("core", T::RlimitCore, R::RLIMIT_CORE),
        ("cpu", T::RlimitCpu, R::RLIMIT_CPU),
        ("data", T::RlimitData, R::RLIMIT_DATA),
        ("fsize", T::RlimitFsize, R::RLIMIT_FSIZE),
        ("locks", T::RlimitLocks, R::RLIMIT_LOCKS),
        ("memlock", T::RlimitMemlock, R::RLIMIT_MEMLOCK),
        ("msgqueue", T::RlimitMsgqueue, R::RLIMIT_MSGQUEUE),
        ("nice", T::RlimitNice, R::RLIMIT_NICE),
        ("nofile", T::RlimitNofile, R::RLIMIT_NOFILE),
        ("nproc", T::RlimitNproc, R::RLIMIT_NPROC),
        ("rss", T::RlimitRss, R::RLIMIT_RSS),
        ("rtprio", T::RlimitRtprio, R::RLIMIT_RTPRIO),
        ("rttime", T::RlimitRttime, R::RLIMIT_RTTIME),
        ("sigpending", T::RlimitSigpending, R::RLIMIT_SIGPENDING),
        ("stack", T::RlimitStack, R::RLIMIT_STACK),
        ("as", T::RlimitAs, R::RLIMIT_AS),
    ]
};

/// The OCI rlimit type of a Docker ulimit name (`nofile`), `None` when unknown.
pub fn rlimit_type(name: &str) -> Option<PosixRlimitType> {
    RLIMITS.iter().find(|(n, _, _)| *n == name).map(|(_, t, _)| *t)
}

/// Checks a ulimit against the current hard limit (`current`, `None` = unlimited).
pub fn check_rlimit(r: &Rlimit, current: Option<u64>) -> Result<(), ResourceError> {
    let hard = u64::try_from(r.hard).unwrap_or(u64::MAX);
    match current {
        Some(cur) if hard > cur => {
            Err(ResourceError::AboveHardLimit { name: r.name.clone(), soft: r.soft, hard: r.hard, current: cur })
        }
        _ => Ok(()),
    }
}

fn resolve(rates: &[DeviceRate]) -> Result<Vec<Throttle>, ResourceError> {
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    rates
        .iter()
        .map(|d| {
            let shown = d.path.display().to_string();
            let meta = std::fs::metadata(&d.path).map_err(|_| ResourceError::NoDevice(shown.clone()))?;
            if !meta.file_type().is_block_device() {
                return Err(ResourceError::NotBlockDevice(shown));
            }
            let rdev = meta.rdev();
            let major = i64::try_from(nix::sys::stat::major(rdev)).unwrap_or(0);
            let minor = i64::try_from(nix::sys::stat::minor(rdev)).unwrap_or(0);
            Ok(Throttle { major, minor, rate: d.rate })
        })
        .collect()
}

/// Resolves devices and checks ulimits against this process's hard limits.
pub fn plan(limits: &ResourceLimits) -> Result<ResourcePlan, ResourceError> {
    for r in &limits.rlimits {
        let res = RLIMITS
            .iter()
            .find(|(n, _, _)| *n == r.name)
            .map(|(_, _, res)| *res)
            .ok_or_else(|| ResourceError::UnknownUlimit(r.name.clone()))?;
        let current = nix::sys::resource::getrlimit(res).ok().map(|(_, hard)| hard);
        let current = current.filter(|h| *h != nix::sys::resource::RLIM_INFINITY);
        check_rlimit(r, current)?;
    }
    Ok(ResourcePlan {
        limits: limits.clone(),
        read_bps: resolve(&limits.device_read_bps)?,
        write_bps: resolve(&limits.device_write_bps)?,
        read_iops: resolve(&limits.device_read_iops)?,
        write_iops: resolve(&limits.device_write_iops)?,
    })
}

fn throttles(v: &[Throttle]) -> Option<Vec<LinuxThrottleDevice>> {
    if v.is_empty() {
        return None;
    }
    Some(
        v.iter()
            .filter_map(|t| {
                LinuxThrottleDeviceBuilder::default().major(t.major).minor(t.minor).rate(t.rate).build().ok()
            })
            .collect(),
    )
}

/// CFS period and quota for `--cpus` (dockerd: period 100ms).
pub fn nano_cpus_to_cfs(nano: i64) -> (u64, i64) {
    const PERIOD: u64 = 100_000;
    (PERIOD, nano.saturating_mul(PERIOD as i64) / 1_000_000_000)
}

/// Writes the plan into `spec` (resources, rlimits, /dev/shm size). Pure.
pub fn apply(spec: &mut Spec, plan: &ResourcePlan) {
    let l = &plan.limits;
    let Some(linux) = spec.linux_mut() else { return };
    let mut res = linux.resources().clone().unwrap_or_default();

    if l.memory != 0 || l.memory_reservation != 0 || l.memory_swap != 0 || l.oom_kill_disable {
        let mut b = LinuxMemoryBuilder::default();
        if l.memory != 0 {
            b = b.limit(l.memory);
        }
        if l.memory_reservation != 0 {
            b = b.reservation(l.memory_reservation);
        }
        if l.memory_swap != 0 {
            b = b.swap(l.memory_swap);
        }
        if l.oom_kill_disable {
            b = b.disable_oom_killer(true);
        }
        res.set_memory(b.build().ok());
    }

    let (mut period, mut quota) = (l.cpu_period, l.cpu_quota);
    if l.nano_cpus > 0 {
        (period, quota) = nano_cpus_to_cfs(l.nano_cpus);
    }
    if l.cpu_shares != 0 || quota != 0 || period != 0 || !l.cpuset_cpus.is_empty() || !l.cpuset_mems.is_empty() {
        let mut b = LinuxCpuBuilder::default();
        if l.cpu_shares != 0 {
            b = b.shares(l.cpu_shares);
        }
        if quota != 0 {
            b = b.quota(quota);
        }
        if period != 0 {
            b = b.period(period);
        }
        if !l.cpuset_cpus.is_empty() {
            b = b.cpus(l.cpuset_cpus.clone());
        }
        if !l.cpuset_mems.is_empty() {
            b = b.mems(l.cpuset_mems.clone());
        }
        res.set_cpu(b.build().ok());
    }

    if let Some(p) = l.pids_limit {
        res.set_pids(LinuxPidsBuilder::default().limit(p).build().ok());
    }

    let any_throttle = !(plan.read_bps.is_empty()
        && plan.write_bps.is_empty()
        && plan.read_iops.is_empty()
        && plan.write_iops.is_empty());
    if l.blkio_weight != 0 || any_throttle {
        let mut b = LinuxBlockIoBuilder::default();
        if l.blkio_weight != 0 {
            b = b.weight(l.blkio_weight);
        }
        if let Some(t) = throttles(&plan.read_bps) {
            b = b.throttle_read_bps_device(t);
        }
        if let Some(t) = throttles(&plan.write_bps) {
            b = b.throttle_write_bps_device(t);
        }
        if let Some(t) = throttles(&plan.read_iops) {
            b = b.throttle_read_iops_device(t);
        }
        if let Some(t) = throttles(&plan.write_iops) {
            b = b.throttle_write_iops_device(t);
        }
        res.set_block_io(b.build().ok());
    }
    linux.set_resources(Some(res));

    if !l.rlimits.is_empty() {
        let rlimits: Vec<PosixRlimit> = l
            .rlimits
            .iter()
            .filter_map(|r| {
                let typ = rlimit_type(&r.name)?;
                let soft = u64::try_from(r.soft).unwrap_or(u64::MAX);
                let hard = u64::try_from(r.hard).unwrap_or(u64::MAX);
                PosixRlimitBuilder::default().typ(typ).soft(soft).hard(hard).build().ok()
            })
            .collect();
        if let Some(p) = spec.process_mut() {
            p.set_rlimits(Some(rlimits));
        }
    }

    if l.shm_size > 0 {
        if let Some(mounts) = spec.mounts_mut() {
            for m in mounts.iter_mut().filter(|m| m.destination() == &PathBuf::from("/dev/shm")) {
                let mut opts: Vec<String> =
                    m.options().clone().unwrap_or_default().into_iter().filter(|o| !o.starts_with("size=")).collect();
                opts.push(format!("size={}", l.shm_size));
                m.set_options(Some(opts));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{build, SpecInput};

    fn spec_with(limits: ResourceLimits) -> Spec {
        let mut spec = build(&SpecInput { rootfs: "/r".into(), ..Default::default() });
        apply(&mut spec, &ResourcePlan { limits, ..Default::default() });
        spec
    }

    #[test]
    fn memory_cpu_pids_in_linux_resources() {
        let spec = spec_with(ResourceLimits {
            memory: 64 << 20,
            memory_swap: 128 << 20,
            nano_cpus: 1_500_000_000,
            cpuset_cpus: "0".into(),
            pids_limit: Some(100),
            oom_kill_disable: true,
            ..Default::default()
        });
        let v = serde_json::to_value(&spec).unwrap();
        let r = &v["linux"]["resources"];
        assert_eq!(r["memory"]["limit"], 64 << 20);
        assert_eq!(r["memory"]["swap"], 128 << 20);
        assert_eq!(r["memory"]["disableOOMKiller"], true);
        assert_eq!(r["cpu"]["quota"], 150_000);
        assert_eq!(r["cpu"]["period"], 100_000);
        assert_eq!(r["cpu"]["cpus"], "0");
        assert_eq!(r["pids"]["limit"], 100);
        assert!(r["devices"].is_array(), "the default device rules stay");
    }

    #[test]
    fn ulimits_shm_and_throttles() {
        let mut spec = build(&SpecInput { rootfs: "/r".into(), ..Default::default() });
        let plan = ResourcePlan {
            limits: ResourceLimits {
                rlimits: vec![Rlimit { name: "nofile".into(), soft: 100, hard: 200 }],
                shm_size: 32 << 20,
                ..Default::default()
            },
            write_iops: vec![Throttle { major: 254, minor: 0, rate: 10 }],
            ..Default::default()
        };
        apply(&mut spec, &plan);
        let v = serde_json::to_value(&spec).unwrap();
        assert_eq!(v["process"]["rlimits"][0], serde_json::json!({"type": "RLIMIT_NOFILE", "hard": 200, "soft": 100}));
        let shm = v["mounts"].as_array().unwrap().iter().find(|m| m["destination"] == "/dev/shm").unwrap();
        assert!(shm["options"].as_array().unwrap().contains(&serde_json::json!("size=33554432")));
        assert_eq!(
            shm["options"].as_array().unwrap().iter().filter(|o| o.as_str().unwrap().starts_with("size=")).count(),
            1
        );
        assert_eq!(
            v["linux"]["resources"]["blockIO"]["throttleWriteIOPSDevice"][0],
            serde_json::json!({"major": 254, "minor": 0, "rate": 10})
        );
    }

    #[test]
    fn nothing_set_changes_nothing() {
        let base = build(&SpecInput { rootfs: "/r".into(), ..Default::default() });
        assert_eq!(spec_with(ResourceLimits::default()), base);
    }

    #[test]
    fn rlimit_checks() {
        let r = Rlimit { name: "nofile".into(), soft: 100, hard: 2_000_000 };
        assert!(matches!(check_rlimit(&r, Some(20_000)), Err(ResourceError::AboveHardLimit { current: 20_000, .. })));
        assert!(check_rlimit(&r, None).is_ok());
        assert!(check_rlimit(&Rlimit { hard: 200, ..r.clone() }, Some(20_000)).is_ok());
        assert_eq!(rlimit_type("nofile"), Some(PosixRlimitType::RlimitNofile));
        assert_eq!(rlimit_type("bogus"), None);
        let plan_err = plan(&ResourceLimits {
            device_read_bps: vec![DeviceRate { path: "/dev/nope".into(), rate: 1 }],
            ..Default::default()
        });
        assert_eq!(plan_err.unwrap_err().to_string(), "stat /dev/nope: no such file or directory");
        assert_eq!(nano_cpus_to_cfs(500_000_000), (100_000, 50_000));
    }
}
