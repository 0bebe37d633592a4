//! Healthchecks, as moby's `daemon/health.go`: the persisted [`HealthConfig`] (from the image's
//! HEALTHCHECK, overridden by the create request's `Healthcheck`), the [`HealthState`] shown in
//! `State.Health` (status, failing streak, last 5 probe results), and the monitor task that runs
//! the probe through exec every interval while the container runs, emitting
//! `health_status: <status>` events on changes.

use std::sync::Arc;
use std::time::Duration;

use berth_api_types::models::{ContainerCreateBody, Health, HealthConfig as ApiHealthConfig};
use berth_api_types::stdcopy;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use tokio::io::AsyncReadExt;

use super::record::Record;
use super::state::Status;
use super::Container;
use crate::exec::ExecSettings;
use crate::Engine;

pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(30);
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
pub const DEFAULT_RETRIES: i64 = 3;
/// Results kept in `State.Health.Log`.
pub const MAX_LOG_ENTRIES: usize = 5;
/// Probe output kept per result.
pub const MAX_OUTPUT_LEN: usize = 4096;

/// `Config.Healthcheck`; durations in nanoseconds, 0 = default.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthConfig {
    #[serde(default)]
    pub test: Vec<String>,
    #[serde(default)]
    pub interval: i64,
    #[serde(default)]
    pub timeout: i64,
    #[serde(default)]
    pub start_period: i64,
    #[serde(default)]
    pub retries: i64,
}

impl HealthConfig {
    fn from_api(h: &ApiHealthConfig) -> HealthConfig {
        HealthConfig {
            test: h.test.clone().unwrap_or_default(),
            interval: h.interval.unwrap_or(0),
            timeout: h.timeout.unwrap_or(0),
            start_period: h.start_period.unwrap_or(0),
            retries: h.retries.unwrap_or(0),
        }
    }

    pub fn to_api(&self) -> ApiHealthConfig {
        ApiHealthConfig {
            test: Some(self.test.clone()),
            interval: (self.interval != 0).then_some(self.interval),
            timeout: (self.timeout != 0).then_some(self.timeout),
            start_period: (self.start_period != 0).then_some(self.start_period),
            retries: (self.retries != 0).then_some(self.retries),
            ..Default::default()
        }
    }

    /// The probe command, or `None` when the check is disabled (`NONE`, empty).
    pub fn probe(&self) -> Option<Vec<String>> {
        match self.test.first().map(String::as_str) {
            Some("CMD") if self.test.len() > 1 => Some(self.test[1..].to_vec()),
            Some("CMD-SHELL") if self.test.len() > 1 => {
                Some(vec!["/bin/sh".into(), "-c".into(), self.test[1..].join(" ")])
            }
            _ => None,
        }
    }

    fn interval(&self) -> Duration {
        nanos_or(self.interval, DEFAULT_INTERVAL)
    }

    fn timeout(&self) -> Duration {
        nanos_or(self.timeout, DEFAULT_TIMEOUT)
    }

    fn retries(&self) -> i64 {
        if self.retries <= 0 {
            DEFAULT_RETRIES
        } else {
            self.retries
        }
    }
}

fn nanos_or(n: i64, default: Duration) -> Duration {
    u64::try_from(n).ok().filter(|n| *n > 0).map_or(default, Duration::from_nanos)
}

/// dockerd's merge: the request's healthcheck, its unset fields filled from the image's.
pub fn merge(body: &ContainerCreateBody, image: Option<&serde_json::Value>) -> Option<HealthConfig> {
    let image: Option<HealthConfig> = image.and_then(|v| {
        let api: ApiHealthConfig = serde_json::from_value(v.clone()).ok()?;
        Some(HealthConfig::from_api(&api))
    });
    let Some(user) = body.healthcheck.as_ref().map(HealthConfig::from_api) else { return image };
    let Some(image) = image else { return Some(user) };
    Some(HealthConfig {
        test: if user.test.is_empty() { image.test } else { user.test },
        interval: if user.interval == 0 { image.interval } else { user.interval },
        timeout: if user.timeout == 0 { image.timeout } else { user.timeout },
        start_period: if user.start_period == 0 { image.start_period } else { user.start_period },
        retries: if user.retries == 0 { image.retries } else { user.retries },
    })
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HealthStatus {
    #[default]
    Starting,
    Healthy,
    Unhealthy,
}

impl HealthStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            HealthStatus::Starting => "starting",
            HealthStatus::Healthy => "healthy",
            HealthStatus::Unhealthy => "unhealthy",
        }
    }

    /// The `(…)` suffix of the ps STATUS column.
    pub fn ps_suffix(self) -> &'static str {
        match self {
            HealthStatus::Starting => "health: starting",
            other => other.as_str(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProbeResult {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub exit_code: i64,
    pub output: String,
}

/// `State.Health`, persisted in the record.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthState {
    pub status: HealthStatus,
    pub failing_streak: i64,
    #[serde(default)]
    pub log: Vec<ProbeResult>,
}

impl HealthState {
    /// moby's `handleProbeResult`; returns the new status when it changed.
    pub fn record(
        &mut self,
        result: ProbeResult,
        cfg: &HealthConfig,
        started_at: Option<DateTime<Utc>>,
    ) -> Option<HealthStatus> {
        let old = self.status;
        let healthy = result.exit_code == 0;
        let probe_start = result.start;
        if self.log.len() >= MAX_LOG_ENTRIES {
            self.log.drain(..=self.log.len() - MAX_LOG_ENTRIES);
        }
        self.log.push(result);
        if healthy {
            self.failing_streak = 0;
            self.status = HealthStatus::Healthy;
        } else {
            let in_start_period = self.status == HealthStatus::Starting
                && started_at.is_some_and(|s| {
                    (probe_start - s).to_std().unwrap_or_default() < nanos_or(cfg.start_period, Duration::ZERO)
                });
            if !in_start_period {
                self.failing_streak += 1;
                if self.failing_streak >= cfg.retries() {
                    self.status = HealthStatus::Unhealthy;
                }
            }
        }
        (self.status != old).then_some(self.status)
    }

    pub fn to_api(&self) -> Option<Health> {
        let time = |t: &DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Nanos, true);
        let log: Vec<serde_json::Value> = self
            .log
            .iter()
            .map(|r| {
                serde_json::json!({
                    "Start": time(&r.start), "End": time(&r.end), "ExitCode": r.exit_code, "Output": r.output
                })
            })
            .collect();
        let v = serde_json::json!({ "Status": self.status.as_str(), "FailingStreak": self.failing_streak, "Log": log });
        serde_json::from_value(v).ok()
    }
}

/// ps STATUS with the health suffix for a running container (`Up 3 seconds (healthy)`).
pub fn status_text(r: &Record, now: DateTime<Utc>) -> String {
    let base = super::status::status_text(&r.state, now);
    match (&r.health, r.state.status) {
        (Some(h), Status::Running) if r.config.healthcheck.as_ref().and_then(HealthConfig::probe).is_some() => {
            format!("{base} ({})", h.status.ps_suffix())
        }
        _ => base,
    }
}

/// The `health` filter's word for `r`: `none` without an active healthcheck, else its status.
pub fn filter_word(r: &Record) -> &'static str {
    match (&r.health, r.config.healthcheck.as_ref().and_then(HealthConfig::probe)) {
        (Some(h), Some(_)) => h.status.as_str(),
        _ => "none",
    }
}

impl Engine {
    /// Called once the container runs: resets the health state to `starting` and spawns the
    /// monitor for this run (it ends when the container stops or is removed).
    pub(crate) fn start_health_monitor(self: &Arc<Self>, c: &Arc<Container>) {
        let r = c.record();
        let Some(cfg) = r.config.healthcheck.clone().filter(|h| h.probe().is_some()) else { return };
        let reset = c.update(|r| {
            let h = r.health.get_or_insert_with(HealthState::default);
            h.status = HealthStatus::Starting;
            h.failing_streak = 0;
            Ok(())
        });
        if let Err(e) = reset {
            tracing::warn!(id = %c.id, error = %e, "resetting health state");
        }
        let engine = self.clone();
        let c = c.clone();
        let run = r.state.exits;
        tokio::spawn(async move {
            let mut changes = c.subscribe();
            let same_run = |s: &super::Snapshot| !s.removed && s.status == Status::Running && s.exits == run;
            loop {
                let tick = tokio::time::sleep(cfg.interval());
                tokio::pin!(tick);
                loop {
                    tokio::select! {
                        _ = &mut tick => break,
                        changed = changes.changed() => {
                            if changed.is_err() || !same_run(&changes.borrow_and_update()) {
                                return;
                            }
                        }
                    }
                }
                if !same_run(&changes.borrow()) {
                    return;
                }
                let result = engine.run_probe(&c, &cfg).await;
                if !same_run(&changes.borrow()) {
                    return;
                }
                let started_at = c.record().state.started_at;
                let changed = c
                    .update(|r| Ok(r.health.get_or_insert_with(HealthState::default).record(result, &cfg, started_at)));
                match changed {
                    Ok(Some(status)) => {
                        engine.emit_container(&c.record(), &format!("health_status: {}", status.as_str()), &[]);
                    }
                    Ok(None) => {}
                    Err(e) => tracing::warn!(id = %c.id, error = %e, "recording health"),
                }
            }
        });
    }

    /// Runs the probe once through exec; a probe that cannot run or times out fails (-1).
    async fn run_probe(self: &Arc<Self>, c: &Container, cfg: &HealthConfig) -> ProbeResult {
        let start = Utc::now();
        let timeout = cfg.timeout();
        let cmd = cfg.probe().unwrap_or_default();
        let outcome = tokio::time::timeout(timeout, self.probe_exec(&c.id, cmd)).await;
        let (exit_code, output) = match outcome {
            Ok(Ok((code, out))) => (code, out),
            Ok(Err(message)) => (-1, message),
            Err(_) => (-1, format!("Health check exceeded timeout ({})", go_duration(timeout))),
        };
        ProbeResult { start, end: Utc::now(), exit_code, output }
    }

    async fn probe_exec(self: &Arc<Self>, id: &str, cmd: Vec<String>) -> Result<(i64, String), String> {
        let settings = ExecSettings { attach_stdout: true, attach_stderr: true, cmd, ..Default::default() };
        let exec_id = self.exec_create(id, settings).await.map_err(|e| e.to_string())?;
        let result = self.probe_exec_run(&exec_id).await;
        self.execs.remove(&exec_id);
        result
    }

    async fn probe_exec_run(self: &Arc<Self>, exec_id: &str) -> Result<(i64, String), String> {
        let session = self.exec_start(exec_id, false).await.map_err(|e| e.to_string())?;
        let mut raw = Vec::new();
        if let Some(mut stream) = session.run.await? {
            stream.read_to_end(&mut raw).await.map_err(|e| e.to_string())?;
        }
        let mut buf = bytes::BytesMut::from(&raw[..]);
        let mut output = Vec::new();
        while let Ok(Some((_, payload))) = stdcopy::decode_frame(&mut buf) {
            output.extend_from_slice(&payload);
        }
        output.truncate(MAX_OUTPUT_LEN);
        let output = String::from_utf8_lossy(&output).into_owned();
        for _ in 0..100 {
            let inspect = self.exec_inspect(exec_id).await.map_err(|e| e.to_string())?;
            if inspect.running != Some(true) {
                return Ok((inspect.exit_code.unwrap_or(-1), output));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Err("health check process did not report its exit".into())
    }
}

/// Go's `Duration.String` for whole seconds and milliseconds (`30s`, `1.5s`, `500ms`).
fn go_duration(d: Duration) -> String {
    if d.as_millis() < 1000 {
        format!("{}ms", d.as_millis())
    } else if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}s", d.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(code: i64, at: DateTime<Utc>) -> ProbeResult {
        ProbeResult { start: at, end: at, exit_code: code, output: String::new() }
    }

    #[test]
    fn probe_commands() {
        let shell = HealthConfig { test: vec!["CMD-SHELL".into(), "test -f /ok".into()], ..Default::default() };
        assert_eq!(shell.probe().unwrap(), ["/bin/sh", "-c", "test -f /ok"]);
        let cmd = HealthConfig { test: vec!["CMD".into(), "true".into()], ..Default::default() };
        assert_eq!(cmd.probe().unwrap(), ["true"]);
        assert!(HealthConfig { test: vec!["NONE".into()], ..Default::default() }.probe().is_none());
        assert!(HealthConfig::default().probe().is_none());
        assert_eq!(HealthConfig::default().interval(), DEFAULT_INTERVAL);
        assert_eq!(go_duration(Duration::from_secs(30)), "30s");
        assert_eq!(go_duration(Duration::from_millis(500)), "500ms");
    }

    #[test]
    fn healthy_then_unhealthy_after_retries() {
        let cfg = HealthConfig { test: vec!["CMD".into(), "x".into()], retries: 2, ..Default::default() };
        let t = Utc::now();
        let mut h = HealthState::default();
        assert_eq!(h.record(result(0, t), &cfg, Some(t)), Some(HealthStatus::Healthy));
        assert_eq!(h.record(result(1, t), &cfg, Some(t)), None);
        assert_eq!(h.failing_streak, 1);
        assert_eq!(h.record(result(1, t), &cfg, Some(t)), Some(HealthStatus::Unhealthy));
        for _ in 0..5 {
            h.record(result(1, t), &cfg, Some(t));
        }
        assert_eq!(h.log.len(), MAX_LOG_ENTRIES);
        assert_eq!(h.failing_streak, 7);
        assert_eq!(h.record(result(0, t), &cfg, Some(t)), Some(HealthStatus::Healthy));
        assert_eq!(h.failing_streak, 0);
        let v = serde_json::to_value(h.to_api().unwrap()).unwrap();
        assert_eq!(v["Status"], "healthy");
        assert_eq!(v["Log"].as_array().unwrap().len(), 5);
        assert_eq!(v["Log"][4]["ExitCode"], 0);
    }

    #[test]
    fn start_period_does_not_count_failures() {
        let cfg = HealthConfig {
            test: vec!["CMD".into(), "x".into()],
            retries: 1,
            start_period: 60_000_000_000,
            ..Default::default()
        };
        let t = Utc::now();
        let mut h = HealthState::default();
        assert_eq!(h.record(result(1, t), &cfg, Some(t)), None);
        assert_eq!((h.status, h.failing_streak), (HealthStatus::Starting, 0));
        let later = t + chrono::Duration::seconds(61);
        assert_eq!(h.record(result(1, later), &cfg, Some(t)), Some(HealthStatus::Unhealthy));
    }

    #[test]
    fn merge_with_image() {
        let image = serde_json::json!({"Test": ["CMD-SHELL", "true"], "Interval": 5, "Retries": 4});
        let body = ContainerCreateBody {
            healthcheck: Some(ApiHealthConfig { interval: Some(7), ..Default::default() }),
            ..Default::default()
        };
        let m = merge(&body, Some(&image)).unwrap();
        assert_eq!((m.test[0].as_str(), m.interval, m.retries), ("CMD-SHELL", 7, 4));
        assert_eq!(merge(&ContainerCreateBody::default(), Some(&image)).unwrap().interval, 5);
        assert_eq!(merge(&ContainerCreateBody::default(), None), None);
        assert_eq!(HealthStatus::Starting.ps_suffix(), "health: starting");
    }

    #[test]
    fn ps_status_and_filter_word() {
        let mut r = crate::containers::record::sample(&"a".repeat(64), "h");
        let now = Utc::now();
        r.state.started(1, now).unwrap();
        assert_eq!(filter_word(&r), "none");
        assert_eq!(status_text(&r, now), "Up Less than a second");
        r.config.healthcheck = Some(HealthConfig { test: vec!["CMD".into(), "true".into()], ..Default::default() });
        r.health = Some(HealthState { status: HealthStatus::Unhealthy, ..Default::default() });
        assert_eq!(filter_word(&r), "unhealthy");
        assert_eq!(status_text(&r, now), "Up Less than a second (unhealthy)");
        r.state.exited(0, now, false).unwrap();
        assert_eq!(status_text(&r, now), "Exited (0) Less than a second ago");
    }
}
