//! `GET /exec/{id}/json` (ExecInspect).

use berth_api_types::models::{ExecInspectResponse, ProcessConfig};

use super::{Exec, ExecRunState, ExecStatus};
use crate::{Engine, Result};

impl Engine {
    /// The exit of an exec'd process, pushed by its shim (the container's monitor follows
    /// the shim's events): recorded here, so the shim can forget it.
    pub(crate) fn exec_exited(&self, exec_id: &str, code: i32) {
        // Unknown: a healthcheck probe already done, or an exec of before a daemon restart.
        let Some(e) = self.execs.get_exact(exec_id) else { return };
        if e.finish(i64::from(code)) {
            if let Ok(c) = self.containers.get(&e.container_id) {
                let attrs = [("execID", e.id.clone()), ("exitCode", code.to_string())];
                self.emit_container(&c.record(), "exec_die", &attrs);
            }
        }
    }

    /// The exec's state; while it runs (its exit not pushed yet), its shim is asked.
    pub async fn exec_inspect(&self, id: &str) -> Result<ExecInspectResponse> {
        let e = self.execs.get(id)?;
        if e.state().status == ExecStatus::Running {
            self.exec_refresh(&e).await;
        }
        Ok(inspect(&e, &e.state()))
    }

    /// `ExecIDs` of container inspect: the execs of its current run (`None` when there are none).
    pub(crate) fn exec_ids(&self, r: &crate::containers::record::Record) -> Option<Vec<String>> {
        if !r.state.status.is_running() {
            return None;
        }
        let ids = self.execs.ids_of(&r.id, r.state.exits);
        (!ids.is_empty()).then_some(ids)
    }

    async fn exec_refresh(&self, e: &Exec) {
        let shim = self.containers.get(&e.container_id).ok().and_then(|c| c.shim());
        let state = match shim {
            Some(shim) => shim.exec_state(&e.id).await.ok(),
            None => None,
        };
        match state {
            Some(st) => {
                if let Some(exit) = st.exit {
                    self.exec_exited(&e.id, exit.code);
                }
            }
            // The container (and so the process) is gone.
            None if e.state().pid != 0 => e.set_state(|s| s.status = ExecStatus::Exited),
            None => {}
        }
    }
}

/// The inspect document of an exec (dockerd's `ExecInspect` shape).
pub fn inspect(e: &Exec, st: &ExecRunState) -> ExecInspectResponse {
    let s = &e.settings;
    ExecInspectResponse {
        can_remove: Some(false),
        detach_keys: Some(s.detach_keys.clone()),
        id: Some(e.id.clone()),
        running: Some(st.status == ExecStatus::Running),
        exit_code: st.exit_code,
        process_config: Some(ProcessConfig {
            privileged: Some(s.privileged),
            user: (!s.user.is_empty()).then(|| s.user.clone()),
            tty: Some(s.tty),
            entrypoint: s.cmd.first().cloned(),
            arguments: Some(s.cmd.iter().skip(1).cloned().collect()),
        }),
        open_stdin: Some(s.attach_stdin),
        open_stderr: Some(s.attach_stderr),
        open_stdout: Some(s.attach_stdout),
        container_id: Some(e.container_id.clone()),
        pid: Some(i64::from(st.pid)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exec::ExecSettings;

    #[test]
    fn shape_like_dockerd() {
        let e = Exec {
            id: "e1".into(),
            container_id: "c1".into(),
            settings: ExecSettings {
                cmd: vec!["nope".into()],
                attach_stdout: true,
                attach_stderr: true,
                ..Default::default()
            },
            run: 0,
            state: Default::default(),
        };
        let st = ExecRunState { status: ExecStatus::Exited, pid: 0, exit_code: Some(126) };
        let v = serde_json::to_value(inspect(&e, &st)).unwrap();
        let golden = serde_json::json!({"ID":"e1","Running":false,"ExitCode":126,
            "ProcessConfig":{"tty":false,"entrypoint":"nope","arguments":[],"privileged":false},
            "OpenStdin":false,"OpenStderr":true,"OpenStdout":true,"CanRemove":false,
            "ContainerID":"c1","DetachKeys":"","Pid":0});
        assert_eq!(v, golden);
    }
}
