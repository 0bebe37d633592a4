//! Optional htpasswd (bcrypt) basic auth: without valid credentials every request is answered
//! `401 UNAUTHORIZED` with `WWW-Authenticate: Basic realm="berth-registry"`.

use std::collections::HashMap;
use std::path::Path;

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;

use crate::error::{Code, RegistryError};
use crate::AppState;

/// Users and their bcrypt hashes.
#[derive(Debug, Clone, Default)]
pub struct Htpasswd {
    users: HashMap<String, String>,
}

impl Htpasswd {
    pub fn load(path: &Path) -> std::io::Result<Htpasswd> {
        Ok(Htpasswd::parse(&std::fs::read_to_string(path)?))
    }

    /// `user:$2y$…` lines; blank lines, comments and non-bcrypt entries are ignored.
    pub fn parse(text: &str) -> Htpasswd {
        let users = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .filter_map(|l| l.split_once(':'))
            .filter(|(_, h)| h.starts_with("$2"))
            .map(|(u, h)| (u.to_string(), h.to_string()))
            .collect();
        Htpasswd { users }
    }

    pub fn verify(&self, user: &str, password: &str) -> bool {
        self.users.get(user).is_some_and(|h| bcrypt::verify(password, h).unwrap_or(false))
    }

    /// Checks an `Authorization: Basic …` header value.
    pub fn check_header(&self, value: &str) -> bool {
        let Some(b64) = value.strip_prefix("Basic ").or_else(|| value.strip_prefix("basic ")) else { return false };
        let Ok(raw) = base64::engine::general_purpose::STANDARD.decode(b64.trim()) else { return false };
        let Ok(s) = String::from_utf8(raw) else { return false };
        s.split_once(':').is_some_and(|(u, p)| self.verify(u, p))
    }
}

pub async fn require(State(reg): State<AppState>, req: Request, next: Next) -> Response {
    if let Some(h) = &reg.htpasswd {
        let ok =
            req.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).is_some_and(|v| h.check_header(v));
        if !ok {
            return RegistryError::new(Code::Unauthorized, "authentication required").into_response();
        }
    }
    next.run(req).await
}
