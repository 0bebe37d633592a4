//! A container's resource limits (HostConfig's `Resources` part) as persisted in its record:
//! parsed and validated from a create or update request with dockerd's messages and warnings,
//! shown in inspect, and turned into the runtime's [`ResourceLimits`].

use berth_api_types::models::{ContainerUpdateBody, HostConfig, ResourcesUlimits, ThrottleDevice};
use berth_runtime::resources::{DeviceRate, ResourceLimits, Rlimit};
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// dockerd's minimum for memory limits and reservations.
pub const MIN_MEMORY: i64 = 6 * 1024 * 1024;
/// Docker's default /dev/shm size.
pub const DEFAULT_SHM_SIZE: i64 = 64 * 1024 * 1024;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Throttle {
    pub path: String,
    pub rate: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ulimit {
    pub name: String,
    pub soft: i64,
    pub hard: i64,
}

/// The persisted limits; zero / empty / `None` mean "not set", as in Docker's HostConfig.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Resources {
    pub memory: i64,
    pub memory_swap: i64,
    pub memory_reservation: i64,
    pub nano_cpus: i64,
    pub cpu_shares: i64,
    pub cpu_quota: i64,
    pub cpu_period: i64,
    pub cpuset_cpus: String,
    pub cpuset_mems: String,
    pub pids_limit: Option<i64>,
    pub blkio_weight: u16,
    pub device_read_bps: Vec<Throttle>,
    pub device_write_bps: Vec<Throttle>,
    pub device_read_iops: Vec<Throttle>,
    pub device_write_iops: Vec<Throttle>,
    pub ulimits: Vec<Ulimit>,
    pub oom_kill_disable: bool,
    /// 0 = Docker's default (64 MiB).
    pub shm_size: i64,
}

/// What the host supports, for validation and warnings (read once by the caller).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostCaps {
    pub ncpu: usize,
    pub blkio_weight: bool,
    pub swap_limit: bool,
}

fn throttles(v: &Option<Vec<ThrottleDevice>>) -> Result<Vec<Throttle>> {
    v.iter()
        .flatten()
        .map(|t| {
            let path = t.path.clone().unwrap_or_default();
            let rate = t.rate.unwrap_or(0);
            if path.is_empty() {
                return Err(Error::InvalidArgument("invalid device path: empty".into()));
            }
            let rate = u64::try_from(rate).map_err(|_| {
                Error::InvalidArgument(format!(
                    "invalid rate for device: {path}. The correct format is <device-path>:<number>"
                ))
            })?;
            Ok(Throttle { path, rate })
        })
        .collect()
}

fn ulimits(v: &Option<Vec<ResourcesUlimits>>) -> Result<Vec<Ulimit>> {
    v.iter()
        .flatten()
        .map(|u| {
            let name = u.name.clone().unwrap_or_default();
            if berth_runtime::resources::rlimit_type(&name).is_none() {
                return Err(Error::InvalidArgument(format!("invalid ulimit type: {name}")));
            }
            let (soft, hard) = (u.soft.unwrap_or(0), u.hard.unwrap_or(0));
            if soft > hard {
                return Err(Error::InvalidArgument(format!(
                    "ulimit soft limit must be less than or equal to hard limit: {soft} > {hard}"
                )));
            }
            Ok(Ulimit { name, soft, hard })
        })
        .collect()
}

fn cpuset_ok(s: &str, available: usize) -> Result<()> {
    if s.is_empty() {
        return Ok(());
    }
    let invalid = || Error::InvalidArgument(format!("Invalid value {s} for cpuset cpus"));
    for part in s.split(',') {
        let (a, b) = part.split_once('-').unwrap_or((part, part));
        let a: usize = a.trim().parse().map_err(|_| invalid())?;
        let b: usize = b.trim().parse().map_err(|_| invalid())?;
        if a > b {
            return Err(invalid());
        }
        if b >= available {
            let avail = if available > 1 { format!("0-{}", available - 1) } else { "0".to_string() };
            return Err(Error::InvalidArgument(format!(
                "Requested CPUs are not available - requested {s}, available: {avail}"
            )));
        }
    }
    Ok(())
}

/// What this host supports (cgroup files present, CPU count).
pub fn host_caps() -> HostCaps {
    let root = std::path::Path::new(berth_kernel::cgroup::CGROUP_ROOT);
    HostCaps {
        ncpu: std::thread::available_parallelism().map_or(1, |n| n.get()),
        blkio_weight: berth_kernel::cgroup_limits::blkio_weight_supported(root),
        swap_limit: berth_kernel::cgroup_limits::swap_limit_supported(root),
    }
}

impl crate::Engine {
    /// What the runtime does not set from the spec, written into the created container's cgroup
    /// before its process runs (`--oom-kill-disable` on cgroup v1).
    pub(crate) fn apply_created_limits(&self, id: &str, r: &Resources) -> Result<()> {
        if !r.oom_kill_disable {
            return Ok(());
        }
        let root = std::path::Path::new(berth_kernel::cgroup::CGROUP_ROOT);
        if berth_kernel::cgroup::is_v2(root) {
            return Ok(());
        }
        let u = berth_kernel::cgroup_limits::Update { oom_kill_disable: Some(true), ..Default::default() };
        berth_kernel::cgroup_limits::update(root, &self.cgroup_path(id), &u)
            .map_err(|e| Error::InvalidArgument(format!("disabling the OOM killer: {e}")))
    }
}

/// The limits of a create request, validated, and dockerd's warnings about them.
pub fn from_create(body: &berth_api_types::models::ContainerCreateBody) -> Result<(Resources, Vec<String>)> {
    let mut r = Resources::from_host_config(&body.host_config.clone().unwrap_or_default())?;
    let warnings = r.validate(host_caps())?;
    Ok((r, warnings))
}

impl Resources {
    /// From a create request's HostConfig.
    pub fn from_host_config(hc: &HostConfig) -> Result<Resources> {
        Ok(Resources {
            memory: hc.memory.unwrap_or(0),
            memory_swap: hc.memory_swap.unwrap_or(0),
            memory_reservation: hc.memory_reservation.unwrap_or(0),
            nano_cpus: hc.nano_cpus.unwrap_or(0),
            cpu_shares: hc.cpu_shares.unwrap_or(0),
            cpu_quota: hc.cpu_quota.unwrap_or(0),
            cpu_period: hc.cpu_period.unwrap_or(0),
            cpuset_cpus: hc.cpuset_cpus.clone().unwrap_or_default(),
            cpuset_mems: hc.cpuset_mems.clone().unwrap_or_default(),
            pids_limit: hc.pids_limit.filter(|p| *p > 0),
            blkio_weight: hc.blkio_weight.unwrap_or(0),
            device_read_bps: throttles(&hc.blkio_device_read_bps)?,
            device_write_bps: throttles(&hc.blkio_device_write_bps)?,
            device_read_iops: throttles(&hc.blkio_device_read_iops)?,
            device_write_iops: throttles(&hc.blkio_device_write_iops)?,
            ulimits: ulimits(&hc.ulimits)?,
            oom_kill_disable: hc.oom_kill_disable.unwrap_or(false),
            shm_size: hc.shm_size.unwrap_or(0),
        })
    }

    /// Applies an update request: only the fields it sets change (dockerd's `UpdateResources`).
    pub fn updated(&self, u: &ContainerUpdateBody) -> Result<Resources> {
        let mut r = self.clone();
        let set = |dst: &mut i64, v: Option<i64>| {
            if let Some(v) = v.filter(|v| *v != 0) {
                *dst = v;
            }
        };
        set(&mut r.memory, u.memory);
        set(&mut r.memory_swap, u.memory_swap);
        set(&mut r.memory_reservation, u.memory_reservation);
        set(&mut r.cpu_shares, u.cpu_shares);
        set(&mut r.cpu_quota, u.cpu_quota);
        set(&mut r.cpu_period, u.cpu_period);
        if let Some(n) = u.nano_cpus.filter(|n| *n != 0) {
            // As dockerd: NanoCpus replaces a quota/period pair and the reverse.
            r.nano_cpus = n;
            r.cpu_quota = 0;
            r.cpu_period = 0;
        } else if u.cpu_quota.is_some_and(|q| q != 0) || u.cpu_period.is_some_and(|p| p != 0) {
            r.nano_cpus = 0;
        }
        if let Some(c) = u.cpuset_cpus.clone().filter(|c| !c.is_empty()) {
            r.cpuset_cpus = c;
        }
        if let Some(m) = u.cpuset_mems.clone().filter(|m| !m.is_empty()) {
            r.cpuset_mems = m;
        }
        if let Some(p) = u.pids_limit {
            r.pids_limit = (p > 0).then_some(p);
        }
        if let Some(w) = u.blkio_weight.filter(|w| *w != 0) {
            r.blkio_weight = w;
        }
        // A new memory limit below the old swap limit without a new swap limit: dockerd errors.
        if u.memory.is_some_and(|m| m > 0)
            && u.memory_swap.is_none_or(|s| s == 0)
            && r.memory_swap > 0
            && r.memory_swap < r.memory
        {
            return Err(Error::InvalidArgument(
                "Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time".into(),
            ));
        }
        Ok(r)
    }

    /// dockerd's checks (`verifyPlatformContainerResources`); returns its warnings and fills in
    /// what it fills in (swap = 2 × memory; unsupported settings dropped).
    pub fn validate(&mut self, host: HostCaps) -> Result<Vec<String>> {
        let mut warnings = Vec::new();
        let bad = |m: &str| Err(Error::InvalidArgument(m.to_string()));
        if self.memory != 0 && self.memory < MIN_MEMORY {
            return bad("Minimum memory limit allowed is 6MB");
        }
        if self.memory > 0 && self.memory_swap > 0 && self.memory_swap < self.memory {
            return bad("Minimum memoryswap limit should be larger than memory limit, see usage");
        }
        if self.memory == 0 && self.memory_swap > 0 {
            return bad("You should always set the Memory limit when using Memoryswap limit, see usage");
        }
        if self.memory > 0 && self.memory_swap == 0 {
            if host.swap_limit {
                self.memory_swap = self.memory * 2;
            } else {
                warnings.push("Your kernel does not support swap limit capabilities or the cgroup is not mounted. Memory limited without swap.".into());
                self.memory_swap = -1;
            }
        }
        if self.memory_reservation != 0 && self.memory_reservation < MIN_MEMORY {
            return bad("Minimum memory reservation allowed is 6MB");
        }
        if self.memory > 0 && self.memory_reservation > 0 && self.memory < self.memory_reservation {
            return bad("Minimum memory limit can not be less than memory reservation limit, see usage");
        }
        if self.oom_kill_disable && self.memory == 0 {
            warnings.push("OOM killer is disabled for the container, but no memory limit is set, this can result in the system running out of resources.".into());
        }
        if self.nano_cpus > 0 && self.cpu_period > 0 {
            return bad("Conflicting options: Nano CPUs and CPU Period cannot both be set");
        }
        if self.nano_cpus > 0 && self.cpu_quota > 0 {
            return bad("Conflicting options: Nano CPUs and CPU Quota cannot both be set");
        }
        let max_nano = i64::try_from(host.ncpu).unwrap_or(i64::MAX).saturating_mul(1_000_000_000);
        if self.nano_cpus < 0 || self.nano_cpus > max_nano {
            return Err(Error::InvalidArgument(format!(
                "Range of CPUs is from 0.01 to {n}.00, as there are only {n} CPUs available",
                n = host.ncpu
            )));
        }
        if self.cpu_period != 0 && !(1000..=1_000_000).contains(&self.cpu_period) {
            return bad("CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)");
        }
        if self.cpu_quota > 0 && self.cpu_quota < 1000 {
            return bad("CPU cfs quota can not be less than 1ms (i.e. 1000)");
        }
        if self.cpu_shares < 0 {
            return bad("shares: invalid argument");
        }
        cpuset_ok(&self.cpuset_cpus, host.ncpu)?;
        if self.blkio_weight > 0 && !(10..=1000).contains(&self.blkio_weight) {
            return bad("Range of blkio weight is from 10 to 1000");
        }
        if self.blkio_weight > 0 && !host.blkio_weight {
            warnings.push(
                "Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded.".into(),
            );
            self.blkio_weight = 0;
        }
        if self.shm_size < 0 {
            return bad("SHM size can not be less than 0");
        }
        Ok(warnings)
    }

    /// The fields of inspect's HostConfig, as dockerd shows them.
    pub fn fill_inspect(&self, hc: &mut HostConfig) {
        let devs = |v: &[Throttle]| -> Option<Vec<ThrottleDevice>> {
            Some(
                v.iter()
                    .map(|t| ThrottleDevice { path: Some(t.path.clone()), rate: i64::try_from(t.rate).ok() })
                    .collect(),
            )
        };
        hc.memory = Some(self.memory);
        hc.memory_swap = Some(self.memory_swap);
        hc.memory_reservation = Some(self.memory_reservation);
        hc.nano_cpus = Some(self.nano_cpus);
        hc.cpu_shares = Some(self.cpu_shares);
        hc.cpu_quota = Some(self.cpu_quota);
        hc.cpu_period = Some(self.cpu_period);
        hc.cpu_realtime_period = Some(0);
        hc.cpu_realtime_runtime = Some(0);
        hc.cpuset_cpus = Some(self.cpuset_cpus.clone());
        hc.cpuset_mems = Some(self.cpuset_mems.clone());
        hc.pids_limit = self.pids_limit;
        hc.blkio_weight = Some(self.blkio_weight);
        hc.blkio_weight_device = Some(vec![]);
        hc.blkio_device_read_bps = devs(&self.device_read_bps);
        hc.blkio_device_write_bps = devs(&self.device_write_bps);
        hc.blkio_device_read_iops = devs(&self.device_read_iops);
        hc.blkio_device_write_iops = devs(&self.device_write_iops);
        hc.ulimits = Some(
            self.ulimits
                .iter()
                .map(|u| ResourcesUlimits { name: Some(u.name.clone()), soft: Some(u.soft), hard: Some(u.hard) })
                .collect(),
        );
        hc.oom_kill_disable = Some(self.oom_kill_disable);
        hc.shm_size = Some(if self.shm_size > 0 { self.shm_size } else { DEFAULT_SHM_SIZE });
        hc.cpu_count = Some(0);
        hc.cpu_percent = Some(0);
        hc.io_maximum_iops = Some(0);
        hc.io_maximum_bandwidth = Some(0);
    }

    /// What the runtime puts into the OCI spec.
    pub fn limits(&self) -> ResourceLimits {
        let rates =
            |v: &[Throttle]| v.iter().map(|t| DeviceRate { path: t.path.clone().into(), rate: t.rate }).collect();
        ResourceLimits {
            memory: self.memory,
            memory_swap: self.memory_swap,
            memory_reservation: self.memory_reservation,
            nano_cpus: self.nano_cpus,
            cpu_shares: u64::try_from(self.cpu_shares).unwrap_or(0),
            cpu_quota: self.cpu_quota,
            cpu_period: u64::try_from(self.cpu_period).unwrap_or(0),
            cpuset_cpus: self.cpuset_cpus.clone(),
            cpuset_mems: self.cpuset_mems.clone(),
            pids_limit: self.pids_limit,
            blkio_weight: self.blkio_weight,
            device_read_bps: rates(&self.device_read_bps),
            device_write_bps: rates(&self.device_write_bps),
            device_read_iops: rates(&self.device_read_iops),
            device_write_iops: rates(&self.device_write_iops),
            rlimits: self.ulimits.iter().map(|u| Rlimit { name: u.name.clone(), soft: u.soft, hard: u.hard }).collect(),
            oom_kill_disable: self.oom_kill_disable,
            shm_size: if self.shm_size > 0 { self.shm_size } else { DEFAULT_SHM_SIZE },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOST: HostCaps = HostCaps { ncpu: 2, blkio_weight: false, swap_limit: true };

    fn hc(f: impl FnOnce(&mut HostConfig)) -> HostConfig {
        let mut h = HostConfig::default();
        f(&mut h);
        h
    }

    #[test]
    fn parses_and_fills_like_dockerd() {
        let mut r = Resources::from_host_config(&hc(|h| {
            h.memory = Some(64 << 20);
            h.nano_cpus = Some(1_500_000_000);
            h.pids_limit = Some(100);
            h.ulimits = Some(vec![ResourcesUlimits { name: Some("nofile".into()), soft: Some(100), hard: Some(200) }]);
            h.blkio_weight = Some(300);
        }))
        .unwrap();
        let w = r.validate(HOST).unwrap();
        assert_eq!(r.memory_swap, 128 << 20, "swap defaults to twice the memory");
        assert_eq!(
            w,
            ["Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded."]
        );
        assert_eq!(r.blkio_weight, 0);
        let mut out = HostConfig::default();
        r.fill_inspect(&mut out);
        let v = serde_json::to_value(&out).unwrap();
        assert_eq!(
            (v["NanoCpus"].as_i64(), v["Memory"].as_i64(), v["PidsLimit"].as_i64()),
            (Some(1_500_000_000), Some(64 << 20), Some(100))
        );
        assert_eq!(v["ShmSize"], 67108864);
        assert_eq!(v["Ulimits"][0]["Name"], "nofile");
        let none = Resources::from_host_config(&hc(|h| h.pids_limit = Some(-1))).unwrap();
        let mut out = HostConfig::default();
        none.fill_inspect(&mut out);
        assert_eq!(serde_json::to_value(&out).unwrap().get("PidsLimit"), None, "unlimited shows as null");
    }

    #[test]
    fn rejects_like_dockerd() {
        let err = |f: fn(&mut HostConfig)| {
            let mut r = Resources::from_host_config(&hc(f)).unwrap();
            r.validate(HOST).unwrap_err().to_string()
        };
        assert_eq!(err(|h| h.memory = Some(1 << 20)), "Minimum memory limit allowed is 6MB");
        assert_eq!(
            err(|h| {
                h.memory = Some(64 << 20);
                h.memory_swap = Some(32 << 20)
            }),
            "Minimum memoryswap limit should be larger than memory limit, see usage"
        );
        assert_eq!(
            err(|h| {
                h.nano_cpus = Some(1_000_000_000);
                h.cpu_quota = Some(50_000)
            }),
            "Conflicting options: Nano CPUs and CPU Quota cannot both be set"
        );
        assert_eq!(
            err(|h| h.nano_cpus = Some(3_000_000_000)),
            "Range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available"
        );
        assert_eq!(
            err(|h| h.cpuset_cpus = Some("0-5".into())),
            "Requested CPUs are not available - requested 0-5, available: 0-1"
        );
        assert_eq!(err(|h| h.cpuset_cpus = Some("x".into())), "Invalid value x for cpuset cpus");
        assert_eq!(
            err(|h| h.cpu_period = Some(10)),
            "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)"
        );
        assert!(Resources::from_host_config(&hc(|h| {
            h.ulimits = Some(vec![ResourcesUlimits { name: Some("bogus".into()), soft: Some(1), hard: Some(1) }])
        }))
        .is_err());
    }

    #[test]
    fn update_changes_only_what_is_set() {
        let mut r = Resources {
            memory: 64 << 20,
            memory_swap: 128 << 20,
            cpu_quota: 50_000,
            cpu_period: 100_000,
            ..Default::default()
        };
        let u = ContainerUpdateBody { nano_cpus: Some(500_000_000), pids_limit: Some(10), ..Default::default() };
        r = r.updated(&u).unwrap();
        assert_eq!((r.nano_cpus, r.cpu_quota, r.cpu_period, r.pids_limit), (500_000_000, 0, 0, Some(10)));
        assert_eq!(r.memory, 64 << 20);
        let u = ContainerUpdateBody { memory: Some(256 << 20), ..Default::default() };
        assert!(r.updated(&u).is_err(), "memory above the old swap limit needs a new swap limit");
        let u = ContainerUpdateBody { memory: Some(256 << 20), memory_swap: Some(512 << 20), ..Default::default() };
        assert_eq!(r.updated(&u).unwrap().memory_swap, 512 << 20);
    }
}
