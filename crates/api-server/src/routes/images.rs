//! Routes of the images area: list, inspect, history, tag, delete, import (`create?fromSrc`),
//! load and save (`get`); pull and push are handed to `distribution`. Names may contain slashes (`localhost:5000/a/b`), so per-image routes
//! are matched on a wildcard and split on their last segment.

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use berth_api_types::query::images::{ImageDeleteQuery, ImageListQuery, ImageLoadQuery, ImagePushQuery, ImageTagQuery};
use berth_api_types::{ApiVersion, Filters};
use berth_engine::images::{ImportRequest, InspectFields, PullRequest};
use futures_util::TryStreamExt;
use tokio_util::io::{ReaderStream, StreamReader};

use crate::error::ApiError;
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/images/json", get(list))
        .route("/images/create", post(create))
        .route("/images/load", post(load))
        .route("/images/get", get(get_many))
        .route("/images/{*rest}", get(per_image_get).post(per_image_post).delete(delete))
}

type Pairs = Query<Vec<(String, String)>>;

fn version(v: Option<Extension<ApiVersion>>) -> ApiVersion {
    v.map(|Extension(v)| v).unwrap_or(ApiVersion::CURRENT)
}

fn body_reader(body: Body) -> impl tokio::io::AsyncRead + Send + Unpin + 'static {
    StreamReader::new(body.into_data_stream().map_err(std::io::Error::other))
}

/// One JSON message per line, as dockerd's progress streams.
fn json_stream(messages: &[serde_json::Value]) -> Response {
    let mut out = String::new();
    for m in messages {
        out.push_str(&m.to_string());
        out.push_str("\r\n");
    }
    ([(header::CONTENT_TYPE, "application/json")], out).into_response()
}

fn tar_response(reader: impl tokio::io::AsyncRead + Send + 'static) -> Response {
    ([(header::CONTENT_TYPE, "application/x-tar")], Body::from_stream(ReaderStream::new(reader))).into_response()
}

/// Splits `name/op` (the wildcard tail) into the image name and the operation.
pub(crate) fn split_op(rest: &str) -> (&str, &str) {
    match rest.rsplit_once('/') {
        Some((name, op)) if matches!(op, "json" | "history" | "get" | "tag" | "push") => (name, op),
        _ => (rest, ""),
    }
}

/// Parses the `/images/create` query: single values plus the repeated `changes`.
pub(crate) fn parse_create(pairs: &[(String, String)]) -> (String, String, ImportRequest) {
    let mut from_image = String::new();
    let mut from_src = String::new();
    let mut req = ImportRequest::default();
    for (k, v) in pairs {
        match k.as_str() {
            "fromImage" => from_image = v.clone(),
            "fromSrc" => from_src = v.clone(),
            "repo" => req.repo = v.clone(),
            "tag" => req.tag = v.clone(),
            "message" => req.message = v.clone(),
            "changes" => req.changes.push(v.clone()),
            _ => {}
        }
    }
    (from_image, from_src, req)
}

async fn list(
    State(engine): State<AppState>,
    v: Option<Extension<ApiVersion>>,
    Query(q): Query<ImageListQuery>,
) -> Result<Response, ApiError> {
    let mut filters = Filters::parse(&q.filters).map_err(|e| ApiError::bad_request(e.to_string()))?;
    if !q.filter.is_empty() {
        filters.insert("reference", q.filter.clone());
    }
    let old = version(v) < ApiVersion::new(1, 44);
    Ok(Json(engine.image_list(&filters, q.all, old).await?).into_response())
}

async fn create(
    State(engine): State<AppState>,
    Query(pairs): Pairs,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let (from_image, from_src, req) = parse_create(&pairs);
    if !from_image.is_empty() {
        let platform = pairs.iter().find(|(k, _)| k == "platform").map(|(_, v)| v.clone()).unwrap_or_default();
        let auth = super::distribution::registry_auth(&headers)?;
        let pull = PullRequest { from_image, tag: req.tag, platform, auth };
        return super::distribution::pull(engine, pull).await;
    }
    if from_src != "-" {
        return Err(ApiError::bad_request(
            "importing from a URL is not supported; send the tar as the body with fromSrc=-",
        ));
    }
    let id = engine.image_create_from_src(req, body_reader(body)).await?;
    Ok(json_stream(&[serde_json::json!({ "status": id })]))
}

async fn load(
    State(engine): State<AppState>,
    Query(q): Query<ImageLoadQuery>,
    body: Body,
) -> Result<Response, ApiError> {
    let _ = q.quiet; // dockerd sends the "Loaded image" lines either way.
    let lines = engine.image_load(body_reader(body)).await?;
    let msgs: Vec<_> = lines.iter().map(|l| serde_json::json!({ "stream": format!("{l}\n") })).collect();
    Ok(json_stream(&msgs))
}

async fn get_many(State(engine): State<AppState>, Query(pairs): Pairs) -> Result<Response, ApiError> {
    let names: Vec<String> = pairs.into_iter().filter(|(k, _)| k == "names").map(|(_, v)| v).collect();
    Ok(tar_response(engine.image_get(&names).await?))
}

async fn per_image_get(
    State(engine): State<AppState>,
    v: Option<Extension<ApiVersion>>,
    Path(rest): Path<String>,
) -> Result<Response, ApiError> {
    let v = version(v);
    match split_op(&rest) {
        (name, "json") => {
            let fields =
                InspectFields { virtual_size: v < ApiVersion::new(1, 44), container: v < ApiVersion::new(1, 45) };
            Ok(Json(engine.image_inspect(name, fields).await?).into_response())
        }
        (name, "history") => Ok(Json(engine.image_history(name).await?).into_response()),
        (name, "get") => Ok(tar_response(engine.image_get(&[name.to_string()]).await?)),
        _ => Err(ApiError::new(StatusCode::NOT_FOUND, "page not found")),
    }
}

async fn per_image_post(
    State(engine): State<AppState>,
    Path(rest): Path<String>,
    Query(q): Query<ImageTagQuery>,
    Query(pq): Query<ImagePushQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    match split_op(&rest) {
        (name, "push") => super::distribution::push(engine, name, pq, &headers).await,
        (name, "tag") => {
            engine.image_tag(name, &q.repo, &q.tag).await?;
            Ok(StatusCode::CREATED.into_response())
        }
        _ => Err(ApiError::new(StatusCode::NOT_FOUND, "page not found")),
    }
}

async fn delete(
    State(engine): State<AppState>,
    Path(name): Path<String>,
    Query(q): Query<ImageDeleteQuery>,
) -> Result<Response, ApiError> {
    Ok(Json(engine.image_delete(&name, q.force, q.noprune).await?).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_names_with_slashes() {
        assert_eq!(split_op("localhost:5000/a/b/json"), ("localhost:5000/a/b", "json"));
        assert_eq!(split_op("busybox/history"), ("busybox", "history"));
        assert_eq!(split_op("user/app"), ("user/app", ""));
    }

    #[test]
    fn parses_repeated_changes() {
        let pairs = vec![
            ("fromSrc".to_string(), "-".to_string()),
            ("repo".to_string(), "x".to_string()),
            ("changes".to_string(), "CMD [\"sh\"]".to_string()),
            ("changes".to_string(), "ENV A=b".to_string()),
        ];
        let (img, src, req) = parse_create(&pairs);
        assert!(img.is_empty());
        assert_eq!(src, "-");
        assert_eq!(req.changes.len(), 2);
        assert_eq!(req.repo, "x");
    }
}
