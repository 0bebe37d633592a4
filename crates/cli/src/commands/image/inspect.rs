//! `berth image inspect` (ImageInspect).

use crate::client::Client;
use crate::commands::system::inspect::{inspect_objects, Kind};
use crate::error::CmdResult;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Format output using a custom template
    #[arg(short = 'f', long = "format")]
    pub format: Option<String>,
    #[arg(required = true, value_name = "IMAGE")]
    pub images: Vec<String>,
}

pub async fn run(c: &Client, a: Args) -> CmdResult {
    inspect_objects(c, &a.images, a.format.as_deref(), &[Kind::Image], false).await
}
