//! `berth builder prune` (BuildPrune): drops the build cache (step records and
//! `RUN --mount=type=cache` directories): `-a`, `--filter until=…`, `--keep-storage`.

use crate::client::{error_body_message, filters_json, query_escape, read_body, Client};
use crate::commands::container::opts_resources::ram_in_bytes;
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
    /// Amount of disk space to keep for cache
    #[arg(long = "keep-storage")]
    pub keep_storage: Option<String>,
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
    let mut q = Vec::new();
    if a.all {
        q.push("all=1".to_string());
    }
    if let Some(k) = a.keep_storage.as_deref().filter(|k| !k.is_empty()) {
        let n = ram_in_bytes(k)
            .ok_or_else(|| CliError::new(125, format!("invalid argument \"{k}\" for \"--keep-storage\" flag")))?;
        q.push(format!("keep-storage={n}"));
    }
    if let Some(f) = filters_json(&a.filter)? {
        q.push(format!("filters={}", query_escape(&f)));
    }
    let path = if q.is_empty() { "/build/prune".to_string() } else { format!("/build/prune?{}", q.join("&")) };
    let (status, body) = read_body(c.raw(http::Method::POST, &path).await?).await?;
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
