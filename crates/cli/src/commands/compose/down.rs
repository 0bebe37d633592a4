//! `berth compose down`: stop and remove the project's containers and networks (and with
//! `-v` its volumes, with `--rmi` its images).

use berth_compose::labels;
use bollard::query_parameters::{ListNetworksOptionsBuilder, ListVolumesOptionsBuilder, RemoveImageOptionsBuilder};

use super::converge;
use super::project::{containers, id, label, load_or_name, name, progress, Global};
use crate::client::Client;
use crate::error::{is_not_found, CliError, CmdResult};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Remove named volumes declared in the "volumes" section of the Compose file and anonymous volumes attached to containers
    #[arg(short = 'v', long = "volumes")]
    pub volumes: bool,
    /// Remove images used by services. "local" remove only images that don't have a custom tag ("local"|"all")
    #[arg(long = "rmi")]
    pub rmi: Option<String>,
    /// Remove containers for services not defined in the Compose file
    #[arg(long = "remove-orphans")]
    pub remove_orphans: bool,
    /// Specify a shutdown timeout in seconds
    #[arg(short = 't', long = "timeout")]
    pub timeout: Option<i32>,
}

pub async fn run(c: &Client, g: &Global, a: Args) -> CmdResult {
    let project = load_or_name(g)?;
    if let Some(r) = &a.rmi {
        if r != "local" && r != "all" {
            return Err(CliError::new(1, format!("invalid --rmi option \"{r}\"")));
        }
    }
    let known = |svc: &str| project.services.contains_key(svc) || project.disabled.contains_key(svc);
    let unknown_project = project.services.is_empty() && project.disabled.is_empty();
    let list = containers(c, &project.name, true, None).await?;
    // Dependents stop first: reverse start order, unknown services last.
    let order = berth_compose::graph::order(&project).unwrap_or_default();
    let rank = |svc: &str| order.iter().position(|s| s == svc).map_or(0, |p| order.len() - p);
    let mut targets: Vec<_> = list
        .iter()
        .filter(|ct| {
            let svc = label(ct, labels::SERVICE);
            let oneoff = label(ct, labels::ONEOFF).eq_ignore_ascii_case("true");
            unknown_project || a.remove_orphans || oneoff || known(&svc)
        })
        .collect();
    targets.sort_by_key(|ct| rank(&label(ct, labels::SERVICE)));
    let orphans: Vec<String> = list.iter().filter(|ct| !targets.iter().any(|t| id(t) == id(ct))).map(name).collect();
    if !orphans.is_empty() {
        eprintln!("WARN[0000] Found orphan containers ([{}]) for this project. If you removed or renamed this service in your compose file, you can run this command with the --remove-orphans flag to clean it up.", orphans.join(" "));
    }
    for ct in &targets {
        if ct.get("State").and_then(|s| s.as_str()) == Some("running") {
            converge::stop(c, &id(ct), &name(ct), a.timeout).await?;
        }
    }
    for ct in &targets {
        converge::remove(c, &id(ct), &name(ct), a.volumes).await?;
    }

    // Networks and volumes carry the project label; external ones never do.
    let filter =
        std::collections::HashMap::from([("label".to_string(), vec![format!("{}={}", labels::PROJECT, project.name)])]);
    if orphans.is_empty() {
        let nets = c.docker.list_networks(Some(ListNetworksOptionsBuilder::new().filters(&filter).build())).await?;
        for n in nets {
            let Some(nname) = n.name else { continue };
            progress("Network", &nname, "Removing");
            match c.docker.remove_network(&nname).await {
                Ok(()) => progress("Network", &nname, "Removed"),
                Err(e) if is_not_found(&e) => {}
                Err(e) => return Err(CliError::daemon(e)),
            }
        }
    }
    if a.volumes {
        let vols = c.docker.list_volumes(Some(ListVolumesOptionsBuilder::new().filters(&filter).build())).await?;
        for v in vols.volumes.unwrap_or_default() {
            progress("Volume", &v.name, "Removing");
            match c.docker.remove_volume(&v.name, None::<bollard::query_parameters::RemoveVolumeOptions>).await {
                Ok(()) => progress("Volume", &v.name, "Removed"),
                Err(e) if is_not_found(&e) => {}
                Err(e) => return Err(CliError::daemon(e)),
            }
        }
    }
    if let Some(mode) = &a.rmi {
        let mut images: Vec<String> = project
            .services
            .values()
            .filter(|s| mode == "all" || s.image.is_none())
            .map(|s| s.image_name(&project.name))
            .collect();
        images.sort();
        images.dedup();
        for img in images {
            progress("Image", &img, "Removing");
            match c.docker.remove_image(&img, Some(RemoveImageOptionsBuilder::new().build()), None).await {
                Ok(_) => progress("Image", &img, "Removed"),
                Err(e) if is_not_found(&e) => {}
                Err(e) => return Err(CliError::daemon(e)),
            }
        }
    }
    Ok(0)
}
