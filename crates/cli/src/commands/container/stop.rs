//! `berth container stop` (ContainerStop).

use bollard::query_parameters::StopContainerOptionsBuilder;

use crate::client::Client;
use crate::error::CmdResult;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Signal to send to the container
    #[arg(short = 's', long = "signal")]
    pub signal: Option<String>,
    /// Seconds to wait before killing the container
    #[arg(short = 't', long = "time", visible_alias = "timeout")]
    pub time: Option<i32>,
    #[arg(required = true, value_name = "CONTAINER")]
    pub containers: Vec<String>,
}

pub async fn run(c: &Client, a: Args) -> CmdResult {
    let mut opts = StopContainerOptionsBuilder::new();
    if let Some(t) = a.time {
        opts = opts.t(t);
    }
    if let Some(s) = &a.signal {
        opts = opts.signal(s);
    }
    let opts = opts.build();
    super::rm::for_each(&a.containers, |name| {
        let opts = opts.clone();
        async move { c.docker.stop_container(&name, Some(opts)).await }
    })
    .await
}
