//! `berth compose ps`: the project's containers.

use berth_compose::labels;
use gotmpl::Value;
use serde_json::Value as J;

use super::project::{check_services, containers, label, load_or_name, name, of_services, Global};
use crate::client::Client;
use crate::commands::container::ls::{displayable_ports, go_time_string, joined_labels};
use crate::error::CmdResult;
use crate::format::table::{ellipsis, short_id};
use crate::format::template::{map, str_val, Format};
use crate::format::units::{now_unix, since};

const DEFAULT_TABLE: &str =
    "table {{.Name}}\t{{.Image}}\t{{.Command}}\t{{.Service}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}";

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Show all stopped containers (including those created by the run command)
    #[arg(short = 'a', long = "all")]
    pub all: bool,
    /// Only display IDs
    #[arg(short = 'q', long = "quiet")]
    pub quiet: bool,
    /// Display services
    #[arg(long = "services")]
    pub services_only: bool,
    /// Format output using a custom template: 'table', 'json', or a Go template
    #[arg(long = "format")]
    pub format: Option<String>,
    /// Filter services by a property (supported filters: status)
    #[arg(long = "filter")]
    pub filter: Vec<String>,
    /// Filter services by status. Values: [paused | restarting | removing | running | dead | created | exited]
    #[arg(long = "status")]
    pub status: Vec<String>,
    /// Don't truncate output
    #[arg(long = "no-trunc")]
    pub no_trunc: bool,
    #[arg(value_name = "SERVICE")]
    pub services: Vec<String>,
}

fn s(v: &J, k: &str) -> String {
    v.get(k).and_then(J::as_str).unwrap_or_default().to_string()
}

fn row(c: &J, project: &str, trunc: bool, now: i64) -> Value {
    let command = s(c, "Command");
    let created = c.get("Created").and_then(J::as_i64).unwrap_or(0);
    let ports: Vec<J> = c.get("Ports").and_then(J::as_array).cloned().unwrap_or_default();
    let status = s(c, "Status");
    let health = if status.contains("(healthy)") {
        "healthy"
    } else if status.contains("(unhealthy)") {
        "unhealthy"
    } else if status.contains("(health: starting)") {
        "starting"
    } else {
        ""
    };
    let exit_code = status
        .strip_prefix("Exited (")
        .and_then(|r| r.split(')').next())
        .and_then(|n| n.parse::<i64>().ok())
        .unwrap_or(0);
    let id = s(c, "Id");
    map([
        ("ID", str_val(if trunc { short_id(&id) } else { id })),
        ("Name", str_val(name(c))),
        ("Names", str_val(name(c))),
        ("Image", str_val(s(c, "Image"))),
        (
            "Command",
            str_val(serde_json::to_string(&if trunc { ellipsis(&command, 20) } else { command }).unwrap_or_default()),
        ),
        ("Project", str_val(project)),
        ("Service", str_val(label(c, labels::SERVICE))),
        ("CreatedAt", str_val(go_time_string(created))),
        ("RunningFor", str_val(since(created, now))),
        ("State", str_val(s(c, "State"))),
        ("Status", str_val(status.clone())),
        ("Health", str_val(health)),
        ("ExitCode", Value::Int(exit_code)),
        ("Ports", str_val(displayable_ports(&ports))),
        ("Labels", str_val(joined_labels(c.get("Labels")))),
    ])
}

fn header() -> Value {
    map([
        ("ID", str_val("CONTAINER ID")),
        ("Name", str_val("NAME")),
        ("Names", str_val("NAMES")),
        ("Image", str_val("IMAGE")),
        ("Command", str_val("COMMAND")),
        ("Project", str_val("PROJECT")),
        ("Service", str_val("SERVICE")),
        ("CreatedAt", str_val("CREATED AT")),
        ("RunningFor", str_val("CREATED")),
        ("State", str_val("STATE")),
        ("Status", str_val("STATUS")),
        ("Health", str_val("HEALTH")),
        ("ExitCode", str_val("EXIT CODE")),
        ("Ports", str_val("PORTS")),
        ("Labels", str_val("LABELS")),
    ])
}

pub async fn run(c: &Client, g: &Global, a: Args) -> CmdResult {
    let project = load_or_name(g)?;
    if !project.services.is_empty() {
        check_services(&project, &a.services)?;
    }
    let mut statuses = a.status.clone();
    for f in &a.filter {
        match f.split_once('=') {
            Some(("status", v)) => statuses.push(v.to_string()),
            _ => return Err(crate::error::CliError::new(1, format!("invalid filter \"{f}\""))),
        }
    }
    let all = a.all || !statuses.is_empty();
    let mut list =
        of_services(containers(c, &project.name, all, if a.all { None } else { Some(false) }).await?, &a.services);
    if !statuses.is_empty() {
        list.retain(|ct| statuses.contains(&s(ct, "State")));
    }
    if a.services_only {
        let mut names: Vec<String> = list.iter().map(|ct| label(ct, labels::SERVICE)).collect();
        names.dedup();
        for n in names {
            println!("{n}");
        }
        return Ok(0);
    }
    let format = match (&a.format, a.quiet) {
        (_, true) => "{{.ID}}".to_string(),
        (Some(f), false) if !f.is_empty() => f.clone(),
        _ => DEFAULT_TABLE.to_string(),
    };
    let fmt = Format::parse_rows(&format, DEFAULT_TABLE)?;
    let now = now_unix();
    let rows: Vec<Value> = list.iter().map(|ct| row(ct, &project.name, !a.no_trunc && !a.quiet, now)).collect();
    fmt.print(&header(), &rows)?;
    Ok(0)
}
