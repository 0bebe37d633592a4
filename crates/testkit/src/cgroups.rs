//! The cgroups a test's containers live in (`<controller>/<parent>/<id>` on v1, `<parent>/<id>`
//! on v2), found and removed by parent name.

use std::path::{Path, PathBuf};

/// Kills every process left in `parent`'s cgroups (only containers the test started) and
/// removes the cgroup directories, in every hierarchy.
pub fn cleanup(parent: &str) {
    for d in dirs(parent) {
        kill_cgroup_tree(&d);
    }
    for d in dirs(parent) {
        remove_cgroup_tree(&d);
    }
}

/// Removes a test's cgroup parent when dropped.
pub struct CgroupParent(pub String);

impl CgroupParent {
    pub fn new() -> CgroupParent {
        CgroupParent(format!("berth-test-{:08x}", rand::random::<u32>()))
    }
}

impl Default for CgroupParent {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for CgroupParent {
    fn drop(&mut self) {
        cleanup(&self.0);
    }
}

pub fn dirs(parent: &str) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir("/sys/fs/cgroup") else { return vec![] };
    let mut out = vec![];
    for e in entries.flatten() {
        let p = e.path().join(parent);
        if p.is_dir() {
            out.push(p);
        }
    }
    let v2 = Path::new("/sys/fs/cgroup").join(parent);
    if v2.is_dir() && !out.contains(&v2) {
        out.push(v2);
    }
    out
}

pub fn has_children(dir: &Path) -> bool {
    std::fs::read_dir(dir).map(|r| r.flatten().any(|e| e.path().is_dir())).unwrap_or(false)
}

/// SIGKILLs every process in this daemon's cgroups: only containers this test started.
fn kill_cgroup_tree(dir: &Path) {
    for pid in std::fs::read_to_string(dir.join("cgroup.procs")).unwrap_or_default().lines() {
        if let Ok(pid) = pid.trim().parse::<u32>() {
            crate::daemon::signal(pid, libc::SIGKILL);
        }
    }
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            if e.path().is_dir() {
                kill_cgroup_tree(&e.path());
            }
        }
    }
}

fn remove_cgroup_tree(dir: &Path) {
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            if e.path().is_dir() {
                remove_cgroup_tree(&e.path());
            }
        }
    }
    let _ = std::fs::remove_dir(dir);
}
