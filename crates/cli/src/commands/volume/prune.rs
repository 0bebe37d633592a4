//! `berth volume prune` (VolumePrune): anonymous volumes only, all unused with `-a`.

use bollard::query_parameters::PruneVolumesOptions;

use crate::client::Client;
use crate::error::{daemon_message, CliError, CmdResult};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Remove all unused volumes, not just anonymous ones
    #[arg(short = 'a', long = "all")]
    pub all: bool,
    /// Provide filter values (e.g. "label=<label>")
    #[arg(long = "filter")]
    pub filter: Vec<String>,
    /// Do not prompt for confirmation
    #[arg(short = 'f', long = "force")]
    pub force: bool,
}

pub async fn run(c: &Client, a: Args) -> CmdResult {
    let mut filters = super::filter_map(&a.filter);
    if a.all {
        filters.insert("all".into(), vec!["true".into()]);
    }
    let resp = c
        .docker
        .prune_volumes(Some(PruneVolumesOptions { filters: Some(filters) }))
        .await
        .map_err(|e| CliError::new(1, daemon_message(&e)))?;
    let deleted = resp.volumes_deleted.unwrap_or_default();
    if !deleted.is_empty() {
        println!("Deleted Volumes:");
        for v in &deleted {
            println!("{v}");
        }
        println!();
    }
    let bytes = u64::try_from(resp.space_reclaimed.unwrap_or(0)).unwrap_or(0);
    println!("Total reclaimed space: {}", crate::format::units::human_size(bytes as f64));
    Ok(0)
}
