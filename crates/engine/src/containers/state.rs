//! The container lifecycle state machine: [`Status`] with `can_*` predicates and the one
//! [`Status::apply`] transition function, plus [`RunState`], the data that goes with it (pid,
//! exit code, timestamps), as persisted in the container record.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Where a container is in its life. `Removing` is transient (delete in progress); `Dead` is a
/// container whose removal failed half-way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Created,
    Running,
    /// Exited, and its restart policy will start it again after a back-off delay.
    Restarting,
    Exited,
    Removing,
    Dead,
}

/// What happens to a container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// The shim reported the init process running.
    Started,
    /// Starting failed before the process ran (status unchanged, error recorded).
    StartFailed,
    /// The init process exited.
    Exited,
    /// The init process exited and the restart policy schedules a new start.
    ExitedRestarting,
    /// A scheduled restart was cancelled (stop, kill, removal) or failed.
    RestartCancelled,
    /// Delete began.
    RemoveBegan,
    /// Delete failed half-way.
    RemoveFailed,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("container cannot go from {from:?} by {by:?}")]
pub struct InvalidTransition {
    pub from: Status,
    pub by: Transition,
}

impl Status {
    pub fn can_start(self) -> bool {
        matches!(self, Status::Created | Status::Exited)
    }

    /// Stop, kill, resize and signals need a running process.
    pub fn can_signal(self) -> bool {
        self == Status::Running
    }

    pub fn can_remove(self, force: bool) -> bool {
        match self {
            Status::Running | Status::Restarting => force,
            Status::Removing => false,
            Status::Created | Status::Exited | Status::Dead => true,
        }
    }

    pub fn can_attach(self) -> bool {
        matches!(self, Status::Created | Status::Running | Status::Restarting | Status::Exited)
    }

    pub fn can_rename(self) -> bool {
        !matches!(self, Status::Removing | Status::Dead)
    }

    pub fn is_running(self) -> bool {
        self == Status::Running
    }

    /// dockerd counts a restarting container as running for start/stop/rm checks.
    pub fn is_restarting(self) -> bool {
        self == Status::Restarting
    }

    /// The one transition function.
    pub fn apply(self, by: Transition) -> Result<Status, InvalidTransition> {
        let next = match (self, by) {
            (s, Transition::Started) if s.can_start() || s == Status::Restarting => Status::Running,
            (s, Transition::StartFailed) if s.can_start() => s,
            (Status::Restarting, Transition::StartFailed) => Status::Exited,
            (Status::Running, Transition::Exited) => Status::Exited,
            (Status::Running, Transition::ExitedRestarting) => Status::Restarting,
            (Status::Restarting, Transition::RestartCancelled) => Status::Exited,
            (s, Transition::RemoveBegan) if s.can_remove(false) => Status::Removing,
            (Status::Removing, Transition::RemoveFailed) => Status::Dead,
            (from, by) => return Err(InvalidTransition { from, by }),
        };
        Ok(next)
    }

    /// The `State.Status` / summary `State` word.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Created => "created",
            Status::Running => "running",
            Status::Restarting => "restarting",
            Status::Exited => "exited",
            Status::Removing => "removing",
            Status::Dead => "dead",
        }
    }
}

/// Status plus its data, as persisted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunState {
    pub status: Status,
    #[serde(default)]
    pub pid: i32,
    #[serde(default)]
    pub exit_code: i64,
    #[serde(default)]
    pub error: String,
    #[serde(default)]
    pub oom_killed: bool,
    #[serde(default)]
    pub started_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub finished_at: Option<DateTime<Utc>>,
    /// Number of times the process exited; `wait?condition=next-exit` waits for it to grow.
    #[serde(default)]
    pub exits: u64,
    /// Stopped or killed by the user: `unless-stopped` does not restart it (moby's
    /// `HasBeenManuallyStopped`).
    #[serde(default)]
    pub manually_stopped: bool,
    /// Frozen by `docker pause` (cgroup freezer). As in Docker, a sub-state of `Running`: the
    /// process still exists (`State.Running` stays true); only [`RunState::pause`] and
    /// [`RunState::unpause`] change it, and every exit or start clears it.
    #[serde(default)]
    pub paused: bool,
}

impl Default for RunState {
    fn default() -> Self {
        RunState {
            status: Status::Created,
            pid: 0,
            exit_code: 0,
            error: String::new(),
            oom_killed: false,
            started_at: None,
            finished_at: None,
            exits: 0,
            manually_stopped: false,
            paused: false,
        }
    }
}

impl RunState {
    pub fn started(&mut self, pid: i32, at: DateTime<Utc>) -> Result<(), InvalidTransition> {
        self.status = self.status.apply(Transition::Started)?;
        self.pid = pid;
        self.exit_code = 0;
        self.error.clear();
        self.oom_killed = false;
        self.started_at = Some(at);
        self.paused = false;
        Ok(())
    }

    /// `docker pause`: only a running, unpaused container (dockerd's 409 texts otherwise).
    pub fn pause(&mut self, id: &str) -> Result<(), String> {
        if !self.status.is_running() {
            return Err(format!("Container {id} is not running"));
        }
        if self.paused {
            return Err(format!("Container {id} is already paused"));
        }
        self.paused = true;
        Ok(())
    }

    /// `docker unpause`: only a paused one.
    pub fn unpause(&mut self, id: &str) -> Result<(), String> {
        if !self.paused {
            return Err(format!("Container {id} is not paused"));
        }
        self.paused = false;
        Ok(())
    }

    /// Records a start failure the way dockerd does: ExitCode 127 for a missing executable,
    /// 126 for one that cannot be run, 128 otherwise, and the error text.
    pub fn start_failed(&mut self, error: &str) -> Result<(), InvalidTransition> {
        self.status = self.status.apply(Transition::StartFailed)?;
        self.exit_code = start_failure_code(error);
        self.error = error.to_string();
        Ok(())
    }

    pub fn exited(&mut self, code: i64, at: DateTime<Utc>, oom_killed: bool) -> Result<(), InvalidTransition> {
        self.exited_by(Transition::Exited, code, at, oom_killed)
    }

    /// As [`RunState::exited`], by `Exited` or `ExitedRestarting`.
    pub fn exited_by(
        &mut self,
        by: Transition,
        code: i64,
        at: DateTime<Utc>,
        oom_killed: bool,
    ) -> Result<(), InvalidTransition> {
        self.status = self.status.apply(by)?;
        self.paused = false;
        self.pid = 0;
        self.exit_code = code;
        self.oom_killed = oom_killed;
        self.finished_at = Some(at);
        self.exits += 1;
        Ok(())
    }
}

/// dockerd's mapping of start errors to exit codes.
pub fn start_failure_code(error: &str) -> i64 {
    let e = error.to_ascii_lowercase();
    if e.contains("executable file not found") || e.contains("no such file or directory") || e.contains("not found") {
        127
    } else if e.contains("permission denied") {
        126
    } else {
        128
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transitions() {
        use Status::{Created, Dead, Removing, Running};
        use Transition::{RemoveBegan, RemoveFailed, StartFailed, Started};
        assert_eq!(Created.apply(Started), Ok(Running));
        assert_eq!(Status::Exited.apply(Started), Ok(Running));
        assert!(Running.apply(Started).is_err());
        assert_eq!(Running.apply(Transition::Exited), Ok(Status::Exited));
        assert!(Created.apply(Transition::Exited).is_err());
        assert_eq!(Created.apply(StartFailed), Ok(Created));
        assert_eq!(Status::Exited.apply(StartFailed), Ok(Status::Exited));
        assert_eq!(Created.apply(RemoveBegan), Ok(Removing));
        assert!(Running.apply(RemoveBegan).is_err());
        assert!(Removing.apply(RemoveBegan).is_err());
        assert_eq!(Removing.apply(RemoveFailed), Ok(Dead));
        assert_eq!(Dead.apply(RemoveBegan), Ok(Removing));
    }

    #[test]
    fn restarting_transitions() {
        use Status::{Exited, Restarting, Running};
        assert_eq!(Running.apply(Transition::ExitedRestarting), Ok(Restarting));
        assert_eq!(Restarting.apply(Transition::Started), Ok(Running));
        assert_eq!(Restarting.apply(Transition::RestartCancelled), Ok(Exited));
        assert_eq!(Restarting.apply(Transition::StartFailed), Ok(Exited));
        assert!(Exited.apply(Transition::RestartCancelled).is_err());
        assert!(Restarting.apply(Transition::Exited).is_err());
        assert!(Restarting.apply(Transition::RemoveBegan).is_err());
        assert!(!Restarting.can_start() && !Restarting.can_signal());
        assert!(Restarting.can_remove(true) && !Restarting.can_remove(false));
        let mut s = RunState::default();
        s.started(5, Utc::now()).unwrap();
        s.exited_by(Transition::ExitedRestarting, 1, Utc::now(), false).unwrap();
        assert_eq!((s.status, s.pid, s.exit_code, s.exits), (Restarting, 0, 1, 1));
        assert_eq!(Restarting.as_str(), "restarting");
    }

    #[test]
    fn predicates() {
        assert!(Status::Created.can_start() && Status::Exited.can_start() && !Status::Running.can_start());
        assert!(Status::Running.can_signal() && !Status::Exited.can_signal());
        assert!(Status::Running.can_remove(true) && !Status::Running.can_remove(false));
        assert!(!Status::Removing.can_remove(true));
        assert!(!Status::Dead.can_rename());
    }

    #[test]
    fn run_state_records_exits_and_failures() {
        let mut s = RunState::default();
        let t = Utc::now();
        s.start_failed("exec: \"nope\": executable file not found in $PATH").unwrap();
        assert_eq!((s.status, s.exit_code), (Status::Created, 127));
        s.started(42, t).unwrap();
        assert_eq!((s.status, s.pid, s.exit_code, s.error.as_str()), (Status::Running, 42, 0, ""));
        s.exited(137, t, false).unwrap();
        assert_eq!((s.status, s.pid, s.exit_code, s.exits), (Status::Exited, 0, 137, 1));
        assert!(s.exited(1, t, false).is_err());
        assert_eq!(start_failure_code("permission denied"), 126);
        assert_eq!(start_failure_code("boom"), 128);
    }

    #[test]
    fn status_serialises_lowercase() {
        assert_eq!(serde_json::to_string(&Status::Running).unwrap(), "\"running\"");
    }

    #[test]
    fn pause_is_a_sub_state_of_running() {
        let mut s = RunState::default();
        assert_eq!(s.pause("c").unwrap_err(), "Container c is not running");
        s.started(7, Utc::now()).unwrap();
        s.pause("c").unwrap();
        assert!(s.paused && s.status.is_running());
        assert_eq!(s.pause("c").unwrap_err(), "Container c is already paused");
        s.unpause("c").unwrap();
        assert_eq!(s.unpause("c").unwrap_err(), "Container c is not paused");
        s.pause("c").unwrap();
        s.exited(137, Utc::now(), false).unwrap();
        assert!(!s.paused, "an exit thaws");
    }
}
