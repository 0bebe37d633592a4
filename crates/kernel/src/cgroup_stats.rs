//! Reading a container's resource usage for `docker stats`: its cgroup's CPU, memory, pids and
//! block I/O counters (v1 and v2), the host's CPU time and memory (`/proc/stat`,
//! `/proc/meminfo`), and network counters from the container's netns (`/proc/<pid>/net/dev`).
//! Readers take their root as a parameter; the parsers are pure.

use std::collections::BTreeMap;
use std::path::Path;

use crate::cgroup::is_v2;

/// USER_HZ: `cpuacct.stat` and `/proc/stat` count in 1/100 s.
const NS_PER_TICK: u64 = 10_000_000;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CpuStats {
    /// Nanoseconds.
    pub total_usage: u64,
    /// Per CPU, nanoseconds (v1 only).
    pub percpu_usage: Vec<u64>,
    pub usage_in_kernelmode: u64,
    pub usage_in_usermode: u64,
    pub throttling_periods: u64,
    pub throttled_periods: u64,
    /// Nanoseconds.
    pub throttled_time: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemoryStats {
    pub usage: u64,
    pub max_usage: Option<u64>,
    pub failcnt: Option<u64>,
    /// The cgroup's limit (`None` = unlimited).
    pub limit: Option<u64>,
    /// `memory.stat`, key by key.
    pub stats: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PidsStats {
    pub current: u64,
    pub limit: Option<u64>,
}

/// One blkio counter: `major:minor op value` (op as dockerd names it: Read, Write, Sync, …).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BlkioEntry {
    pub major: u64,
    pub minor: u64,
    pub op: String,
    pub value: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BlkioStats {
    pub io_service_bytes: Vec<BlkioEntry>,
    pub io_serviced: Vec<BlkioEntry>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CgroupStats {
    pub cpu: CpuStats,
    pub memory: MemoryStats,
    pub pids: PidsStats,
    pub blkio: BlkioStats,
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_default()
}

fn num(p: &Path) -> Option<u64> {
    read(p).trim().parse().ok()
}

/// `key value` lines.
pub fn parse_flat_keyed(text: &str) -> BTreeMap<String, u64> {
    text.lines()
        .filter_map(|l| {
            let (k, v) = l.split_once(' ')?;
            Some((k.to_string(), v.trim().parse().ok()?))
        })
        .collect()
}

/// v1 blkio files: `8:0 Read 4096` lines (and a trailing `Total N`).
pub fn parse_blkio_v1(text: &str) -> Vec<BlkioEntry> {
    text.lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let (dev, op, value) = (f.next()?, f.next()?, f.next()?);
            let (major, minor) = dev.split_once(':')?;
            Some(BlkioEntry {
                major: major.parse().ok()?,
                minor: minor.parse().ok()?,
                op: op.to_string(),
                value: value.parse().ok()?,
            })
        })
        .collect()
}

/// v2 `io.stat`: `254:0 rbytes=1 wbytes=2 rios=3 wios=4 …` → dockerd's v1-shaped entries.
pub fn parse_io_stat_v2(text: &str) -> BlkioStats {
    let mut out = BlkioStats::default();
    for l in text.lines() {
        let mut f = l.split_whitespace();
        let Some((major, minor)) = f.next().and_then(|d| d.split_once(':')) else { continue };
        let (Ok(major), Ok(minor)) = (major.parse(), minor.parse()) else { continue };
        for kv in f {
            let Some((k, v)) = kv.split_once('=') else { continue };
            let Ok(value) = v.parse() else { continue };
            let (list, op) = match k {
                "rbytes" => (&mut out.io_service_bytes, "read"),
                "wbytes" => (&mut out.io_service_bytes, "write"),
                "rios" => (&mut out.io_serviced, "read"),
                "wios" => (&mut out.io_serviced, "write"),
                _ => continue,
            };
            list.push(BlkioEntry { major, minor, op: op.to_string(), value });
        }
    }
    out
}

fn limit_value(v: Option<u64>) -> Option<u64> {
    // v1 reports "unlimited" as a page-rounded i64::MAX.
    v.filter(|l| *l < (i64::MAX as u64) - 4096 * 2)
}

/// Reads cgroup `path` (e.g. `/berth/<id>`) under `root`.
pub fn read_cgroup(root: &Path, path: &str) -> CgroupStats {
    let rel = path.trim_start_matches('/');
    if is_v2(root) {
        read_v2(&root.join(rel))
    } else {
        read_v1(root, rel)
    }
}

fn read_v1(root: &Path, rel: &str) -> CgroupStats {
    let acct = root.join("cpuacct").join(rel);
    let cpu_dir = root.join("cpu").join(rel);
    let ticks = parse_flat_keyed(&read(&acct.join("cpuacct.stat")));
    let throttle = parse_flat_keyed(&read(&cpu_dir.join("cpu.stat")));
    let cpu = CpuStats {
        total_usage: num(&acct.join("cpuacct.usage")).unwrap_or(0),
        percpu_usage: read(&acct.join("cpuacct.usage_percpu"))
            .split_whitespace()
            .filter_map(|s| s.parse().ok())
            .collect(),
        usage_in_kernelmode: ticks.get("system").copied().unwrap_or(0) * NS_PER_TICK,
        usage_in_usermode: ticks.get("user").copied().unwrap_or(0) * NS_PER_TICK,
        throttling_periods: throttle.get("nr_periods").copied().unwrap_or(0),
        throttled_periods: throttle.get("nr_throttled").copied().unwrap_or(0),
        throttled_time: throttle.get("throttled_time").copied().unwrap_or(0),
    };
    let mem = root.join("memory").join(rel);
    let memory = MemoryStats {
        usage: num(&mem.join("memory.usage_in_bytes")).unwrap_or(0),
        max_usage: num(&mem.join("memory.max_usage_in_bytes")),
        failcnt: num(&mem.join("memory.failcnt")),
        limit: limit_value(num(&mem.join("memory.limit_in_bytes"))),
        stats: parse_flat_keyed(&read(&mem.join("memory.stat"))),
    };
    let pids_dir = root.join("pids").join(rel);
    let pids =
        PidsStats { current: num(&pids_dir.join("pids.current")).unwrap_or(0), limit: num(&pids_dir.join("pids.max")) };
    let blk = root.join("blkio").join(rel);
    let pick = |names: [&str; 2]| {
        names.iter().map(|n| parse_blkio_v1(&read(&blk.join(n)))).find(|v| !v.is_empty()).unwrap_or_default()
    };
    let blkio = BlkioStats {
        io_service_bytes: pick(["blkio.throttle.io_service_bytes_recursive", "blkio.bfq.io_service_bytes_recursive"]),
        io_serviced: pick(["blkio.throttle.io_serviced_recursive", "blkio.bfq.io_serviced_recursive"]),
    };
    CgroupStats { cpu, memory, pids, blkio }
}

fn read_v2(dir: &Path) -> CgroupStats {
    let st = parse_flat_keyed(&read(&dir.join("cpu.stat")));
    let us = |k: &str| st.get(k).copied().unwrap_or(0) * 1000;
    let cpu = CpuStats {
        total_usage: us("usage_usec"),
        percpu_usage: Vec::new(),
        usage_in_kernelmode: us("system_usec"),
        usage_in_usermode: us("user_usec"),
        throttling_periods: st.get("nr_periods").copied().unwrap_or(0),
        throttled_periods: st.get("nr_throttled").copied().unwrap_or(0),
        throttled_time: us("throttled_usec"),
    };
    let memory = MemoryStats {
        usage: num(&dir.join("memory.current")).unwrap_or(0),
        max_usage: num(&dir.join("memory.peak")),
        failcnt: None,
        limit: num(&dir.join("memory.max")),
        stats: parse_flat_keyed(&read(&dir.join("memory.stat"))),
    };
    let pids = PidsStats { current: num(&dir.join("pids.current")).unwrap_or(0), limit: num(&dir.join("pids.max")) };
    CgroupStats { cpu, memory, pids, blkio: parse_io_stat_v2(&read(&dir.join("io.stat"))) }
}

/// How many processes of cgroup `path` the kernel's OOM killer has killed (v1
/// `memory.oom_control`, v2 `memory.events`).
pub fn oom_kill_count(root: &Path, path: &str) -> u64 {
    let rel = path.trim_start_matches('/');
    let file = if is_v2(root) {
        root.join(rel).join("memory.events")
    } else {
        root.join("memory").join(rel).join("memory.oom_control")
    };
    parse_flat_keyed(&read(&file)).get("oom_kill").copied().unwrap_or(0)
}

/// Host CPU time in nanoseconds from `/proc/stat`'s `cpu` line (dockerd's system_cpu_usage).
pub fn parse_system_cpu_usage(proc_stat: &str) -> Option<u64> {
    let line = proc_stat.lines().find(|l| l.starts_with("cpu "))?;
    // user nice system idle iowait irq softirq (steal and guests are not counted, as dockerd).
    let ticks: u64 = line.split_whitespace().skip(1).take(7).filter_map(|v| v.parse::<u64>().ok()).sum();
    Some(ticks * NS_PER_TICK)
}

pub fn system_cpu_usage(proc_root: &Path) -> u64 {
    parse_system_cpu_usage(&read(&proc_root.join("stat"))).unwrap_or(0)
}

/// `MemTotal` in bytes from `/proc/meminfo`.
pub fn host_memory_total(proc_root: &Path) -> Option<u64> {
    let text = read(&proc_root.join("meminfo"));
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// One interface's counters from `/proc/<pid>/net/dev`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetDev {
    pub name: String,
    pub rx_bytes: u64,
    pub rx_packets: u64,
    pub rx_errors: u64,
    pub rx_dropped: u64,
    pub tx_bytes: u64,
    pub tx_packets: u64,
    pub tx_errors: u64,
    pub tx_dropped: u64,
}

/// Parses `/proc/net/dev`, leaving out `lo` as dockerd does.
pub fn parse_net_dev(text: &str) -> Vec<NetDev> {
    text.lines()
        .skip(2)
        .filter_map(|l| {
            let (name, rest) = l.split_once(':')?;
            let name = name.trim();
            if name == "lo" {
                return None;
            }
            let v: Vec<u64> = rest.split_whitespace().filter_map(|x| x.parse().ok()).collect();
            if v.len() < 16 {
                return None;
            }
            Some(NetDev {
                name: name.to_string(),
                rx_bytes: v[0],
                rx_packets: v[1],
                rx_errors: v[2],
                rx_dropped: v[3],
                tx_bytes: v[8],
                tx_packets: v[9],
                tx_errors: v[10],
                tx_dropped: v[11],
            })
        })
        .collect()
}

/// Interfaces of the network namespace of `pid` (as seen through `proc_root`).
pub fn net_dev(proc_root: &Path, pid: i32) -> Vec<NetDev> {
    parse_net_dev(&read(&proc_root.join(pid.to_string()).join("net/dev")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v1_cgroup() {
        let d = tempfile::tempdir().unwrap();
        let w = |p: &str, s: &str| {
            let f = d.path().join(p);
            std::fs::create_dir_all(f.parent().unwrap()).unwrap();
            std::fs::write(f, s).unwrap();
        };
        w("cpuacct/berth/c/cpuacct.usage", "97964640\n");
        w("cpuacct/berth/c/cpuacct.usage_percpu", "38738792 59225848 \n");
        w("cpuacct/berth/c/cpuacct.stat", "user 5\nsystem 4\n");
        w("cpu/berth/c/cpu.stat", "nr_periods 10\nnr_throttled 2\nthrottled_time 3000\n");
        w("memory/berth/c/memory.usage_in_bytes", "462848\n");
        w("memory/berth/c/memory.max_usage_in_bytes", "3919872\n");
        w("memory/berth/c/memory.limit_in_bytes", "9223372036854771712\n");
        w("memory/berth/c/memory.stat", "cache 122880\nrss 53248\ntotal_inactive_file 0\n");
        w("pids/berth/c/pids.current", "1\n");
        w("pids/berth/c/pids.max", "max\n");
        w("blkio/berth/c/blkio.throttle.io_service_bytes_recursive", "254:0 Read 4096\n254:0 Write 0\nTotal 4096\n");
        let s = read_cgroup(d.path(), "/berth/c");
        assert_eq!(s.cpu.total_usage, 97964640);
        assert_eq!(s.cpu.percpu_usage, [38738792, 59225848]);
        assert_eq!((s.cpu.usage_in_usermode, s.cpu.usage_in_kernelmode), (50_000_000, 40_000_000));
        assert_eq!((s.cpu.throttling_periods, s.cpu.throttled_periods, s.cpu.throttled_time), (10, 2, 3000));
        assert_eq!((s.memory.usage, s.memory.max_usage, s.memory.limit), (462848, Some(3919872), None));
        assert_eq!(s.memory.stats["rss"], 53248);
        assert_eq!((s.pids.current, s.pids.limit), (1, None));
        assert_eq!(oom_kill_count(d.path(), "/berth/c"), 0);
        w("memory/berth/c/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 1\n");
        assert_eq!(oom_kill_count(d.path(), "/berth/c"), 1);
        assert_eq!(
            s.blkio.io_service_bytes,
            [
                BlkioEntry { major: 254, minor: 0, op: "Read".into(), value: 4096 },
                BlkioEntry { major: 254, minor: 0, op: "Write".into(), value: 0 }
            ]
        );
    }

    #[test]
    fn v2_cgroup() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("cgroup.controllers"), "cpu memory pids io").unwrap();
        let c = d.path().join("berth/c");
        std::fs::create_dir_all(&c).unwrap();
        std::fs::write(
            c.join("cpu.stat"),
            "usage_usec 2000\nuser_usec 1500\nsystem_usec 500\nnr_periods 4\nnr_throttled 1\nthrottled_usec 7\n",
        )
        .unwrap();
        std::fs::write(c.join("memory.current"), "8192\n").unwrap();
        std::fs::write(c.join("memory.max"), "67108864\n").unwrap();
        std::fs::write(c.join("memory.stat"), "anon 4096\ninactive_file 1024\n").unwrap();
        std::fs::write(c.join("pids.current"), "3\n").unwrap();
        std::fs::write(c.join("pids.max"), "10\n").unwrap();
        std::fs::write(c.join("io.stat"), "254:0 rbytes=100 wbytes=200 rios=1 wios=2 dbytes=0 dios=0\n").unwrap();
        let s = read_cgroup(d.path(), "berth/c");
        assert_eq!((s.cpu.total_usage, s.cpu.usage_in_usermode, s.cpu.throttled_time), (2_000_000, 1_500_000, 7000));
        assert_eq!((s.memory.usage, s.memory.limit), (8192, Some(67108864)));
        assert_eq!(s.memory.stats["inactive_file"], 1024);
        assert_eq!((s.pids.current, s.pids.limit), (3, Some(10)));
        std::fs::write(c.join("memory.events"), "low 0\nhigh 0\nmax 4\noom 1\noom_kill 2\n").unwrap();
        assert_eq!(oom_kill_count(d.path(), "berth/c"), 2);
        assert_eq!(s.blkio.io_service_bytes.len(), 2);
        assert_eq!(s.blkio.io_serviced[1], BlkioEntry { major: 254, minor: 0, op: "write".into(), value: 2 });
    }

    #[test]
    fn host_and_network() {
        let stat = "cpu  100 0 50 1000 10 0 0 0 0 0\ncpu0 50 0 25 500 5 0 0 0 0 0\n";
        assert_eq!(parse_system_cpu_usage(stat), Some(1160 * NS_PER_TICK));
        let dev = "Inter-|   Receive                                                |  Transmit\n face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n    lo:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0\n  eth0:    1296      16    0    1    0     0          0         0      656       8    0    2    0     0       0          0\n";
        let n = parse_net_dev(dev);
        assert_eq!(n.len(), 1);
        assert_eq!(
            (n[0].name.as_str(), n[0].rx_bytes, n[0].rx_packets, n[0].rx_dropped, n[0].tx_bytes, n[0].tx_dropped),
            ("eth0", 1296, 16, 1, 656, 2)
        );
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("meminfo"), "MemTotal:       24684084 kB\nMemFree: 1 kB\n").unwrap();
        assert_eq!(host_memory_total(d.path()), Some(24684084 * 1024));
    }
}
