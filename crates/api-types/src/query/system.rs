//! Wire shapes of `GET /system/df` (SystemDataUsage) and `POST /images/prune` (ImagePrune),
//! in dockerd's key order.

use serde::{Deserialize, Serialize};

use super::images::{DeleteItem, ImageSummary};
use crate::models::{BuildCache, ContainerSummary, Volume};

/// `GET /system/df`. dockerd writes `null` for an empty build cache list.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SystemDataUsage {
    #[serde(rename = "LayersSize")]
    pub layers_size: i64,
    #[serde(rename = "Images")]
    pub images: Vec<ImageSummary>,
    #[serde(rename = "Containers")]
    pub containers: Vec<ContainerSummary>,
    #[serde(rename = "Volumes")]
    pub volumes: Vec<Volume>,
    #[serde(rename = "BuildCache")]
    pub build_cache: Option<Vec<BuildCache>>,
    #[serde(rename = "BuilderSize")]
    pub builder_size: i64,
}

/// `GET /system/df?type=…` (API 1.42+): which sections to compute; all when none is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DfTypes {
    pub containers: bool,
    pub images: bool,
    pub volumes: bool,
    pub build_cache: bool,
}

impl DfTypes {
    pub const ALL: DfTypes = DfTypes { containers: true, images: true, volumes: true, build_cache: true };

    /// From the repeated `type` query values; an unknown value is an error with dockerd's text.
    pub fn parse(values: &[String]) -> Result<DfTypes, String> {
        if values.is_empty() {
            return Ok(DfTypes::ALL);
        }
        let mut t = DfTypes { containers: false, images: false, volumes: false, build_cache: false };
        for v in values {
            match v.as_str() {
                "container" => t.containers = true,
                "image" => t.images = true,
                "volume" => t.volumes = true,
                "build-cache" => t.build_cache = true,
                other => return Err(format!("unknown object type: {other}")),
            }
        }
        Ok(t)
    }
}

/// `POST /images/prune`. dockerd writes `null` when nothing was deleted.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ImagePruneReport {
    #[serde(rename = "ImagesDeleted")]
    pub images_deleted: Option<Vec<DeleteItem>>,
    #[serde(rename = "SpaceReclaimed")]
    pub space_reclaimed: u64,
}

/// `POST /containers/prune`. dockerd writes `null` when nothing was deleted.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ContainerPruneReport {
    #[serde(rename = "ContainersDeleted")]
    pub containers_deleted: Option<Vec<String>>,
    #[serde(rename = "SpaceReclaimed")]
    pub space_reclaimed: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_shapes_match_dockerd() {
        assert_eq!(
            serde_json::to_string(&ImagePruneReport::default()).unwrap(),
            r#"{"ImagesDeleted":null,"SpaceReclaimed":0}"#
        );
        let df = serde_json::to_string(&SystemDataUsage::default()).unwrap();
        assert_eq!(
            df,
            r#"{"LayersSize":0,"Images":[],"Containers":[],"Volumes":[],"BuildCache":null,"BuilderSize":0}"#
        );
        assert_eq!(DfTypes::parse(&[]).unwrap(), DfTypes::ALL);
        let t = DfTypes::parse(&["image".into()]).unwrap();
        assert!(t.images && !t.containers && !t.volumes && !t.build_cache);
        assert_eq!(DfTypes::parse(&["x".into()]).unwrap_err(), "unknown object type: x");
    }
}
