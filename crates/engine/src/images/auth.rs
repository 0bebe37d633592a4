//! `POST /auth` (`docker login`) and the mapping of registry-client errors to engine errors.

use berth_api_types::query::images::AuthConfig;
use berth_registry::Credentials;

use crate::{Engine, Error, Result};

/// Registry credentials from an API `AuthConfig`.
pub fn credentials(a: &AuthConfig) -> Credentials {
    let mut a = a.clone();
    a.unpack_auth();
    Credentials {
        username: a.username,
        password: a.password,
        identity_token: a.identitytoken,
        registry_token: a.registrytoken,
    }
}

/// A registry-client failure as an engine error with the matching kind.
pub(crate) fn registry_err(e: berth_registry::Error) -> Error {
    match e {
        berth_registry::Error::NotFound(m) => Error::NotFound(m),
        berth_registry::Error::Unauthorized(m) => Error::Unauthorized(m),
        berth_registry::Error::InvalidArgument(m) => Error::InvalidArgument(m),
        other => {
            // The transport's causes (TLS, connection refused) are in the source chain.
            let mut msg = other.to_string();
            let mut cause = std::error::Error::source(&other);
            while let Some(c) = cause {
                let c_msg = c.to_string();
                if !msg.contains(&c_msg) {
                    msg.push_str(": ");
                    msg.push_str(&c_msg);
                }
                cause = c.source();
            }
            Error::Internal(msg)
        }
    }
}

impl Engine {
    /// Checks credentials against a registry; returns the identity token it issued, if any.
    pub async fn system_auth(&self, config: &AuthConfig) -> Result<String> {
        let server = if config.serveraddress.is_empty() { "docker.io" } else { config.serveraddress.as_str() };
        let endpoint = self.registry_endpoint(berth_registry::login_host(server)).await;
        berth_registry::login(&endpoint, &credentials(config)).await.map_err(registry_err)
    }

    /// How to reach registry `domain` (`docker.io` is served by `registry-1.docker.io`).
    pub(crate) async fn registry_endpoint(&self, domain: &str) -> berth_registry::Endpoint {
        self.config.registry.endpoint(berth_registry::registry_host(domain)).await
    }
}
