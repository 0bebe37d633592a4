//! [`Client::push_blob_streamed`]: a blob upload whose digest is not known when it starts, as
//! dockerd pushes a layer it compresses on the fly: `POST …/blobs/uploads/`, the whole blob as
//! one streamed `PATCH` (chunked transfer encoding), then `PUT …?digest=` with the sha256
//! computed while the bytes went out.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use base64::Engine as _;
use berth_image::Digest;
use bytes::Bytes;
use futures_util::stream::BoxStream;
use futures_util::Stream;
use reqwest::{Response, StatusCode};
use sha2::{Digest as _, Sha256};

use crate::client::Client;
use crate::{Error, Result};

/// What went through the body so far.
#[derive(Default)]
struct Tally {
    hasher: Sha256,
    size: u64,
    ended: bool,
}

/// Hashes and counts the pieces of a body as reqwest takes them.
struct Hashing {
    inner: BoxStream<'static, std::io::Result<Bytes>>,
    tally: Arc<Mutex<Tally>>,
}

impl Stream for Hashing {
    type Item = std::io::Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let polled = self.inner.as_mut().poll_next(cx);
        if let Poll::Ready(item) = &polled {
            if let Ok(mut t) = self.tally.lock() {
                match item {
                    Some(Ok(b)) => {
                        t.hasher.update(b);
                        t.size += b.len() as u64;
                    }
                    None => t.ended = true,
                    Some(Err(_)) => {}
                }
            }
        }
        polled
    }
}

fn http(context: String) -> impl FnOnce(reqwest::Error) -> Error {
    move |source| Error::Http { context, source }
}

/// A failed upload step as an error, with the registry's own message when it sent one.
async fn failed(context: &str, resp: Response) -> Error {
    let status = resp.status();
    let body = resp.text().await.unwrap_or_default();
    let message = serde_json::from_str::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| {
            let errors = v.get("errors")?.as_array()?.clone();
            let msgs: Vec<String> =
                errors.iter().filter_map(|e| e.get("message").and_then(|m| m.as_str()).map(str::to_string)).collect();
            (!msgs.is_empty()).then(|| msgs.join("; "))
        })
        .unwrap_or_else(|| format!("unexpected status code {status}"));
    match status {
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => Error::Unauthorized(format!("{context}: {message}")),
        _ => Error::Unexpected(format!("{context}: {message}")),
    }
}

impl Client {
    /// The `Authorization` value for pushing: the bearer token of the registry's token
    /// service, or basic credentials when the registry asks for those.
    async fn push_authorization(&self) -> Result<Option<String>> {
        use oci_client::secrets::RegistryAuth;
        self.inner.store_auth_if_needed(&self.host, &self.auth).await;
        let token = self
            .inner
            .auth(&self.any_ref(), &self.auth, oci_client::RegistryOperation::Push)
            .await
            .map_err(crate::client::oci_err(format!("authenticating to {}", self.host)))?;
        Ok(match (token, &self.auth) {
            (Some(t), _) => Some(format!("Bearer {t}")),
            (None, RegistryAuth::Basic(u, p)) => {
                Some(format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"))))
            }
            (None, _) => None,
        })
    }

    /// `Location` of an upload response, made absolute against the registry.
    fn location(&self, resp: &Response) -> Result<String> {
        let loc =
            resp.headers().get(reqwest::header::LOCATION).and_then(|v| v.to_str().ok()).ok_or_else(|| {
                Error::Unexpected(format!("registry {}: upload response without Location", self.host))
            })?;
        if loc.starts_with("http://") || loc.starts_with("https://") {
            Ok(loc.to_string())
        } else {
            Ok(format!("{}{}", self.base, if loc.starts_with('/') { loc.to_string() } else { format!("/{loc}") }))
        }
    }

    /// Uploads the blob `data` produces (an `Err` item aborts the upload); returns its digest
    /// and size, computed as the bytes went out.
    pub async fn push_blob_streamed(&self, data: BoxStream<'static, std::io::Result<Bytes>>) -> Result<(Digest, u64)> {
        let authz = self.push_authorization().await?;
        let web = self.http.get_or_init(|| self.endpoint.http_client());
        let with_auth = |rb: reqwest::RequestBuilder| match &authz {
            Some(a) => rb.header(reqwest::header::AUTHORIZATION, a),
            None => rb,
        };
        let start = format!("{}/v2/{}/blobs/uploads/", self.base, self.repository);
        let resp = with_auth(web.post(&start))
            .header(reqwest::header::CONTENT_LENGTH, "0")
            .send()
            .await
            .map_err(http(format!("starting upload to {}", self.host)))?;
        if resp.status() != StatusCode::ACCEPTED {
            return Err(failed("starting blob upload", resp).await);
        }
        let location = self.location(&resp)?;

        let tally = Arc::new(Mutex::new(Tally::default()));
        let body = reqwest::Body::wrap_stream(Hashing { inner: data, tally: tally.clone() });
        let sent = with_auth(web.patch(&location))
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .body(body)
            .send()
            .await;
        let resp = match sent {
            Ok(r) if r.status() == StatusCode::ACCEPTED || r.status() == StatusCode::NO_CONTENT => r,
            Ok(r) => return Err(failed("uploading blob", r).await),
            Err(e) => {
                // Our stream failed or the connection broke: tell the registry to drop it.
                let _ = with_auth(web.delete(&location)).send().await;
                return Err(Error::Http { context: "uploading blob".into(), source: e });
            }
        };
        let location = self.location(&resp)?;
        let (digest, size) = {
            let mut t = tally.lock().map_err(|_| Error::Unexpected("upload digest state poisoned".into()))?;
            if !t.ended {
                return Err(Error::Unexpected(format!("registry {} answered before the blob was sent", self.host)));
            }
            (Digest::from_hasher(std::mem::take(&mut t.hasher)), t.size)
        };
        let sep = if location.contains('?') { '&' } else { '?' };
        let put = format!("{location}{sep}digest={digest}");
        let resp = with_auth(web.put(&put))
            .header(reqwest::header::CONTENT_LENGTH, "0")
            .send()
            .await
            .map_err(http(format!("finishing upload of {digest}")))?;
        if resp.status() != StatusCode::CREATED {
            return Err(failed(&format!("finishing upload of {digest}"), resp).await);
        }
        Ok((digest, size))
    }
}
