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
        other => Error::Internal(other.to_string()),
    }
}

impl Engine {
    /// Checks credentials against a registry; returns the identity token it issued, if any.
    pub async fn system_auth(&self, config: &AuthConfig) -> Result<String> {
        let server = if config.serveraddress.is_empty() { "docker.io" } else { config.serveraddress.as_str() };
        berth_registry::login(server, &credentials(config)).await.map_err(registry_err)
    }
}
