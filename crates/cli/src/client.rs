//! Connecting to the daemon: host selection, API version negotiation, and a small raw
//! HTTP client for the few calls whose exact bytes matter (`inspect`, `wait`).

use std::time::Duration;

use bollard::Docker;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;

use crate::error::CliError;

/// The default daemon address when neither `$DOCKER_HOST` nor `-H` is given.
pub const DEFAULT_HOST: &str = "unix:///run/berth/berth.sock";

/// Long-lived streams (attach, logs -f, wait) must not be cut by a request timeout.
const NO_TIMEOUT: Duration = Duration::from_secs(10 * 365 * 24 * 3600);

/// A connected, version-negotiated client.
#[derive(Clone)]
pub struct Client {
    pub docker: Docker,
    pub host: String,
    /// Negotiated API version, e.g. `1.41`.
    pub api_version: String,
}

/// Pick the daemon address: `$DOCKER_HOST`, else `-H/--host`, else the berth socket.
pub fn resolve_host(flag: Option<&str>, env: Option<&str>) -> String {
    match (env.filter(|s| !s.is_empty()), flag) {
        (Some(e), _) => e.to_string(),
        (None, Some(h)) => h.to_string(),
        (None, None) => DEFAULT_HOST.to_string(),
    }
}

fn connect_error(host: &str) -> CliError {
    let shown = if host.contains("://") { host.to_string() } else { format!("unix://{host}") };
    CliError::new(1, format!("Cannot connect to the Docker daemon at {shown}. Is the docker daemon running?"))
}

impl Client {
    /// Connect to `host` and negotiate min(server, client) API version.
    pub async fn connect(host: &str) -> Result<Client, CliError> {
        let docker = if host.starts_with("unix://") || host.starts_with('/') {
            let path = host.trim_start_matches("unix://");
            Docker::connect_with_unix(path, 120, bollard::API_DEFAULT_VERSION)
        } else if let Some(rest) = host.strip_prefix("tcp://") {
            Docker::connect_with_http(&format!("http://{rest}"), 120, bollard::API_DEFAULT_VERSION)
        } else if host.starts_with("http://") {
            Docker::connect_with_http(host, 120, bollard::API_DEFAULT_VERSION)
        } else {
            return Err(CliError::new(1, format!("unable to parse docker host `{host}`")));
        }
        .map_err(|_| connect_error(host))?
        .with_timeout(NO_TIMEOUT);
        let docker = docker.negotiate_version().await.map_err(|e| match e {
            bollard::errors::Error::DockerResponseServerError { .. } => CliError::daemon(e),
            _ => connect_error(host),
        })?;
        let v = docker.client_version();
        Ok(Client { docker, host: host.to_string(), api_version: format!("{}.{}", v.major_version, v.minor_version) })
    }

    /// Send one raw request to `/v{version}{path}` and return the response (headers read).
    pub async fn raw(&self, method: http::Method, path: &str) -> Result<http::Response<Incoming>, CliError> {
        self.raw_with_body(method, path, None).await
    }

    /// Like [`Client::raw`], with an optional JSON body.
    pub async fn raw_with_body(
        &self,
        method: http::Method,
        path: &str,
        json: Option<Bytes>,
    ) -> Result<http::Response<Incoming>, CliError> {
        let uri = format!("/v{}{}", self.api_version, path);
        let mut req = http::Request::builder().method(method).uri(uri).header("Host", "api");
        if json.is_some() {
            req = req.header("Content-Type", "application/json");
        }
        let req = req.body(Full::new(json.unwrap_or_default())).map_err(|e| CliError::new(1, e.to_string()))?;
        self.send(req).await
    }

    /// Sends a request built by the caller (its uri already `/v{version}/…`).
    pub async fn send(&self, req: http::Request<Full<Bytes>>) -> Result<http::Response<Incoming>, CliError> {
        let host = self.host.clone();
        let conn_err = |e: hyper::Error| CliError::new(1, format!("error during connect: {e}"));
        if let Some(rest) = host.strip_prefix("tcp://").or(host.strip_prefix("http://")) {
            let stream = tokio::net::TcpStream::connect(rest)
                .await
                .map_err(|e| CliError::new(1, format!("error during connect: {e}")))?;
            let (mut sender, conn) =
                hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.map_err(conn_err)?;
            tokio::spawn(conn);
            sender.send_request(req).await.map_err(conn_err)
        } else {
            let path = host.trim_start_matches("unix://");
            let stream = tokio::net::UnixStream::connect(path).await.map_err(|_| connect_error(&host))?;
            let (mut sender, conn) =
                hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.map_err(conn_err)?;
            tokio::spawn(conn);
            sender.send_request(req).await.map_err(conn_err)
        }
    }

    /// A raw GET returning the body bytes; non-2xx statuses become docker-style errors.
    pub async fn raw_get(&self, path: &str) -> Result<(u16, Bytes), CliError> {
        let resp = self.raw(http::Method::GET, path).await?;
        read_body(resp).await
    }
}

impl Client {
    /// GET JSON from the API; a non-2xx answer becomes `Error response from daemon: ...`.
    pub async fn get_json(&self, path: &str) -> Result<serde_json::Value, CliError> {
        let (status, body) = self.raw_get(path).await?;
        if !(200..300).contains(&status) {
            return Err(CliError::new(1, format!("Error response from daemon: {}", error_body_message(&body))));
        }
        serde_json::from_slice(&body).map_err(|e| CliError::new(1, format!("error decoding daemon response: {e}")))
    }
}

/// Percent-encode a query value (RFC 3986 unreserved characters kept).
pub fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `--filter k=v` flags → the API's `filters` JSON (`{"k":{"v":true}}`), or None when empty.
pub fn filters_json(filters: &[String]) -> Result<Option<String>, CliError> {
    if filters.is_empty() {
        return Ok(None);
    }
    let mut m: std::collections::BTreeMap<String, std::collections::BTreeMap<String, bool>> = Default::default();
    for f in filters {
        let (k, v) =
            f.split_once('=').ok_or_else(|| CliError::new(125, "bad format of filter (expected name=value)"))?;
        m.entry(k.trim().to_lowercase()).or_default().insert(v.to_string(), true);
    }
    Ok(Some(serde_json::to_string(&m).unwrap_or_default()))
}

/// Read a whole response body; returns (status, body).
pub async fn read_body(resp: http::Response<Incoming>) -> Result<(u16, Bytes), CliError> {
    let status = resp.status().as_u16();
    let body = resp
        .into_body()
        .collect()
        .await
        .map_err(|e| CliError::new(1, format!("error reading response: {e}")))?
        .to_bytes();
    Ok((status, body))
}

/// The `message` of a daemon error body, as docker prints it.
pub fn error_body_message(body: &[u8]) -> String {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("message").and_then(|m| m.as_str()).map(str::to_string))
        .unwrap_or_else(|| String::from_utf8_lossy(body).trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_precedence() {
        assert_eq!(resolve_host(None, None), DEFAULT_HOST);
        assert_eq!(resolve_host(Some("tcp://1.2.3.4:2375"), None), "tcp://1.2.3.4:2375");
        assert_eq!(resolve_host(Some("unix:///a"), Some("unix:///b")), "unix:///b");
        assert_eq!(resolve_host(Some("unix:///a"), Some("")), "unix:///a");
    }

    #[test]
    fn filters_encode() {
        assert_eq!(filters_json(&[]).unwrap(), None);
        let f = filters_json(&["status=exited".into(), "label=a=b".into()]).unwrap().unwrap();
        assert_eq!(f, r#"{"label":{"a=b":true},"status":{"exited":true}}"#);
        assert_eq!(query_escape("{\"a\":1}"), "%7B%22a%22%3A1%7D");
    }

    #[test]
    fn error_message_from_body() {
        assert_eq!(error_body_message(br#"{"message":"No such container: x"}"#), "No such container: x");
        assert_eq!(error_body_message(b"plain\n"), "plain");
    }
}
