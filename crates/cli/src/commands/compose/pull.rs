//! `berth compose pull`: pull the services' images.

use super::converge;
use super::project::{check_services, load_project, Global};
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
    check_services(&project, &a.services)?;
    for (name, svc) in &project.services {
        if !a.services.is_empty() && !a.services.contains(name) {
            continue;
        }
        if svc.image.is_none() || (a.ignore_buildable && svc.build.is_some()) {
            continue;
        }
        converge::ensure_image(c, &project, svc, true).await?;
    }
    Ok(0)
}
