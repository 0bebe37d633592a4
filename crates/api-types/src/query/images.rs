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

/// `POST /images/{name}/push`
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct ImagePushQuery {
    pub tag: String,
    pub platform: String,
}

/// Registry credentials: the body of `POST /auth` and, base64url-encoded, the
/// `X-Registry-Auth` header of pull and push.
/// Clients (bollard) send `null` for unset fields.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AuthConfig {
    #[serde(deserialize_with = "null_as_empty")]
    pub username: String,
    #[serde(deserialize_with = "null_as_empty")]
    pub password: String,
    /// `base64(username:password)`, as stored in `~/.docker/config.json`.
    #[serde(deserialize_with = "null_as_empty")]
    pub auth: String,
    #[serde(deserialize_with = "null_as_empty")]
    pub email: String,
    #[serde(deserialize_with = "null_as_empty")]
    pub serveraddress: String,
    #[serde(deserialize_with = "null_as_empty")]
    pub identitytoken: String,
    #[serde(deserialize_with = "null_as_empty")]
    pub registrytoken: String,
}

fn null_as_empty<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(Option::<String>::deserialize(d)?.unwrap_or_default())
}

impl AuthConfig {
    /// Decodes an `X-Registry-Auth` header: base64url (padded or not; standard alphabet accepted
    /// too) of the JSON object. An empty header or `{}` is no credentials. A username and
    /// password packed in `auth` are unpacked.
    pub fn from_header(value: &str) -> Result<AuthConfig, String> {
        use base64::Engine as _;
        let value = value.trim();
        if value.is_empty() {
            return Ok(AuthConfig::default());
        }
        let cleaned: String = value.trim_end_matches('=').replace('+', "-").replace('/', "_");
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(cleaned.as_bytes())
            .map_err(|e| format!("invalid X-Registry-Auth header: {e}"))?;
        let mut a: AuthConfig =
            serde_json::from_slice(&raw).map_err(|e| format!("invalid X-Registry-Auth header: {e}"))?;
        a.unpack_auth();
        Ok(a)
    }

    /// Fills `username`/`password` from `auth` when they are empty.
    pub fn unpack_auth(&mut self) {
        use base64::Engine as _;
        if self.username.is_empty() && !self.auth.is_empty() {
            if let Ok(raw) = base64::engine::general_purpose::STANDARD.decode(self.auth.trim()) {
                if let Some((u, p)) = String::from_utf8_lossy(&raw).split_once(':') {
                    self.username = u.to_string();
                    self.password = p.to_string();
                }
            }
        }
    }
}

/// `POST /auth`'s answer, in dockerd's key order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuthResponse {
    #[serde(rename = "IdentityToken")]
    pub identity_token: String,
    #[serde(rename = "Status")]
    pub status: String,
}

/// `progressDetail` of a [`JsonMessage`]: empty (`{}`) unless a transfer is under way.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProgressDetail {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<i64>,
}

/// One line of dockerd's JSON progress stream (pull, push), as `jsonmessage.JSONMessage`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct JsonMessage {
    /// Build output (`POST /build`): `Step 1/3 : FROM busybox\n`, a RUN step's output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(rename = "progressDetail", skip_serializing_if = "Option::is_none")]
    pub progress_detail: Option<ProgressDetail>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub progress: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(rename = "errorDetail", skip_serializing_if = "Option::is_none")]
    pub error_detail: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aux: Option<serde_json::Value>,
}

impl JsonMessage {
    /// `{"status": s}`
    pub fn status(s: impl Into<String>) -> JsonMessage {
        JsonMessage { status: Some(s.into()), ..Default::default() }
    }

    /// `{"status": s, "progressDetail": {}, "id": id}`
    pub fn layer(id: &str, s: impl Into<String>) -> JsonMessage {
        JsonMessage {
            status: Some(s.into()),
            progress_detail: Some(ProgressDetail::default()),
            id: Some(id.to_string()),
            ..Default::default()
        }
    }

    /// A transfer step with counts (`Downloading`, `Pushing`, `Extracting`).
    pub fn transfer(id: &str, s: &str, current: i64, total: i64) -> JsonMessage {
        JsonMessage {
            status: Some(s.to_string()),
            progress_detail: Some(ProgressDetail { current: Some(current), total: Some(total) }),
            id: Some(id.to_string()),
            ..Default::default()
        }
    }

    /// `{"stream": s}`: a line of build output.
    pub fn stream(s: impl Into<String>) -> JsonMessage {
        JsonMessage { stream: Some(s.into()), ..Default::default() }
    }

    /// The last message of a failed build step, with its exit code as dockerd sends it.
    pub fn error_code(message: impl Into<String>, code: i64) -> JsonMessage {
        let m = message.into();
        JsonMessage {
            error_detail: Some(serde_json::json!({ "code": code, "message": m })),
            error: Some(m),
            ..Default::default()
        }
    }

    /// The last message of a failed stream.
    pub fn error(message: impl Into<String>) -> JsonMessage {
        let m = message.into();
        JsonMessage { error_detail: Some(serde_json::json!({ "message": m })), error: Some(m), ..Default::default() }
    }
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

    #[test]
    fn registry_auth_header_decodes() {
        use base64::Engine as _;
        let json = r#"{"username":"bob","password":"p?s>s","serveraddress":"127.0.0.1:5000"}"#;
        for engine in [base64::engine::general_purpose::URL_SAFE, base64::engine::general_purpose::URL_SAFE_NO_PAD] {
            let a = AuthConfig::from_header(&engine.encode(json)).unwrap();
            assert_eq!((a.username.as_str(), a.password.as_str()), ("bob", "p?s>s"));
        }
        let packed = base64::engine::general_purpose::STANDARD.encode("al:pw");
        let h = base64::engine::general_purpose::URL_SAFE.encode(format!(r#"{{"auth":"{packed}"}}"#));
        let a = AuthConfig::from_header(&h).unwrap();
        assert_eq!((a.username.as_str(), a.password.as_str()), ("al", "pw"));
        assert_eq!(AuthConfig::from_header("").unwrap(), AuthConfig::default());
        let nulls = base64::engine::general_purpose::URL_SAFE.encode(r#"{"username":null,"auth":"YTpi"}"#);
        assert_eq!(AuthConfig::from_header(&nulls).unwrap().username, "a");
        assert!(AuthConfig::from_header("!!!").is_err());
    }

    #[test]
    fn json_messages_serialise_like_dockerd() {
        let m = JsonMessage::transfer("abc", "Downloading", 5, 10);
        assert_eq!(
            serde_json::to_string(&m).unwrap(),
            r#"{"status":"Downloading","progressDetail":{"current":5,"total":10},"id":"abc"}"#
        );
        assert_eq!(
            serde_json::to_string(&JsonMessage::layer("abc", "Pull complete")).unwrap(),
            r#"{"status":"Pull complete","progressDetail":{},"id":"abc"}"#
        );
    }
}
