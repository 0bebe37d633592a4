//! `HostConfig.Mounts` as the client sent them, kept in the container record (our own serde
//! type, never the API struct) so container inspect echoes them as dockerd does. What the
//! container actually mounts is the resolved `spec::MountPoint` list.

use std::collections::BTreeMap;

use berth_api_types::models::{
    Mount, MountBindOptions, MountTmpfsOptions, MountVolumeOptions, MountVolumeOptionsDriverConfig,
};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RequestedMount {
    /// `bind`, `volume`, `tmpfs`.
    pub typ: Option<String>,
    pub source: Option<String>,
    pub target: Option<String>,
    pub read_only: Option<bool>,
    pub consistency: Option<String>,
    pub bind: Option<RequestedBind>,
    pub volume: Option<RequestedVolume>,
    pub tmpfs: Option<RequestedTmpfs>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RequestedBind {
    pub propagation: Option<String>,
    pub non_recursive: Option<bool>,
    pub create_mountpoint: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RequestedVolume {
    pub no_copy: Option<bool>,
    pub labels: Option<BTreeMap<String, String>>,
    pub driver_name: Option<String>,
    pub driver_options: Option<BTreeMap<String, String>>,
    /// Whether `DriverConfig` was sent at all.
    pub driver_config: bool,
    pub subpath: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RequestedTmpfs {
    pub size_bytes: Option<i64>,
    pub mode: Option<i64>,
}

/// An API enum's wire string (`"volume"`, `"rslave"`), or `None` when it has none.
fn wire_string<T: Serialize>(v: &T) -> Option<String> {
    serde_json::to_value(v).ok().and_then(|v| v.as_str().map(str::to_string)).filter(|s| !s.is_empty())
}

fn from_wire<T: serde::de::DeserializeOwned>(s: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(s.to_string())).ok()
}

impl RequestedMount {
    pub fn from_api(m: &Mount) -> RequestedMount {
        RequestedMount {
            typ: m.typ.as_ref().and_then(wire_string),
            source: m.source.clone(),
            target: m.target.clone(),
            read_only: m.read_only,
            consistency: m.consistency.clone(),
            bind: m.bind_options.as_ref().map(|b| RequestedBind {
                propagation: b.propagation.as_ref().and_then(wire_string),
                non_recursive: b.non_recursive,
                create_mountpoint: b.create_mountpoint,
            }),
            volume: m.volume_options.as_ref().map(|v| RequestedVolume {
                no_copy: v.no_copy,
                labels: v.labels.as_ref().map(|l| l.clone().into_iter().collect()),
                driver_name: v.driver_config.as_ref().and_then(|d| d.name.clone()),
                driver_options: v
                    .driver_config
                    .as_ref()
                    .and_then(|d| d.options.as_ref().map(|o| o.clone().into_iter().collect())),
                driver_config: v.driver_config.is_some(),
                subpath: v.subpath.clone(),
            }),
            tmpfs: m.tmpfs_options.as_ref().map(|t| RequestedTmpfs { size_bytes: t.size_bytes, mode: t.mode }),
        }
    }

    pub fn to_api(&self) -> Mount {
        Mount {
            typ: self.typ.as_deref().and_then(from_wire),
            source: self.source.clone(),
            target: self.target.clone(),
            read_only: self.read_only,
            consistency: self.consistency.clone(),
            bind_options: self.bind.as_ref().map(|b| MountBindOptions {
                propagation: b.propagation.as_deref().and_then(from_wire),
                non_recursive: b.non_recursive,
                create_mountpoint: b.create_mountpoint,
                ..Default::default()
            }),
            volume_options: self.volume.as_ref().map(|v| MountVolumeOptions {
                no_copy: v.no_copy,
                labels: v.labels.as_ref().map(|l| l.clone().into_iter().collect()),
                driver_config: v.driver_config.then(|| MountVolumeOptionsDriverConfig {
                    name: v.driver_name.clone(),
                    options: v.driver_options.as_ref().map(|o| o.clone().into_iter().collect()),
                }),
                subpath: v.subpath.clone(),
            }),
            tmpfs_options: self.tmpfs.as_ref().map(|t| MountTmpfsOptions {
                size_bytes: t.size_bytes,
                mode: t.mode,
                ..Default::default()
            }),
            ..Default::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echoes_dockerd_shape() {
        // What dockerd 20.10 echoes for three --mount flags.
        let sent = r#"[{"Type":"volume","Source":"v","Target":"/v","VolumeOptions":{"DriverConfig":{"Options":{"device":"tmpfs","type":"tmpfs"}}}},{"Type":"bind","Source":"/tmp/b","Target":"/b","ReadOnly":true,"BindOptions":{"Propagation":"rslave"}},{"Type":"tmpfs","Target":"/t","TmpfsOptions":{"SizeBytes":1048576,"Mode":1016}}]"#;
        let mounts: Vec<Mount> = serde_json::from_str(sent).unwrap();
        let kept: Vec<RequestedMount> = mounts.iter().map(RequestedMount::from_api).collect();
        let stored = serde_json::to_string(&kept).unwrap();
        let back: Vec<RequestedMount> = serde_json::from_str(&stored).unwrap();
        let api: Vec<Mount> = back.iter().map(RequestedMount::to_api).collect();
        let a: serde_json::Value = serde_json::to_value(&api).unwrap();
        assert_eq!(a, serde_json::from_str::<serde_json::Value>(sent).unwrap());
    }
}
