//! `berth compose run`: a one-off container of a service (dependencies started first).

use berth_compose::container::Overrides;
use berth_compose::plan::{plan_up, UpOptions};

use super::converge::{self, Apply};
use super::project::{check_services, containers, existing, load_project, Global};
use super::up::selected;
use crate::client::Client;
use crate::commands::container::{stream, wait::PendingWait};
use crate::error::{CliError, CmdResult};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Run container in background and print container ID
    #[arg(short = 'd', long = "detach")]
    pub detach: bool,
    /// Automatically remove the container when it exits
    #[arg(long = "rm")]
    pub rm: bool,
    /// Assign a name to the container
    #[arg(long = "name")]
    pub name: Option<String>,
    /// Override the entrypoint of the image
    #[arg(long = "entrypoint")]
    pub entrypoint: Option<String>,
    /// Set environment variables
    #[arg(short = 'e', long = "env")]
    pub env: Vec<String>,
    /// Disable pseudo-TTY allocation (default: auto-detected)
    #[arg(short = 'T', long = "no-TTY")]
    pub no_tty: bool,
    /// Run as specified username or uid
    #[arg(short = 'u', long = "user")]
    pub user: Option<String>,
    /// Working directory inside the container
    #[arg(short = 'w', long = "workdir")]
    pub workdir: Option<String>,
    /// Don't start linked services
    #[arg(long = "no-deps")]
    pub no_deps: bool,
    /// Run command with all service's ports enabled and mapped to the host
    #[arg(long = "service-ports")]
    pub service_ports: bool,
    #[arg(value_name = "SERVICE")]
    pub service: String,
    #[arg(value_name = "COMMAND", trailing_var_arg = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
}

pub async fn run(c: &Client, g: &Global, a: Args) -> CmdResult {
    let mut project = load_project(g)?;
    if let Some(svc) = project.disabled.remove(&a.service) {
        project.services.insert(a.service.clone(), svc);
    }
    check_services(&project, std::slice::from_ref(&a.service))?;
    let mut deps = selected(&project, std::slice::from_ref(&a.service), a.no_deps)?;
    deps.retain(|s| *s != a.service);
    converge::ensure_networks(c, &project, std::slice::from_ref(&a.service)).await?;
    converge::ensure_volumes(c, &project, std::slice::from_ref(&a.service)).await?;
    if !deps.is_empty() {
        converge::ensure_networks(c, &project, &deps).await?;
        converge::ensure_volumes(c, &project, &deps).await?;
        let current = existing(&containers(c, &project.name, true, Some(false)).await?);
        // Dependencies are only created or started, never recreated, by `run`.
        let opts = UpOptions { no_recreate: true, ..Default::default() };
        let plans = plan_up(&project, &deps, &current, &opts);
        for sp in &plans {
            if let Some(svc) = project.services.get(&sp.service) {
                converge::ensure_image(c, &project, svc, false).await?;
            }
        }
        converge::apply(c, Apply { project: &project, plans, start: true, timeout: None }).await?;
    }
    let Some(svc) = project.services.get(&a.service) else {
        return Err(CliError::new(1, format!("no such service: {}", a.service)));
    };
    converge::wait_dependencies(c, &project, svc).await?;
    if svc.build.is_some() && !converge::image_exists(c, &project, svc).await? {
        super::build::build_service(c, &project, svc, false).await?;
    } else {
        converge::ensure_image(c, &project, svc, false).await?;
    }

    let tty = !a.no_tty && !a.detach && crate::term::stdin_is_tty() && crate::term::stdout_is_tty();
    let interactive = !a.detach;
    let env = a
        .env
        .iter()
        .filter_map(|e| match e.split_once('=') {
            Some((k, v)) => Some((k.to_string(), v.to_string())),
            None => std::env::var(e).ok().map(|v| (e.clone(), v)),
        })
        .collect();
    let entrypoint = match &a.entrypoint {
        Some(e) => Some(
            berth_compose::service::shell_split(e)
                .ok_or_else(|| CliError::new(1, format!("invalid entrypoint \"{e}\"")))?,
        ),
        None => None,
    };
    let ov = Overrides {
        oneoff: true,
        command: (!a.command.is_empty()).then(|| a.command.clone()),
        entrypoint,
        env,
        tty: Some(tty),
        stdin_open: Some(interactive),
        no_ports: !a.service_ports,
        user: a.user.clone(),
        workdir: a.workdir.clone(),
        auto_remove: false,
    };
    let all = containers(c, &project.name, true, Some(false)).await?;
    let (id, _) = converge::create(c, &project, svc, 1, &ov, &all).await?;
    if let Some(n) = &a.name {
        let opts = bollard::query_parameters::RenameContainerOptionsBuilder::new().name(n).build();
        c.docker.rename_container(&id, opts).await?;
    }
    if a.detach {
        c.docker.start_container(&id, None::<bollard::query_parameters::StartContainerOptions>).await?;
        println!("{id}");
        return Ok(0);
    }
    let streams = stream::Streams { stdin: interactive, stdout: true, stderr: true };
    let attached = stream::attach(c, &id, streams).await?;
    let waiter = PendingWait::register(c, &id, "next-exit").await?;
    let raw = if tty { crate::term::RawMode::enable() } else { None };
    if let Err(e) = c.docker.start_container(&id, None::<bollard::query_parameters::StartContainerOptions>).await {
        drop(raw);
        if a.rm {
            let opts = bollard::query_parameters::RemoveContainerOptionsBuilder::new().force(true).v(true).build();
            let _ = c.docker.remove_container(&id, Some(opts)).await;
        }
        return Err(e.into());
    }
    let tasks = stream::spawn_session_helpers(c, &id, tty, true).await;
    let pumped = stream::pump(attached, interactive).await;
    drop(raw);
    for t in tasks {
        t.abort();
    }
    let status = waiter.status().await;
    if a.rm {
        let opts = bollard::query_parameters::RemoveContainerOptionsBuilder::new().force(true).v(true).build();
        let _ = c.docker.remove_container(&id, Some(opts)).await;
    }
    pumped?;
    Ok(status? as i32)
}
