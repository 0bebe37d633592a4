//! `berth compose pull`: pull the services' images.

use super::converge;
use super::project::{load_project, selected_services, Global};
use crate::client::Client;
use crate::error::CmdResult;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Ignore images that can be built
    #[arg(long = "ignore-buildable")]
    pub ignore_buildable: bool,
    /// Pull without printing progress information
    #[arg(short = 'q', long = "quiet")]
    pub quiet: bool,
    #[arg(value_name = "SERVICE")]
    pub services: Vec<String>,
}

pub async fn run(c: &Client, g: &Global, a: Args) -> CmdResult {
    let project = load_project(g)?;
    for (_, svc) in selected_services(&project, &a.services)? {
        if svc.image.is_none() || (a.ignore_buildable && svc.build.is_some()) {
            continue;
        }
        converge::ensure_image(c, &project, svc, true).await?;
    }
    Ok(0)
}
