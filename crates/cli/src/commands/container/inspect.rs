//! `berth container inspect` (ContainerInspect), raw JSON as the daemon sent it.

use crate::client::{query_escape, Client};
use crate::commands::system::inspect::{inspect_objects, Kind};
use crate::error::CmdResult;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Format output using a custom template
    #[arg(short = 'f', long = "format")]
    pub format: Option<String>,
    /// Display total file sizes
    #[arg(short = 's', long = "size")]
    pub size: bool,
    #[arg(required = true, value_name = "CONTAINER")]
    pub containers: Vec<String>,
}

/// API path for one container's inspect JSON.
pub fn path(name: &str, size: bool) -> String {
    format!("/containers/{}/json{}", query_escape(name), if size { "?size=1" } else { "" })
}

pub async fn run(c: &Client, a: Args) -> CmdResult {
    inspect_objects(c, &a.containers, a.format.as_deref(), &[Kind::Container], a.size).await
}
