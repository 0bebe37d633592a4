//! `berth compose config`: print the resolved model.

use super::project::{load_project, Global};
use crate::error::CmdResult;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Format the output. Values: [yaml | json]
    #[arg(long = "format", default_value = "yaml")]
    pub format: String,
    /// Only validate the configuration, don't print anything
    #[arg(short = 'q', long = "quiet")]
    pub quiet: bool,
    /// Print the service names, one per line
    #[arg(long = "services")]
    pub services: bool,
    /// Print the volume names, one per line
    #[arg(long = "volumes")]
    pub volumes: bool,
    /// Print the profile names, one per line
    #[arg(long = "profiles")]
    pub profiles: bool,
    /// Print the image names, one per line
    #[arg(long = "images")]
    pub images: bool,
}

pub fn run(g: &Global, a: Args) -> CmdResult {
    let p = load_project(g)?;
    if a.quiet {
        return Ok(0);
    }
    let lines: Option<Vec<String>> = if a.services {
        Some(berth_compose::graph::order(&p).map_err(|e| crate::error::CliError::new(1, e.to_string()))?)
    } else if a.volumes {
        Some(p.volumes.keys().cloned().collect())
    } else if a.profiles {
        let mut all: Vec<String> =
            p.services.values().chain(p.disabled.values()).flat_map(|s| s.profiles.clone()).collect();
        all.sort();
        all.dedup();
        Some(all)
    } else if a.images {
        Some(p.services.values().map(|s| s.image_name(&p.name)).collect())
    } else {
        None
    };
    match lines {
        Some(l) => l.iter().for_each(|x| println!("{x}")),
        None if a.format == "json" => println!("{}", berth_compose::config::to_json(&p)),
        None => print!("{}", berth_compose::config::to_yaml(&p)),
    }
    Ok(0)
}
