//! Query strings of the image endpoints, and the image response shapes dockerd emits (fields it
//! always writes, `null`s included, which the bollard stubs would skip).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::de_bool;

/// `GET /images/json`
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct ImageListQuery {
    #[serde(deserialize_with = "de_bool")]
    pub all: bool,
    #[serde(deserialize_with = "de_bool")]
    pub digests: bool,
    #[serde(rename = "shared-size", deserialize_with = "de_bool")]
    pub shared_size: bool,
    pub filters: String,
    /// Legacy `filter=<reference>`.
    pub filter: String,
}

/// `POST /images/create`. `changes` repeats, so it is collected by the handler from the raw
/// query; this struct holds the single-valued parameters.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct ImageCreateQuery {
    #[serde(rename = "fromImage")]
    pub from_image: String,
    #[serde(rename = "fromSrc")]
    pub from_src: String,
    pub repo: String,
    pub tag: String,
    pub message: String,
    pub platform: String,
}

/// `POST /images/load`
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct ImageLoadQuery {
    #[serde(deserialize_with = "de_bool")]
    pub quiet: bool,
}

/// `POST /images/{name}/tag`
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct ImageTagQuery {
    pub repo: String,
    pub tag: String,
}

/// `DELETE /images/{name}`
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct ImageDeleteQuery {
    #[serde(deserialize_with = "de_bool")]
    pub force: bool,
    #[serde(deserialize_with = "de_bool")]
    pub noprune: bool,
}

/// One entry of `GET /images/json`, in dockerd's key order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageSummary {
    #[serde(rename = "Containers")]
    pub containers: i64,
    #[serde(rename = "Created")]
    pub created: i64,
    #[serde(rename = "Id")]
    pub id: String,
    #[serde(rename = "Labels")]
    pub labels: Option<BTreeMap<String, String>>,
    #[serde(rename = "ParentId")]
    pub parent_id: String,
    #[serde(rename = "RepoDigests")]
    pub repo_digests: Option<Vec<String>>,
    #[serde(rename = "RepoTags")]
    pub repo_tags: Option<Vec<String>>,
    #[serde(rename = "SharedSize")]
    pub shared_size: i64,
    #[serde(rename = "Size")]
    pub size: i64,
    /// Only below API 1.44.
    #[serde(rename = "VirtualSize", skip_serializing_if = "Option::is_none")]
    pub virtual_size: Option<i64>,
}

/// dockerd's `container.Config` as written inside image inspect (`Config`, `ContainerConfig`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImageContainerConfig {
    pub hostname: String,
    pub domainname: String,
    pub user: String,
    pub attach_stdin: bool,
    pub attach_stdout: bool,
    pub attach_stderr: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exposed_ports: Option<BTreeMap<String, serde_json::Value>>,
    pub tty: bool,
    pub open_stdin: bool,
    pub stdin_once: bool,
    pub env: Option<Vec<String>>,
    pub cmd: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub args_escaped: Option<bool>,
    pub image: String,
    pub volumes: Option<BTreeMap<String, serde_json::Value>>,
    pub working_dir: String,
    pub entrypoint: Option<Vec<String>>,
    pub on_build: Option<Vec<String>>,
    pub labels: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_signal: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shell: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GraphDriver {
    #[serde(rename = "Data")]
    pub data: BTreeMap<String, String>,
    #[serde(rename = "Name")]
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageRootFs {
    #[serde(rename = "Type")]
    pub kind: String,
    #[serde(rename = "Layers")]
    pub layers: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageMetadata {
    #[serde(rename = "LastTagTime")]
    pub last_tag_time: String,
}

/// `GET /images/{name}/json`, in dockerd's key order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImageInspect {
    pub id: String,
    pub repo_tags: Vec<String>,
    pub repo_digests: Vec<String>,
    pub parent: String,
    pub comment: String,
    pub created: String,
    /// Below API 1.45 only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    /// Below API 1.45 only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container_config: Option<ImageContainerConfig>,
    pub docker_version: String,
    pub author: String,
    pub config: ImageContainerConfig,
    pub architecture: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    pub os: String,
    pub size: i64,
    /// Below API 1.44 only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub virtual_size: Option<i64>,
    pub graph_driver: GraphDriver,
    #[serde(rename = "RootFS")]
    pub root_fs: ImageRootFs,
    pub metadata: ImageMetadata,
}

/// One entry of `GET /images/{name}/history`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryItem {
    #[serde(rename = "Comment")]
    pub comment: String,
    #[serde(rename = "Created")]
    pub created: i64,
    #[serde(rename = "CreatedBy")]
    pub created_by: String,
    #[serde(rename = "Id")]
    pub id: String,
    #[serde(rename = "Size")]
    pub size: i64,
    #[serde(rename = "Tags")]
    pub tags: Option<Vec<String>>,
}

/// One entry of the `DELETE /images/{name}` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DeleteItem {
    Untagged(String),
    Deleted(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delete_items_serialise_like_dockerd() {
        let v = vec![DeleteItem::Untagged("busybox:latest".into()), DeleteItem::Deleted("sha256:x".into())];
        assert_eq!(serde_json::to_string(&v).unwrap(), r#"[{"Untagged":"busybox:latest"},{"Deleted":"sha256:x"}]"#);
    }

    #[test]
    fn queries_parse_docker_booleans() {
        let q: ImageDeleteQuery = serde_json::from_value(serde_json::json!({"force": "1"})).unwrap();
        assert!(q.force && !q.noprune);
    }
}
