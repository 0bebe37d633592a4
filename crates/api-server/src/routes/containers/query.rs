//! List and inspect.

use axum::extract::{Path, State};
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use axum::Json;
use berth_api_types::query::containers::{InspectQuery, ListQuery, TopQuery};

use super::{parse_list, query};
use crate::error::ApiError;
use crate::AppState;

pub async fn list(State(engine): State<AppState>, uri: Uri) -> Result<Response, ApiError> {
    let q: ListQuery = query(&uri)?;
    let opts = parse_list(&q)?;
    Ok(Json(engine.container_list(&opts).await?).into_response())
}

pub async fn top(State(engine): State<AppState>, Path(id): Path<String>, uri: Uri) -> Result<Response, ApiError> {
    let q: TopQuery = query(&uri)?;
    Ok(Json(engine.container_top(&id, &q.ps_args).await?).into_response())
}

/// Fields dockerd always prints as `null` when unset, which the stub models would omit.
const NULL_FIELDS: &[&str] = &["ExecIDs"];
const NULL_CONFIG_FIELDS: &[&str] = &["Volumes", "Entrypoint", "OnBuild", "Cmd"];
const NULL_HOST_CONFIG_FIELDS: &[&str] = &["PidsLimit", "MemorySwappiness", "DeviceCgroupRules", "DeviceRequests"];

pub async fn inspect(State(engine): State<AppState>, Path(id): Path<String>, uri: Uri) -> Result<Response, ApiError> {
    let _q: InspectQuery = query(&uri)?;
    let doc = engine.container_inspect(&id).await?;
    let mut v = serde_json::to_value(doc)
        .map_err(|e| ApiError::new(axum::http::StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    fill_nulls(&mut v);
    Ok(Json(v).into_response())
}

fn fill_nulls(v: &mut serde_json::Value) {
    if let Some(o) = v.as_object_mut() {
        for k in NULL_FIELDS {
            o.entry(*k).or_insert(serde_json::Value::Null);
        }
    }
    if let Some(o) = v.get_mut("Config").and_then(|c| c.as_object_mut()) {
        for k in NULL_CONFIG_FIELDS {
            o.entry(*k).or_insert(serde_json::Value::Null);
        }
    }
    if let Some(o) = v.get_mut("HostConfig").and_then(|c| c.as_object_mut()) {
        for k in NULL_HOST_CONFIG_FIELDS {
            o.entry(*k).or_insert(serde_json::Value::Null);
        }
    }
    if let Some(ns) = v.get_mut("NetworkSettings") {
        berth_api_types::legacy_network::fill_legacy_network_settings(ns);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn nulls_like_dockerd() {
        let mut v = serde_json::json!({"Id": "x", "Config": {"Cmd": ["a"]}});
        super::fill_nulls(&mut v);
        assert_eq!(v["ExecIDs"], serde_json::Value::Null);
        assert!(v.as_object().unwrap().contains_key("ExecIDs"));
        assert!(v["Config"].as_object().unwrap().contains_key("Entrypoint"));
        assert_eq!(v["Config"]["Cmd"][0], "a");
        let mut v = serde_json::json!({"HostConfig": {"Memory": 0}});
        super::fill_nulls(&mut v);
        assert!(v["HostConfig"].as_object().unwrap().contains_key("PidsLimit"), "unlimited pids show as null");
    }
}
