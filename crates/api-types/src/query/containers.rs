//! Query strings of the container endpoints. Numbers stay strings here so handlers can answer
//! malformed values with dockerd's messages; booleans use [`de_bool`].

use serde::Deserialize;

use super::de_bool;

/// `POST /containers/create`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct CreateQuery {
    pub name: Option<String>,
    pub platform: Option<String>,
}

/// `POST /containers/{id}/stop` and `/restart`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct StopQuery {
    pub t: Option<String>,
    pub signal: Option<String>,
}

/// `POST /containers/{id}/kill`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct KillQuery {
    pub signal: Option<String>,
}

/// `POST /containers/{id}/wait`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct WaitQuery {
    pub condition: Option<String>,
}

/// `GET /containers/{id}/logs`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct LogsQuery {
    #[serde(default, deserialize_with = "de_bool")]
    pub follow: bool,
    #[serde(default, deserialize_with = "de_bool")]
    pub stdout: bool,
    #[serde(default, deserialize_with = "de_bool")]
    pub stderr: bool,
    pub since: Option<String>,
    pub until: Option<String>,
    #[serde(default, deserialize_with = "de_bool")]
    pub timestamps: bool,
    pub tail: Option<String>,
}

/// `POST /containers/{id}/attach`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct AttachQuery {
    #[serde(default, deserialize_with = "de_bool")]
    pub stream: bool,
    #[serde(default, deserialize_with = "de_bool")]
    pub logs: bool,
    #[serde(default, deserialize_with = "de_bool")]
    pub stdin: bool,
    #[serde(default, deserialize_with = "de_bool")]
    pub stdout: bool,
    #[serde(default, deserialize_with = "de_bool")]
    pub stderr: bool,
    #[serde(rename = "detachKeys")]
    pub detach_keys: Option<String>,
}

/// `DELETE /containers/{id}`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct DeleteQuery {
    #[serde(default, deserialize_with = "de_bool")]
    pub force: bool,
    #[serde(default, deserialize_with = "de_bool")]
    pub v: bool,
    #[serde(default, deserialize_with = "de_bool")]
    pub link: bool,
}

/// `GET /containers/json`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct ListQuery {
    #[serde(default, deserialize_with = "de_bool")]
    pub all: bool,
    pub limit: Option<String>,
    #[serde(default, deserialize_with = "de_bool")]
    pub size: bool,
    pub filters: Option<String>,
}

/// `GET /containers/{id}/json`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct InspectQuery {
    #[serde(default, deserialize_with = "de_bool")]
    pub size: bool,
}

/// `POST /containers/{id}/rename`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct RenameQuery {
    pub name: Option<String>,
}

/// `POST /containers/{id}/resize`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct ResizeQuery {
    pub h: Option<String>,
    pub w: Option<String>,
}

/// `GET /containers/{id}/top?ps_args=`.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct TopQuery {
    #[serde(default)]
    pub ps_args: String,
}

fn yes() -> bool {
    true
}

/// `GET /containers/{id}/stats`: `stream` defaults to true.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct StatsQuery {
    #[serde(default = "yes", deserialize_with = "de_bool")]
    pub stream: bool,
    #[serde(default, rename = "one-shot", deserialize_with = "de_bool")]
    pub one_shot: bool,
}
