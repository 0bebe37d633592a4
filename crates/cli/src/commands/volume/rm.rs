//! `berth volume rm` (VolumeDelete).

use bollard::query_parameters::RemoveVolumeOptions;

use crate::client::Client;
use crate::error::{daemon_message, CmdResult};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Force the removal of one or more volumes
    #[arg(short = 'f', long = "force")]
    pub force: bool,
    #[arg(required = true, value_name = "VOLUME")]
    pub names: Vec<String>,
}

pub async fn run(c: &Client, a: Args) -> CmdResult {
    let mut failed = false;
    for n in &a.names {
        match c.docker.remove_volume(n, Some(RemoveVolumeOptions { force: a.force })).await {
            Ok(()) => println!("{n}"),
            Err(e) => {
                eprintln!("{}", daemon_message(&e));
                failed = true;
            }
        }
    }
    Ok(if failed { 1 } else { 0 })
}
