//! Reading container cgroups on v1 (a hierarchy per controller) and v2 (one unified tree).

use std::path::{Path, PathBuf};

/// The mount point of the cgroup filesystems.
pub const CGROUP_ROOT: &str = "/sys/fs/cgroup";

/// True when `root` is a cgroup v2 unified hierarchy.
pub fn is_v2(root: &Path) -> bool {
    root.join("cgroup.controllers").exists()
}

/// The directory of cgroup `path` (e.g. `/berth/<id>`) under `root` that lists its processes:
/// the unified tree on v2; on v1 the first of the pids, memory, cpu or freezer hierarchies
/// that has it.
pub fn procs_dir(root: &Path, path: &str) -> Option<PathBuf> {
    let rel = path.trim_start_matches('/');
    if is_v2(root) {
        let d = root.join(rel);
        return d.is_dir().then_some(d);
    }
    ["pids", "memory", "cpu", "freezer"].iter().map(|c| root.join(c).join(rel)).find(|d| d.is_dir())
}

/// Pids of every process in cgroup `path` (not its children), empty when it does not exist.
pub fn procs(root: &Path, path: &str) -> Vec<i32> {
    let Some(dir) = procs_dir(root, path) else { return Vec::new() };
    std::fs::read_to_string(dir.join("cgroup.procs"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v1_and_v2_layouts() {
        let v1 = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(v1.path().join("memory/berth/abc")).unwrap();
        std::fs::write(v1.path().join("memory/berth/abc/cgroup.procs"), "12\n34\n").unwrap();
        assert_eq!(procs(v1.path(), "/berth/abc"), [12, 34]);
        assert!(procs(v1.path(), "/berth/none").is_empty());

        let v2 = tempfile::tempdir().unwrap();
        std::fs::write(v2.path().join("cgroup.controllers"), "cpu memory pids").unwrap();
        std::fs::create_dir_all(v2.path().join("berth/abc")).unwrap();
        std::fs::write(v2.path().join("berth/abc/cgroup.procs"), "7\n").unwrap();
        assert_eq!(procs(v2.path(), "berth/abc"), [7]);
    }
}
