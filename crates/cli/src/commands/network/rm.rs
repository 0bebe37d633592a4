//! `berth network rm` (NetworkDelete).

use crate::client::Client;
use crate::error::{daemon_message, CliError, CmdResult};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Do not error if the network does not exist
    #[arg(short = 'f', long = "force")]
    pub force: bool,
    #[arg(required = true, value_name = "NETWORK")]
    pub names: Vec<String>,
}

pub async fn run(c: &Client, a: Args) -> CmdResult {
    let mut errors = Vec::new();
    for n in &a.names {
        match c.docker.remove_network(n).await {
            Ok(()) => println!("{n}"),
            Err(e) if a.force && crate::error::is_not_found(&e) => {}
            Err(e) => errors.push(daemon_message(&e)),
        }
    }
    if errors.is_empty() {
        Ok(0)
    } else {
        Err(CliError::new(1, errors.join("\n")))
    }
}
