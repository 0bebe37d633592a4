//! `berth compose push`: push the images of services that name one (`image:`), through
//! `berth push`'s ImagePush client (so registry credentials are found the same way).

use super::project::{load_project, progress, selected_services, Global};
use crate::client::Client;
use crate::commands::image::push as image_push;
use crate::error::CmdResult;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Push what it can and ignores images with push failures
    #[arg(long = "ignore-push-failures")]
    pub ignore_push_failures: bool,
    /// Push without printing progress information
    #[arg(short = 'q', long = "quiet")]
    pub quiet: bool,
    #[arg(value_name = "SERVICE")]
    pub services: Vec<String>,
}

pub async fn run(c: &Client, g: &Global, a: Args) -> CmdResult {
    let project = load_project(g)?;
    for (name, svc) in selected_services(&project, &a.services)? {
        let Some(image) = svc.image.clone() else { continue };
        progress("Service", name, "Pushing");
        let r = image_push::run(c, image_push::Args { all_tags: false, quiet: a.quiet, image }).await;
        match r {
            Ok(0) => progress("Service", name, "Pushed"),
            Ok(code) if !a.ignore_push_failures => return Ok(code),
            Err(e) if !a.ignore_push_failures => return Err(e),
            Ok(_) | Err(_) => {}
        }
    }
    Ok(0)
}
