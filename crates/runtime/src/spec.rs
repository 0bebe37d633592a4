//! OCI runtime spec generation with Docker's defaults.

use std::path::PathBuf;

/// Everything about one container that shapes its OCI spec. The engine fills it from the
/// container's Config/HostConfig and the image config.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SpecInput {
    pub args: Vec<String>,
    pub env: Vec<String>,
    pub cwd: String,
    pub uid: u32,
    pub gid: u32,
    pub additional_gids: Vec<u32>,
    pub hostname: String,
    pub tty: bool,
    /// Mounted rootfs (overlay merged dir).
    pub rootfs: PathBuf,
    pub readonly_rootfs: bool,
    /// Host files bind-mounted at /etc/hostname, /etc/hosts, /etc/resolv.conf.
    pub hostname_path: Option<PathBuf>,
    pub hosts_path: Option<PathBuf>,
    pub resolv_conf_path: Option<PathBuf>,
    /// cgroup path (e.g. `/berth/<id>`).
    pub cgroups_path: String,
}

pub fn build(input: &SpecInput) -> oci_spec::runtime::Spec {
    let _ = input;
    todo!("runtime helper")
}
