//! `berth network inspect` (NetworkInspect), raw JSON as the daemon sent it, or `-f`.

use crate::client::Client;
use crate::commands::system::inspect::{inspect_objects, Kind};
use crate::error::CmdResult;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Format output using a custom template
    #[arg(short = 'f', long = "format")]
    pub format: Option<String>,
    /// Verbose output for diagnostics
    #[arg(short = 'v', long = "verbose")]
    pub verbose: bool,
    #[arg(required = true, value_name = "NETWORK")]
    pub networks: Vec<String>,
}

pub async fn run(c: &Client, a: Args) -> CmdResult {
    inspect_objects(c, &a.networks, a.format.as_deref(), &[Kind::Network], false).await
}
