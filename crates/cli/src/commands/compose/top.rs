//! `berth compose top`: the processes of each service container.

use bollard::query_parameters::TopOptionsBuilder;

use super::lifecycle::{state, targets};
use super::project::{id, name, Global};
use crate::client::Client;
use crate::error::CmdResult;
use crate::format::table::align;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[arg(value_name = "SERVICE")]
    pub services: Vec<String>,
}

pub async fn run(c: &Client, g: &Global, a: Args) -> CmdResult {
    let (_, list) = targets(c, g, &a.services, false).await?;
    let mut first = true;
    for ct in list.iter().filter(|ct| state(ct) == "running") {
        let top = c.docker.top_processes(&id(ct), Some(TopOptionsBuilder::new().build())).await?;
        if !first {
            println!();
        }
        first = false;
        println!("{}", name(ct));
        let mut text = top.titles.unwrap_or_default().join("\t");
        text.push('\n');
        for p in top.processes.unwrap_or_default() {
            text.push_str(&p.join("\t"));
            text.push('\n');
        }
        print!("{}", align(&text));
    }
    Ok(0)
}
