//! The distribution client: talks to OCI/Docker registries for pull, push and login.
//!
//! Owns the registry side of image distribution: how each registry is reached ([`Endpoint`]:
//! HTTP or unverified TLS for insecure registries, `certs.d` CAs; registry mirrors tried before
//! Docker Hub for pulls, [`RegistryConfig::pull_endpoints`]), credentials ([`Credentials`]), fetching manifests and blobs,
//! uploading blobs and manifests ([`Client`], over `oci-client`, which does the bearer-token
//! dance), login checks ([`login`]), search ([`search`]) and platform selection in indexes
//! ([`select_platform`]).
//! It does not know the image store: the engine decides what to download and where it goes.

mod client;
mod endpoint;
mod login;
mod mirror;
mod platform;
mod search;
mod upload;

pub use client::{Client, Fetched};
pub use endpoint::{Endpoint, RegistryConfig};
pub use login::{login, login_host};
pub use mirror::validate_mirror;
pub use platform::{parse_platform, select_platform};
pub use search::{search, SearchHit};

/// Registry credentials from `X-Registry-Auth` or a login request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub password: String,
    /// An OAuth refresh token (`identitytoken`), used as the password when set.
    pub identity_token: String,
    /// A registry bearer token (`registrytoken`).
    pub registry_token: String,
}

impl Credentials {
    pub fn is_empty(&self) -> bool {
        self.username.is_empty()
            && self.password.is_empty()
            && self.identity_token.is_empty()
            && self.registry_token.is_empty()
    }

    pub(crate) fn to_oci(&self) -> oci_client::secrets::RegistryAuth {
        use oci_client::secrets::RegistryAuth;
        if !self.registry_token.is_empty() {
            RegistryAuth::Bearer(self.registry_token.clone())
        } else if !self.identity_token.is_empty() {
            RegistryAuth::Basic("<token>".into(), self.identity_token.clone())
        } else if !self.username.is_empty() {
            RegistryAuth::Basic(self.username.clone(), self.password.clone())
        } else {
            RegistryAuth::Anonymous
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    InvalidArgument(String),
    #[error("digest mismatch for {what}: expected {expected}, got {actual}")]
    DigestMismatch { what: String, expected: String, actual: String },
    #[error("{context}: {source}")]
    Registry {
        context: String,
        #[source]
        source: Box<oci_client::errors::OciDistributionError>,
    },
    /// A registry answer dockerd reports as is (`Unexpected status code 404`).
    #[error("{0}")]
    Unexpected(String),
    #[error("{context}: {source}")]
    Http {
        context: String,
        #[source]
        source: reqwest::Error,
    },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Whether `host` (`name[:port]`) is reached over plain HTTP: localhost and 127.0.0.0/8,
/// as dockerd's default insecure registries.
pub fn is_insecure(host: &str) -> bool {
    let name = if let Some(rest) = host.strip_prefix('[') {
        rest.split(']').next().unwrap_or(rest)
    } else {
        host.rsplit_once(':').map_or(host, |(h, p)| if p.bytes().all(|b| b.is_ascii_digit()) { h } else { host })
    };
    if name == "localhost" {
        return true;
    }
    match name.parse::<std::net::IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => false,
    }
}

/// The registry host to contact for a reference domain (`docker.io` is served elsewhere).
pub fn registry_host(domain: &str) -> &str {
    if domain == "docker.io" {
        "registry-1.docker.io"
    } else {
        domain
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_registries_are_insecure() {
        assert!(is_insecure("localhost:5000"));
        assert!(is_insecure("127.0.0.1:5000"));
        assert!(is_insecure("127.1.2.3"));
        assert!(is_insecure("[::1]:5000"));
        assert!(!is_insecure("registry-1.docker.io"));
        assert!(!is_insecure("10.0.0.1:5000"));
        assert_eq!(registry_host("docker.io"), "registry-1.docker.io");
    }
}
