//! Restart policies (`HostConfig.RestartPolicy`): the persisted [`RestartPolicy`], dockerd's
//! validation, moby's `restartmanager` back-off (100 ms doubling up to 1 min, reset after 10 s
//! of running) and decision, and the engine hooks that apply them: on exit (`Engine::on_exit`),
//! on stop/kill (`Engine::cancel_restart`), on daemon start ([`restart_on_boot`]), and
//! `docker update --restart` ([`Engine::set_restart_policy`]).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use berth_api_types::models::{RestartPolicy as ApiPolicy, RestartPolicyNameEnum};
use serde::{Deserialize, Serialize};

use super::state::{Status, Transition};
use super::Container;
use crate::{Engine, Error, Result};

pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(100);
pub const MAX_TIMEOUT: Duration = Duration::from_secs(60);
/// A run this long resets the back-off.
pub const RESET_AFTER: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PolicyName {
    /// Not given (API clients that send nothing); behaves as `no`.
    #[default]
    Empty,
    No,
    Always,
    UnlessStopped,
    OnFailure,
}

/// The persisted policy.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestartPolicy {
    pub name: PolicyName,
    #[serde(default)]
    pub maximum_retry_count: i64,
}

impl RestartPolicy {
    pub fn is_none(&self) -> bool {
        matches!(self.name, PolicyName::Empty | PolicyName::No)
    }

    /// Validates the API value as dockerd does (`invalid restart policy 'x'`, negative counts,
    /// a count with anything but on-failure).
    pub fn from_api(p: Option<&ApiPolicy>) -> Result<RestartPolicy> {
        let Some(p) = p else { return Ok(RestartPolicy::default()) };
        let name = match p.name {
            None | Some(RestartPolicyNameEnum::EMPTY) => PolicyName::Empty,
            Some(RestartPolicyNameEnum::NO) => PolicyName::No,
            Some(RestartPolicyNameEnum::ALWAYS) => PolicyName::Always,
            Some(RestartPolicyNameEnum::UNLESS_STOPPED) => PolicyName::UnlessStopped,
            Some(RestartPolicyNameEnum::ON_FAILURE) => PolicyName::OnFailure,
        };
        let count = p.maximum_retry_count.unwrap_or(0);
        if count < 0 {
            return Err(Error::InvalidArgument("maximum retry count cannot be negative".into()));
        }
        if count != 0 && name != PolicyName::OnFailure {
            return Err(Error::InvalidArgument(format!(
                "maximum retry count cannot be used with restart policy '{}'",
                name_str(name)
            )));
        }
        Ok(RestartPolicy { name, maximum_retry_count: count })
    }

    pub fn to_api(&self) -> ApiPolicy {
        let name = match self.name {
            PolicyName::Empty => RestartPolicyNameEnum::EMPTY,
            PolicyName::No => RestartPolicyNameEnum::NO,
            PolicyName::Always => RestartPolicyNameEnum::ALWAYS,
            PolicyName::UnlessStopped => RestartPolicyNameEnum::UNLESS_STOPPED,
            PolicyName::OnFailure => RestartPolicyNameEnum::ON_FAILURE,
        };
        ApiPolicy { name: Some(name), maximum_retry_count: Some(self.maximum_retry_count) }
    }

    /// moby's `ShouldRestart` decision (without the back-off).
    pub fn should_restart(&self, exit_code: i64, manually_stopped: bool, restart_count: i64) -> bool {
        match self.name {
            PolicyName::Empty | PolicyName::No => false,
            PolicyName::Always => true,
            PolicyName::UnlessStopped => !manually_stopped,
            PolicyName::OnFailure => {
                (self.maximum_retry_count == 0 || restart_count < self.maximum_retry_count) && exit_code != 0
            }
        }
    }
}

/// The create request's policy, refused with `AutoRemove` as dockerd does.
pub fn from_create(body: &berth_api_types::models::ContainerCreateBody) -> Result<RestartPolicy> {
    let hc = body.host_config.as_ref();
    let policy = RestartPolicy::from_api(hc.and_then(|h| h.restart_policy.as_ref()))?;
    if hc.and_then(|h| h.auto_remove).unwrap_or(false) && !policy.is_none() {
        return Err(Error::InvalidArgument("can't create 'AutoRemove' container with restart policy".into()));
    }
    Ok(policy)
}

/// The policy name as dockerd prints it.
pub fn name_str(n: PolicyName) -> &'static str {
    match n {
        PolicyName::Empty => "",
        PolicyName::No => "no",
        PolicyName::Always => "always",
        PolicyName::UnlessStopped => "unless-stopped",
        PolicyName::OnFailure => "on-failure",
    }
}

/// moby's back-off: the delay before the next restart, given the previous one and how long the
/// container ran.
pub fn next_delay(previous: Option<Duration>, ran_for: Duration) -> Duration {
    let previous = if ran_for >= RESET_AFTER { None } else { previous };
    match previous {
        None => DEFAULT_TIMEOUT,
        Some(t) if t < MAX_TIMEOUT => (t * 2).min(MAX_TIMEOUT),
        Some(t) => t.min(MAX_TIMEOUT),
    }
}

#[derive(Debug, Default, Clone, Copy)]
struct Manager {
    delay: Option<Duration>,
    /// Set by stop/kill/removal: the next exit is final.
    cancelled: bool,
}

/// In-memory restart managers (back-off and cancellation), one per container.
#[derive(Default)]
pub struct RestartManagers {
    by_id: Mutex<HashMap<String, Manager>>,
    /// Daemon shutdown: exits are not restarted.
    shutting_down: AtomicBool,
    /// Daemon start: exits found are recorded; [`restart_on_boot`] restarts afterwards.
    booting: AtomicBool,
}

impl RestartManagers {
    fn with<R>(&self, id: &str, f: impl FnOnce(&mut Manager) -> R) -> R {
        // A poisoned lock only means a panic elsewhere; the map is still consistent.
        let mut map = self.by_id.lock().unwrap_or_else(|p| p.into_inner());
        f(map.entry(id.to_string()).or_default())
    }

    /// A manual start: fresh back-off, not cancelled.
    pub fn reset(&self, id: &str) {
        self.with(id, |m| *m = Manager::default());
    }

    pub fn cancel(&self, id: &str) {
        self.with(id, |m| m.cancelled = true);
    }

    pub fn is_cancelled(&self, id: &str) -> bool {
        self.with(id, |m| m.cancelled)
    }

    pub fn forget(&self, id: &str) {
        self.by_id.lock().unwrap_or_else(|p| p.into_inner()).remove(id);
    }

    pub fn set_shutting_down(&self) {
        self.shutting_down.store(true, Ordering::SeqCst);
    }

    pub fn set_booting(&self, on: bool) {
        self.booting.store(on, Ordering::SeqCst);
    }

    /// Decides on an exit: `Some(delay)` to restart after `delay`.
    fn decide(&self, id: &str, policy: &RestartPolicy, exit: (i64, bool, i64), ran_for: Duration) -> Option<Duration> {
        if self.shutting_down.load(Ordering::SeqCst) || self.booting.load(Ordering::SeqCst) {
            return None;
        }
        let (code, manually_stopped, count) = exit;
        self.with(id, |m| {
            if m.cancelled || !policy.should_restart(code, manually_stopped, count) {
                return None;
            }
            let d = next_delay(m.delay, ran_for);
            m.delay = Some(d);
            Some(d)
        })
    }
}

impl Engine {
    /// Called by the monitor when the process exited: the transition to record (`Exited`, or
    /// `ExitedRestarting` with the delay after which [`Engine::schedule_restart`] must run).
    pub(crate) fn on_exit(&self, c: &Container, code: i64) -> (Transition, Option<Duration>) {
        let r = c.record();
        let ran_for = r.state.started_at.and_then(|t| (chrono::Utc::now() - t).to_std().ok()).unwrap_or_default();
        let exit = (code, r.state.manually_stopped, r.restart_count);
        match self.restarts.decide(&c.id, &r.host.restart_policy, exit, ran_for) {
            Some(d) => (Transition::ExitedRestarting, Some(d)),
            None => (Transition::Exited, None),
        }
    }

    /// Starts `c` again after `delay`, unless it was stopped, started or removed meanwhile.
    pub(crate) fn schedule_restart(self: &Arc<Self>, c: Arc<Container>, delay: Duration) {
        let engine = self.clone();
        let generation = c.record().state.exits;
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            let _op = c.op.lock().await;
            let r = c.record();
            let current = engine.containers.get(&c.id).is_ok_and(|x| Arc::ptr_eq(&x, &c));
            if !current || r.state.status != Status::Restarting || r.state.exits != generation {
                return;
            }
            // Stopped or killed while the exit was being recorded: the exit is final.
            if engine.restarts.is_cancelled(&c.id) {
                if let Err(e) = engine.cancel_restart(&c, false) {
                    tracing::warn!(id = %c.id, error = %e, "restart policy: cancelling");
                }
                return;
            }
            if let Err(e) = engine.start_locked(&c).await {
                tracing::warn!(id = %c.id, error = %e, "restart policy: starting again failed");
            }
        });
    }

    /// Stop, kill or removal by the user: the container is not restarted again, and it is
    /// marked manually stopped (for `unless-stopped`). A container waiting to restart is
    /// stopped at once; returns true in that case.
    pub(crate) fn cancel_restart(&self, c: &Container, manual: bool) -> Result<bool> {
        self.restarts.cancel(&c.id);
        let was_restarting = c.status().is_restarting();
        if was_restarting || (manual && !c.record().state.manually_stopped) {
            c.update(|r| {
                if manual {
                    r.state.manually_stopped = true;
                }
                if r.state.status == Status::Restarting {
                    r.state.status = r
                        .state
                        .status
                        .apply(Transition::RestartCancelled)
                        .map_err(|e| Error::Internal(e.to_string()))?;
                }
                Ok(())
            })?;
        }
        Ok(was_restarting)
    }

    /// `docker update --restart`: validates and stores a new policy (for ContainerUpdate).
    pub async fn set_restart_policy(&self, key: &str, policy: Option<&ApiPolicy>) -> Result<()> {
        let c = self.containers.get(key)?;
        let policy = RestartPolicy::from_api(policy)?;
        let _op = c.op.lock().await;
        c.update(|r| {
            if r.host.auto_remove && !policy.is_none() {
                return Err(Error::InvalidArgument(format!(
                    "Cannot update container {}: Restart policy cannot be updated because AutoRemove is enabled for the container",
                    c.id
                )));
            }
            r.host.restart_policy = policy;
            Ok(())
        })?;
        if policy.is_none() && c.status().is_restarting() {
            self.cancel_restart(&c, false)?;
        }
        Ok(())
    }
}

/// After a daemon start (networks ready): starts the containers whose policy says so, as
/// dockerd does: `always` always, `unless-stopped` unless the user stopped it, `on-failure` after
/// a failure under its retry limit; only containers that ran before.
pub async fn restart_on_boot(engine: &Arc<Engine>) {
    for c in engine.containers.all() {
        let r = c.record();
        let waiting = r.state.status == Status::Restarting;
        let stopped = r.state.status == Status::Exited && r.state.started_at.is_some();
        if !(waiting || stopped) {
            continue;
        }
        let policy = r.host.restart_policy;
        if !policy.should_restart(r.state.exit_code, r.state.manually_stopped, r.restart_count) {
            if waiting {
                let _ = engine.cancel_restart(&c, false);
            }
            continue;
        }
        tracing::info!(id = %c.id, policy = name_str(policy.name), "restart policy: starting after daemon start");
        let _op = c.op.lock().await;
        engine.restarts.reset(&c.id);
        // dockerd starts these as a manual start does: RestartCount and the manual-stop mark reset.
        let reset = c.update(|r| {
            r.restart_count = 0;
            r.state.manually_stopped = false;
            Ok(())
        });
        if let Err(e) = reset {
            tracing::warn!(id = %c.id, error = %e, "restart policy: resetting the restart count");
        }
        if let Err(e) = engine.start_locked(&c).await {
            tracing::warn!(id = %c.id, error = %e, "restart policy: start after daemon start failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(name: RestartPolicyNameEnum, count: i64) -> ApiPolicy {
        ApiPolicy { name: Some(name), maximum_retry_count: Some(count) }
    }

    #[test]
    fn backoff_doubles_caps_and_resets() {
        let short = Duration::from_secs(1);
        let mut d = next_delay(None, short);
        assert_eq!(d, Duration::from_millis(100));
        let mut seen = vec![d];
        for _ in 0..12 {
            d = next_delay(Some(d), short);
            seen.push(d);
        }
        assert_eq!(seen[1], Duration::from_millis(200));
        assert_eq!(seen[2], Duration::from_millis(400));
        assert_eq!(seen[9], Duration::from_millis(51_200));
        assert_eq!(seen[10], MAX_TIMEOUT);
        assert_eq!(seen[12], MAX_TIMEOUT);
        assert_eq!(next_delay(Some(MAX_TIMEOUT), RESET_AFTER), DEFAULT_TIMEOUT);
    }

    #[test]
    fn decisions_like_moby() {
        let always = RestartPolicy { name: PolicyName::Always, maximum_retry_count: 0 };
        assert!(always.should_restart(0, true, 100));
        let unless = RestartPolicy { name: PolicyName::UnlessStopped, maximum_retry_count: 0 };
        assert!(unless.should_restart(0, false, 0));
        assert!(!unless.should_restart(1, true, 0));
        let on2 = RestartPolicy { name: PolicyName::OnFailure, maximum_retry_count: 2 };
        assert!(on2.should_restart(1, false, 0) && on2.should_restart(1, false, 1));
        assert!(!on2.should_restart(1, false, 2));
        assert!(!on2.should_restart(0, false, 0));
        let on = RestartPolicy { name: PolicyName::OnFailure, maximum_retry_count: 0 };
        assert!(on.should_restart(3, true, 1000));
        assert!(!RestartPolicy::default().should_restart(1, false, 0));
    }

    #[test]
    fn managers_back_off_and_cancel() {
        let m = RestartManagers::default();
        let always = RestartPolicy { name: PolicyName::Always, maximum_retry_count: 0 };
        let quick = Duration::from_millis(10);
        assert_eq!(m.decide("a", &always, (0, false, 0), quick), Some(Duration::from_millis(100)));
        assert_eq!(m.decide("a", &always, (0, false, 1), quick), Some(Duration::from_millis(200)));
        assert_eq!(m.decide("a", &always, (0, false, 2), RESET_AFTER), Some(Duration::from_millis(100)));
        m.cancel("a");
        assert_eq!(m.decide("a", &always, (0, false, 3), quick), None);
        m.reset("a");
        assert_eq!(m.decide("a", &always, (0, false, 0), quick), Some(Duration::from_millis(100)));
        m.set_shutting_down();
        assert_eq!(m.decide("b", &always, (0, false, 0), quick), None);
    }

    #[test]
    fn validation_messages() {
        assert_eq!(RestartPolicy::from_api(None).unwrap(), RestartPolicy::default());
        let p = RestartPolicy::from_api(Some(&api(RestartPolicyNameEnum::ON_FAILURE, 2))).unwrap();
        assert_eq!(p, RestartPolicy { name: PolicyName::OnFailure, maximum_retry_count: 2 });
        assert_eq!(p.to_api(), api(RestartPolicyNameEnum::ON_FAILURE, 2));
        let e = RestartPolicy::from_api(Some(&api(RestartPolicyNameEnum::ON_FAILURE, -1))).unwrap_err();
        assert_eq!(e.to_string(), "maximum retry count cannot be negative");
        let e = RestartPolicy::from_api(Some(&api(RestartPolicyNameEnum::ALWAYS, 3))).unwrap_err();
        assert_eq!(e.to_string(), "maximum retry count cannot be used with restart policy 'always'");
        assert_eq!(e.kind(), crate::ErrorKind::InvalidArgument);
        assert_eq!(serde_json::to_string(&PolicyName::UnlessStopped).unwrap(), "\"unless-stopped\"");
    }
}
