//! Routes of the networks area: list, create, inspect, delete, prune.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use berth_api_types::models::NetworkCreateRequest;
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
    Ok(Json(engine.network_prune(f.get("label")).await?).into_response())
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
    }
}
