//! Routes of the networks area: list, create, inspect, delete, prune, connect, disconnect.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use berth_api_types::models::{NetworkConnectRequest, NetworkCreateRequest, NetworkDisconnectRequest};
use berth_api_types::query::networks::ListQuery;
use berth_engine::networks::ListFilters;

use super::containers::query;
use super::volumes::parse_filters;
use crate::error::ApiError;
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/networks", get(list))
        .route("/networks/create", post(create))
        .route("/networks/prune", post(prune))
        .route("/networks/{id}", get(inspect).delete(remove))
        .route("/networks/{id}/connect", post(connect))
        .route("/networks/{id}/disconnect", post(disconnect))
}

/// The list filters, 400 when malformed or unknown.
pub fn parse_list_filters(raw: Option<&str>) -> Result<ListFilters, ApiError> {
    let f = parse_filters(raw)?;
    f.validate(&["name", "id", "driver", "label", "type", "scope", "dangling"])
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    Ok(ListFilters {
        name: f.get("name").to_vec(),
        id: f.get("id").to_vec(),
        driver: f.get("driver").to_vec(),
        label: f.get("label").to_vec(),
        typ: f.get("type").to_vec(),
    })
}

pub fn parse_create(body: &[u8]) -> Result<NetworkCreateRequest, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError::bad_request(format!("invalid JSON in request body: {e}")))
}

fn json_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError::bad_request(format!("invalid JSON in request body: {e}")))
}

/// `POST /networks/{id}/connect` body; an empty `Container` is dockerd's 400.
pub fn parse_connect(body: &[u8]) -> Result<NetworkConnectRequest, ApiError> {
    let req: NetworkConnectRequest = json_body(body)?;
    if req.container.is_empty() {
        return Err(ApiError::bad_request("container is required"));
    }
    Ok(req)
}

pub fn parse_disconnect(body: &[u8]) -> Result<NetworkDisconnectRequest, ApiError> {
    let req: NetworkDisconnectRequest = json_body(body)?;
    if req.container.is_empty() {
        return Err(ApiError::bad_request("container is required"));
    }
    Ok(req)
}

async fn connect(State(engine): State<AppState>, Path(id): Path<String>, body: Bytes) -> Result<StatusCode, ApiError> {
    engine.network_connect(&id, parse_connect(&body)?).await?;
    Ok(StatusCode::OK)
}

async fn disconnect(
    State(engine): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let req = parse_disconnect(&body)?;
    engine.network_disconnect(&id, &req.container, req.force.unwrap_or(false)).await?;
    Ok(StatusCode::OK)
}

async fn list(State(engine): State<AppState>, uri: Uri) -> Result<Response, ApiError> {
    let q: ListQuery = query(&uri)?;
    Ok(Json(engine.network_list(&parse_list_filters(q.filters.as_deref())?).await?).into_response())
}

async fn create(State(engine): State<AppState>, body: Bytes) -> Result<Response, ApiError> {
    let req = parse_create(&body)?;
    Ok((StatusCode::CREATED, Json(engine.network_create(req).await?)).into_response())
}

async fn inspect(State(engine): State<AppState>, Path(id): Path<String>) -> Result<Response, ApiError> {
    Ok(Json(engine.network_inspect(&id).await?).into_response())
}

async fn remove(State(engine): State<AppState>, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    engine.network_delete(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn prune(State(engine): State<AppState>, uri: Uri) -> Result<Response, ApiError> {
    let q: ListQuery = query(&uri)?;
    let f = parse_filters(q.filters.as_deref())?;
    Ok(Json(engine.network_prune(&f).await?).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_filters_and_body() {
        let f = parse_list_filters(Some(r#"{"name":["front"],"label":["a=b"]}"#)).unwrap();
        assert_eq!(f.name, ["front"]);
        assert_eq!(f.label, ["a=b"]);
        assert!(parse_list_filters(Some(r#"{"bogus":["x"]}"#)).is_err());
        let r = parse_create(br#"{"Name":"n1","IPAM":{"Config":[{"Subnet":"10.9.0.0/24"}]}}"#).unwrap();
        assert_eq!(r.name, "n1");
        assert!(parse_create(b"{").is_err());
        let c = parse_connect(br#"{"Container":"web","EndpointConfig":{"Aliases":["w"]}}"#).unwrap();
        assert_eq!(c.container, "web");
        assert!(parse_connect(br#"{"Container":""}"#).is_err());
        assert_eq!(parse_disconnect(br#"{"Container":"web","Force":true}"#).unwrap().force, Some(true));
        assert!(parse_disconnect(b"[").is_err());
    }
}
