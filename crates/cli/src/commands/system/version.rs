//! `berth version` (SystemVersion): client and server versions, docker's layout.

use std::io::Write;

use serde_json::Value as J;
use tabwriter::TabWriter;

use crate::client::Client;
use crate::error::{CliError, CmdResult};
use crate::format::template::{json_to_value, Format};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Format output using a custom template
    #[arg(short = 'f', long = "format")]
    pub format: Option<String>,
}

/// RFC 3339 build time → Go's `time.ANSIC` (`Thu May  7 21:09:36 2026`), else unchanged.
pub fn reformat_date(s: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|t| t.format("%a %b %e %H:%M:%S %Y").to_string())
        .unwrap_or_else(|_| s.to_string())
}

fn js(v: &J, p: &str) -> String {
    match v.pointer(p) {
        Some(J::String(s)) => s.clone(),
        Some(J::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

/// The text block (tab-separated, before alignment).
pub fn render(client_api: &str, default_api: &str, server: &J) -> String {
    let mut s = String::new();
    s.push_str("Client:\n");
    s.push_str(&format!(" Version:\t{}\n", env!("CARGO_PKG_VERSION")));
    let downgraded =
        if client_api != default_api { format!(" (downgraded from {default_api})") } else { String::new() };
    s.push_str(&format!(" API version:\t{client_api}{downgraded}\n"));
    s.push_str(&format!(" OS/Arch:\t{}/{}\n", std::env::consts::OS, go_arch()));
    s.push_str(" Context:\tdefault\n");
    s.push_str("\nServer:");
    let platform = js(server, "/Platform/Name");
    if !platform.is_empty() {
        s.push_str(&format!(" {platform}"));
    }
    let components = server.get("Components").and_then(J::as_array).cloned().unwrap_or_default();
    for comp in components {
        let name = js(&comp, "/Name");
        s.push_str(&format!("\n {name}:"));
        if name == "Engine" {
            s.push_str(&format!("\n  Version:\t{}", js(&comp, "/Version")));
            s.push_str(&format!(
                "\n  API version:\t{} (minimum version {})",
                js(&comp, "/Details/ApiVersion"),
                js(&comp, "/Details/MinAPIVersion")
            ));
            s.push_str(&format!("\n  Go version:\t{}", js(&comp, "/Details/GoVersion")));
            s.push_str(&format!("\n  Git commit:\t{}", js(&comp, "/Details/GitCommit")));
            s.push_str(&format!("\n  Built:\t{}", reformat_date(&js(&comp, "/Details/BuildTime"))));
            s.push_str(&format!("\n  OS/Arch:\t{}/{}", js(&comp, "/Details/Os"), js(&comp, "/Details/Arch")));
            s.push_str(&format!("\n  Experimental:\t{}", js(&comp, "/Details/Experimental")));
        } else {
            s.push_str(&format!("\n  Version:\t{}", js(&comp, "/Version")));
            let mut keys: Vec<String> =
                comp.get("Details").and_then(J::as_object).map(|m| m.keys().cloned().collect()).unwrap_or_default();
            keys.sort();
            for k in keys {
                s.push_str(&format!("\n  {k}:\t{}", js(&comp, &format!("/Details/{k}"))));
            }
        }
    }
    s.push('\n');
    s
}

fn go_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    }
}

pub async fn run(c: &Client, a: Args) -> CmdResult {
    let server = c.get_json("/version").await?;
    if let Some(f) = a.format.as_deref().filter(|f| !f.is_empty()) {
        let data = serde_json::json!({
            "Client": {"Version": env!("CARGO_PKG_VERSION"), "ApiVersion": c.api_version,
                       "Os": std::env::consts::OS, "Arch": go_arch()},
            "Server": server,
        });
        let fmt = Format::parse(f, "")?;
        println!("{}", fmt.execute(&json_to_value(&data))?);
        return Ok(0);
    }
    let default_api = bollard::API_DEFAULT_VERSION;
    let default_api = format!("{}.{}", default_api.major_version, default_api.minor_version);
    let text = render(&c.api_version, &default_api, &server);
    let mut tw = TabWriter::new(std::io::stdout().lock()).minwidth(19).padding(1);
    tw.write_all(text.as_bytes())?;
    tw.flush().map_err(|e| CliError::new(1, e.to_string()))?;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ansic_dates() {
        assert_eq!(reformat_date("2026-05-07T21:09:36.000000000+00:00"), "Thu May  7 21:09:36 2026");
        assert_eq!(reformat_date("garbage"), "garbage");
    }
}
