//! `berth container kill` (ContainerKill).

use bollard::query_parameters::KillContainerOptionsBuilder;

use crate::client::Client;
use crate::error::CmdResult;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Signal to send to the container
    #[arg(short = 's', long = "signal")]
    pub signal: Option<String>,
    #[arg(required = true, value_name = "CONTAINER")]
    pub containers: Vec<String>,
}

pub async fn run(c: &Client, a: Args) -> CmdResult {
    let mut opts = KillContainerOptionsBuilder::new();
    if let Some(s) = &a.signal {
        opts = opts.signal(s);
    }
    let opts = opts.build();
    super::rm::for_each(&a.containers, |name| {
        let opts = opts.clone();
        async move { c.docker.kill_container(&name, Some(opts)).await }
    })
    .await
}
