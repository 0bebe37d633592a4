//! `berth image rm` / `berth rmi` (ImageDelete).

use bollard::query_parameters::RemoveImageOptionsBuilder;

use crate::client::Client;
use crate::error::{daemon_message, CmdResult};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Force removal of the image
    #[arg(short = 'f', long = "force")]
    pub force: bool,
    /// Do not delete untagged parents
    #[arg(long = "no-prune")]
    pub no_prune: bool,
    #[arg(required = true, value_name = "IMAGE")]
    pub images: Vec<String>,
}

pub async fn run(c: &Client, a: Args) -> CmdResult {
    let opts = RemoveImageOptionsBuilder::new().force(a.force).noprune(a.no_prune).build();
    let mut failed = false;
    for img in &a.images {
        match c.docker.remove_image(img, Some(opts.clone()), None).await {
            Ok(items) => {
                for it in items {
                    if let Some(u) = it.untagged {
                        println!("Untagged: {u}");
                    }
                    if let Some(d) = it.deleted {
                        println!("Deleted: {d}");
                    }
                }
            }
            Err(e) => {
                eprintln!("{}", daemon_message(&e));
                failed = true;
            }
        }
    }
    Ok(if failed { 1 } else { 0 })
}
