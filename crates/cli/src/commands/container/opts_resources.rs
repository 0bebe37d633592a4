//! Resource-limit flags of `run`/`create` (and of `update`, which shares most of them):
//! memory, CPU, pids, blkio, ulimits, shm size, in docker's syntax.

use bollard::models::{ContainerUpdateBody, HostConfig, ResourcesUlimits, ThrottleDevice};

use crate::error::CliError;

#[derive(clap::Args, Debug, Clone, Default)]
pub struct ResourceOpts {
    /// Memory limit
    #[arg(short = 'm', long = "memory")]
    pub memory: Option<String>,
    /// Swap limit equal to memory plus swap: '-1' to enable unlimited swap
    #[arg(long = "memory-swap", allow_hyphen_values = true)]
    pub memory_swap: Option<String>,
    /// Memory soft limit
    #[arg(long = "memory-reservation")]
    pub memory_reservation: Option<String>,
    /// Number of CPUs
    #[arg(long = "cpus")]
    pub cpus: Option<String>,
    /// CPU shares (relative weight). (docker's `-c` short form is left out: clap would take the
    /// `-c` of a command such as `sh -c` after the image for it.)
    #[arg(long = "cpu-shares")]
    pub cpu_shares: Option<i64>,
    /// Limit CPU CFS (Completely Fair Scheduler) quota
    #[arg(long = "cpu-quota", allow_hyphen_values = true)]
    pub cpu_quota: Option<i64>,
    /// Limit CPU CFS (Completely Fair Scheduler) period
    #[arg(long = "cpu-period")]
    pub cpu_period: Option<i64>,
    /// CPUs in which to allow execution (0-3, 0,1)
    #[arg(long = "cpuset-cpus")]
    pub cpuset_cpus: Option<String>,
    /// MEMs in which to allow execution (0-3, 0,1)
    #[arg(long = "cpuset-mems")]
    pub cpuset_mems: Option<String>,
    /// Tune container pids limit (set -1 for unlimited)
    #[arg(long = "pids-limit", allow_hyphen_values = true)]
    pub pids_limit: Option<i64>,
    /// Block IO (relative weight), between 10 and 1000, or 0 to disable
    #[arg(long = "blkio-weight")]
    pub blkio_weight: Option<u16>,
}

/// Flags only `run`/`create` have.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct CreateResourceOpts {
    #[command(flatten)]
    pub common: ResourceOpts,
    /// Limit read rate (bytes per second) from a device
    #[arg(long = "device-read-bps")]
    pub device_read_bps: Vec<String>,
    /// Limit write rate (bytes per second) to a device
    #[arg(long = "device-write-bps")]
    pub device_write_bps: Vec<String>,
    /// Limit read rate (IO per second) from a device
    #[arg(long = "device-read-iops")]
    pub device_read_iops: Vec<String>,
    /// Limit write rate (IO per second) to a device
    #[arg(long = "device-write-iops")]
    pub device_write_iops: Vec<String>,
    /// Ulimit options
    #[arg(long = "ulimit")]
    pub ulimit: Vec<String>,
    /// Disable OOM Killer
    #[arg(long = "oom-kill-disable")]
    pub oom_kill_disable: bool,
    /// Size of /dev/shm
    #[arg(long = "shm-size")]
    pub shm_size: Option<String>,
}

fn invalid(flag: &str, v: &str, why: &str) -> CliError {
    CliError::new(125, format!("invalid argument \"{v}\" for \"{flag}\" flag: {why}"))
}

/// docker/go-units `RAMInBytes`: `64m`, `1g`, `512k`, `100` (binary multiples, optional `b`/`ib`).
pub fn ram_in_bytes(s: &str) -> Option<i64> {
    let l = s.trim().to_ascii_lowercase();
    let l = l.strip_suffix("ib").or_else(|| l.strip_suffix('b')).unwrap_or(&l);
    let split = l.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(l.len());
    let (num, unit) = l.split_at(split);
    let mult: i64 = match unit {
        "" => 1,
        "k" => 1 << 10,
        "m" => 1 << 20,
        "g" => 1 << 30,
        "t" => 1 << 40,
        "p" => 1 << 50,
        _ => return None,
    };
    let n: f64 = num.parse().ok()?;
    Some((n * mult as f64) as i64)
}

fn memory(flag: &str, v: &Option<String>, allow_unlimited: bool) -> Result<Option<i64>, CliError> {
    match v.as_deref() {
        None => Ok(None),
        Some("-1") if allow_unlimited => Ok(Some(-1)),
        Some(s) => ram_in_bytes(s).map(Some).ok_or_else(|| invalid(flag, s, "invalid size")),
    }
}

/// `--cpus 1.5` → NanoCpus.
pub fn nano_cpus(v: &str) -> Result<i64, CliError> {
    let f: f64 = v.parse().map_err(|_| invalid("--cpus", v, "failed to parse"))?;
    Ok((f * 1e9).round() as i64)
}

/// `--ulimit nofile=100[:200]`.
pub fn parse_ulimit(v: &str) -> Result<ResourcesUlimits, CliError> {
    let bad = |why: &str| invalid("--ulimit", v, why);
    let (name, limits) = v.split_once('=').ok_or_else(|| bad(&format!("invalid ulimit argument: {v}")))?;
    let (soft, hard) = limits.split_once(':').unwrap_or((limits, limits));
    let soft: i64 = soft.parse().map_err(|_| bad(&format!("invalid ulimit soft value: {soft}")))?;
    let hard: i64 = hard.parse().map_err(|_| bad(&format!("invalid ulimit hard value: {hard}")))?;
    if soft > hard {
        return Err(bad(&format!("ulimit soft limit must be less than or equal to hard limit: {soft} > {hard}")));
    }
    Ok(ResourcesUlimits { name: Some(name.to_string()), soft: Some(soft), hard: Some(hard) })
}

/// `--device-read-bps /dev/vda:1mb` (sizes) or `--device-read-iops /dev/vda:100` (numbers).
pub fn parse_throttle(flag: &str, v: &str, sizes: bool) -> Result<ThrottleDevice, CliError> {
    let (path, rate) = v.rsplit_once(':').ok_or_else(|| invalid(flag, v, &format!("bad format: {v}")))?;
    if !path.starts_with("/dev/") {
        return Err(invalid(flag, v, &format!("bad format for device path: {v}")));
    }
    let rate = if sizes { ram_in_bytes(rate) } else { rate.parse().ok() };
    let rate = rate.ok_or_else(|| invalid(flag, v, &format!("invalid rate for device: {v}. The correct format is <device-path>:<number>[<unit>]. Number must be a positive integer. Unit is optional and can be kb, mb, or gb")))?;
    Ok(ThrottleDevice { path: Some(path.to_string()), rate: Some(rate) })
}

impl ResourceOpts {
    /// The update request these flags make (`berth update`).
    pub fn to_update(&self) -> Result<ContainerUpdateBody, CliError> {
        Ok(ContainerUpdateBody {
            memory: memory("--memory", &self.memory, false)?,
            memory_swap: memory("--memory-swap", &self.memory_swap, true)?,
            memory_reservation: memory("--memory-reservation", &self.memory_reservation, false)?,
            nano_cpus: self.cpus.as_deref().map(nano_cpus).transpose()?,
            cpu_shares: self.cpu_shares,
            cpu_quota: self.cpu_quota,
            cpu_period: self.cpu_period,
            cpuset_cpus: self.cpuset_cpus.clone(),
            cpuset_mems: self.cpuset_mems.clone(),
            pids_limit: self.pids_limit,
            blkio_weight: self.blkio_weight,
            ..Default::default()
        })
    }
}

impl CreateResourceOpts {
    /// Sets the limits on a create request's HostConfig.
    pub fn apply(&self, hc: &mut HostConfig) -> Result<(), CliError> {
        let u = self.common.to_update()?;
        hc.memory = u.memory;
        hc.memory_swap = u.memory_swap;
        hc.memory_reservation = u.memory_reservation;
        hc.nano_cpus = u.nano_cpus;
        hc.cpu_shares = u.cpu_shares;
        hc.cpu_quota = u.cpu_quota;
        hc.cpu_period = u.cpu_period;
        hc.cpuset_cpus = u.cpuset_cpus;
        hc.cpuset_mems = u.cpuset_mems;
        hc.pids_limit = u.pids_limit;
        hc.blkio_weight = u.blkio_weight;
        let throttles = |flag: &str, v: &[String], sizes: bool| -> Result<Option<Vec<ThrottleDevice>>, CliError> {
            let list = v.iter().map(|d| parse_throttle(flag, d, sizes)).collect::<Result<Vec<_>, _>>()?;
            Ok((!list.is_empty()).then_some(list))
        };
        hc.blkio_device_read_bps = throttles("--device-read-bps", &self.device_read_bps, true)?;
        hc.blkio_device_write_bps = throttles("--device-write-bps", &self.device_write_bps, true)?;
        hc.blkio_device_read_iops = throttles("--device-read-iops", &self.device_read_iops, false)?;
        hc.blkio_device_write_iops = throttles("--device-write-iops", &self.device_write_iops, false)?;
        let ulimits = self.ulimit.iter().map(|u| parse_ulimit(u)).collect::<Result<Vec<_>, _>>()?;
        hc.ulimits = (!ulimits.is_empty()).then_some(ulimits);
        hc.oom_kill_disable = self.oom_kill_disable.then_some(true);
        hc.shm_size = memory("--shm-size", &self.shm_size, false)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_cpus_ulimits_devices() {
        assert_eq!(ram_in_bytes("64m"), Some(64 << 20));
        assert_eq!(ram_in_bytes("1GiB"), Some(1 << 30));
        assert_eq!(ram_in_bytes("512kb"), Some(512 << 10));
        assert_eq!(ram_in_bytes("100"), Some(100));
        assert_eq!(ram_in_bytes("1x"), None);
        assert_eq!(nano_cpus("1.5").unwrap(), 1_500_000_000);
        assert!(nano_cpus("x").is_err());
        let u = parse_ulimit("nofile=100:200").unwrap();
        assert_eq!((u.soft, u.hard), (Some(100), Some(200)));
        assert_eq!(parse_ulimit("nproc=50").unwrap().hard, Some(50));
        assert!(parse_ulimit("nofile=300:200").is_err());
        let t = parse_throttle("--device-read-bps", "/dev/vda:1mb", true).unwrap();
        assert_eq!((t.path.as_deref(), t.rate), (Some("/dev/vda"), Some(1 << 20)));
        assert_eq!(parse_throttle("--device-read-iops", "/dev/vda:100", false).unwrap().rate, Some(100));
        assert!(parse_throttle("--device-read-bps", "vda:1", true).is_err());
    }

    #[test]
    fn create_flags_fill_host_config() {
        let o = CreateResourceOpts {
            common: ResourceOpts {
                memory: Some("64m".into()),
                memory_swap: Some("-1".into()),
                cpus: Some("0.5".into()),
                pids_limit: Some(100),
                ..Default::default()
            },
            ulimit: vec!["nofile=10:20".into()],
            shm_size: Some("32m".into()),
            oom_kill_disable: true,
            ..Default::default()
        };
        let mut hc = HostConfig::default();
        o.apply(&mut hc).unwrap();
        assert_eq!(
            (hc.memory, hc.memory_swap, hc.nano_cpus, hc.pids_limit),
            (Some(64 << 20), Some(-1), Some(500_000_000), Some(100))
        );
        assert_eq!((hc.shm_size, hc.oom_kill_disable), (Some(32 << 20), Some(true)));
        assert_eq!(hc.ulimits.unwrap()[0].name.as_deref(), Some("nofile"));
    }
}
