//! Daemon configuration: flags and `/etc/berth/daemon.json`, resolved by the `berthd` binary.

use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// `/var/lib/berth` by default.
    pub data_root: PathBuf,
    /// `/run/berth` by default.
    pub exec_root: PathBuf,
    /// The `berth-shim` binary (next to `berthd` by default).
    pub shim_binary: PathBuf,
    /// Name of the default OCI runtime (`berth` = built-in libcontainer, or `runc`).
    pub default_runtime: String,
    /// Parent cgroup for containers (`berth`, or a per-daemon name in tests).
    pub cgroup_parent: String,
    /// Bridge device of the default `bridge` network (`berth0`; per daemon in tests).
    pub bridge_name: String,
    /// `--bip`: the default bridge's gateway address and prefix (`172.17.0.1/16`); chosen from
    /// free RFC 1918 pools when unset.
    pub bip: Option<String>,
    /// The daemon's own nftables table (`ip berth`; per daemon in tests).
    pub nft_table: String,
    /// `live-restore`: containers keep running while the daemon is down (default true); when
    /// false, a graceful daemon shutdown stops them.
    pub live_restore: bool,
    /// `insecure-registries` and the `certs.d` directory of registry CAs.
    pub registry: berth_registry::RegistryConfig,
    /// `userns-remap`: the remapped root every container's user namespace maps onto (then
    /// `data_root` is already `<data-root>/<uid>.<gid>`, see [`crate::userns`]).
    pub userns_remap: Option<crate::userns::Remap>,
}

impl Config {
    pub fn with_roots(data_root: impl Into<PathBuf>, exec_root: impl Into<PathBuf>) -> Config {
        Config {
            data_root: data_root.into(),
            exec_root: exec_root.into(),
            shim_binary: PathBuf::from("berth-shim"),
            default_runtime: "berth".into(),
            cgroup_parent: "berth".into(),
            bridge_name: "berth0".into(),
            bip: None,
            nft_table: "berth".into(),
            live_restore: true,
            registry: Default::default(),
            userns_remap: None,
        }
    }

    pub fn containers_dir(&self) -> PathBuf {
        self.data_root.join("containers")
    }

    pub fn shims_dir(&self) -> PathBuf {
        self.exec_root.join("shims")
    }
}
