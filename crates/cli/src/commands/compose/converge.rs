//! Applying a converge plan with the API client: project networks and volumes, images,
//! container create/recreate/start/remove, and waiting for `depends_on` conditions.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use berth_api_types::models::{NetworkConnectRequest, NetworkCreateRequest, VolumeCreateRequest};
use berth_compose::container::{create_plan, Overrides};
use berth_compose::labels;
use berth_compose::model::{Condition, Project, Service};
use berth_compose::plan::Action;
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, CreateImageOptionsBuilder, RemoveContainerOptionsBuilder, RestartContainerOptions,
    StartContainerOptions, StopContainerOptionsBuilder,
};
use futures_util::StreamExt;
use serde_json::Value as J;

use super::project::{containers, id, label, name, progress};
use crate::client::Client;
use crate::error::{is_not_found, CliError};

fn err(e: bollard::errors::Error) -> CliError {
    CliError::daemon(e)
}

/// Create the project's networks used by `services` (and check external ones exist).
pub async fn ensure_networks(c: &Client, project: &Project, services: &[String]) -> Result<(), CliError> {
    let used: BTreeSet<&String> =
        services.iter().filter_map(|s| project.services.get(s)).flat_map(|s| s.networks.keys()).collect();
    for key in used {
        let Some(net) = project.networks.get(key) else { continue };
        match c.docker.inspect_network(&net.name, None).await {
            Ok(_) => continue,
            Err(e) if !is_not_found(&e) => return Err(err(e)),
            Err(_) if net.external => {
                return Err(CliError::new(
                    1,
                    format!("network {} declared as external, but could not be found", net.name),
                ))
            }
            Err(_) => {}
        }
        progress("Network", &net.name, "Creating");
        let ipam = (!net.ipam_subnets.is_empty()).then(|| berth_api_types::models::Ipam {
            config: Some(
                net.ipam_subnets
                    .iter()
                    .map(|s| berth_api_types::models::IpamConfig { subnet: Some(s.clone()), ..Default::default() })
                    .collect(),
            ),
            ..Default::default()
        });
        let req = NetworkCreateRequest {
            name: net.name.clone(),
            driver: Some(net.driver.clone().unwrap_or_else(|| "bridge".into())),
            internal: net.internal.then_some(true),
            options: (!net.driver_opts.is_empty()).then(|| net.driver_opts.clone().into_iter().collect()),
            labels: Some(labels::object_labels(&project.name, labels::NETWORK, key, &net.labels).into_iter().collect()),
            ipam,
            ..Default::default()
        };
        c.docker.create_network(req).await.map_err(err)?;
        progress("Network", &net.name, "Created");
    }
    Ok(())
}

/// Create the project's named volumes used by `services` (and check external ones exist).
pub async fn ensure_volumes(c: &Client, project: &Project, services: &[String]) -> Result<(), CliError> {
    let used: BTreeSet<String> = services
        .iter()
        .filter_map(|s| project.services.get(s))
        .flat_map(|s| s.volumes.iter().filter_map(|m| m.source.clone()))
        .collect();
    for (key, vol) in &project.volumes {
        if !used.contains(key) {
            continue;
        }
        match c.docker.inspect_volume(&vol.name).await {
            Ok(_) => continue,
            Err(e) if !is_not_found(&e) => return Err(err(e)),
            Err(_) if vol.external => {
                return Err(CliError::new(1, format!("external volume \"{}\" not found", vol.name)));
            }
            Err(_) => {}
        }
        progress("Volume", &format!("\"{}\"", vol.name), "Creating");
        let req = VolumeCreateRequest {
            name: Some(vol.name.clone()),
            driver: vol.driver.clone(),
            driver_opts: (!vol.driver_opts.is_empty()).then(|| vol.driver_opts.clone().into_iter().collect()),
            labels: Some(labels::object_labels(&project.name, labels::VOLUME, key, &vol.labels).into_iter().collect()),
            ..Default::default()
        };
        c.docker.create_volume(req).await.map_err(err)?;
        progress("Volume", &format!("\"{}\"", vol.name), "Created");
    }
    Ok(())
}

/// Whether the service's image is present on the daemon.
pub async fn image_exists(c: &Client, project: &Project, svc: &Service) -> Result<bool, CliError> {
    match c.docker.inspect_image(&svc.image_name(&project.name)).await {
        Ok(_) => Ok(true),
        Err(e) if is_not_found(&e) => Ok(false),
        Err(e) => Err(err(e)),
    }
}

/// Pull the service's image when it is not present (`always`: pull anyway).
pub async fn ensure_image(c: &Client, project: &Project, svc: &Service, always: bool) -> Result<(), CliError> {
    let image = svc.image_name(&project.name);
    if !always {
        match c.docker.inspect_image(&image).await {
            Ok(_) => return Ok(()),
            Err(e) if !is_not_found(&e) => return Err(err(e)),
            Err(_) => {}
        }
        if svc.image.is_none() {
            return Err(CliError::new(
                1,
                format!("image {image} not found: build service \"{}\" first (`berth compose build`)", svc.name),
            ));
        }
    }
    progress(&svc.name, "", "Pulling");
    let (from, tag) = split_tag(&image);
    let opts = CreateImageOptionsBuilder::new().from_image(&from).tag(&tag).build();
    let mut stream = c.docker.create_image(Some(opts), None, None);
    while let Some(item) = stream.next().await {
        item.map_err(err)?;
    }
    progress(&svc.name, "", "Pulled");
    Ok(())
}

/// `repo[:tag]` → (repo, tag), defaulting the tag to `latest` (digests kept whole).
pub fn split_tag(image: &str) -> (String, String) {
    if image.contains('@') {
        return (image.to_string(), String::new());
    }
    match image.rsplit_once(':') {
        Some((repo, tag)) if !tag.contains('/') => (repo.to_string(), tag.to_string()),
        _ => (image.to_string(), "latest".to_string()),
    }
}

/// Create one container of `svc` (and connect its other networks); returns (id, name).
pub async fn create(
    c: &Client,
    project: &Project,
    svc: &Service,
    number: u32,
    ov: &Overrides,
    all: &[J],
) -> Result<(String, String), CliError> {
    let lookup = |other: &str| all.iter().find(|x| label(x, labels::SERVICE) == other).map(name);
    let plan = create_plan(project, svc, number, ov, &lookup);
    if !ov.oneoff {
        progress("Container", &plan.name, "Creating");
    }
    let opts = CreateContainerOptionsBuilder::new().name(&plan.name).build();
    let created = c.docker.create_container(Some(opts), plan.body).await.map_err(err)?;
    for (net, endpoint) in plan.connect {
        let req = NetworkConnectRequest { container: created.id.clone(), endpoint_config: Some(endpoint) };
        c.docker.connect_network(&net, req).await.map_err(err)?;
    }
    super::inject::inject(c, &created.id, &plan.inject).await?;
    if !ov.oneoff {
        progress("Container", &plan.name, "Created");
    }
    Ok((created.id, plan.name))
}

pub async fn start(c: &Client, id: &str, name: &str) -> Result<(), CliError> {
    progress("Container", name, "Starting");
    c.docker.start_container(id, None::<StartContainerOptions>).await.map_err(err)?;
    progress("Container", name, "Started");
    Ok(())
}

pub async fn stop(c: &Client, id: &str, name: &str, timeout: Option<i32>) -> Result<(), CliError> {
    progress("Container", name, "Stopping");
    let mut opts = StopContainerOptionsBuilder::new();
    if let Some(t) = timeout {
        opts = opts.t(t);
    }
    match c.docker.stop_container(id, Some(opts.build())).await {
        Ok(()) => {}
        Err(e) if is_not_found(&e) => {}
        Err(e) => return Err(err(e)),
    }
    progress("Container", name, "Stopped");
    Ok(())
}

pub async fn remove(c: &Client, id: &str, name: &str, volumes: bool) -> Result<(), CliError> {
    progress("Container", name, "Removing");
    let opts = RemoveContainerOptionsBuilder::new().force(true).v(volumes).build();
    match c.docker.remove_container(id, Some(opts)).await {
        Ok(()) => {}
        Err(e) if is_not_found(&e) => {}
        Err(e) => return Err(err(e)),
    }
    progress("Container", name, "Removed");
    Ok(())
}

/// Wait until every dependency of `svc` meets its condition.
pub async fn wait_dependencies(c: &Client, project: &Project, svc: &Service) -> Result<(), CliError> {
    for (dep, d) in &svc.depends_on {
        if d.condition == Condition::ServiceStarted {
            continue;
        }
        let list = containers(c, &project.name, true, Some(false)).await?;
        for ct in list.iter().filter(|x| label(x, labels::SERVICE) == *dep) {
            wait_condition(c, &id(ct), &name(ct), dep, d.condition).await?;
        }
    }
    Ok(())
}

/// Poll one container until it satisfies `cond`.
pub async fn wait_condition(c: &Client, id: &str, name: &str, service: &str, cond: Condition) -> Result<(), CliError> {
    let deadline = Instant::now() + Duration::from_secs(600);
    if cond == Condition::ServiceHealthy {
        progress("Container", name, "Waiting");
    }
    loop {
        let info = c.get_json(&format!("/containers/{id}/json")).await?;
        let status = info.pointer("/State/Status").and_then(J::as_str).unwrap_or_default().to_string();
        let exit = info.pointer("/State/ExitCode").and_then(J::as_i64).unwrap_or(0);
        match cond {
            Condition::ServiceStarted => return Ok(()),
            Condition::ServiceHealthy => {
                let health = info.pointer("/State/Health/Status").and_then(J::as_str);
                match health {
                    None => return Err(CliError::new(1, format!("container {name} has no healthcheck configured"))),
                    Some("healthy") => {
                        progress("Container", name, "Healthy");
                        return Ok(());
                    }
                    Some("unhealthy") => {
                        return Err(CliError::new(
                            1,
                            format!("dependency failed to start: container {name} is unhealthy"),
                        ))
                    }
                    _ if status == "exited" || status == "dead" => {
                        return Err(CliError::new(
                            1,
                            format!("dependency failed to start: container {name} exited ({exit})"),
                        ))
                    }
                    _ => {}
                }
            }
            Condition::ServiceCompletedSuccessfully => {
                if status == "exited" || status == "dead" {
                    if exit == 0 {
                        return Ok(());
                    }
                    return Err(CliError::new(
                        1,
                        format!("service \"{service}\" didn't complete successfully: exit {exit}"),
                    ));
                }
            }
        }
        if Instant::now() > deadline {
            return Err(CliError::new(1, format!("timed out waiting for container {name}")));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// What `up` applies.
pub struct Apply<'a> {
    pub project: &'a Project,
    pub plans: Vec<berth_compose::plan::ServicePlan>,
    /// Start containers (false for `create`).
    pub start: bool,
    pub timeout: Option<i32>,
}

/// Apply the plans in order; returns the ids of the containers now belonging to the services.
pub async fn apply(c: &Client, a: Apply<'_>) -> Result<Vec<(String, String)>, CliError> {
    let mut result = Vec::new();
    let mut all = containers(c, &a.project.name, true, Some(false)).await?;
    // Services recreated or restarted here: their `restart: true` dependents restart too.
    let mut changed: BTreeSet<String> = BTreeSet::new();
    for sp in &a.plans {
        let Some(svc) = a.project.services.get(&sp.service) else { continue };
        let restart_kept = a.start && svc.depends_on.iter().any(|(dep, d)| d.restart && changed.contains(dep));
        if sp.actions.iter().any(|x| matches!(x, Action::Recreate { .. })) || restart_kept {
            changed.insert(sp.service.clone());
        }
        if a.start && sp.actions.iter().any(|x| !matches!(x, Action::Keep { .. } | Action::Remove { .. })) {
            wait_dependencies(c, a.project, svc).await?;
        }
        for action in &sp.actions {
            match action {
                Action::Keep { id, name } if restart_kept => {
                    progress("Container", name, "Restarting");
                    c.docker.restart_container(id, None::<RestartContainerOptions>).await.map_err(err)?;
                    progress("Container", name, "Started");
                    result.push((id.clone(), name.clone()));
                }
                Action::Keep { id, name } => {
                    progress("Container", name, "Running");
                    result.push((id.clone(), name.clone()));
                }
                Action::Start { id, name } => {
                    if a.start {
                        start(c, id, name).await?;
                    }
                    result.push((id.clone(), name.clone()));
                }
                Action::Remove { id, name } => {
                    stop(c, id, name, a.timeout).await?;
                    remove(c, id, name, false).await?;
                }
                Action::Recreate { id, name, number } => {
                    let (nid, nname) =
                        super::recreate::recreate(c, a.project, svc, (id, name, *number), a.timeout, &all).await?;
                    if a.start {
                        start(c, &nid, &nname).await?;
                    }
                    result.push((nid, nname));
                }
                Action::Create { number } => {
                    let (nid, nname) = create(c, a.project, svc, *number, &Overrides::default(), &all).await?;
                    if a.start {
                        start(c, &nid, &nname).await?;
                    }
                    result.push((nid, nname));
                }
            }
        }
        all = containers(c, &a.project.name, true, Some(false)).await?;
    }
    Ok(result)
}

/// `--scale web=3` flags → a map (bad syntax is an error as in Compose).
pub fn parse_scale(flags: &[String]) -> Result<BTreeMap<String, u32>, CliError> {
    flags
        .iter()
        .map(|f| {
            let (svc, n) =
                f.split_once('=').ok_or_else(|| CliError::new(1, format!("invalid --scale option \"{f}\"")))?;
            let n = n.parse().map_err(|_| CliError::new(1, format!("invalid --scale option \"{f}\"")))?;
            Ok((svc.to_string(), n))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_and_scale() {
        assert_eq!(split_tag("busybox"), ("busybox".into(), "latest".into()));
        assert_eq!(split_tag("localhost:5000/x:1"), ("localhost:5000/x".into(), "1".into()));
        assert_eq!(split_tag("localhost:5000/x"), ("localhost:5000/x".into(), "latest".into()));
        assert_eq!(parse_scale(&["web=3".into()]).unwrap()["web"], 3);
        assert!(parse_scale(&["web".into()]).is_err());
    }
}
