//! `berth compose logs`: the services' logs, each line prefixed with its container.

use super::logstream::{self, LogSpec};
use super::project::{check_services, containers, id, load_or_name, name, of_services, Global};
use crate::client::Client;
use crate::error::CmdResult;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Follow log output
    #[arg(short = 'f', long = "follow")]
    pub follow: bool,
    /// Number of lines to show from the end of the logs for each container
    #[arg(short = 'n', long = "tail", default_value = "all")]
    pub tail: String,
    /// Show timestamps
    #[arg(short = 't', long = "timestamps")]
    pub timestamps: bool,
    /// Produce monochrome output
    #[arg(long = "no-color")]
    pub no_color: bool,
    /// Don't print prefix in logs
    #[arg(long = "no-log-prefix")]
    pub no_log_prefix: bool,
    #[arg(value_name = "SERVICE")]
    pub services: Vec<String>,
}

pub async fn run(c: &Client, g: &Global, a: Args) -> CmdResult {
    let project = load_or_name(g)?;
    if !project.services.is_empty() {
        check_services(&project, &a.services)?;
    }
    let list = of_services(containers(c, &project.name, true, Some(false)).await?, &a.services);
    let targets = list.iter().map(|ct| (id(ct), logstream::short_name(&project.name, &name(ct)))).collect();
    let spec = LogSpec {
        follow: a.follow,
        tail: a.tail,
        timestamps: a.timestamps,
        prefix: !a.no_log_prefix,
        color: !a.no_color && crate::term::stdout_is_tty(),
    };
    logstream::stream(c, targets, spec).await;
    Ok(0)
}
