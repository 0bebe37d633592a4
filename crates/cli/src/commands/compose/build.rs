//! `berth compose build`: build the services that have a `build:` section, tagged with the
//! service's image name (`image:` or `<project>-<service>`), through `berth build`'s ImageBuild
//! client.

use std::path::Path;

use berth_compose::model::{Project, Service};
use clap::Parser;

use super::project::{load_project, progress, selected_services, Global};
use crate::client::Client;
use crate::commands::image::build as image_build;
use crate::error::{CliError, CmdResult};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Set build-time variables for services
    #[arg(long = "build-arg")]
    pub build_args: Vec<String>,
    /// Do not use cache when building the image
    #[arg(long = "no-cache")]
    pub no_cache: bool,
    /// Always attempt to pull a newer version of the image
    #[arg(long = "pull")]
    pub pull: bool,
    /// Don't print anything to STDOUT
    #[arg(short = 'q', long = "quiet")]
    pub quiet: bool,
    #[arg(value_name = "SERVICE")]
    pub services: Vec<String>,
}

/// `berth build`'s flags, parsed as its command line would be.
#[derive(Parser, Debug)]
struct BuildLine {
    #[command(flatten)]
    args: image_build::Args,
}

/// The `berth build` command line that builds `svc`.
pub fn build_line(
    project: &Project,
    svc: &Service,
    extra_args: &[String],
    no_cache: bool,
    pull: bool,
    quiet: bool,
) -> Option<Vec<String>> {
    let b = svc.build.as_ref()?;
    let mut line = vec!["build".to_string(), "-t".into(), svc.image_name(&project.name)];
    let dockerfile = b.dockerfile.clone().unwrap_or_else(|| "Dockerfile".into());
    line.push("-f".into());
    line.push(Path::new(&b.context).join(dockerfile).display().to_string());
    for (k, v) in &b.args {
        line.push("--build-arg".into());
        line.push(format!("{k}={v}"));
    }
    for a in extra_args {
        line.push("--build-arg".into());
        line.push(a.clone());
    }
    if let Some(t) = &b.target {
        line.push("--target".into());
        line.push(t.clone());
    }
    for (k, v) in &b.labels {
        line.push("--label".into());
        line.push(format!("{k}={v}"));
    }
    if no_cache {
        line.push("--no-cache".into());
    }
    if pull {
        line.push("--pull".into());
    }
    if quiet {
        line.push("-q".into());
    }
    line.push(b.context.clone());
    Some(line)
}

/// Build one service's image.
pub async fn build_service(c: &Client, project: &Project, svc: &Service, quiet: bool) -> Result<(), CliError> {
    let Some(line) = build_line(project, svc, &[], false, false, quiet) else { return Ok(()) };
    progress("Service", &svc.name, "Building");
    let parsed = BuildLine::try_parse_from(&line).map_err(|e| CliError::new(1, e.to_string()))?;
    let code = image_build::run(c, parsed.args).await?;
    if code != 0 {
        return Err(CliError::new(code, format!("failed to build service \"{}\"", svc.name)));
    }
    progress("Service", &svc.name, "Built");
    Ok(())
}

pub async fn run(c: &Client, g: &Global, a: Args) -> CmdResult {
    let project = load_project(g)?;
    for (name, svc) in selected_services(&project, &a.services)? {
        let Some(line) = build_line(&project, svc, &a.build_args, a.no_cache, a.pull, a.quiet) else { continue };
        progress("Service", name, "Building");
        let parsed = BuildLine::try_parse_from(&line).map_err(|e| CliError::new(1, e.to_string()))?;
        let code = image_build::run(c, parsed.args).await?;
        if code != 0 {
            return Ok(code);
        }
        progress("Service", name, "Built");
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_compose::model::Build;

    #[test]
    fn line_for_a_service() {
        let p = Project { name: "proj".into(), ..Default::default() };
        let svc = Service {
            name: "app".into(),
            build: Some(Build {
                context: "/src/app".into(),
                dockerfile: Some("Containerfile".into()),
                args: [("V".to_string(), "1".to_string())].into(),
                target: Some("prod".into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        let line = build_line(&p, &svc, &[], false, false, false).unwrap();
        assert_eq!(
            line,
            [
                "build",
                "-t",
                "proj-app",
                "-f",
                "/src/app/Containerfile",
                "--build-arg",
                "V=1",
                "--target",
                "prod",
                "/src/app"
            ]
        );
        BuildLine::try_parse_from(&line).unwrap();
    }
}
