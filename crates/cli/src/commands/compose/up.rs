//! `berth compose up`: create and start the project's containers, converging on the file
//! (unchanged containers are left alone, changed ones recreated), then follow their logs
//! unless `-d`.

use std::time::Duration;

use berth_compose::graph;
use berth_compose::model::{Condition, Project};
use berth_compose::plan::{orphans, plan_up, UpOptions};

use super::converge::{self, Apply};
use super::logstream::{self, LogSpec};
use super::project::{check_services, containers, existing, load_project, Global};
use crate::client::Client;
use crate::error::{CliError, CmdResult};

#[derive(clap::Args, Debug, Default)]
pub struct Args {
    /// Detached mode: Run containers in the background
    #[arg(short = 'd', long = "detach")]
    pub detach: bool,
    /// Build images before starting containers
    #[arg(long = "build")]
    pub build: bool,
    /// Don't build an image, even if it's policy
    #[arg(long = "no-build")]
    pub no_build: bool,
    /// Recreate containers even if their configuration and image haven't changed
    #[arg(long = "force-recreate", conflicts_with = "no_recreate")]
    pub force_recreate: bool,
    /// If containers already exist, don't recreate them
    #[arg(long = "no-recreate")]
    pub no_recreate: bool,
    /// Remove containers for services not defined in the Compose file
    #[arg(long = "remove-orphans")]
    pub remove_orphans: bool,
    /// Scale SERVICE to NUM instances. Overrides the `scale` setting in the Compose file if present
    #[arg(long = "scale", value_name = "SERVICE=NUM")]
    pub scale: Vec<String>,
    /// Wait for services to be running|healthy. Implies detached mode
    #[arg(long = "wait")]
    pub wait: bool,
    /// Maximum duration in seconds to wait for the project to be running|healthy
    #[arg(long = "wait-timeout")]
    pub wait_timeout: Option<u64>,
    /// Don't start linked services
    #[arg(long = "no-deps")]
    pub no_deps: bool,
    /// Don't start the services after creating them
    #[arg(long = "no-start")]
    pub no_start: bool,
    /// Use this timeout in seconds for container shutdown when attached or when containers are already running
    #[arg(short = 't', long = "timeout")]
    pub timeout: Option<i32>,
    /// Pull image before running ("always"|"missing"|"never")
    #[arg(long = "pull", default_value = "missing")]
    pub pull: String,
    /// Produce monochrome output
    #[arg(long = "no-color")]
    pub no_color: bool,
    /// Don't print prefix in logs
    #[arg(long = "no-log-prefix")]
    pub no_log_prefix: bool,
    #[arg(value_name = "SERVICE")]
    pub services: Vec<String>,
}

/// The services `up`/`run` act on, in start order.
pub fn selected(project: &Project, services: &[String], no_deps: bool) -> Result<Vec<String>, CliError> {
    let order = graph::order(project).map_err(|e| CliError::new(1, e.to_string()))?;
    if services.is_empty() {
        return Ok(order);
    }
    let set = if no_deps { services.iter().cloned().collect() } else { graph::with_dependencies(project, services) };
    Ok(order.into_iter().filter(|s| set.contains(s)).collect())
}

pub async fn run(c: &Client, g: &Global, a: Args) -> CmdResult {
    let mut project = load_project(g)?;
    // Naming a service that is only in a profile enables it.
    for s in &a.services {
        if let Some(svc) = project.disabled.remove(s) {
            project.services.insert(s.clone(), svc);
        }
    }
    check_services(&project, &a.services)?;
    let services = selected(&project, &a.services, a.no_deps)?;
    let list = containers(c, &project.name, true, Some(false)).await?;
    let current = existing(&list);

    let orphan_list = orphans(&project, &current);
    if !orphan_list.is_empty() {
        if a.remove_orphans {
            for o in &orphan_list {
                converge::stop(c, &o.id, &o.name, a.timeout).await?;
                converge::remove(c, &o.id, &o.name, false).await?;
            }
        } else {
            let names: Vec<&str> = orphan_list.iter().map(|o| o.name.as_str()).collect();
            eprintln!("WARN[0000] Found orphan containers ([{}]) for this project. If you removed or renamed this service in your compose file, you can run this command with the --remove-orphans flag to clean it up.", names.join(" "));
        }
    }

    let opts = UpOptions {
        force_recreate: a.force_recreate,
        no_recreate: a.no_recreate,
        scale: converge::parse_scale(&a.scale)?,
        image_ids: Default::default(),
    };
    for s in opts.scale.keys() {
        check_services(&project, std::slice::from_ref(s))?;
    }
    // Images first (build or pull what is missing), so the plan can see which containers
    // run an outdated image.
    let mut image_ids = std::collections::BTreeMap::new();
    for name in &services {
        let Some(svc) = project.services.get(name) else { continue };
        let present = converge::image_exists(c, &project, svc).await?;
        if svc.build.is_some() && !a.no_build && (a.build || !present) {
            super::build::build_service(c, &project, svc, false).await?;
        } else if a.pull != "never" && (!present || (a.pull == "always" && svc.build.is_none())) {
            converge::ensure_image(c, &project, svc, a.pull == "always" && svc.build.is_none()).await?;
        }
        if let Ok(info) = c.docker.inspect_image(&svc.image_name(&project.name)).await {
            if let Some(id) = info.id {
                image_ids.insert(name.clone(), id);
            }
        }
    }
    let opts = UpOptions { image_ids, ..opts };
    let plans = plan_up(&project, &services, &current, &opts);
    converge::ensure_networks(c, &project, &services).await?;
    converge::ensure_volumes(c, &project, &services).await?;
    let started =
        converge::apply(c, Apply { project: &project, plans, start: !a.no_start, timeout: a.timeout }).await?;

    if a.wait {
        wait_ready(c, &project, &started, a.wait_timeout).await?;
        return Ok(0);
    }
    if a.detach || a.no_start {
        return Ok(0);
    }
    attach(c, &project, started, &a).await
}

/// `--wait`: every container running, and healthy when it has a healthcheck.
async fn wait_ready(
    c: &Client,
    project: &Project,
    started: &[(String, String)],
    timeout: Option<u64>,
) -> Result<(), CliError> {
    let work = async {
        for (id, name) in started {
            let info = c.get_json(&format!("/containers/{id}/json")).await?;
            let has_health = info.pointer("/State/Health").is_some_and(|h| !h.is_null());
            let cond = if has_health { Condition::ServiceHealthy } else { Condition::ServiceStarted };
            let service = super::project::label(
                &serde_json::json!({"Labels": info.pointer("/Config/Labels")}),
                berth_compose::labels::SERVICE,
            );
            converge::wait_condition(c, id, name, &service, cond).await?;
            if !has_health {
                let st = c.get_json(&format!("/containers/{id}/json")).await?;
                if st.pointer("/State/Running").and_then(serde_json::Value::as_bool) != Some(true) {
                    return Err(CliError::new(
                        1,
                        format!(
                            "container {name} exited ({})",
                            st.pointer("/State/ExitCode").and_then(serde_json::Value::as_i64).unwrap_or(0)
                        ),
                    ));
                }
            }
            super::project::progress("Container", name, "Healthy");
        }
        let _ = project;
        Ok(())
    };
    match timeout {
        Some(t) => tokio::time::timeout(Duration::from_secs(t), work)
            .await
            .map_err(|_| CliError::new(1, "timeout waiting for the project to be running|healthy"))?,
        None => work.await,
    }
}

/// Attached mode: follow the logs with prefixes; Ctrl-C stops the containers.
async fn attach(c: &Client, project: &Project, started: Vec<(String, String)>, a: &Args) -> CmdResult {
    let targets: Vec<(String, String)> =
        started.iter().map(|(id, n)| (id.clone(), logstream::short_name(&project.name, n))).collect();
    let names: Vec<&str> = targets.iter().map(|(_, n)| n.as_str()).collect();
    eprintln!("Attaching to {}", names.join(", "));
    let spec = LogSpec {
        follow: true,
        tail: "all".into(),
        timestamps: false,
        prefix: !a.no_log_prefix,
        color: !a.no_color && crate::term::stdout_is_tty(),
    };
    let logs = logstream::stream(c, targets, spec);
    tokio::pin!(logs);
    let mut sigint = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())?;
    let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = &mut logs => return Ok(0),
        _ = sigint.recv() => {}
        _ = sigterm.recv() => {}
    }
    // Keep printing what the containers say while they stop (their goodbyes).
    let stop = stop_all(c, &started, a.timeout, &mut sigint);
    tokio::pin!(stop);
    let mut logs_done = false;
    let code = loop {
        tokio::select! {
            r = &mut stop => break r,
            _ = &mut logs, if !logs_done => logs_done = true,
        }
    };
    if !logs_done {
        let _ = tokio::time::timeout(Duration::from_secs(5), &mut logs).await;
    }
    code
}

async fn stop_all(
    c: &Client,
    started: &[(String, String)],
    timeout: Option<i32>,
    sigint: &mut tokio::signal::unix::Signal,
) -> CmdResult {
    eprintln!("Gracefully stopping... (press Ctrl+C again to force)");
    let stops = async {
        for (id, name) in started.iter().rev() {
            converge::stop(c, id, name, timeout).await?;
        }
        Ok::<(), CliError>(())
    };
    tokio::select! {
        r = stops => r?,
        _ = sigint.recv() => {
            for (id, _) in started {
                let opts = bollard::query_parameters::KillContainerOptionsBuilder::new().signal("SIGKILL").build();
                let _ = c.docker.kill_container(id, Some(opts)).await;
            }
        }
    }
    Ok(130)
}
