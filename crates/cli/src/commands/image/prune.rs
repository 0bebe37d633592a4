//! `berth image prune` (ImagePrune): dangling images, or every unused one with `-a`.

use std::io::{BufRead, Write};

use crate::client::{error_body_message, filters_json, query_escape, read_body, Client};
use crate::error::{CliError, CmdResult};
use crate::format::units::human_size;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Remove all unused images, not just dangling ones
    #[arg(short = 'a', long = "all")]
    pub all: bool,
    /// Provide filter values (e.g. "until=<timestamp>")
    #[arg(long = "filter")]
    pub filter: Vec<String>,
    /// Do not prompt for confirmation
    #[arg(short = 'f', long = "force")]
    pub force: bool,
}

/// Asks `question`; true when the answer is `y`/`yes` (an empty or closed stdin is "no").
pub fn confirm(warning: &str) -> Result<bool, CliError> {
    print!("{warning}\nAre you sure you want to continue? [y/N] ");
    std::io::stdout().flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(matches!(line.trim().to_ascii_lowercase().as_str(), "y" | "yes"))
}

/// Runs the prune and returns the report JSON (used by `system prune` too).
pub async fn prune(c: &Client, all: bool, filter: &[String]) -> Result<serde_json::Value, CliError> {
    let mut filter = filter.to_vec();
    if all {
        filter.push("dangling=false".into());
    }
    let path = match filters_json(&filter)? {
        Some(f) => format!("/images/prune?filters={}", query_escape(&f)),
        None => "/images/prune".to_string(),
    };
    let (status, body) = read_body(c.raw(http::Method::POST, &path).await?).await?;
    if !(200..300).contains(&status) {
        return Err(CliError::new(1, format!("Error response from daemon: {}", error_body_message(&body))));
    }
    serde_json::from_slice(&body).map_err(|e| CliError::new(1, format!("error decoding daemon response: {e}")))
}

/// The `Deleted Images:` block of a prune report, as docker prints it.
pub fn deleted_lines(report: &serde_json::Value) -> String {
    let items = report.get("ImagesDeleted").and_then(|d| d.as_array()).cloned().unwrap_or_default();
    if items.is_empty() {
        return String::new();
    }
    let mut out = String::from("Deleted Images:\n");
    for i in items {
        if let Some(t) = i.get("Untagged").and_then(|v| v.as_str()) {
            out.push_str(&format!("untagged: {t}\n"));
        }
        if let Some(d) = i.get("Deleted").and_then(|v| v.as_str()) {
            out.push_str(&format!("deleted: {d}\n"));
        }
    }
    out.push('\n');
    out
}

pub async fn run(c: &Client, a: Args) -> CmdResult {
    let warning = if a.all {
        "WARNING! This will remove all images without at least one container associated to them."
    } else {
        "WARNING! This will remove all dangling images."
    };
    if !a.force && !confirm(warning)? {
        return Ok(0);
    }
    let report = prune(c, a.all, &a.filter).await?;
    print!("{}", deleted_lines(&report));
    let space = report.get("SpaceReclaimed").and_then(|s| s.as_u64()).unwrap_or(0);
    println!("Total reclaimed space: {}", human_size(space as f64));
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_lines() {
        let r = serde_json::json!({"ImagesDeleted":[{"Untagged":"a:1"},{"Deleted":"sha256:x"}],"SpaceReclaimed":5});
        assert_eq!(deleted_lines(&r), "Deleted Images:\nuntagged: a:1\ndeleted: sha256:x\n\n");
        assert_eq!(deleted_lines(&serde_json::json!({"ImagesDeleted":null})), "");
    }
}
