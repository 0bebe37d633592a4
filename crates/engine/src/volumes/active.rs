//! Which running containers hold a volume's driver-option mount (`type`/`device`/`o` mounted on
//! `_data`). The map lives in memory but is derived from persisted container records: at daemon
//! start it is rebuilt before containers are reconciled, so a container that exited while the
//! daemon was down releases (unmounts) the volume, and one still running keeps it mounted until
//! it stops.

use super::spec::MountKind;
use crate::Engine;

impl Engine {
    /// Rebuilds the active-mount map from the records of containers persisted as running.
    pub(crate) fn volumes_restore_active(&self) {
        let mut active = self.volumes.active();
        active.clear();
        for c in self.containers.all() {
            if !c.status().is_running() {
                continue;
            }
            let r = c.record();
            for m in r.host.mounts.iter().filter(|m| m.kind == MountKind::Volume) {
                let mounted = self.volumes.get(&m.source).is_some_and(|v| v.needs_mount())
                    && berth_kernel::mount::is_mountpoint(&self.volumes.data_dir(&m.source));
                if mounted {
                    let names = active.entry(r.id.clone()).or_default();
                    if !names.contains(&m.source) {
                        names.push(m.source.clone());
                    }
                }
            }
        }
    }
}
