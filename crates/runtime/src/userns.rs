//! The user namespace of a container under `userns-remap`: a new `user` namespace whose
//! `linux.uidMappings`/`gidMappings` map container ids onto the remapped root's subordinate
//! ranges (what dockerd writes into the spec when user namespaces are on).

use std::path::PathBuf;

use oci_spec::runtime::{LinuxIdMapping, LinuxIdMappingBuilder, LinuxNamespace, LinuxNamespaceType, Mount, Spec};

const PING_GROUP_RANGE: &str = "net.ipv4.ping_group_range";

/// One `uid_map`/`gid_map` line: container ids `container_id..+size` are host ids `host_id..`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IdMapping {
    pub container_id: u32,
    pub host_id: u32,
    pub size: u32,
}

/// The container's uid and gid mappings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IdMappings {
    pub uids: Vec<IdMapping>,
    pub gids: Vec<IdMapping>,
    /// Join this user namespace (`/proc/<pid>/ns/user` of a container whose network, IPC or
    /// PID namespace is shared) instead of making one.
    pub join: Option<PathBuf>,
}

fn oci(v: &[IdMapping]) -> Vec<LinuxIdMapping> {
    v.iter()
        .map(|m| {
            // Every field is set: the builder cannot fail.
            LinuxIdMappingBuilder::default()
                .container_id(m.container_id)
                .host_id(m.host_id)
                .size(m.size)
                .build()
                .unwrap_or_default()
        })
        .collect()
}

/// Puts the container in a new user namespace with `m`. A network namespace joined by path
/// belongs to another user namespace, where sysfs cannot be mounted: `/sys` is then
/// bind-mounted read-only from the host, as runc does.
pub fn apply(spec: &mut Spec, m: &IdMappings) {
    let Some(linux) = spec.linux_mut() else { return };
    linux.set_uid_mappings(Some(oci(&m.uids))).set_gid_mappings(Some(oci(&m.gids)));
    let mut namespaces = linux.namespaces().clone().unwrap_or_default();
    let joined_net = namespaces.iter().any(|n| n.typ() == LinuxNamespaceType::Network && n.path().is_some())
        || !namespaces.iter().any(|n| n.typ() == LinuxNamespaceType::Network);
    namespaces.retain(|n| n.typ() != LinuxNamespaceType::User);
    let mut user = LinuxNamespace::default();
    user.set_typ(LinuxNamespaceType::User).set_path(m.join.clone());
    namespaces.insert(0, user);
    linux.set_namespaces(Some(namespaces));
    // As dockerd: no ping socket range in a user namespace (its gids are not all mapped).
    if let Some(sysctl) = linux.sysctl_mut() {
        if sysctl.get(PING_GROUP_RANGE).is_some_and(|v| v == crate::spec::DEFAULT_PING_GROUP_RANGE) {
            sysctl.remove(PING_GROUP_RANGE);
        }
    }
    if joined_net {
        if let Some(mounts) = spec.mounts_mut() {
            for mount in mounts.iter_mut().filter(|m| m.typ().as_deref() == Some("sysfs")) {
                let mut bind = Mount::default();
                bind.set_destination(mount.destination().clone())
                    .set_typ(Some("bind".into()))
                    .set_source(Some(PathBuf::from("/sys")))
                    .set_options(Some(["rbind", "nosuid", "noexec", "nodev", "ro"].map(String::from).to_vec()));
                *mount = bind;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{build, NetworkNamespace, SpecInput};

    fn mappings() -> IdMappings {
        let m = IdMapping { container_id: 0, host_id: 100000, size: 65536 };
        IdMappings { uids: vec![m], gids: vec![m], join: None }
    }

    #[test]
    fn adds_a_user_namespace_with_the_mappings() {
        let spec = build(&SpecInput { rootfs: "/r".into(), userns: Some(mappings()), ..Default::default() });
        let linux = spec.linux().as_ref().unwrap();
        let nss = linux.namespaces().as_ref().unwrap();
        assert_eq!(nss[0].typ(), LinuxNamespaceType::User);
        assert!(nss[0].path().is_none());
        let uid = &linux.uid_mappings().as_ref().unwrap()[0];
        assert_eq!((uid.container_id(), uid.host_id(), uid.size()), (0, 100000, 65536));
        assert_eq!(linux.gid_mappings().as_ref().unwrap().len(), 1);
        let sys = spec.mounts().as_ref().unwrap().iter().find(|m| m.destination() == &PathBuf::from("/sys")).unwrap();
        assert_eq!(sys.typ().as_deref(), Some("sysfs"), "own network namespace: sysfs");
        let sysctl = linux.sysctl().as_ref().unwrap();
        assert!(!sysctl.contains_key(PING_GROUP_RANGE));
        assert_eq!(sysctl.get("net.ipv4.ip_unprivileged_port_start").map(String::as_str), Some("0"));
    }

    #[test]
    fn joined_network_namespace_binds_sys() {
        let spec = build(&SpecInput {
            rootfs: "/r".into(),
            network: NetworkNamespace::Join("/proc/1/ns/net".into()),
            userns: Some(mappings()),
            ..Default::default()
        });
        let sys = spec.mounts().as_ref().unwrap().iter().find(|m| m.destination() == &PathBuf::from("/sys")).unwrap();
        assert_eq!(sys.typ().as_deref(), Some("bind"));
        assert_eq!(sys.source().as_deref(), Some(std::path::Path::new("/sys")));
    }

    #[test]
    fn shares_a_donor_user_namespace() {
        let m = IdMappings { join: Some("/proc/7/ns/user".into()), ..mappings() };
        let spec = build(&SpecInput { rootfs: "/r".into(), userns: Some(m), ..Default::default() });
        let nss = spec.linux().as_ref().unwrap().namespaces().clone().unwrap();
        let users: Vec<_> = nss.iter().filter(|n| n.typ() == LinuxNamespaceType::User).collect();
        assert_eq!(users.len(), 1);
        assert_eq!(users[0].path().as_deref(), Some(std::path::Path::new("/proc/7/ns/user")));
    }

    #[test]
    fn without_remapping_nothing_changes() {
        let spec = build(&SpecInput { rootfs: "/r".into(), ..Default::default() });
        let linux = spec.linux().as_ref().unwrap();
        assert!(linux.uid_mappings().is_none());
        assert!(!linux.namespaces().as_ref().unwrap().iter().any(|n| n.typ() == LinuxNamespaceType::User));
    }
}
