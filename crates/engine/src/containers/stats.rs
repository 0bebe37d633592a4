//! `GET /containers/{id}/stats` (ContainerStats): samples of the container's cgroup and network
//! counters in dockerd's JSON shape — one (after two samples a second apart, so CPU usage has a
//! previous value), one at once (`one-shot`), or one a second (`stream`).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use berth_api_types::models::{
    ContainerBlkioStatEntry, ContainerBlkioStats, ContainerCpuStats, ContainerCpuUsage, ContainerMemoryStats,
    ContainerNetworkStats, ContainerPidsStats, ContainerStatsResponse, ContainerStorageStats, ContainerThrottlingData,
};
use berth_kernel::cgroup_stats::{self, BlkioEntry, CgroupStats, NetDev};
use chrono::{DateTime, SecondsFormat, Utc};
use futures_util::stream::BoxStream;
use futures_util::StreamExt;

use super::Container;
use crate::{Engine, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatsOptions {
    pub stream: bool,
    pub one_shot: bool,
}

/// One reading of a container.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sample {
    pub read: Option<DateTime<Utc>>,
    pub cgroup: CgroupStats,
    pub system_cpu_usage: u64,
    pub online_cpus: u32,
    pub host_memory: u64,
    /// `None` without a network namespace of its own (host networking).
    pub networks: Option<Vec<NetDev>>,
}

impl Engine {
    pub async fn container_stats(
        self: &Arc<Self>,
        key: &str,
        opts: StatsOptions,
    ) -> Result<BoxStream<'static, ContainerStatsResponse>> {
        let c = self.containers.get(key)?;
        let engine = self.clone();
        if !opts.stream {
            let first = engine.sample(&c);
            let doc = if opts.one_shot || first.read.is_none() {
                document(&c.id, &c.name(), &first, &Sample::default())
            } else {
                tokio::time::sleep(Duration::from_secs(1)).await;
                document(&c.id, &c.name(), &engine.sample(&c), &first)
            };
            return Ok(futures_util::stream::once(async move { doc }).boxed());
        }
        let stream = futures_util::stream::unfold(None::<Sample>, move |prev| {
            let (engine, c) = (engine.clone(), c.clone());
            async move {
                if prev.is_some() {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                let now = engine.sample(&c);
                let doc = document(&c.id, &c.name(), &now, prev.as_ref().unwrap_or(&Sample::default()));
                Some((doc, Some(now)))
            }
        });
        Ok(stream.boxed())
    }

    /// Reads the container's counters now; an empty sample when it is not running.
    fn sample(&self, c: &Container) -> Sample {
        let r = c.record();
        if !r.state.status.is_running() || r.state.pid == 0 {
            return Sample::default();
        }
        let root = Path::new(berth_kernel::cgroup::CGROUP_ROOT);
        let proc = Path::new("/proc");
        let cgroup = cgroup_stats::read_cgroup(root, &self.cgroup_path(&c.id));
        let ncpu = if cgroup.cpu.percpu_usage.is_empty() {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        } else {
            cgroup.cpu.percpu_usage.len()
        };
        let networks = (r.host.network_mode != "host").then(|| cgroup_stats::net_dev(proc, r.state.pid));
        Sample {
            read: Some(Utc::now()),
            cgroup,
            system_cpu_usage: cgroup_stats::system_cpu_usage(proc),
            online_cpus: u32::try_from(ncpu).unwrap_or(u32::MAX),
            host_memory: cgroup_stats::host_memory_total(proc).unwrap_or(0),
            networks,
        }
    }
}

fn time(t: Option<DateTime<Utc>>) -> Option<berth_api_types::models::BollardDate> {
    let s = t.map_or_else(|| "0001-01-01T00:00:00Z".to_string(), |t| t.to_rfc3339_opts(SecondsFormat::Nanos, true));
    // `BollardDate` is a string or a chrono time depending on features; both parse.
    s.parse().ok()
}

fn cpu(s: &Sample) -> ContainerCpuStats {
    let c = &s.cgroup.cpu;
    ContainerCpuStats {
        cpu_usage: Some(ContainerCpuUsage {
            total_usage: Some(c.total_usage),
            percpu_usage: (!c.percpu_usage.is_empty()).then(|| c.percpu_usage.clone()),
            usage_in_kernelmode: Some(c.usage_in_kernelmode),
            usage_in_usermode: Some(c.usage_in_usermode),
        }),
        system_cpu_usage: s.read.map(|_| s.system_cpu_usage),
        online_cpus: s.read.map(|_| s.online_cpus),
        throttling_data: Some(ContainerThrottlingData {
            periods: Some(c.throttling_periods),
            throttled_periods: Some(c.throttled_periods),
            throttled_time: Some(c.throttled_time),
        }),
    }
}

fn entries(v: &[BlkioEntry]) -> Option<Vec<ContainerBlkioStatEntry>> {
    Some(
        v.iter()
            .map(|e| ContainerBlkioStatEntry {
                major: Some(e.major),
                minor: Some(e.minor),
                op: Some(e.op.clone()),
                value: Some(e.value),
            })
            .collect(),
    )
}

/// The stats document (dockerd's shape) of sample `now`, with `pre` as the previous one.
pub fn document(id: &str, name: &str, now: &Sample, pre: &Sample) -> ContainerStatsResponse {
    let m = &now.cgroup.memory;
    let running = now.read.is_some();
    let limit = match (m.limit, now.host_memory) {
        (Some(l), h) if h == 0 || l < h => l,
        (_, h) => h,
    };
    let networks = now.networks.as_ref().filter(|n| !n.is_empty()).map(|n| {
        n.iter()
            .map(|d| {
                let s = ContainerNetworkStats {
                    rx_bytes: Some(d.rx_bytes),
                    rx_packets: Some(d.rx_packets),
                    rx_errors: Some(d.rx_errors),
                    rx_dropped: Some(d.rx_dropped),
                    tx_bytes: Some(d.tx_bytes),
                    tx_packets: Some(d.tx_packets),
                    tx_errors: Some(d.tx_errors),
                    tx_dropped: Some(d.tx_dropped),
                    endpoint_id: None,
                    instance_id: None,
                };
                (d.name.clone(), s)
            })
            .collect()
    });
    ContainerStatsResponse {
        id: Some(id.to_string()),
        name: Some(format!("/{name}")),
        os_type: None,
        read: time(now.read),
        preread: time(pre.read),
        cpu_stats: Some(cpu(now)),
        precpu_stats: Some(cpu(pre)),
        memory_stats: Some(if running {
            ContainerMemoryStats {
                usage: Some(m.usage),
                max_usage: m.max_usage,
                stats: Some(m.stats.clone().into_iter().collect()),
                limit: Some(limit),
                ..Default::default()
            }
        } else {
            ContainerMemoryStats::default()
        }),
        networks,
        pids_stats: Some(if running {
            ContainerPidsStats { current: Some(now.cgroup.pids.current), limit: now.cgroup.pids.limit }
        } else {
            ContainerPidsStats::default()
        }),
        blkio_stats: Some(ContainerBlkioStats {
            io_service_bytes_recursive: entries(&now.cgroup.blkio.io_service_bytes),
            io_serviced_recursive: entries(&now.cgroup.blkio.io_serviced),
            io_queue_recursive: Some(vec![]),
            io_service_time_recursive: Some(vec![]),
            io_wait_time_recursive: Some(vec![]),
            io_merged_recursive: Some(vec![]),
            io_time_recursive: Some(vec![]),
            sectors_recursive: Some(vec![]),
        }),
        num_procs: Some(0),
        storage_stats: Some(ContainerStorageStats::default()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Keys of every object in `v`, recursively, as `a.b.c` paths (maps of names excluded).
    fn shape(v: &serde_json::Value, prefix: &str, out: &mut Vec<String>) {
        if let Some(o) = v.as_object() {
            for (k, x) in o {
                if prefix.ends_with("memory_stats.stats") || prefix.ends_with("networks") {
                    continue;
                }
                let p = format!("{prefix}.{k}");
                out.push(p.clone());
                shape(x, &p, out);
            }
        }
    }

    #[test]
    fn shape_matches_dockerd() {
        let mut now = Sample {
            read: Some(Utc::now()),
            system_cpu_usage: 2_000,
            online_cpus: 2,
            host_memory: 1 << 34,
            ..Default::default()
        };
        now.cgroup.cpu.total_usage = 500;
        now.cgroup.cpu.percpu_usage = vec![200, 300];
        now.cgroup.memory.usage = 4096;
        now.cgroup.memory.max_usage = Some(8192);
        now.cgroup.memory.stats.insert("cache".into(), 1);
        now.cgroup.pids.current = 1;
        let mut pre = Sample { read: Some(Utc::now()), system_cpu_usage: 1_000, online_cpus: 2, ..Default::default() };
        pre.cgroup.cpu.percpu_usage = vec![100, 100];
        let v = serde_json::to_value(document("abc", "web", &now, &pre)).unwrap();
        let golden: serde_json::Value =
            serde_json::from_str(include_str!("../../../api-types/tests/golden/dockerd/container-stats.json")).unwrap();
        let (mut ours, mut theirs) = (Vec::new(), Vec::new());
        shape(&v, "", &mut ours);
        shape(&golden, "", &mut theirs);
        ours.sort();
        theirs.sort();
        assert_eq!(ours, theirs);
        assert_eq!(v["memory_stats"]["limit"], 1u64 << 34, "unlimited shows the host's memory");
        assert_eq!(v["name"], "/web");
    }

    #[test]
    fn networks_and_stopped() {
        let now = Sample {
            read: Some(Utc::now()),
            networks: Some(vec![NetDev { name: "eth0".into(), rx_bytes: 10, ..Default::default() }]),
            ..Default::default()
        };
        let v = serde_json::to_value(document("abc", "web", &now, &Sample::default())).unwrap();
        assert_eq!(v["networks"]["eth0"]["rx_bytes"], 10);
        let v = serde_json::to_value(document("abc", "web", &Sample::default(), &Sample::default())).unwrap();
        assert_eq!(v["read"], "0001-01-01T00:00:00Z");
        assert_eq!(v["memory_stats"], serde_json::json!({}));
        assert!(v.get("networks").is_none());
    }
}
