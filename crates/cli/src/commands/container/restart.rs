//! `berth container restart` (ContainerRestart).

use bollard::query_parameters::RestartContainerOptionsBuilder;

use crate::client::Client;
use crate::error::CmdResult;

/// Same flags as `stop`.
pub use super::stop::Args;

pub async fn run(c: &Client, a: Args) -> CmdResult {
    let mut opts = RestartContainerOptionsBuilder::new();
    if let Some(t) = a.time {
        opts = opts.t(t);
    }
    if let Some(s) = &a.signal {
        opts = opts.signal(s);
    }
    let opts = opts.build();
    super::rm::for_each(&a.containers, |name| {
        let opts = opts.clone();
        async move { c.docker.restart_container(&name, Some(opts)).await }
    })
    .await
}
