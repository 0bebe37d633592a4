//! `berth system prune`: the container, network, volume (with `--volumes`), image and build
//! cache prune endpoints in docker's order, with docker's confirmation text and output.

use bollard::query_parameters::{PruneNetworksOptions, PruneVolumesOptions};

use crate::client::{error_body_message, filters_json, query_escape, read_body, Client};
use crate::commands::image::prune::confirm;
use crate::commands::{container, image, volume};
use crate::error::{daemon_message, CliError, CmdResult};
use crate::format::units::human_size;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Remove all unused images not just dangling ones
    #[arg(short = 'a', long = "all")]
    pub all: bool,
    /// Provide filter values (e.g. "label=<key>=<value>")
    #[arg(long = "filter")]
    pub filter: Vec<String>,
    /// Do not prompt for confirmation
    #[arg(short = 'f', long = "force")]
    pub force: bool,
    /// Prune anonymous volumes
    #[arg(long = "volumes")]
    pub volumes: bool,
}

/// The confirmation text up to (not including) "Are you sure…", as docker renders it.
fn warning(a: &Args) -> String {
    let mut items = vec!["all stopped containers", "all networks not used by at least one container"];
    if a.volumes {
        items.push("all anonymous volumes not used by at least one container");
    }
    items.push(if a.all {
        "all images without at least one container associated to them"
    } else {
        "all dangling images"
    });
    items.push(if a.all { "all build cache" } else { "unused build cache" });
    let mut out = String::from("WARNING! This will remove:");
    for i in items {
        out.push_str(&format!("\n  - {i}"));
    }
    out.push('\n');
    let mut filters: Vec<&String> = a
        .filter
        .iter()
        .filter(|f| ["label", "label!", "until"].contains(&f.split_once('=').map_or(f.as_str(), |(k, _)| k)))
        .collect();
    filters.sort();
    if !filters.is_empty() {
        out.push_str("\n  Items to be pruned will be filtered with:");
        for f in filters {
            out.push_str(&format!("\n  - {f}"));
        }
        out.push('\n');
    }
    out
}

fn has_until(filter: &[String]) -> bool {
    filter.iter().any(|f| f.split_once('=').map_or(f.as_str(), |(k, _)| k) == "until")
}

async fn networks(c: &Client, filter: &[String]) -> Result<(u64, String), CliError> {
    let opts = PruneNetworksOptions { filters: Some(volume::filter_map(filter)) };
    let resp = c.docker.prune_networks(Some(opts)).await.map_err(|e| CliError::new(1, daemon_message(&e)))?;
    Ok((0, lines("Deleted Networks:", &resp.networks_deleted.unwrap_or_default())))
}

async fn volumes(c: &Client, filter: &[String]) -> Result<(u64, String), CliError> {
    let opts = PruneVolumesOptions { filters: Some(volume::filter_map(filter)) };
    let resp = c.docker.prune_volumes(Some(opts)).await.map_err(|e| CliError::new(1, daemon_message(&e)))?;
    let deleted = resp.volumes_deleted.unwrap_or_default();
    let space = if deleted.is_empty() { 0 } else { u64::try_from(resp.space_reclaimed.unwrap_or(0)).unwrap_or(0) };
    Ok((space, lines("Deleted Volumes:", &deleted)))
}

async fn images(c: &Client, all: bool, filter: &[String]) -> Result<(u64, String), CliError> {
    let report = image::prune::prune(c, all, filter).await?;
    let mut out = image::prune::deleted_lines(&report);
    // deleted_lines ends with the blank line a standalone prune prints; the caller adds it here.
    if out.ends_with("\n\n") {
        out.pop();
    }
    let space = if out.is_empty() { 0 } else { report.get("SpaceReclaimed").and_then(|s| s.as_u64()).unwrap_or(0) };
    Ok((space, out))
}

async fn build_cache(c: &Client, all: bool, filter: &[String]) -> Result<(u64, String), CliError> {
    let mut query = Vec::new();
    if all {
        query.push("all=1".to_string());
    }
    if let Some(f) = filters_json(filter)? {
        query.push(format!("filters={}", query_escape(&f)));
    }
    let path = if query.is_empty() { "/build/prune".to_string() } else { format!("/build/prune?{}", query.join("&")) };
    let (status, body) = read_body(c.raw(http::Method::POST, &path).await?).await?;
    if !(200..300).contains(&status) {
        return Err(CliError::new(1, format!("Error response from daemon: {}", error_body_message(&body))));
    }
    let report: serde_json::Value =
        serde_json::from_slice(&body).map_err(|e| CliError::new(1, format!("error decoding daemon response: {e}")))?;
    let ids: Vec<String> = report
        .get("CachesDeleted")
        .and_then(|d| d.as_array())
        .map(|a| a.iter().filter_map(|v| v.as_str().map(String::from)).collect())
        .unwrap_or_default();
    let space = report.get("SpaceReclaimed").and_then(|v| v.as_u64()).unwrap_or(0);
    Ok((space, lines("Deleted build cache objects:", &ids)))
}

/// `"<title>\n<item>\n…"`, or empty when there are no items.
fn lines(title: &str, items: &[String]) -> String {
    if items.is_empty() {
        return String::new();
    }
    let mut out = format!("{title}\n");
    for i in items {
        out.push_str(i);
        out.push('\n');
    }
    out
}

pub async fn run(c: &Client, a: Args) -> CmdResult {
    if a.volumes && has_until(&a.filter) {
        return Err(CliError::new(1, r#"ERROR: The "until" filter is not supported with "--volumes""#));
    }
    if !a.force && !confirm(&warning(&a))? {
        return Ok(0);
    }
    let mut total = 0u64;
    let mut report = |(space, output): (u64, String)| {
        total += space;
        if !output.is_empty() {
            println!("{output}");
        }
    };
    report(container::prune::prune(c, &a.filter).await?);
    report(networks(c, &a.filter).await?);
    if a.volumes {
        report(volumes(c, &a.filter).await?);
    }
    report(images(c, a.all, &a.filter).await?);
    report(build_cache(c, a.all, &a.filter).await?);
    println!("Total reclaimed space: {}", human_size(total as f64));
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(all: bool, volumes: bool, filter: &[&str]) -> Args {
        Args { all, volumes, force: false, filter: filter.iter().map(|s| s.to_string()).collect() }
    }

    #[test]
    fn confirmation_like_docker() {
        assert_eq!(
            warning(&args(false, false, &[])),
            "WARNING! This will remove:\n  - all stopped containers\n  - all networks not used by at least one container\n  - all dangling images\n  - unused build cache\n"
        );
        assert_eq!(
            warning(&args(true, false, &["until=1h", "label=a=b", "label!=c"])),
            "WARNING! This will remove:\n  - all stopped containers\n  - all networks not used by at least one container\n  - all images without at least one container associated to them\n  - all build cache\n\n  Items to be pruned will be filtered with:\n  - label!=c\n  - label=a=b\n  - until=1h\n"
        );
        assert!(warning(&args(false, true, &[]))
            .contains("\n  - all anonymous volumes not used by at least one container\n"));
    }

    #[test]
    fn sections() {
        assert_eq!(lines("Deleted Networks:", &["n1".into()]), "Deleted Networks:\nn1\n");
        assert_eq!(lines("Deleted Networks:", &[]), "");
        assert!(has_until(&["until=1h".into()]));
        assert!(!has_until(&["label=until".into()]));
    }
}
