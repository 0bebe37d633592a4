//! `GET /volumes/{name}` (VolumeInspect).

use berth_api_types::models::{Volume, VolumeScopeEnum, VolumeUsageData};
use chrono::SecondsFormat;

use super::store::{disk_usage, VolumeRecord};
use crate::{Engine, Error, Result};

impl Engine {
    pub fn volume_inspect(&self, name: &str) -> Result<Volume> {
        let v = self.volumes.get(name).ok_or_else(|| no_such_volume(name))?;
        Ok(self.volume_json(&v, false))
    }

    /// The API shape of a volume; `usage` adds `UsageData` (size and reference count).
    pub(crate) fn volume_json(&self, v: &VolumeRecord, usage: bool) -> Volume {
        let mountpoint = self.volumes.data_dir(&v.name);
        let usage_data = usage.then(|| VolumeUsageData {
            size: disk_usage(&mountpoint),
            ref_count: i64::try_from(self.volume_users(&v.name, None).len()).unwrap_or(i64::MAX),
        });
        let created = v.created.to_rfc3339_opts(SecondsFormat::Secs, true);
        Volume {
            name: v.name.clone(),
            driver: v.driver.clone(),
            mountpoint: mountpoint.display().to_string(),
            // `BollardDate` is a string or a chrono time depending on features; both parse.
            created_at: created.parse().ok(),
            status: None,
            labels: v.labels.clone().into_iter().collect(),
            scope: Some(VolumeScopeEnum::LOCAL),
            cluster_volume: None,
            options: v.options.clone().into_iter().collect(),
            usage_data,
        }
    }

    /// Ids of containers (other than `except`) whose mounts use volume `name`.
    pub(crate) fn volume_users(&self, name: &str, except: Option<&str>) -> Vec<String> {
        self.containers
            .all()
            .into_iter()
            .filter(|c| Some(c.id.as_str()) != except)
            .filter(|c| {
                c.record().host.mounts.iter().any(|m| m.kind == super::spec::MountKind::Volume && m.source == name)
            })
            .map(|c| c.id.clone())
            .collect()
    }
}

pub fn no_such_volume(name: &str) -> Error {
    Error::NotFound(format!("get {name}: no such volume"))
}
