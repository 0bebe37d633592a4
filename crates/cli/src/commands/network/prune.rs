//! `berth network prune` (NetworkPrune).

use std::io::{BufRead, Write};

use bollard::query_parameters::PruneNetworksOptions;

use crate::client::Client;
use crate::error::{daemon_message, CliError, CmdResult};

const WARNING: &str = "WARNING! This will remove all custom networks not used by at least one container.";

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Provide filter values (e.g. "until=<timestamp>")
    #[arg(long = "filter")]
    pub filter: Vec<String>,
    /// Do not prompt for confirmation
    #[arg(short = 'f', long = "force")]
    pub force: bool,
}

pub async fn run(c: &Client, a: Args) -> CmdResult {
    if !a.force {
        print!("{WARNING}\nAre you sure you want to continue? [y/N] ");
        std::io::stdout().flush()?;
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        if !matches!(line.trim(), "y" | "Y") {
            return Ok(0);
        }
    }
    let opts = PruneNetworksOptions { filters: Some(crate::commands::volume::filter_map(&a.filter)) };
    let resp = c.docker.prune_networks(Some(opts)).await.map_err(|e| CliError::new(1, daemon_message(&e)))?;
    let deleted = resp.networks_deleted.unwrap_or_default();
    if !deleted.is_empty() {
        println!("Deleted Networks:");
        for n in &deleted {
            println!("{n}");
        }
        println!();
    }
    Ok(0)
}
