//! Parsing `/v2/<rest>` into a route: names contain slashes, so the operation is found from the
//! end of the path.

use berth_image::Digest;

use crate::error::{Code, RegistryError, Result};

#[derive(Debug, Clone, PartialEq)]
pub enum Route {
    Catalog,
    Tags(String),
    Manifest(String, String),
    Blob(String, Digest),
    UploadStart(String),
    Upload(String, String),
    Referrers(String, Digest),
}

/// Whether `name` is a valid repository name (`[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*` components).
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && name.split('/').all(|c| {
            let b = c.as_bytes();
            !b.is_empty()
                && b[0].is_ascii_alphanumeric()
                && b[b.len() - 1].is_ascii_alphanumeric()
                && b.iter().all(|&x| x.is_ascii_lowercase() || x.is_ascii_digit() || matches!(x, b'.' | b'_' | b'-'))
                && !c.contains("___")
                && !c.contains("..")
        })
}

fn name(n: &str) -> Result<String> {
    if valid_name(n) {
        Ok(n.to_string())
    } else {
        Err(RegistryError::new(Code::NameInvalid, format!("invalid repository name: {n}")))
    }
}

fn digest(d: &str) -> Result<Digest> {
    d.parse().map_err(|e| RegistryError::new(Code::DigestInvalid, format!("invalid digest {d}: {e}")))
}

pub fn parse(rest: &str) -> Result<Route> {
    let rest = rest.trim_start_matches('/');
    if rest == "_catalog" {
        return Ok(Route::Catalog);
    }
    if let Some(n) = rest.strip_suffix("/tags/list") {
        return Ok(Route::Tags(name(n)?));
    }
    if let Some(n) = rest.strip_suffix("/blobs/uploads/").or_else(|| rest.strip_suffix("/blobs/uploads")) {
        return Ok(Route::UploadStart(name(n)?));
    }
    if let Some((n, uuid)) = rest.rsplit_once("/blobs/uploads/") {
        if uuid.is_empty() || !uuid.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err(RegistryError::new(Code::BlobUploadUnknown, "blob upload unknown to registry"));
        }
        return Ok(Route::Upload(name(n)?, uuid.to_string()));
    }
    if let Some((n, d)) = rest.rsplit_once("/blobs/") {
        return Ok(Route::Blob(name(n)?, digest(d)?));
    }
    if let Some((n, r)) = rest.rsplit_once("/manifests/") {
        let ok_tag = berth_image::reference::valid_tag(r);
        if !ok_tag && r.parse::<Digest>().is_err() {
            return Err(RegistryError::new(Code::ManifestInvalid, format!("invalid reference {r}")));
        }
        return Ok(Route::Manifest(name(n)?, r.to_string()));
    }
    if let Some((n, d)) = rest.rsplit_once("/referrers/") {
        return Ok(Route::Referrers(name(n)?, digest(d)?));
    }
    Err(RegistryError::new(Code::NameUnknown, format!("no such route: /v2/{rest}")))
}
