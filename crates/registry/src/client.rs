//! [`Client`]: one registry repository, over `oci-client`.

use berth_image::manifest::media;
use berth_image::Digest;
use bytes::Bytes;
use futures_util::stream::BoxStream;
use futures_util::StreamExt;
use oci_client::client::{Certificate, CertificateEncoding, ClientConfig, ClientProtocol};
use oci_client::manifest::OciDescriptor;
use oci_client::Reference as OciRef;

use crate::{Credentials, Endpoint, Error, Result};

/// Media types accepted when fetching a manifest.
const ACCEPT: &[&str] = &[media::DOCKER_MANIFEST, media::DOCKER_LIST, media::OCI_MANIFEST, media::OCI_INDEX];

/// A client for one repository of one registry.
pub struct Client {
    pub(crate) inner: oci_client::Client,
    pub(crate) auth: oci_client::secrets::RegistryAuth,
    pub(crate) host: String,
    pub(crate) repository: String,
    /// `scheme://host`, and a plain HTTP client with the endpoint's TLS settings, for the
    /// streamed uploads `oci-client` does not do (see `upload.rs`).
    pub(crate) base: String,
    pub(crate) endpoint: Endpoint,
    pub(crate) http: std::sync::OnceLock<reqwest::Client>,
}

/// A fetched manifest: raw bytes, media type and digest (verified).
#[derive(Debug, Clone)]
pub struct Fetched {
    pub bytes: Bytes,
    pub media_type: String,
    pub digest: Digest,
}

pub(crate) fn oci_err(context: String) -> impl FnOnce(oci_client::errors::OciDistributionError) -> Error {
    use oci_client::errors::OciDistributionError as E;
    move |e| match e {
        E::ImageManifestNotFoundError(m) => Error::NotFound(format!("{context}: {m}")),
        E::AuthenticationFailure(m) | E::UnauthorizedError { url: m } => {
            Error::Unauthorized(format!("{context}: unauthorized: {m}"))
        }
        E::RegistryError { envelope, .. }
            if envelope.errors.iter().any(|x| format!("{:?}", x.code).contains("Unknown")) =>
        {
            let msg = envelope.errors.iter().map(|x| x.message.clone()).collect::<Vec<_>>().join("; ");
            Error::NotFound(format!("{context}: {msg}"))
        }
        E::RegistryError { envelope, .. }
            if envelope.errors.iter().any(|x| {
                format!("{:?}", x.code).contains("Unauthorized") || format!("{:?}", x.code).contains("Denied")
            }) =>
        {
            let msg = envelope.errors.iter().map(|x| x.message.clone()).collect::<Vec<_>>().join("; ");
            Error::Unauthorized(format!("{context}: {msg}"))
        }
        other => Error::Registry { context, source: Box::new(other) },
    }
}

impl Client {
    /// A client for `repository` (`library/busybox`) on the registry `endpoint` (see
    /// [`crate::RegistryConfig::endpoint`]).
    pub fn new(endpoint: &Endpoint, repository: &str, creds: &Credentials) -> Client {
        let roots = endpoint
            .roots
            .iter()
            .map(|pem| Certificate { encoding: CertificateEncoding::Pem, data: pem.clone() })
            .collect();
        let config = ClientConfig {
            protocol: if endpoint.scheme == "http" { ClientProtocol::Http } else { ClientProtocol::Https },
            accept_invalid_certificates: endpoint.accept_invalid_certs,
            extra_root_certificates: roots,
            // One streamed PUT per blob: chunked PATCHes of a stream's pieces cost a request
            // (and a registry-side commit) per 256 KiB.
            use_monolithic_push: true,
            ..Default::default()
        };
        Client {
            inner: oci_client::Client::new(config),
            auth: creds.to_oci(),
            host: endpoint.host.clone(),
            repository: repository.to_string(),
            base: endpoint.base(),
            endpoint: endpoint.clone(),
            http: std::sync::OnceLock::new(),
        }
    }

    fn reference(&self, tag_or_digest: &str) -> OciRef {
        if tag_or_digest.contains(':') {
            OciRef::with_digest(self.host.clone(), self.repository.clone(), tag_or_digest.to_string())
        } else {
            OciRef::with_tag(self.host.clone(), self.repository.clone(), tag_or_digest.to_string())
        }
    }

    pub(crate) fn any_ref(&self) -> OciRef {
        self.reference("latest")
    }

    /// Fetches the manifest (or index) named by a tag or digest.
    pub async fn fetch_manifest(&self, tag_or_digest: &str) -> Result<Fetched> {
        let r = self.reference(tag_or_digest);
        let what = format!("manifest for {}/{}:{}", self.host, self.repository, tag_or_digest);
        let (bytes, digest) =
            self.inner.pull_manifest_raw(&r, &self.auth, ACCEPT).await.map_err(oci_err(what.clone()))?;
        let actual = Digest::sha256_of(&bytes);
        if digest != actual.to_string() {
            return Err(Error::DigestMismatch { what, expected: digest, actual: actual.to_string() });
        }
        if let Ok(want) = tag_or_digest.parse::<Digest>() {
            if want != actual {
                return Err(Error::DigestMismatch { what, expected: want.to_string(), actual: actual.to_string() });
            }
        }
        let v: serde_json::Value = serde_json::from_slice(&bytes)
            .map_err(|e| Error::InvalidArgument(format!("{what} is not valid JSON: {e}")))?;
        let media_type = match v.get("mediaType").and_then(|m| m.as_str()) {
            Some(m) => m.to_string(),
            None if v.get("manifests").is_some() => media::OCI_INDEX.to_string(),
            None => media::OCI_MANIFEST.to_string(),
        };
        if v.get("schemaVersion").and_then(|s| s.as_u64()) == Some(1) {
            return Err(Error::InvalidArgument(format!("{what}: schema 1 manifests are not supported")));
        }
        Ok(Fetched { bytes, media_type, digest: actual })
    }

    /// Streams blob `digest`. The caller verifies the digest of what it stores.
    pub async fn blob_stream(&self, digest: &Digest, size: i64) -> Result<BoxStream<'static, std::io::Result<Bytes>>> {
        let desc = OciDescriptor { digest: digest.to_string(), size, ..Default::default() };
        let r = self.reference(&digest.to_string());
        let s = self.inner.pull_blob_stream(&r, &desc).await.map_err(oci_err(format!("fetching blob {digest}")))?;
        Ok(s.stream.boxed())
    }

    /// Fetches a small blob (a config) whole, verifying its digest.
    pub async fn fetch_blob(&self, digest: &Digest, size: i64) -> Result<Vec<u8>> {
        let mut s = self.blob_stream(digest, size).await?;
        let mut out = Vec::new();
        while let Some(chunk) = s.next().await {
            let chunk = chunk.map_err(|e| Error::InvalidArgument(format!("reading blob {digest}: {e}")))?;
            out.extend_from_slice(&chunk);
        }
        let actual = Digest::sha256_of(&out);
        if &actual != digest {
            return Err(Error::DigestMismatch {
                what: format!("blob {digest}"),
                expected: digest.to_string(),
                actual: actual.to_string(),
            });
        }
        Ok(out)
    }

    pub async fn blob_exists(&self, digest: &Digest) -> Result<bool> {
        self.inner.store_auth_if_needed(&self.host, &self.auth).await;
        self.inner
            .blob_exists(&self.any_ref(), &digest.to_string())
            .await
            .map_err(oci_err(format!("checking blob {digest}")))
    }

    /// Uploads a blob from a stream of `size` bytes.
    pub async fn push_blob(
        &self,
        digest: &Digest,
        size: u64,
        data: impl futures_util::Stream<Item = std::io::Result<Bytes>> + Send + 'static,
    ) -> Result<()> {
        self.inner.store_auth_if_needed(&self.host, &self.auth).await;
        // Authenticate for push before the first upload request.
        let r = self.any_ref();
        self.inner
            .auth(&r, &self.auth, oci_client::RegistryOperation::Push)
            .await
            .map_err(oci_err(format!("authenticating to {}", self.host)))?;
        let data = data.map(|r| r.map_err(oci_client::errors::OciDistributionError::IoError));
        self.inner
            .push_blob_stream(&r, data, &digest.to_string(), Some(size))
            .await
            .map_err(oci_err(format!("uploading blob {digest}")))?;
        Ok(())
    }

    /// Uploads a manifest under `tag`; returns its digest.
    pub async fn push_manifest(&self, tag: &str, bytes: Vec<u8>, media_type: &str) -> Result<Digest> {
        let d = Digest::sha256_of(&bytes);
        let r = self.reference(tag);
        let ct = media_type.parse().map_err(|_| Error::InvalidArgument(format!("invalid media type {media_type}")))?;
        self.inner.store_auth_if_needed(&self.host, &self.auth).await;
        self.inner.push_manifest_raw(&r, bytes, ct).await.map_err(oci_err(format!("uploading manifest {tag}")))?;
        Ok(d)
    }
}
