//! `POST /exec/{id}/start` (ExecStart): resolves the exec's process against the running
//! container (user, environment, working directory, capabilities) and has the shim run it.

use std::sync::Arc;

use berth_runtime::exec::{self as rexec, ExecInput};
use berth_runtime::shim::client::ShimError;
use berth_runtime::shim::protocol::ExecRequest;
use futures_util::future::BoxFuture;
use tokio::net::UnixStream;

use super::{Exec, ExecStatus};
use crate::containers::start::environment;
use crate::{Engine, Error, Result};

/// A started exec: whether its stream is a TTY, and the future that runs the process and
/// yields its stdio stream (`None` when detached). An error from the future is the text
/// dockerd writes into the stream (the exec's exit code is then 126).
pub struct ExecSession {
    pub tty: bool,
    pub run: BoxFuture<'static, std::result::Result<Option<UnixStream>, String>>,
}

/// dockerd's exit code for an exec whose process could not be started.
pub const EXEC_START_FAILED: i64 = 126;

impl Engine {
    /// Checks and claims the exec instance (404 unknown, 409 already started or container not
    /// running); the returned session runs it.
    pub async fn exec_start(self: &Arc<Self>, id: &str, detach: bool) -> Result<ExecSession> {
        let e = self.execs.get(id)?;
        let c = self.containers.get(&e.container_id)?;
        if c.record().state.paused {
            return Err(Error::Conflict(format!("Container {} is paused, unpause the container before exec", c.id)));
        }
        if !c.status().is_running() {
            return Err(Error::Conflict(format!("Container {} is not running", c.id)));
        }
        let mut claimed = Ok(());
        e.set_state(|s| match s.status {
            ExecStatus::Created => s.status = ExecStatus::Running,
            ExecStatus::Running => claimed = Err(format!("Error: Exec command {} is already running", e.id)),
            ExecStatus::Exited => claimed = Err(format!("Error: Exec command {} has already run", e.id)),
        });
        claimed.map_err(Error::Conflict)?;
        let action = format!("exec_start: {}", e.settings.cmd.join(" "));
        self.emit_container(&c.record(), &action, &[("execID", e.id.clone())]);
        let engine = self.clone();
        let exec = e.clone();
        let run: BoxFuture<'static, std::result::Result<Option<UnixStream>, String>> = Box::pin(async move {
            match engine.exec_run(&exec, detach).await {
                Ok((pid, stream)) => {
                    exec.set_state(|s| s.pid = pid);
                    Ok((!detach).then_some(stream))
                }
                Err(message) => {
                    exec.set_state(|s| {
                        s.status = ExecStatus::Exited;
                        s.exit_code = Some(EXEC_START_FAILED);
                    });
                    Err(message)
                }
            }
        });
        Ok(ExecSession { tty: e.settings.tty, run })
    }

    async fn exec_run(&self, e: &Exec, detach: bool) -> std::result::Result<(i32, UnixStream), String> {
        let c = self.containers.get(&e.container_id).map_err(|x| x.to_string())?;
        let shim = c.shim().ok_or_else(|| format!("Container {} is not running", c.id))?;
        let record = c.record();
        let bundle = self.bundle_dir(&c.id);
        let base = self.execs.container_process(&c.id, &bundle).map_err(|x| x.to_string())?;
        let (base, rootfs) = (&base.0, &base.1);
        let s = &e.settings;
        if !s.working_dir.is_empty() && !s.working_dir.starts_with('/') {
            return Err("OCI runtime exec failed: exec failed: Cwd must be an absolute path: unknown".into());
        }
        let user = if s.user.is_empty() { record.config.user.clone() } else { s.user.clone() };
        let u = berth_runtime::user::resolve(rootfs, &user).map_err(|x| x.to_string())?;
        let mut r = record.clone();
        r.config.tty = s.tty;
        r.config.env.extend(s.env.iter().cloned());
        let input = ExecInput {
            args: s.cmd.clone(),
            env: environment(&r, &u.home),
            cwd: s.working_dir.clone(),
            uid: u.uid,
            gid: u.gid,
            additional_gids: u.additional_gids.clone(),
            tty: s.tty,
            privileged: s.privileged,
        };
        // The host's capability set only matters to --privileged.
        let cap_mask = if s.privileged { rexec::host_capability_mask() } else { 0 };
        let process = rexec::process(base, &input, cap_mask);
        let path = self.shim_dir(&c.id).join(format!("exec-{}.json", e.id));
        let json = serde_json::to_vec(&process).map_err(|x| x.to_string())?;
        // Read once by the shim right after this and then removed: no need for fsync.
        std::fs::write(&path, &json).map_err(|x| format!("writing {}: {x}", path.display()))?;
        let req = ExecRequest {
            exec_id: e.id.clone(),
            process: path.clone(),
            tty: s.tty,
            stdin: s.attach_stdin && !detach,
            detach,
            console_size: s.console_size,
        };
        match shim.exec(req).await {
            Ok(ok) => Ok(ok),
            Err(err) => {
                let _ = std::fs::remove_file(&path);
                Err(match err {
                    ShimError::Remote(m) => m,
                    other => other.to_string(),
                })
            }
        }
    }
}
