//! Blobs: `HEAD/GET/DELETE /v2/<name>/blobs/<digest>` and uploads
//! (`POST /v2/<name>/blobs/uploads/`, `PATCH|PUT|GET|DELETE …/uploads/<uuid>`), monolithic,
//! chunked and cross-repository mount. An upload lives in `uploads/<uuid>` until `PUT ?digest=`
//! copies it through a content-store writer that checks the digest before the rename.

use axum::body::Body;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use berth_image::Digest;

use crate::error::{Code, RegistryError, Result};
use crate::{empty, param, upload, AppState};

fn blob_unknown(d: &Digest) -> RegistryError {
    RegistryError::new(Code::BlobUnknown, format!("blob unknown to registry: {d}"))
}

/// Parses `bytes=<start>-<end>` (end optional) against a blob of `size` bytes.
pub(crate) fn parse_range(value: &str, size: u64) -> Option<(u64, u64)> {
    let spec = value.trim().strip_prefix("bytes=")?;
    let (a, b) = spec.split_once('-')?;
    let (start, end) = if a.is_empty() {
        let n: u64 = b.parse().ok()?;
        (size.checked_sub(n.min(size))?, size.checked_sub(1)?)
    } else {
        let start: u64 = a.parse().ok()?;
        let end = if b.is_empty() { size.checked_sub(1)? } else { b.parse::<u64>().ok()?.min(size.checked_sub(1)?) };
        (start, end)
    };
    (start <= end && end < size).then_some((start, end))
}

pub async fn get(reg: &AppState, name: &str, d: &Digest, headers: &HeaderMap, head: bool) -> Result<Response> {
    if !reg.storage.blob_linked(name, d) {
        return Err(blob_unknown(d));
    }
    let size = reg.storage.content.size(d)?;
    let range = headers.get(header::RANGE).and_then(|v| v.to_str().ok());
    let (status, start, len, content_range) = match range {
        Some(r) => match parse_range(r, size) {
            Some((s, e)) => (StatusCode::PARTIAL_CONTENT, s, e - s + 1, Some(format!("bytes {s}-{e}/{size}"))),
            None => {
                return Err(RegistryError::new(
                    Code::RangeInvalid,
                    format!("invalid range {r} for a blob of {size} bytes"),
                ))
            }
        },
        None => (StatusCode::OK, 0, size, None),
    };
    let mut hdrs = vec![
        ("Content-Length", len.to_string()),
        ("Docker-Content-Digest", d.to_string()),
        ("Content-Type", "application/octet-stream".to_string()),
        ("Accept-Ranges", "bytes".to_string()),
        ("ETag", format!("\"{d}\"")),
    ];
    if let Some(cr) = content_range {
        hdrs.push(("Content-Range", cr));
    }
    if head {
        return Ok(empty(status, &hdrs));
    }
    let body = match usize::try_from(len) {
        Ok(0) => Body::empty(),
        Ok(n) => crate::send_file::body(reg.storage.content.map(d, start, n)?),
        Err(_) => return Err(RegistryError::new(Code::RangeInvalid, format!("a range of {len} bytes"))),
    };
    let mut resp = (status, body).into_response();
    for (k, v) in hdrs {
        if let Ok(v) = v.parse() {
            resp.headers_mut().insert(k, v);
        }
    }
    Ok(resp)
}

pub fn delete(reg: &AppState, name: &str, d: &Digest) -> Result<Response> {
    if reg.storage.delete_blob_link(name, d)? {
        Ok(empty(StatusCode::ACCEPTED, &[("Docker-Content-Digest", d.to_string())]))
    } else {
        Err(blob_unknown(d))
    }
}

fn new_uuid() -> String {
    let a: u128 = rand::random();
    let h = format!("{a:032x}");
    format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..])
}

fn upload_accepted(name: &str, uuid: &str, size: u64) -> Response {
    let range = if size == 0 { "0-0".to_string() } else { format!("0-{}", size - 1) };
    empty(
        StatusCode::ACCEPTED,
        &[
            ("Location", format!("/v2/{name}/blobs/uploads/{uuid}")),
            ("Range", range),
            ("Docker-Upload-UUID", uuid.to_string()),
            ("Content-Length", "0".to_string()),
        ],
    )
}

fn blob_created(name: &str, d: &Digest) -> Response {
    empty(
        StatusCode::CREATED,
        &[
            ("Location", format!("/v2/{name}/blobs/{d}")),
            ("Docker-Content-Digest", d.to_string()),
            ("Content-Length", "0".to_string()),
        ],
    )
}

/// Moves the finished upload into the content store, verifying `d`, and links it into `name`.
async fn finish(reg: &AppState, name: &str, uuid: &str, d: Digest) -> Result<Response> {
    let d = upload::commit(&reg.storage, uuid, &d).await?;
    reg.storage.link_blob(name, &d)?;
    Ok(blob_created(name, &d))
}

fn parse_digest(q: &[(String, String)]) -> Result<Option<Digest>> {
    param(q, "digest")
        .map(|s| s.parse().map_err(|e| RegistryError::new(Code::DigestInvalid, format!("invalid digest {s}: {e}"))))
        .transpose()
}

pub async fn start_upload(reg: &AppState, name: &str, q: &[(String, String)], body: Body) -> Result<Response> {
    if let Some(mount) = param(q, "mount") {
        if let Ok(d) = mount.parse::<Digest>() {
            let from = param(q, "from").unwrap_or_default();
            if reg.storage.blob_linked(from, &d) || reg.storage.blob_linked(name, &d) {
                reg.storage.link_blob(name, &d)?;
                return Ok(blob_created(name, &d));
            }
        }
        // Not mountable: the spec says to start an ordinary upload instead.
    }
    let uuid = new_uuid();
    let path = reg.storage.upload_path(&uuid);
    tokio::fs::write(&path, b"").await?;
    if let Some(d) = parse_digest(q)? {
        upload::append(&reg.storage, &uuid, body).await?;
        return finish(reg, name, &uuid, d).await;
    }
    Ok(upload_accepted(name, &uuid, 0))
}

pub async fn patch_upload(reg: &AppState, name: &str, uuid: &str, headers: &HeaderMap, body: Body) -> Result<Response> {
    let path = reg.storage.upload_path(uuid);
    let current = tokio::fs::metadata(&path)
        .await
        .map_err(|_| RegistryError::new(Code::BlobUploadUnknown, "blob upload unknown to registry"))?
        .len();
    if let Some(cr) = headers.get(header::CONTENT_RANGE).and_then(|v| v.to_str().ok()) {
        let start = cr.trim().trim_start_matches("bytes ").split('-').next().and_then(|s| s.parse::<u64>().ok());
        if start != Some(current) {
            return Err(RegistryError::new(
                Code::RangeInvalid,
                format!("chunk out of order: Content-Range {cr}, upload has {current} bytes"),
            ));
        }
    }
    let size = upload::append(&reg.storage, uuid, body).await?;
    Ok(upload_accepted(name, uuid, size))
}

pub async fn put_upload(
    reg: &AppState,
    name: &str,
    uuid: &str,
    q: &[(String, String)],
    body: Body,
) -> Result<Response> {
    let Some(d) = parse_digest(q)? else {
        return Err(RegistryError::new(Code::DigestInvalid, "the digest parameter is required"));
    };
    upload::append(&reg.storage, uuid, body).await?;
    finish(reg, name, uuid, d).await
}

pub fn upload_status(reg: &AppState, name: &str, uuid: &str) -> Result<Response> {
    let size = std::fs::metadata(reg.storage.upload_path(uuid))
        .map_err(|_| RegistryError::new(Code::BlobUploadUnknown, "blob upload unknown to registry"))?
        .len();
    let mut resp = upload_accepted(name, uuid, size);
    *resp.status_mut() = StatusCode::NO_CONTENT;
    Ok(resp)
}

pub fn cancel_upload(reg: &AppState, uuid: &str) -> Result<Response> {
    reg.storage.uploads.forget(uuid);
    std::fs::remove_file(reg.storage.upload_path(uuid))
        .map_err(|_| RegistryError::new(Code::BlobUploadUnknown, "blob upload unknown to registry"))?;
    Ok(empty(StatusCode::NO_CONTENT, &[]))
}
