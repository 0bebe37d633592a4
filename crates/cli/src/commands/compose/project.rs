//! Shared by the compose commands: loading the project from the global flags, listing the
//! project's containers by Compose's labels, and Compose's progress lines.

use std::collections::BTreeMap;
use std::path::PathBuf;

use berth_compose::labels;
use berth_compose::load::{load, Options};
use berth_compose::model::{Project, Service};
use berth_compose::plan::Existing;
use serde_json::Value as J;

use crate::client::{query_escape, Client};
use crate::error::CliError;

/// `berth compose` options that come before the command.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct Global {
    /// Compose configuration files
    #[arg(short = 'f', long = "file")]
    pub files: Vec<PathBuf>,
    /// Project name
    #[arg(short = 'p', long = "project-name")]
    pub project_name: Option<String>,
    /// Specify an alternate working directory (default: the path of the first specified Compose file)
    #[arg(long = "project-directory")]
    pub project_directory: Option<PathBuf>,
    /// Specify an alternate environment file
    #[arg(long = "env-file")]
    pub env_file: Vec<PathBuf>,
    /// Specify a profile to enable
    #[arg(long = "profile")]
    pub profile: Vec<String>,
}

impl Global {
    pub fn options(&self) -> Options {
        let environ: BTreeMap<String, String> = std::env::vars().collect();
        let mut profiles = self.profile.clone();
        if profiles.is_empty() {
            if let Some(p) = environ.get("COMPOSE_PROFILES") {
                profiles = p.split(',').filter(|s| !s.is_empty()).map(str::to_string).collect();
            }
        }
        Options {
            files: self.files.clone(),
            project_name: self.project_name.clone(),
            project_directory: self.project_directory.clone(),
            env_files: self.env_file.clone(),
            profiles,
            cwd: std::env::current_dir().unwrap_or_default(),
            environ,
        }
    }
}

/// Load the project, printing Compose's warnings on stderr.
pub fn load_project(g: &Global) -> Result<Project, CliError> {
    let loaded = load(&g.options()).map_err(|e| CliError::new(1, e.to_string()))?;
    for w in &loaded.warnings {
        eprintln!("WARN[0000] {w}");
    }
    Ok(loaded.project)
}

/// For commands that also work on a project known only by name (`down -p x` with no file):
/// the loaded project, or an empty one named by `-p`.
pub fn load_or_name(g: &Global) -> Result<Project, CliError> {
    match load(&g.options()) {
        Ok(l) => {
            for w in &l.warnings {
                eprintln!("WARN[0000] {w}");
            }
            Ok(l.project)
        }
        Err(berth_compose::error::Error::NoConfigFile) if g.project_name.is_some() => Ok(Project {
            name: berth_compose::load::normalize_project_name(g.project_name.as_deref().unwrap_or_default()),
            ..Default::default()
        }),
        Err(e) => Err(CliError::new(1, e.to_string())),
    }
}

/// The project's containers (`oneoff`: None for all, Some(false) for service containers).
pub async fn containers(c: &Client, project: &str, all: bool, oneoff: Option<bool>) -> Result<Vec<J>, CliError> {
    let mut labels_f = vec![format!("{}={project}", labels::PROJECT)];
    if let Some(o) = oneoff {
        labels_f.push(format!("{}={}", labels::ONEOFF, if o { "True" } else { "False" }));
    }
    let filters = serde_json::json!({ "label": labels_f.iter().map(|l| (l.clone(), J::Bool(true))).collect::<serde_json::Map<_, _>>() });
    let path = format!("/containers/json?all={}&filters={}", u8::from(all), query_escape(&filters.to_string()));
    let list = c.get_json(&path).await?;
    let mut v: Vec<J> = list.as_array().cloned().unwrap_or_default();
    v.sort_by_key(|c| (label(c, labels::SERVICE), label(c, labels::NUMBER).parse::<u32>().unwrap_or(0)));
    Ok(v)
}

pub fn label(c: &J, key: &str) -> String {
    c.pointer("/Labels").and_then(|l| l.get(key)).and_then(J::as_str).unwrap_or_default().to_string()
}

pub fn name(c: &J) -> String {
    c.get("Names")
        .and_then(J::as_array)
        .and_then(|a| a.first())
        .and_then(J::as_str)
        .unwrap_or_default()
        .trim_start_matches('/')
        .to_string()
}

pub fn id(c: &J) -> String {
    c.get("Id").and_then(J::as_str).unwrap_or_default().to_string()
}

/// ContainerList entries → the plan's view of them.
pub fn existing(list: &[J]) -> Vec<Existing> {
    list.iter()
        .filter_map(|c| {
            let l: BTreeMap<String, String> = c
                .get("Labels")
                .and_then(J::as_object)
                .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string())).collect())
                .unwrap_or_default();
            let mut e =
                Existing::from_labels(&id(c), &name(c), c.get("State").and_then(J::as_str).unwrap_or_default(), &l)?;
            e.image_id = c.get("ImageID").and_then(J::as_str).unwrap_or_default().to_string();
            Some(e)
        })
        .collect()
}

/// Keep only containers of `services` (all when empty).
pub fn of_services(list: Vec<J>, services: &[String]) -> Vec<J> {
    if services.is_empty() {
        return list;
    }
    list.into_iter().filter(|c| services.contains(&label(c, labels::SERVICE))).collect()
}

/// Unknown service names are an error, as in Compose: `no such service: x`.
pub fn check_services(project: &Project, services: &[String]) -> Result<(), CliError> {
    for s in services {
        if !project.services.contains_key(s) && !project.disabled.contains_key(s) {
            return Err(CliError::new(1, format!("no such service: {s}")));
        }
    }
    Ok(())
}

/// The services named in `services` (every one when it is empty), in the project's order,
/// after `check_services` refused unknown names.
pub fn selected_services<'a>(
    project: &'a Project,
    services: &'a [String],
) -> Result<impl Iterator<Item = (&'a String, &'a Service)> + 'a, CliError> {
    check_services(project, services)?;
    Ok(project.services.iter().filter(move |(name, _)| services.is_empty() || services.contains(*name)))
}

/// One progress line as Compose prints it without a TTY: ` Container p-web-1  Started`.
pub fn progress(kind: &str, name: &str, status: &str) {
    eprintln!(" {kind} {name}  {status}");
}
