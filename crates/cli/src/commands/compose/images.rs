//! `berth compose images`: the images the project's containers use.

use super::lifecycle::targets;
use super::project::{name, Global};
use crate::client::Client;
use crate::error::CmdResult;
use crate::format::table::{align, short_id};
use crate::format::units::human_size;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Only display IDs
    #[arg(short = 'q', long = "quiet")]
    pub quiet: bool,
    #[arg(value_name = "SERVICE")]
    pub services: Vec<String>,
}

pub async fn run(c: &Client, g: &Global, a: Args) -> CmdResult {
    let (_, list) = targets(c, g, &a.services, false).await?;
    let mut text = String::from("CONTAINER\tREPOSITORY\tTAG\tIMAGE ID\tSIZE\n");
    for ct in &list {
        let image = ct.get("Image").and_then(|v| v.as_str()).unwrap_or_default().to_string();
        let info = c.docker.inspect_image(&image).await?;
        let id = info.id.clone().unwrap_or_default();
        if a.quiet {
            println!("{}", short_id(&id));
            continue;
        }
        let (repo, tag) = super::converge::split_tag(&image);
        text.push_str(&format!(
            "{}\t{repo}\t{tag}\t{}\t{}\n",
            name(ct),
            short_id(&id),
            human_size(info.size.unwrap_or(0) as f64)
        ));
    }
    if !a.quiet {
        print!("{}", align(&text));
    }
    Ok(0)
}
