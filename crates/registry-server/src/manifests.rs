//! Manifests: `HEAD/GET/PUT/DELETE /v2/<name>/manifests/<tag|digest>` (Docker schema2 and OCI
//! manifests and indexes) and `GET /v2/<name>/referrers/<digest>`.

use axum::body::Body;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use berth_image::manifest::media;
use berth_image::Digest;
use futures_util::StreamExt;

use crate::error::{Code, RegistryError, Result};
use crate::{empty, param, AppState};

/// Largest manifest accepted (the spec suggests at least 4 MiB).
const MAX_MANIFEST: usize = 4 << 20;

fn manifest_unknown(r: &str) -> RegistryError {
    RegistryError::new(Code::ManifestUnknown, format!("manifest unknown: {r}"))
}

/// The digest a tag or digest reference names in `name`.
fn resolve(reg: &AppState, name: &str, r: &str) -> Result<Digest> {
    match r.parse::<Digest>() {
        Ok(d) => Ok(d),
        Err(_) => reg.storage.tag(name, r).ok_or_else(|| manifest_unknown(r)),
    }
}

pub fn get(reg: &AppState, name: &str, r: &str, head: bool) -> Result<Response> {
    let d = resolve(reg, name, r)?;
    let media_type = reg.storage.manifest_media_type(name, &d).ok_or_else(|| manifest_unknown(r))?;
    let hdrs = [("Content-Type", media_type), ("Docker-Content-Digest", d.to_string()), ("ETag", format!("\"{d}\""))];
    if head {
        let size = reg.storage.content.size(&d)?;
        let mut h = hdrs.to_vec();
        h.push(("Content-Length", size.to_string()));
        return Ok(empty(StatusCode::OK, &h));
    }
    let bytes = reg.storage.content.read(&d)?;
    let mut resp = (StatusCode::OK, bytes).into_response();
    for (k, v) in hdrs {
        if let Ok(v) = v.parse() {
            resp.headers_mut().insert(k, v);
        }
    }
    Ok(resp)
}

/// The media type of an uploaded manifest: `Content-Type`, else the body's `mediaType`, else
/// guessed from its shape. Only image manifests and indexes are accepted.
pub(crate) fn media_type_of(content_type: Option<&str>, v: &serde_json::Value) -> Result<String> {
    let from_body = v.get("mediaType").and_then(|m| m.as_str());
    let mt = match content_type.map(|c| c.split(';').next().unwrap_or("").trim()) {
        Some(c) if !c.is_empty() && c != "application/json" && c != "application/octet-stream" => c.to_string(),
        _ => match from_body {
            Some(m) => m.to_string(),
            None if v.get("manifests").is_some() => media::OCI_INDEX.to_string(),
            None => media::OCI_MANIFEST.to_string(),
        },
    };
    if let Some(b) = from_body {
        if b != mt {
            return Err(RegistryError::new(
                Code::ManifestInvalid,
                format!("mediaType {b} does not match Content-Type {mt}"),
            ));
        }
    }
    match mt.as_str() {
        media::OCI_MANIFEST | media::OCI_INDEX | media::DOCKER_MANIFEST | media::DOCKER_LIST => Ok(mt),
        other => Err(RegistryError::new(Code::ManifestInvalid, format!("unsupported manifest media type {other}"))),
    }
}

fn descriptor_digest(v: &serde_json::Value) -> Result<Digest> {
    v.get("digest")
        .and_then(|d| d.as_str())
        .and_then(|d| d.parse().ok())
        .ok_or_else(|| RegistryError::new(Code::ManifestInvalid, "descriptor without a valid digest"))
}

/// Every blob and child manifest the manifest refers to must already be in the repository.
fn check_references(reg: &AppState, name: &str, v: &serde_json::Value) -> Result<()> {
    if let Some(children) = v.get("manifests").and_then(|m| m.as_array()) {
        for c in children {
            let d = descriptor_digest(c)?;
            if reg.storage.manifest_media_type(name, &d).is_none() {
                return Err(RegistryError::new(Code::ManifestBlobUnknown, format!("manifest blob unknown: {d}")));
            }
        }
        return Ok(());
    }
    let config = v.get("config").ok_or_else(|| RegistryError::new(Code::ManifestInvalid, "manifest without config"))?;
    let layers = v.get("layers").and_then(|l| l.as_array()).cloned().unwrap_or_default();
    for desc in std::iter::once(config).chain(layers.iter()) {
        let d = descriptor_digest(desc)?;
        if !reg.storage.blob_linked(name, &d) {
            return Err(RegistryError::new(Code::ManifestBlobUnknown, format!("blob unknown to registry: {d}")));
        }
    }
    Ok(())
}

pub async fn put(reg: &AppState, name: &str, r: &str, headers: &HeaderMap, body: Body) -> Result<Response> {
    let mut bytes = Vec::new();
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| RegistryError::new(Code::ManifestInvalid, format!("reading body: {e}")))?;
        if bytes.len() + chunk.len() > MAX_MANIFEST {
            return Err(RegistryError::new(Code::SizeInvalid, "manifest too large"));
        }
        bytes.extend_from_slice(&chunk);
    }
    let v: serde_json::Value = serde_json::from_slice(&bytes)
        .map_err(|e| RegistryError::new(Code::ManifestInvalid, format!("manifest is not JSON: {e}")))?;
    let ct = headers.get(header::CONTENT_TYPE).and_then(|c| c.to_str().ok());
    let media_type = media_type_of(ct, &v)?;
    let digest = Digest::sha256_of(&bytes);
    let tag = match r.parse::<Digest>() {
        Ok(want) if want != digest => {
            return Err(RegistryError::new(
                Code::DigestInvalid,
                format!("manifest digest {digest} does not match {want}"),
            ))
        }
        Ok(_) => None,
        Err(_) => Some(r),
    };
    check_references(reg, name, &v)?;
    let d = reg.storage.put_manifest(name, &bytes, &media_type)?;
    let mut hdrs = vec![
        ("Location", format!("/v2/{name}/manifests/{d}")),
        ("Docker-Content-Digest", d.to_string()),
        ("Content-Length", "0".to_string()),
    ];
    if let Some(subject) = v.get("subject") {
        let s = descriptor_digest(subject)?;
        let artifact_type = v
            .get("artifactType")
            .or_else(|| v.get("config").and_then(|c| c.get("mediaType")))
            .cloned()
            .unwrap_or(serde_json::Value::Null);
        let mut desc = serde_json::json!({
            "mediaType": media_type, "digest": d.to_string(), "size": bytes.len(), "artifactType": artifact_type,
        });
        if let Some(a) = v.get("annotations") {
            desc["annotations"] = a.clone();
        }
        reg.storage.add_referrer(name, &s, &d, &desc)?;
        hdrs.push(("OCI-Subject", s.to_string()));
    }
    if let Some(t) = tag {
        reg.storage.set_tag(name, t, &d)?;
    }
    Ok(empty(StatusCode::CREATED, &hdrs))
}

pub fn delete(reg: &AppState, name: &str, r: &str) -> Result<Response> {
    let found = match r.parse::<Digest>() {
        Ok(d) => reg.storage.delete_manifest(name, &d)?,
        Err(_) => reg.storage.remove_tag(name, r)?,
    };
    if found {
        Ok(empty(StatusCode::ACCEPTED, &[]))
    } else {
        Err(manifest_unknown(r))
    }
}

pub fn referrers(reg: &AppState, name: &str, d: &Digest, q: &[(String, String)]) -> Result<Response> {
    let mut list = reg.storage.referrers(name, d)?;
    let filter = param(q, "artifactType");
    if let Some(at) = filter {
        list.retain(|v| v.get("artifactType").and_then(|a| a.as_str()) == Some(at));
    }
    let body = serde_json::json!({ "schemaVersion": 2, "mediaType": media::OCI_INDEX, "manifests": list });
    let mut resp = (StatusCode::OK, [(header::CONTENT_TYPE, media::OCI_INDEX)], body.to_string()).into_response();
    if filter.is_some() {
        resp.headers_mut().insert("OCI-Filters-Applied", axum::http::HeaderValue::from_static("artifactType"));
    }
    Ok(resp)
}
