//! `docker cp` and `docker export`: `HEAD`/`GET`/`PUT /containers/{id}/archive`
//! (ContainerArchiveInfo, ContainerArchive, PutContainerArchive) and `GET /containers/{id}/export`
//! (ContainerExport).

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use berth_api_types::archive::ContainerPathStat;
use berth_engine::containers::ExtractRequest;
use futures_util::TryStreamExt;
use tokio_util::io::{ReaderStream, StreamReader};

use crate::error::ApiError;
use crate::AppState;

type Pairs = Query<Vec<(String, String)>>;

/// Go's `httputils.BoolValue`: anything but empty, `0`, `no`, `false`, `none` is true.
pub(crate) fn bool_value(v: Option<&str>) -> bool {
    let s = v.unwrap_or("").trim().to_ascii_lowercase();
    !matches!(s.as_str(), "" | "0" | "no" | "false" | "none")
}

fn get<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// The `path` parameter; dockerd answers a missing one with this (sic) message.
pub(crate) fn parse_path(pairs: &[(String, String)]) -> Result<String, ApiError> {
    match get(pairs, "path") {
        Some(p) if !p.is_empty() => Ok(p.to_string()),
        _ => Err(ApiError::bad_request("bad parameter: pathcannot be empty")),
    }
}

pub(crate) fn parse_extract(pairs: &[(String, String)]) -> Result<ExtractRequest, ApiError> {
    Ok(ExtractRequest {
        path: parse_path(pairs)?,
        no_overwrite_dir_non_dir: bool_value(get(pairs, "noOverwriteDirNonDir")),
        copy_uid_gid: bool_value(get(pairs, "copyUIDGID")),
    })
}

fn stat_header(stat: &ContainerPathStat) -> (header::HeaderName, HeaderValue) {
    let value = HeaderValue::from_str(&stat.to_header()).unwrap_or_else(|_| HeaderValue::from_static(""));
    // `X-Docker-Container-Path-Stat` (`berth_api_types::archive::PATH_STAT_HEADER`).
    (header::HeaderName::from_static("x-docker-container-path-stat"), value)
}

pub async fn head(
    State(engine): State<AppState>,
    Path(id): Path<String>,
    Query(q): Pairs,
) -> Result<Response, ApiError> {
    let path = parse_path(&q)?;
    let stat = engine.container_archive_info(&id, &path).await?;
    Ok(([stat_header(&stat), (header::CONTENT_TYPE, HeaderValue::from_static("application/json"))]).into_response())
}

pub async fn get_archive(
    State(engine): State<AppState>,
    Path(id): Path<String>,
    Query(q): Pairs,
) -> Result<Response, ApiError> {
    let path = parse_path(&q)?;
    let (stat, reader) = engine.container_archive(&id, &path).await?;
    let ct = (header::CONTENT_TYPE, HeaderValue::from_static("application/x-tar"));
    Ok(([stat_header(&stat), ct], Body::from_stream(ReaderStream::new(reader))).into_response())
}

pub async fn put(
    State(engine): State<AppState>,
    Path(id): Path<String>,
    Query(q): Pairs,
    body: Body,
) -> Result<Response, ApiError> {
    let req = parse_extract(&q)?;
    let reader = StreamReader::new(body.into_data_stream().map_err(std::io::Error::other));
    engine.container_extract_to_dir(&id, req, reader).await?;
    Ok(axum::http::StatusCode::OK.into_response())
}

pub async fn export(State(engine): State<AppState>, Path(id): Path<String>) -> Result<Response, ApiError> {
    let reader = engine.container_export(&id).await?;
    Ok(([(header::CONTENT_TYPE, "application/x-tar")], Body::from_stream(ReaderStream::new(reader))).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn parses_like_dockerd() {
        assert_eq!(parse_path(&pairs(&[])).unwrap_err().message, "bad parameter: pathcannot be empty");
        assert_eq!(parse_path(&pairs(&[("path", "")])).unwrap_err().status, 400);
        let r =
            parse_extract(&pairs(&[("path", "/tmp"), ("noOverwriteDirNonDir", "true"), ("copyUIDGID", "0")])).unwrap();
        assert_eq!((r.path.as_str(), r.no_overwrite_dir_non_dir, r.copy_uid_gid), ("/tmp", true, false));
        for (v, want) in [("1", true), ("True", true), ("no", false), (" none ", false), ("", false), ("x", true)] {
            assert_eq!(bool_value(Some(v)), want, "{v}");
        }
    }
}
