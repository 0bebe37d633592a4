//! `berth volume ls` (VolumeList).

use bollard::query_parameters::ListVolumesOptions;

use crate::client::Client;
use crate::error::{daemon_message, CliError, CmdResult};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Provide filter values (e.g. "dangling=true")
    #[arg(short = 'f', long = "filter")]
    pub filter: Vec<String>,
    /// Only display volume names
    #[arg(short = 'q', long = "quiet")]
    pub quiet: bool,
}

pub async fn run(c: &Client, a: Args) -> CmdResult {
    let opts = ListVolumesOptions { filters: Some(super::filter_map(&a.filter)) };
    let resp = c.docker.list_volumes(Some(opts)).await.map_err(|e| CliError::new(1, daemon_message(&e)))?;
    let mut vols = resp.volumes.unwrap_or_default();
    vols.sort_by(|x, y| x.name.cmp(&y.name));
    if !a.quiet {
        println!("{:<10}VOLUME NAME", "DRIVER");
    }
    for v in vols {
        if a.quiet {
            println!("{}", v.name);
        } else {
            println!("{:<10}{}", v.driver, v.name);
        }
    }
    Ok(0)
}
