//! `berth push` (ImagePush): upload an image to a registry with credentials from
//! `~/.docker/config.json`.

use bollard::query_parameters::PushImageOptionsBuilder;
use futures_util::StreamExt;

use crate::client::Client;
use crate::error::{CliError, CmdResult};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Push all tags of an image to the repository
    #[arg(short = 'a', long = "all-tags")]
    pub all_tags: bool,
    /// Suppress verbose output
    #[arg(short = 'q', long = "quiet")]
    pub quiet: bool,
    /// Image name: NAME[:TAG]
    pub image: String,
}

pub async fn run(c: &Client, a: Args) -> CmdResult {
    let (name, tag, _) = super::pull::split_reference(&a.image);
    if tag.contains(':') {
        return Err(CliError::new(1, "cannot push a digest reference"));
    }
    let tag = if a.all_tags { String::new() } else { tag };
    let opts = PushImageOptionsBuilder::new().tag(&tag).build();
    let mut stream = c.docker.push_image(&name, Some(opts), crate::commands::registry::config::credentials_for(&name));
    while let Some(msg) = stream.next().await {
        let info = msg?;
        if let Some(e) = info.error_detail.and_then(|e| e.message) {
            return Err(CliError::new(1, e));
        }
        if a.quiet {
            continue;
        }
        if let Some(s) = info.status {
            println!("{s}");
        }
    }
    if a.quiet {
        println!("{}", a.image);
    }
    Ok(0)
}
