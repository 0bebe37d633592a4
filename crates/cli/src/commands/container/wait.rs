//! `berth container wait` (ContainerWait).

use crate::client::{error_body_message, query_escape, read_body, Client};
use crate::error::{CliError, CmdResult};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[arg(required = true, value_name = "CONTAINER")]
    pub containers: Vec<String>,
}

/// A registered wait whose response headers have arrived; `.status()` reads the exit code.
pub struct PendingWait {
    resp: http::Response<hyper::body::Incoming>,
}

impl PendingWait {
    /// Send `POST /containers/{id}/wait?condition=…` and return once the daemon has
    /// answered with headers (so the wait is registered before, e.g., start).
    pub async fn register(c: &Client, id: &str, condition: &str) -> Result<Self, CliError> {
        let path = format!("/containers/{}/wait?condition={}", query_escape(id), condition);
        let resp = c.raw(http::Method::POST, &path).await?;
        if !resp.status().is_success() {
            let (_, body) = read_body(resp).await?;
            return Err(CliError::new(1, format!("Error response from daemon: {}", error_body_message(&body))));
        }
        Ok(PendingWait { resp })
    }

    /// The container's exit code (errors reported by the daemon are printed).
    pub async fn status(self) -> Result<i64, CliError> {
        let (_, body) = read_body(self.resp).await?;
        let v: serde_json::Value =
            serde_json::from_slice(&body).map_err(|e| CliError::new(1, format!("error waiting for container: {e}")))?;
        if let Some(msg) = v.pointer("/Error/Message").and_then(|m| m.as_str()) {
            if !msg.is_empty() {
                return Err(CliError::new(125, format!("error waiting for container: {msg}")));
            }
        }
        Ok(v.get("StatusCode").and_then(|s| s.as_i64()).unwrap_or(0))
    }
}

pub async fn run(c: &Client, a: Args) -> CmdResult {
    let mut failed = false;
    for name in &a.containers {
        let res = match PendingWait::register(c, name, "not-running").await {
            Ok(w) => w.status().await,
            Err(e) => Err(e),
        };
        match res {
            Ok(code) => println!("{code}"),
            Err(e) => {
                eprintln!("{}", e.msg);
                failed = true;
            }
        }
    }
    Ok(if failed { 1 } else { 0 })
}
