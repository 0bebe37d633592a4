//! Routes of the containers area: the route table and the pure request parsers; handlers are
//! grouped in `lifecycle.rs` (create, start, stop, kill, restart, wait, delete, rename, resize),
//! `query.rs` (list, inspect, top) and `streams.rs` (logs, attach).

mod archive;
mod lifecycle;
mod prune;
mod query;
mod resources;
mod streams;

use axum::http::Uri;
use axum::routing::{delete, get, post};
use axum::Router;
use berth_api_types::models::ContainerCreateBody;
use berth_api_types::query::containers::{ListQuery, LogsQuery};
use berth_api_types::Filters;
use berth_engine::containers::{ListOptions, LogOptions};
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/containers/create", post(lifecycle::create))
        .route("/containers/json", get(query::list))
        .route("/containers/prune", post(prune::prune))
        .route("/containers/{id}/json", get(query::inspect))
        .route("/containers/{id}/top", get(query::top))
        .route("/containers/{id}/stats", get(resources::stats))
        .route("/containers/{id}/update", post(resources::update))
        .route("/containers/{id}/pause", post(resources::pause))
        .route("/containers/{id}/unpause", post(resources::unpause))
        .route("/containers/{id}/start", post(lifecycle::start))
        .route("/containers/{id}/stop", post(lifecycle::stop))
        .route("/containers/{id}/restart", post(lifecycle::restart))
        .route("/containers/{id}/kill", post(lifecycle::kill))
        .route("/containers/{id}/wait", post(lifecycle::wait))
        .route("/containers/{id}/rename", post(lifecycle::rename))
        .route("/containers/{id}/resize", post(lifecycle::resize))
        .route("/containers/{id}/logs", get(streams::logs))
        .route("/containers/{id}/attach", post(streams::attach))
        .route("/containers/{id}/archive", get(archive::get_archive).head(archive::head).put(archive::put))
        .route("/containers/{id}/export", get(archive::export))
        .route("/containers/{id}", delete(lifecycle::remove))
}

/// Query string → struct, with a 400 in dockerd's JSON shape on failure.
pub fn query<T: DeserializeOwned>(uri: &Uri) -> Result<T, ApiError> {
    axum::extract::Query::<T>::try_from_uri(uri).map(|q| q.0).map_err(|e| ApiError::bad_request(e.body_text()))
}

/// The create body. Empty → dockerd's "Config cannot be empty"; malformed JSON → 400 naming
/// the problem and where.
pub fn parse_create_body(body: &[u8]) -> Result<ContainerCreateBody, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request("Config cannot be empty in order to create a container"));
    }
    let bad = |e: serde_json::Error| ApiError::bad_request(format!("invalid JSON in request body: {e}"));
    let mut value: serde_json::Value = serde_json::from_slice(body).map_err(bad)?;
    check_restart_policy_name(value.pointer("/HostConfig/RestartPolicy/Name"))?;
    // Docker's strslice: `"Cmd": "echo hi"` means `["echo hi"]` (likewise Entrypoint).
    if let Some(obj) = value.as_object_mut() {
        for key in ["Cmd", "Entrypoint"] {
            if let Some(serde_json::Value::String(s)) = obj.get(key) {
                let one = serde_json::Value::Array(vec![serde_json::Value::String(s.clone())]);
                obj.insert(key.to_string(), one);
            }
        }
    }
    serde_json::from_value(value).map_err(bad)
}

/// dockerd's 400 for an unknown `RestartPolicy.Name` (the wire enum would only say "unknown
/// variant"); used by create and update.
pub fn check_restart_policy_name(name: Option<&serde_json::Value>) -> Result<(), ApiError> {
    match name.and_then(serde_json::Value::as_str) {
        Some(n) if !["", "no", "always", "unless-stopped", "on-failure"].contains(&n) => {
            Err(ApiError::bad_request(format!("invalid restart policy '{n}'")))
        }
        _ => Ok(()),
    }
}

/// Go's `strconv.Atoi` with its error text.
pub fn atoi(s: &str) -> Result<i64, ApiError> {
    s.trim().parse::<i64>().map_err(|_| ApiError::bad_request(format!("strconv.Atoi: parsing \"{s}\": invalid syntax")))
}

/// `?t=` of stop/restart: absent or empty = the container's default.
pub fn parse_timeout(t: Option<&str>) -> Result<Option<i64>, ApiError> {
    t.filter(|t| !t.is_empty()).map(atoi).transpose()
}

/// `?h=&w=` of resize.
pub fn parse_size(h: Option<&str>, w: Option<&str>) -> Result<(u16, u16), ApiError> {
    let dim = |v: Option<&str>| -> Result<u16, ApiError> {
        let n = atoi(v.unwrap_or(""))?;
        u16::try_from(n).map_err(|_| ApiError::bad_request(format!("invalid terminal size {n}")))
    };
    Ok((dim(h)?, dim(w)?))
}

/// Unix seconds with an optional fraction (`1700000000.5`), as the docker CLI sends them.
pub fn parse_timestamp(s: &str) -> Result<f64, ApiError> {
    s.parse::<f64>().map_err(|_| ApiError::bad_request(format!("invalid value for time: {s:?}")))
}

pub fn parse_logs(q: &LogsQuery) -> Result<LogOptions, ApiError> {
    let time = |v: &Option<String>| -> Result<Option<f64>, ApiError> {
        v.as_deref().filter(|s| !s.is_empty() && *s != "0").map(parse_timestamp).transpose()
    };
    let tail = match q.tail.as_deref().map(str::trim) {
        None | Some("") | Some("all") => None,
        Some(n) => match n.parse::<i64>() {
            Ok(n) if n < 0 => None,
            Ok(n) => Some(usize::try_from(n).unwrap_or(usize::MAX)),
            Err(_) => return Err(ApiError::bad_request(format!("invalid value for tail: {n:?}"))),
        },
    };
    Ok(LogOptions {
        follow: q.follow,
        stdout: q.stdout,
        stderr: q.stderr,
        since: time(&q.since)?,
        until: time(&q.until)?,
        timestamps: q.timestamps,
        tail,
    })
}

pub fn parse_list(q: &ListQuery) -> Result<ListOptions, ApiError> {
    let limit = match q.limit.as_deref().filter(|l| !l.is_empty()) {
        None => None,
        Some(l) => {
            let n = atoi(l)?;
            (n > 0).then(|| usize::try_from(n).unwrap_or(usize::MAX))
        }
    };
    let filters =
        Filters::parse(q.filters.as_deref().unwrap_or("")).map_err(|e| ApiError::bad_request(e.to_string()))?;
    Ok(ListOptions { all: q.all, limit, size: q.size, filters })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::StatusCode;

    #[test]
    fn create_body() {
        let b = parse_create_body(br#"{"Image":"busybox","Cmd":["true"],"HostConfig":{"AutoRemove":true}}"#).unwrap();
        assert_eq!(b.image.as_deref(), Some("busybox"));
        assert_eq!(b.host_config.unwrap().auto_remove, Some(true));
        let e = parse_create_body(b"{bad").unwrap_err();
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        assert!(e.message.starts_with("invalid JSON in request body: "), "{}", e.message);
        let body = parse_create_body(br#"{"Image":"busybox","Cmd":"echo hi","Entrypoint":["sh","-c"]}"#).unwrap();
        assert_eq!(body.cmd, Some(vec!["echo hi".to_string()]));
        assert_eq!(body.entrypoint, Some(vec!["sh".to_string(), "-c".to_string()]));
        assert!(parse_create_body(br#"{"Image":"busybox","Cmd":5}"#).is_err());
        assert_eq!(
            parse_create_body(b"").unwrap_err().message,
            "Config cannot be empty in order to create a container"
        );
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_timeout(None).unwrap(), None);
        assert_eq!(parse_timeout(Some("")).unwrap(), None);
        assert_eq!(parse_timeout(Some("5")).unwrap(), Some(5));
        assert_eq!(parse_timeout(Some("-1")).unwrap(), Some(-1));
        assert_eq!(parse_timeout(Some("x")).unwrap_err().message, "strconv.Atoi: parsing \"x\": invalid syntax");
        assert_eq!(parse_size(Some("24"), Some("80")).unwrap(), (24, 80));
        assert!(parse_size(Some("x"), Some("80")).is_err());
        assert!(parse_size(None, Some("80")).is_err());
    }

    #[test]
    fn logs_query() {
        let q: LogsQuery = query(&"/x?stdout=1&tail=2&since=1700000000.5&timestamps=true".parse().unwrap()).unwrap();
        let o = parse_logs(&q).unwrap();
        assert!(o.stdout && !o.stderr && o.timestamps && !o.follow);
        assert_eq!(o.tail, Some(2));
        assert_eq!(o.since, Some(1_700_000_000.5));
        let q: LogsQuery = query(&"/x?stderr=1&tail=all&until=1704067200".parse().unwrap()).unwrap();
        let o = parse_logs(&q).unwrap();
        assert_eq!((o.tail, o.until), (None, Some(1_704_067_200.0)));
        let q: LogsQuery = query(&"/x?since=yesterday".parse().unwrap()).unwrap();
        assert!(parse_logs(&q).is_err());
        let q: LogsQuery = query(&"/x?tail=x".parse().unwrap()).unwrap();
        assert!(parse_logs(&q).is_err());
        assert!(query::<LogsQuery>(&"/x?follow=maybe".parse().unwrap()).is_err());
    }

    #[test]
    fn list_query() {
        let q: ListQuery =
            query(&"/x?all=1&limit=3&filters=%7B%22status%22%3A%5B%22exited%22%5D%7D".parse().unwrap()).unwrap();
        let o = parse_list(&q).unwrap();
        assert!(o.all);
        assert_eq!(o.limit, Some(3));
        assert_eq!(o.filters.get("status"), ["exited"]);
        let q: ListQuery = query(&"/x?filters=%7Bbad".parse().unwrap()).unwrap();
        assert_eq!(parse_list(&q).unwrap_err().status, StatusCode::BAD_REQUEST);
        let q: ListQuery = query(&"/x?limit=-1".parse().unwrap()).unwrap();
        assert_eq!(parse_list(&q).unwrap().limit, None);
    }
}
