//! `run`/`create` flags for restart policies and healthchecks (`--restart`, `--health-*`,
//! `--no-healthcheck`), checked and translated as the docker CLI does.

use bollard::models::{ContainerCreateBody, HealthConfig, RestartPolicy, RestartPolicyNameEnum};

use crate::commands::system::events::parse_go_duration;
use crate::error::CliError;

#[derive(clap::Args, Debug, Clone, Default)]
pub struct LifecycleOpts {
    /// Restart policy to apply when a container exits
    #[arg(long = "restart", default_value = "no")]
    pub restart: String,
    /// Command to run to check health
    #[arg(long = "health-cmd")]
    pub health_cmd: Option<String>,
    /// Time between running the check (ms|s|m|h) (default 0s)
    #[arg(long = "health-interval", allow_hyphen_values = true)]
    pub health_interval: Option<String>,
    /// Maximum time to allow one check to run (ms|s|m|h) (default 0s)
    #[arg(long = "health-timeout", allow_hyphen_values = true)]
    pub health_timeout: Option<String>,
    /// Start period for the container to initialize before starting health-retries countdown (ms|s|m|h) (default 0s)
    #[arg(long = "health-start-period", allow_hyphen_values = true)]
    pub health_start_period: Option<String>,
    /// Consecutive failures needed to report unhealthy
    #[arg(long = "health-retries", allow_hyphen_values = true)]
    pub health_retries: Option<i64>,
    /// Disable any container-specified HEALTHCHECK
    #[arg(long = "no-healthcheck")]
    pub no_healthcheck: bool,
}

/// docker's `ParseRestartPolicy`: `name[:count]`.
pub fn parse_restart(policy: &str) -> Result<Option<RestartPolicy>, CliError> {
    if policy.is_empty() {
        return Ok(None);
    }
    let parts: Vec<&str> = policy.split(':').collect();
    if parts.len() > 2 {
        return Err(CliError::new(125, "invalid restart policy format"));
    }
    let count = match parts.get(1) {
        Some(n) => Some(n.parse::<i64>().map_err(|_| CliError::new(125, "maximum retry count must be an integer"))?),
        None => None,
    };
    let name = parts[0].parse::<RestartPolicyNameEnum>().map_err(|_| {
        CliError::new(125, format!("Error response from daemon: invalid restart policy '{}'", parts[0]))
    })?;
    Ok(Some(RestartPolicy { name: Some(name), maximum_retry_count: count }))
}

fn duration(flag: &str, v: &Option<String>) -> Result<i64, CliError> {
    let Some(s) = v.as_deref() else { return Ok(0) };
    let d = parse_go_duration(s).ok_or_else(|| {
        CliError::new(125, format!("invalid argument \"{s}\" for \"--{flag}\" flag: time: invalid duration \"{s}\""))
    })?;
    let nanos = d.num_nanoseconds().unwrap_or(i64::MAX);
    if nanos < 0 {
        return Err(CliError::new(125, format!("--{flag} cannot be negative")));
    }
    Ok(nanos)
}

impl LifecycleOpts {
    /// The healthcheck override, if any flag asks for one.
    pub fn health(&self) -> Result<Option<HealthConfig>, CliError> {
        let interval = duration("health-interval", &self.health_interval)?;
        let timeout = duration("health-timeout", &self.health_timeout)?;
        let start = duration("health-start-period", &self.health_start_period)?;
        let retries = self.health_retries.unwrap_or(0);
        let cmd = self.health_cmd.clone().unwrap_or_default();
        let any = !cmd.is_empty() || interval != 0 || timeout != 0 || start != 0 || retries != 0;
        if self.no_healthcheck {
            if any {
                return Err(CliError::new(125, "--no-healthcheck conflicts with --health-* options"));
            }
            return Ok(Some(HealthConfig { test: Some(vec!["NONE".into()]), ..Default::default() }));
        }
        if !any {
            return Ok(None);
        }
        if retries < 0 {
            return Err(CliError::new(125, "--health-retries cannot be negative"));
        }
        Ok(Some(HealthConfig {
            test: (!cmd.is_empty()).then(|| vec!["CMD-SHELL".to_string(), cmd]),
            interval: Some(interval),
            timeout: Some(timeout),
            start_period: Some(start),
            retries: Some(retries),
            ..Default::default()
        }))
    }

    /// Adds the policy and healthcheck to a create request; `rm` is `--rm`.
    pub fn apply(&self, body: &mut ContainerCreateBody, rm: bool) -> Result<(), CliError> {
        let policy = parse_restart(&self.restart)?;
        let is_none = policy
            .as_ref()
            .is_none_or(|p| matches!(p.name, None | Some(RestartPolicyNameEnum::NO | RestartPolicyNameEnum::EMPTY)));
        if rm && !is_none {
            return Err(CliError::new(125, "conflicting options: cannot specify both --restart and --rm"));
        }
        body.host_config.get_or_insert_with(Default::default).restart_policy = policy;
        if let Some(h) = self.health()? {
            body.healthcheck = Some(h);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restart_policies() {
        let p = parse_restart("on-failure:2").unwrap().unwrap();
        assert_eq!((p.name, p.maximum_retry_count), (Some(RestartPolicyNameEnum::ON_FAILURE), Some(2)));
        assert_eq!(parse_restart("always").unwrap().unwrap().name, Some(RestartPolicyNameEnum::ALWAYS));
        assert_eq!(parse_restart("a:b:c").unwrap_err().msg, "invalid restart policy format");
        assert_eq!(parse_restart("on-failure:x").unwrap_err().msg, "maximum retry count must be an integer");
        assert_eq!(
            parse_restart("bogus").unwrap_err().msg,
            "Error response from daemon: invalid restart policy 'bogus'"
        );
        let o = LifecycleOpts { restart: "always".into(), ..Default::default() };
        let mut body = ContainerCreateBody::default();
        assert_eq!(
            o.apply(&mut body, true).unwrap_err().msg,
            "conflicting options: cannot specify both --restart and --rm"
        );
        let o = LifecycleOpts { restart: "no".into(), ..Default::default() };
        assert!(o.apply(&mut body, true).is_ok());
    }

    #[test]
    fn health_flags() {
        let o = LifecycleOpts {
            health_cmd: Some("test -f /ok".into()),
            health_interval: Some("1s".into()),
            health_retries: Some(2),
            ..Default::default()
        };
        let h = o.health().unwrap().unwrap();
        assert_eq!(h.test, Some(vec!["CMD-SHELL".to_string(), "test -f /ok".to_string()]));
        assert_eq!((h.interval, h.timeout, h.retries), (Some(1_000_000_000), Some(0), Some(2)));
        let none = LifecycleOpts { no_healthcheck: true, ..Default::default() };
        assert_eq!(none.health().unwrap().unwrap().test, Some(vec!["NONE".to_string()]));
        let both = LifecycleOpts { no_healthcheck: true, health_retries: Some(1), ..Default::default() };
        assert_eq!(both.health().unwrap_err().msg, "--no-healthcheck conflicts with --health-* options");
        let neg = LifecycleOpts { health_interval: Some("-1s".into()), ..Default::default() };
        assert_eq!(neg.health().unwrap_err().msg, "--health-interval cannot be negative");
        assert!(LifecycleOpts::default().health().unwrap().is_none());
    }
}
