//! `docker login`'s check: ping `/v2/`; for a `Basic` challenge, retry with the credentials; for
//! a `Bearer` challenge, ask the token realm with them. Success means the registry accepted them.

use base64::Engine as _;

use crate::{registry_host, Credentials, Endpoint, Error, Result};

/// The parameters of a `WWW-Authenticate` challenge: scheme (lowercase) and `key="value"` pairs.
pub fn parse_challenge(value: &str) -> (String, Vec<(String, String)>) {
    let value = value.trim();
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    let mut params = Vec::new();
    let mut s = rest.trim();
    while !s.is_empty() {
        let Some((k, after)) = s.split_once('=') else { break };
        let (v, next) = if let Some(q) = after.strip_prefix('"') {
            let end = q.find('"').unwrap_or(q.len());
            (&q[..end], q.get(end + 1..).unwrap_or(""))
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (&after[..end], &after[end..])
        };
        params.push((k.trim().to_string(), v.to_string()));
        s = next.trim_start_matches(|c: char| c == ',' || c.is_whitespace());
    }
    (scheme.to_ascii_lowercase(), params)
}

fn http(context: &str) -> impl FnOnce(reqwest::Error) -> Error + '_ {
    move |source| Error::Http { context: context.to_string(), source }
}

/// The registry host named by a login server address (`127.0.0.1:5000`, `https://host/`,
/// `https://index.docker.io/v1/`, `docker.io`).
pub fn login_host(server: &str) -> &str {
    let host = server.trim_start_matches("https://").trim_start_matches("http://");
    let host = host.split('/').next().unwrap_or(host);
    match host {
        "" | "index.docker.io" | "docker.io" => registry_host("docker.io"),
        h => h,
    }
}

/// Checks `creds` against the registry at `endpoint` (see [`login_host`]). Returns an identity
/// token when the registry issued one.
pub async fn login(endpoint: &Endpoint, creds: &Credentials) -> Result<String> {
    let host = endpoint.host.as_str();
    let base = format!("{}/v2/", endpoint.base());
    let client = endpoint.http_client();
    let ping = client.get(&base).send().await.map_err(http("contacting registry"))?;
    if ping.status().is_success() {
        return Ok(String::new());
    }
    let challenge = ping
        .headers()
        .get(reqwest::header::WWW_AUTHENTICATE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .unwrap_or_default();
    let (kind, params) = parse_challenge(&challenge);
    let password = if creds.identity_token.is_empty() { &creds.password } else { &creds.identity_token };
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", creds.username, password))
    );
    let resp = match kind.as_str() {
        "basic" => client.get(&base).header("Authorization", basic).send().await.map_err(http("logging in"))?,
        "bearer" => {
            let get = |k: &str| params.iter().find(|(pk, _)| pk == k).map(|(_, v)| v.clone());
            let realm =
                get("realm").ok_or_else(|| Error::InvalidArgument("bearer challenge without a realm".into()))?;
            let mut query = vec![("account".to_string(), creds.username.clone())];
            if let Some(s) = get("service") {
                query.push(("service".into(), s));
            }
            client.get(&realm).query(&query).header("Authorization", basic).send().await.map_err(http("logging in"))?
        }
        _ => {
            return Err(Error::InvalidArgument(format!(
                "registry {host} answered {} without a supported authentication challenge",
                ping.status()
            )))
        }
    };
    if resp.status() == reqwest::StatusCode::UNAUTHORIZED || resp.status() == reqwest::StatusCode::FORBIDDEN {
        // dockerd's words (it answers 500 up to 20.10 and 401 since; 401 is the right kind).
        let status = resp.status();
        let reason = status.canonical_reason().unwrap_or("");
        return Err(Error::Unauthorized(format!(
            "login attempt to {base} failed with status: {} {reason}",
            status.as_u16()
        )));
    }
    if !resp.status().is_success() {
        return Err(Error::InvalidArgument(format!("login to {host} failed: {}", resp.status())));
    }
    if kind == "bearer" {
        let v: serde_json::Value = resp.json().await.unwrap_or_default();
        if let Some(t) = v.get("refresh_token").and_then(|t| t.as_str()) {
            return Ok(t.to_string());
        }
    }
    Ok(String::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_bearer_and_basic_challenges() {
        let (k, p) = parse_challenge(
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:a/b:pull,push""#,
        );
        assert_eq!(k, "bearer");
        assert_eq!(p[0], ("realm".into(), "https://auth.docker.io/token".into()));
        assert_eq!(p[1], ("service".into(), "registry.docker.io".into()));
        assert_eq!(p[2], ("scope".into(), "repository:a/b:pull,push".into()));
        let (k, p) = parse_challenge(r#"Basic realm="berth-registry""#);
        assert_eq!((k.as_str(), p.len()), ("basic", 1));
    }
}
