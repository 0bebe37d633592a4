//! Writing a running container's cgroup: live resource updates (`docker update`) and the
//! freezer (`docker pause`), on cgroup v1 (a hierarchy per controller) and v2 (one unified
//! tree). Every function takes the cgroup filesystem root as a parameter, so tests run on
//! temp dirs.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::cgroup::is_v2;

#[derive(Debug, thiserror::Error)]
pub enum LimitsError {
    #[error("writing {value:?} to {path}: {source}")]
    Write {
        path: PathBuf,
        value: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cgroup {0} did not freeze in time")]
    FreezeTimeout(String),
}

fn write(path: PathBuf, value: &str) -> Result<(), LimitsError> {
    std::fs::write(&path, value).map_err(|source| LimitsError::Write { path, value: value.to_string(), source })
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default().trim().to_string()
}

fn rel(path: &str) -> &str {
    path.trim_start_matches('/')
}

/// Whether the host can weight block I/O (dockerd warns and drops `--blkio-weight` otherwise).
pub fn blkio_weight_supported(root: &Path) -> bool {
    if is_v2(root) {
        return read(&root.join("cgroup.controllers")).split_whitespace().any(|c| c == "io");
    }
    root.join("blkio/blkio.weight").exists() || root.join("blkio/blkio.bfq.weight").exists()
}

/// Whether memory+swap can be limited.
pub fn swap_limit_supported(root: &Path) -> bool {
    if is_v2(root) {
        return read(&root.join("cgroup.controllers")).split_whitespace().any(|c| c == "memory");
    }
    root.join("memory/memory.memsw.limit_in_bytes").exists()
}

/// A live update; `None` leaves a setting alone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Update {
    /// Bytes; -1 = unlimited.
    pub memory: Option<i64>,
    /// Memory + swap bytes (v1 semantics); -1 = unlimited.
    pub memory_swap: Option<i64>,
    pub memory_reservation: Option<i64>,
    pub cpu_shares: Option<u64>,
    /// Microseconds per period; -1 = unlimited.
    pub cpu_quota: Option<i64>,
    pub cpu_period: Option<u64>,
    pub cpuset_cpus: Option<String>,
    pub cpuset_mems: Option<String>,
    /// 0 = unlimited.
    pub pids_limit: Option<i64>,
    pub blkio_weight: Option<u16>,
    /// v1 `memory.oom_control` (the runtime leaves it alone); v2 has no such switch.
    pub oom_kill_disable: Option<bool>,
}

fn v2_max(v: i64) -> String {
    if v < 0 {
        "max".to_string()
    } else {
        v.to_string()
    }
}

/// Writes `u` into cgroup `path` (e.g. `/berth/<id>`) under `root`.
pub fn update(root: &Path, path: &str, u: &Update) -> Result<(), LimitsError> {
    if is_v2(root) {
        update_v2(&root.join(rel(path)), u)
    } else {
        update_v1(root, rel(path), u)
    }
}

fn update_v1(root: &Path, rel: &str, u: &Update) -> Result<(), LimitsError> {
    let mem = root.join("memory").join(rel);
    if let Some(r) = u.memory_reservation {
        write(mem.join("memory.soft_limit_in_bytes"), &r.to_string())?;
    }
    // memsw must stay ≥ memory at every step: raise memsw first when growing past it.
    let cur_swap: i64 = read(&mem.join("memory.memsw.limit_in_bytes")).parse().unwrap_or(i64::MAX);
    let grow = u.memory.is_some_and(|m| m < 0 || m > cur_swap);
    let swap_file = mem.join("memory.memsw.limit_in_bytes");
    if grow {
        if let Some(s) = u.memory_swap {
            write(swap_file.clone(), &s.to_string())?;
        }
    }
    if let Some(m) = u.memory {
        write(mem.join("memory.limit_in_bytes"), &m.to_string())?;
    }
    if !grow {
        if let Some(s) = u.memory_swap {
            write(swap_file, &s.to_string())?;
        }
    }
    let cpu = root.join("cpu").join(rel);
    if let Some(s) = u.cpu_shares {
        write(cpu.join("cpu.shares"), &s.to_string())?;
    }
    if let Some(p) = u.cpu_period {
        write(cpu.join("cpu.cfs_period_us"), &p.to_string())?;
    }
    if let Some(q) = u.cpu_quota {
        write(cpu.join("cpu.cfs_quota_us"), &q.to_string())?;
    }
    let cpuset = root.join("cpuset").join(rel);
    if let Some(c) = &u.cpuset_cpus {
        write(cpuset.join("cpuset.cpus"), c)?;
    }
    if let Some(m) = &u.cpuset_mems {
        write(cpuset.join("cpuset.mems"), m)?;
    }
    if let Some(p) = u.pids_limit {
        write(root.join("pids").join(rel).join("pids.max"), &if p > 0 { p.to_string() } else { "max".into() })?;
    }
    if let Some(w) = u.blkio_weight {
        write(root.join("blkio").join(rel).join("blkio.weight"), &w.to_string())?;
    }
    if let Some(off) = u.oom_kill_disable {
        write(mem.join("memory.oom_control"), if off { "1" } else { "0" })?;
    }
    Ok(())
}

/// cgroup v1 shares (2..262144) → v2 weight (1..10000), as runc converts them.
pub fn shares_to_weight(shares: u64) -> u64 {
    if shares == 0 {
        return 0;
    }
    1 + (shares.clamp(2, 262_144) - 2) * 9999 / 262_142
}

fn update_v2(dir: &Path, u: &Update) -> Result<(), LimitsError> {
    if let Some(r) = u.memory_reservation {
        write(dir.join("memory.low"), &r.to_string())?;
    }
    if let Some(m) = u.memory {
        write(dir.join("memory.max"), &v2_max(m))?;
    }
    if let Some(s) = u.memory_swap {
        // v2's swap limit excludes memory.
        let swap = match (s, u.memory) {
            (s, _) if s < 0 => -1,
            (s, Some(m)) if m > 0 => (s - m).max(0),
            (s, _) => s,
        };
        write(dir.join("memory.swap.max"), &v2_max(swap))?;
    }
    if let Some(s) = u.cpu_shares {
        write(dir.join("cpu.weight"), &shares_to_weight(s).to_string())?;
    }
    if u.cpu_quota.is_some() || u.cpu_period.is_some() {
        let cur = read(&dir.join("cpu.max"));
        let mut parts = cur.split_whitespace();
        let (cur_q, cur_p) = (parts.next().unwrap_or("max").to_string(), parts.next().unwrap_or("100000").to_string());
        let q = u.cpu_quota.map_or(cur_q, v2_max);
        let p = u.cpu_period.map_or(cur_p, |p| p.to_string());
        write(dir.join("cpu.max"), &format!("{q} {p}"))?;
    }
    if let Some(c) = &u.cpuset_cpus {
        write(dir.join("cpuset.cpus"), c)?;
    }
    if let Some(m) = &u.cpuset_mems {
        write(dir.join("cpuset.mems"), m)?;
    }
    if let Some(p) = u.pids_limit {
        write(dir.join("pids.max"), &if p > 0 { p.to_string() } else { "max".into() })?;
    }
    if let Some(w) = u.blkio_weight {
        write(dir.join("io.bfq.weight"), &w.to_string())?;
    }
    Ok(())
}

/// Freezes (`true`) or thaws the cgroup and waits until the kernel reports it done.
pub fn freeze(root: &Path, path: &str, frozen: bool) -> Result<(), LimitsError> {
    freeze_within(root, path, frozen, Duration::from_secs(5))
}

fn v2_settled(events: &str, want: &str) -> bool {
    // Kernels without a `frozen` line in `cgroup.events` apply the freeze synchronously.
    events.lines().find(|l| l.starts_with("frozen ")).is_none_or(|l| l == want)
}

fn freeze_within(root: &Path, path: &str, frozen: bool, timeout: Duration) -> Result<(), LimitsError> {
    let deadline = Instant::now() + timeout;
    if is_v2(root) {
        let dir = root.join(rel(path));
        write(dir.join("cgroup.freeze"), if frozen { "1" } else { "0" })?;
        let want = if frozen { "frozen 1" } else { "frozen 0" };
        while !v2_settled(&read(&dir.join("cgroup.events")), want) {
            if Instant::now() > deadline {
                return Err(LimitsError::FreezeTimeout(path.to_string()));
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        return Ok(());
    }
    let file = root.join("freezer").join(rel(path)).join("freezer.state");
    let want = if frozen { "FROZEN" } else { "THAWED" };
    loop {
        write(file.clone(), want)?;
        if read(&file) == want || Instant::now() > deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    if read(&file) != want {
        return Err(LimitsError::FreezeTimeout(path.to_string()));
    }
    Ok(())
}

/// Whether the cgroup is frozen.
pub fn is_frozen(root: &Path, path: &str) -> bool {
    if is_v2(root) {
        return read(&root.join(rel(path)).join("cgroup.freeze")) == "1";
    }
    read(&root.join("freezer").join(rel(path)).join("freezer.state")) == "FROZEN"
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v1_tree() -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        for c in ["memory", "cpu", "cpuset", "pids", "blkio", "freezer"] {
            std::fs::create_dir_all(d.path().join(c).join("berth/c1")).unwrap();
        }
        std::fs::write(d.path().join("memory/memory.memsw.limit_in_bytes"), "9223372036854771712").unwrap();
        std::fs::write(d.path().join("memory/berth/c1/memory.memsw.limit_in_bytes"), "134217728").unwrap();
        d
    }

    fn v2_tree() -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("cgroup.controllers"), "cpuset cpu io memory pids").unwrap();
        std::fs::create_dir_all(d.path().join("berth/c1")).unwrap();
        std::fs::write(d.path().join("berth/c1/cpu.max"), "max 100000\n").unwrap();
        d
    }

    fn rd(d: &tempfile::TempDir, p: &str) -> String {
        std::fs::read_to_string(d.path().join(p)).unwrap()
    }

    #[test]
    fn v1_update_writes_each_controller() {
        let d = v1_tree();
        assert!(swap_limit_supported(d.path()) && !blkio_weight_supported(d.path()));
        let u = Update {
            memory: Some(256 << 20),
            memory_swap: Some(512 << 20),
            cpu_quota: Some(50_000),
            cpu_period: Some(100_000),
            pids_limit: Some(0),
            cpuset_cpus: Some("0".into()),
            oom_kill_disable: Some(true),
            ..Default::default()
        };
        update(d.path(), "/berth/c1", &u).unwrap();
        assert_eq!(rd(&d, "memory/berth/c1/memory.oom_control"), "1");
        assert_eq!(rd(&d, "memory/berth/c1/memory.limit_in_bytes"), (256 << 20).to_string());
        assert_eq!(rd(&d, "memory/berth/c1/memory.memsw.limit_in_bytes"), (512 << 20).to_string());
        assert_eq!(rd(&d, "cpu/berth/c1/cpu.cfs_quota_us"), "50000");
        assert_eq!(rd(&d, "cpu/berth/c1/cpu.cfs_period_us"), "100000");
        assert_eq!(rd(&d, "pids/berth/c1/pids.max"), "max");
        assert_eq!(rd(&d, "cpuset/berth/c1/cpuset.cpus"), "0");
        assert!(!d.path().join("memory/berth/c1/memory.soft_limit_in_bytes").exists(), "unset stays untouched");
    }

    #[test]
    fn v2_update_converts_units() {
        let d = v2_tree();
        assert!(swap_limit_supported(d.path()) && blkio_weight_supported(d.path()));
        let u = Update {
            memory: Some(64 << 20),
            memory_swap: Some(128 << 20),
            cpu_shares: Some(1024),
            cpu_quota: Some(150_000),
            pids_limit: Some(10),
            ..Default::default()
        };
        update(d.path(), "berth/c1", &u).unwrap();
        assert_eq!(rd(&d, "berth/c1/memory.max"), (64 << 20).to_string());
        assert_eq!(rd(&d, "berth/c1/memory.swap.max"), (64 << 20).to_string(), "swap excludes memory");
        assert_eq!(rd(&d, "berth/c1/cpu.weight"), "39");
        assert_eq!(rd(&d, "berth/c1/cpu.max"), "150000 100000");
        assert_eq!(rd(&d, "berth/c1/pids.max"), "10");
        update(d.path(), "berth/c1", &Update { memory: Some(-1), cpu_quota: Some(-1), ..Default::default() }).unwrap();
        assert_eq!(rd(&d, "berth/c1/memory.max"), "max");
        assert_eq!(rd(&d, "berth/c1/cpu.max"), "max 100000");
        assert_eq!(shares_to_weight(2), 1);
        assert_eq!(shares_to_weight(262_144), 10_000);
    }

    #[test]
    fn v2_freeze_and_thaw() {
        let d = v2_tree();
        // A plain file stands in for the kernel: it reports the state once written.
        std::fs::write(d.path().join("berth/c1/cgroup.events"), "populated 1\n").unwrap();
        freeze(d.path(), "/berth/c1", true).unwrap();
        assert_eq!(rd(&d, "berth/c1/cgroup.freeze"), "1");
        assert!(is_frozen(d.path(), "/berth/c1"));
        std::fs::write(d.path().join("berth/c1/cgroup.events"), "populated 1\nfrozen 1\n").unwrap();
        let err = freeze_within(d.path(), "/berth/c1", false, Duration::from_millis(50));
        assert!(matches!(err, Err(LimitsError::FreezeTimeout(_))), "waits for the kernel to report thawed");
        std::fs::write(d.path().join("berth/c1/cgroup.events"), "populated 1\nfrozen 0\n").unwrap();
        freeze(d.path(), "/berth/c1", false).unwrap();
        assert!(!is_frozen(d.path(), "/berth/c1"));
    }

    #[test]
    fn v1_freeze() {
        let d = v1_tree();
        freeze(d.path(), "/berth/c1", true).unwrap();
        assert_eq!(rd(&d, "freezer/berth/c1/freezer.state"), "FROZEN");
        assert!(is_frozen(d.path(), "/berth/c1"));
        freeze(d.path(), "/berth/c1", false).unwrap();
        assert!(!is_frozen(d.path(), "/berth/c1"));
    }
}
