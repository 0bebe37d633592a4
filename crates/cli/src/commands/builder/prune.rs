//! `berth builder prune` (BuildPrune): drops the build cache (step records and
//! `RUN --mount=type=cache` directories).

use crate::client::{error_body_message, read_body, Client};
use crate::commands::image::prune::confirm;
use crate::error::{CliError, CmdResult};
use crate::format::units::human_size;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Remove all unused build cache, not just dangling ones
    #[arg(short = 'a', long = "all")]
    pub all: bool,
    /// Provide filter values (e.g. "until=24h")
    #[arg(long = "filter")]
    pub filter: Vec<String>,
    /// Do not prompt for confirmation
    #[arg(short = 'f', long = "force")]
    pub force: bool,
}

pub async fn run(c: &Client, a: Args) -> CmdResult {
    let warning = if a.all {
        "WARNING! This will remove all build cache."
    } else {
        "WARNING! This will remove all dangling build cache."
    };
    if !a.force && !confirm(warning)? {
        return Ok(0);
    }
    let path = if a.all { "/build/prune?all=1" } else { "/build/prune" };
    let (status, body) = read_body(c.raw(http::Method::POST, path).await?).await?;
    if !(200..300).contains(&status) {
        return Err(CliError::new(1, format!("Error response from daemon: {}", error_body_message(&body))));
    }
    let report: serde_json::Value =
        serde_json::from_slice(&body).map_err(|e| CliError::new(1, format!("error decoding daemon response: {e}")))?;
    let deleted = report.get("CachesDeleted").and_then(|d| d.as_array()).cloned().unwrap_or_default();
    if !deleted.is_empty() {
        println!("Deleted build cache objects:");
        for d in deleted {
            println!("{}", d.as_str().unwrap_or_default());
        }
        println!();
    }
    let space = report.get("SpaceReclaimed").and_then(|v| v.as_u64()).unwrap_or(0);
    println!("Total reclaimed space: {}", human_size(space as f64));
    Ok(0)
}
