//! `berth pause` / `berth unpause` (ContainerPause, ContainerUnpause).

use crate::client::Client;
use crate::error::{daemon_message, CliError, CmdResult};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[arg(value_name = "CONTAINER", required = true)]
    pub containers: Vec<String>,
}

/// Pauses (`true`) or unpauses every container named; prints each name as docker does.
pub async fn run(c: &Client, a: Args, pause: bool) -> CmdResult {
    let mut failed = false;
    for name in &a.containers {
        let r = if pause { c.docker.pause_container(name).await } else { c.docker.unpause_container(name).await };
        match r {
            Ok(()) => println!("{name}"),
            Err(e) => {
                eprintln!("{}", daemon_message(&e));
                failed = true;
            }
        }
    }
    if failed {
        return Err(CliError::new(1, ""));
    }
    Ok(0)
}
