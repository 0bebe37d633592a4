//! `POST /build` (ImageBuild), `POST /build/prune` (BuildPrune) and `POST /commit`
//! (ImageCommit). A build streams dockerd's JSON messages (`{"stream": …}`, `{"aux": …}`);
//! a failure before the first message is a plain HTTP error, after it the last line carries
//! `errorDetail` with the failing step's exit code.

use std::collections::BTreeMap;

use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use berth_api_types::query::build::{decode_secrets, SECRETS_HEADER};
use berth_api_types::query::images::JsonMessage;
use berth_api_types::Filters;
use berth_engine::build::{BuildFailure, BuildOptions, BuildPruneOptions, BuildRequest, RunLimits};
use berth_engine::images::CommitRequest;
use futures_util::TryStreamExt;
use tokio::sync::mpsc;
use tokio_util::io::StreamReader;

use crate::error::ApiError;
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/build", post(build)).route("/build/prune", post(prune)).route("/commit", post(commit))
}

type Pairs = Query<Vec<(String, String)>>;

/// Go's `httputils.BoolValue`: anything but empty, `0`, `no`, `false`, `none` is true.
fn bool_value(v: Option<&str>) -> bool {
    let s = v.unwrap_or("").trim().to_ascii_lowercase();
    !matches!(s.as_str(), "" | "0" | "no" | "false" | "none")
}

fn get<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// Go's `httputils.Int64ValueOrZero`: empty is 0, anything unparsable a 400.
fn int(pairs: &[(String, String)], key: &str) -> Result<i64, ApiError> {
    match get(pairs, key).filter(|v| !v.is_empty()) {
        Some(v) => v.parse().map_err(|_| ApiError::bad_request(format!("invalid {key}: {v:?} is not an integer"))),
        None => Ok(0),
    }
}

/// The query of `POST /build` → build options (pure).
pub(crate) fn parse_build(pairs: &[(String, String)]) -> Result<BuildOptions, ApiError> {
    let json_map = |key: &str| -> Result<BTreeMap<String, Option<String>>, ApiError> {
        match get(pairs, key).filter(|v| !v.is_empty()) {
            Some(v) => serde_json::from_str(v).map_err(|e| ApiError::bad_request(format!("invalid {key}: {e}"))),
            None => Ok(BTreeMap::new()),
        }
    };
    let labels = json_map("labels")?.into_iter().map(|(k, v)| (k, v.unwrap_or_default())).collect();
    let extra_hosts = pairs
        .iter()
        .filter(|(k, _)| k == "extrahosts")
        .flat_map(|(_, v)| {
            v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect::<Vec<_>>()
        })
        .collect();
    Ok(BuildOptions {
        dockerfile: get(pairs, "dockerfile").unwrap_or("Dockerfile").to_string(),
        tags: pairs.iter().filter(|(k, v)| k == "t" && !v.is_empty()).map(|(_, v)| v.clone()).collect(),
        build_args: json_map("buildargs")?,
        labels,
        target: get(pairs, "target").filter(|t| !t.is_empty()).map(str::to_string),
        no_cache: bool_value(get(pairs, "nocache")),
        pull: bool_value(get(pairs, "pull")),
        rm: get(pairs, "rm").is_none_or(|v| bool_value(Some(v))),
        force_rm: bool_value(get(pairs, "forcerm")),
        network: get(pairs, "networkmode").filter(|n| !n.is_empty()).map(str::to_string),
        platform: get(pairs, "platform").filter(|p| !p.is_empty()).map(str::to_string),
        quiet: bool_value(get(pairs, "q")),
        extra_hosts,
        cache_from: match get(pairs, "cachefrom").filter(|v| !v.is_empty()) {
            Some(v) => serde_json::from_str(v).map_err(|e| ApiError::bad_request(format!("invalid cachefrom: {e}")))?,
            None => Vec::new(),
        },
        limits: RunLimits {
            shm_size: int(pairs, "shmsize")?,
            memory: int(pairs, "memory")?,
            memory_swap: int(pairs, "memswap")?,
            cpu_shares: int(pairs, "cpushares")?,
            cpu_period: int(pairs, "cpuperiod")?,
            cpu_quota: int(pairs, "cpuquota")?,
            cpuset_cpus: get(pairs, "cpusetcpus").unwrap_or("").to_string(),
            cpuset_mems: get(pairs, "cpusetmems").unwrap_or("").to_string(),
        },
        ..Default::default()
    })
}

/// One message as Go's `json.Marshal` writes it (`<`, `>`, `&` escaped), newline-terminated.
fn line(m: &JsonMessage) -> Result<String, std::convert::Infallible> {
    let s = serde_json::to_string(m).unwrap_or_default();
    let mut s = s.replace('<', "\\u003c").replace('>', "\\u003e").replace('&', "\\u0026");
    s.push_str("\r\n");
    Ok(s)
}

async fn build(
    State(engine): State<AppState>,
    Query(pairs): Pairs,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let options = parse_build(&pairs)?;
    if get(&pairs, "remote").is_some_and(|r| !r.is_empty()) {
        return Err(ApiError::new(StatusCode::NOT_IMPLEMENTED, "builds from a remote context are not supported"));
    }
    let secrets = match headers.get(SECRETS_HEADER).and_then(|v| v.to_str().ok()) {
        Some(v) => decode_secrets(v).map_err(ApiError::bad_request)?,
        None => BTreeMap::new(),
    };
    engine.build_validate(&options)?;
    let reader = StreamReader::new(body.into_data_stream().map_err(std::io::Error::other));
    let (tx, mut rx) = mpsc::channel::<JsonMessage>(256);
    let e = engine.clone();
    let task = tokio::spawn(async move { e.image_build(BuildRequest { options, secrets }, reader, tx).await });
    let Some(first) = rx.recv().await else {
        return match task.await {
            Ok(Ok(_)) => Ok(([(header::CONTENT_TYPE, "application/json")], "").into_response()),
            Ok(Err(BuildFailure::Request(e))) => Err(e.into()),
            Ok(Err(BuildFailure::Step { message, client_error, .. })) => {
                let status = if client_error { StatusCode::BAD_REQUEST } else { StatusCode::INTERNAL_SERVER_ERROR };
                Err(ApiError::new(status, message))
            }
            Err(e) => Err(ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())),
        };
    };
    let stream = futures_util::stream::unfold((Some(first), rx, Some(task)), |(pending, mut rx, task)| async move {
        if let Some(m) = pending {
            return Some((line(&m), (None, rx, task)));
        }
        if let Some(m) = rx.recv().await {
            return Some((line(&m), (None, rx, task)));
        }
        let m = match task?.await {
            Ok(Ok(_)) => return None,
            Ok(Err(BuildFailure::Request(e))) => JsonMessage::error(e.to_string()),
            Ok(Err(BuildFailure::Step { message, code, .. })) => JsonMessage::error_code(message, code),
            Err(e) => JsonMessage::error(e.to_string()),
        };
        Some((line(&m), (None, rx, None)))
    });
    Ok(([(header::CONTENT_TYPE, "application/json")], Body::from_stream(stream)).into_response())
}

/// `POST /build/prune?all=&keep-storage=<bytes>&filters=<json>` (query → options, pure).
pub(crate) fn parse_prune(pairs: &[(String, String)]) -> Result<BuildPruneOptions, ApiError> {
    // `reserved-space` is API 1.48's name for the same limit.
    let keep = get(pairs, "keep-storage").filter(|v| !v.is_empty()).or(get(pairs, "reserved-space"));
    let keep_storage = match keep.filter(|v| !v.is_empty()) {
        Some(v) => {
            v.parse::<i64>().map_err(|_| ApiError::bad_request(format!("invalid keep-storage: {v}")))?.max(0) as u64
        }
        None => 0,
    };
    let filters =
        Filters::parse(get(pairs, "filters").unwrap_or("")).map_err(|e| ApiError::bad_request(e.to_string()))?;
    Ok(BuildPruneOptions { all: bool_value(get(pairs, "all")), keep_storage, filters })
}

async fn prune(State(engine): State<AppState>, Query(pairs): Pairs) -> Result<Response, ApiError> {
    let opts = parse_prune(&pairs)?;
    let r = engine.build_prune(&opts).await?;
    Ok(Json(serde_json::json!({ "CachesDeleted": r.caches_deleted, "SpaceReclaimed": r.space_reclaimed }))
        .into_response())
}

/// `POST /commit?container=…&repo=…&tag=…&comment=…&author=…&changes=…` with an optional
/// container config body (ignored beyond what `changes` can say).
async fn commit(State(engine): State<AppState>, Query(pairs): Pairs) -> Result<Response, ApiError> {
    let container = get(&pairs, "container").unwrap_or("").to_string();
    if container.is_empty() {
        return Err(ApiError::new(StatusCode::NOT_FOUND, "No such container: "));
    }
    let req = CommitRequest {
        container,
        repo: get(&pairs, "repo").unwrap_or("").to_string(),
        tag: get(&pairs, "tag").unwrap_or("").to_string(),
        comment: get(&pairs, "comment").unwrap_or("").to_string(),
        author: get(&pairs, "author").unwrap_or("").to_string(),
        changes: pairs.iter().filter(|(k, _)| k == "changes").map(|(_, v)| v.clone()).collect(),
        pause: get(&pairs, "pause").is_none_or(|v| bool_value(Some(v))),
    };
    let id = engine.image_commit(req).await?;
    Ok((StatusCode::CREATED, Json(serde_json::json!({ "Id": id }))).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(q: &[(&str, &str)]) -> Vec<(String, String)> {
        q.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn parses_build_query() {
        let o = parse_build(&pairs(&[
            ("t", "a:1"),
            ("t", "b"),
            ("buildargs", r#"{"V":"x","U":null}"#),
            ("labels", r#"{"l":"v"}"#),
            ("nocache", "1"),
            ("target", "build"),
            ("q", "true"),
        ]))
        .unwrap();
        assert_eq!(o.tags, ["a:1", "b"]);
        assert_eq!(o.build_args["V"].as_deref(), Some("x"));
        assert_eq!(o.build_args["U"], None);
        assert_eq!(o.labels["l"], "v");
        assert!(o.no_cache && o.quiet && o.rm && !o.force_rm);
        assert_eq!(o.target.as_deref(), Some("build"));
        assert_eq!(o.dockerfile, "Dockerfile");
        assert!(parse_build(&pairs(&[("buildargs", "{bad")])).is_err());
    }

    #[test]
    fn parses_limits_cache_from_and_prune_queries() {
        let o = parse_build(&pairs(&[
            ("cachefrom", r#"["app:1","app:2"]"#),
            ("shmsize", "33554432"),
            ("memory", "67108864"),
            ("memswap", "-1"),
            ("cpuquota", "50000"),
            ("cpusetcpus", "0"),
        ]))
        .unwrap();
        assert_eq!(o.cache_from, ["app:1", "app:2"]);
        assert_eq!((o.limits.shm_size, o.limits.memory, o.limits.memory_swap), (33554432, 67108864, -1));
        assert_eq!((o.limits.cpu_quota, o.limits.cpu_shares, o.limits.cpuset_cpus.as_str()), (50000, 0, "0"));
        assert!(parse_build(&pairs(&[("memory", "lots")])).is_err());
        let p =
            parse_prune(&pairs(&[("all", "1"), ("keep-storage", "1024"), ("filters", r#"{"until":{"24h":true}}"#)]))
                .unwrap();
        assert!(p.all);
        assert_eq!(p.keep_storage, 1024);
        assert_eq!(p.filters.get("until"), ["24h"]);
        assert_eq!(parse_prune(&pairs(&[("reserved-space", "7")])).unwrap().keep_storage, 7);
        assert!(!parse_prune(&[]).unwrap().all);
    }
}
