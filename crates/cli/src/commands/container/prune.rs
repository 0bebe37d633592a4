//! `berth container prune` (ContainerPrune): removes all stopped containers.

use crate::client::{error_body_message, filters_json, query_escape, read_body, Client};
use crate::commands::image::prune::confirm;
use crate::error::{CliError, CmdResult};
use crate::format::units::human_size;

const WARNING: &str = "WARNING! This will remove all stopped containers.";

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Do not prompt for confirmation
    #[arg(short = 'f', long = "force")]
    pub force: bool,
    /// Provide filter values (e.g. "until=<timestamp>")
    #[arg(long = "filter")]
    pub filter: Vec<String>,
}

/// Calls the prune endpoint; returns the space reclaimed and docker's `Deleted Containers:`
/// block (empty when nothing was deleted). Used by `system prune` too.
pub async fn prune(c: &Client, filter: &[String]) -> Result<(u64, String), CliError> {
    let path = match filters_json(filter)? {
        Some(f) => format!("/containers/prune?filters={}", query_escape(&f)),
        None => "/containers/prune".to_string(),
    };
    let (status, body) = read_body(c.raw(http::Method::POST, &path).await?).await?;
    if !(200..300).contains(&status) {
        return Err(CliError::new(1, format!("Error response from daemon: {}", error_body_message(&body))));
    }
    let report: serde_json::Value =
        serde_json::from_slice(&body).map_err(|e| CliError::new(1, format!("error decoding daemon response: {e}")))?;
    Ok(report_output(&report))
}

/// `(SpaceReclaimed, "Deleted Containers:\n<id>\n…")`; docker counts the space only when
/// something was deleted.
fn report_output(report: &serde_json::Value) -> (u64, String) {
    let ids = report.get("ContainersDeleted").and_then(|d| d.as_array()).cloned().unwrap_or_default();
    if ids.is_empty() {
        return (0, String::new());
    }
    let mut out = String::from("Deleted Containers:\n");
    for id in ids {
        out.push_str(id.as_str().unwrap_or_default());
        out.push('\n');
    }
    (report.get("SpaceReclaimed").and_then(|s| s.as_u64()).unwrap_or(0), out)
}

pub async fn run(c: &Client, a: Args) -> CmdResult {
    if !a.force && !confirm(WARNING)? {
        return Ok(0);
    }
    let (space, output) = prune(c, &a.filter).await?;
    if !output.is_empty() {
        println!("{output}");
    }
    println!("Total reclaimed space: {}", human_size(space as f64));
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_like_docker() {
        let r = serde_json::json!({"ContainersDeleted":["a","b"],"SpaceReclaimed":12});
        assert_eq!(report_output(&r), (12, "Deleted Containers:\na\nb\n".to_string()));
        let none = serde_json::json!({"ContainersDeleted":null,"SpaceReclaimed":0});
        assert_eq!(report_output(&none), (0, String::new()));
    }
}
