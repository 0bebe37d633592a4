//! `berth container rm` (ContainerDelete), and the per-name loop shared by stop/kill/….

use std::future::Future;

use bollard::query_parameters::RemoveContainerOptionsBuilder;

use crate::client::Client;
use crate::error::{daemon_message, CmdResult};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Force the removal of a running container (uses SIGKILL)
    #[arg(short = 'f', long = "force")]
    pub force: bool,
    /// Remove anonymous volumes associated with the container
    #[arg(short = 'v', long = "volumes")]
    pub volumes: bool,
    /// Remove the specified link
    #[arg(short = 'l', long = "link")]
    pub link: bool,
    #[arg(required = true, value_name = "CONTAINER")]
    pub containers: Vec<String>,
}

/// Apply `op` to each name like docker: print the name on success, the error on stderr
/// otherwise, and exit 1 if any failed.
pub async fn for_each<F, Fut>(names: &[String], op: F) -> CmdResult
where
    F: Fn(String) -> Fut,
    Fut: Future<Output = Result<(), bollard::errors::Error>>,
{
    let mut failed = false;
    for name in names {
        match op(name.clone()).await {
            Ok(()) => println!("{name}"),
            Err(e) => {
                eprintln!("{}", daemon_message(&e));
                failed = true;
            }
        }
    }
    Ok(if failed { 1 } else { 0 })
}

pub async fn run(c: &Client, a: Args) -> CmdResult {
    let opts = RemoveContainerOptionsBuilder::new().force(a.force).v(a.volumes).link(a.link).build();
    for_each(&a.containers, |name| {
        let opts = opts.clone();
        async move { c.docker.remove_container(&name, Some(opts)).await }
    })
    .await
}
