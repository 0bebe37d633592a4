//! Starting an exec'd process in the shim's running container: the shim's own fast path
//! ([`super::exec_lean`]), libcontainer's tenant builder (it joins the init's namespaces and
//! cgroup and applies the process's user, capabilities and limits) or `runc exec`. Runs
//! synchronously on the shim's one thread, so the process cannot be reaped before its pid is
//! recorded. The shim is the subreaper, so the process becomes its child once the runtime's
//! intermediate process exits.

use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::process::Command;

use libcontainer::container::builder::ContainerBuilder;
use libcontainer::syscall::syscall::SyscallType;
use nix::fcntl::OFlag;

use super::create::{ContainerIo, CreateError};
use super::protocol::{ExecRequest, ShimConfig};

fn pipe() -> Result<(OwnedFd, OwnedFd), CreateError> {
    nix::unistd::pipe2(OFlag::O_CLOEXEC).map_err(|e| CreateError::Io { what: "pipe".into(), source: e.into() })
}

fn io(what: &str) -> impl FnOnce(std::io::Error) -> CreateError + '_ {
    move |source| CreateError::Io { what: what.to_string(), source }
}

/// dockerd's wording for a failed exec (`OCI runtime exec failed: exec failed: ...`).
pub fn exec_message(raw: &str, args0: &str) -> String {
    let missing = raw.contains("not found in $PATH") || raw.contains("executable file not found");
    let why = if missing && !args0.contains('/') {
        format!("exec: \"{args0}\": executable file not found in $PATH")
    } else if (missing || raw.contains("No such file or directory")) && args0.contains('/') {
        format!("exec: \"{args0}\": stat {args0}: no such file or directory")
    } else if raw.contains("does not have correct permissions") || raw.contains("ermission denied") {
        format!("exec: \"{args0}\": permission denied")
    } else if raw.contains("must be an absolute path") {
        return "OCI runtime exec failed: exec failed: Cwd must be an absolute path: unknown".to_string();
    } else {
        raw.to_string()
    };
    format!("OCI runtime exec failed: exec failed: unable to start container process: {why}: unknown")
}

fn args0(process: &Path) -> String {
    std::fs::read(process)
        .ok()
        .and_then(|d| serde_json::from_slice::<oci_spec::runtime::Process>(&d).ok())
        .and_then(|p| p.args().as_ref().and_then(|a| a.first().cloned()))
        .unwrap_or_default()
}

/// Starts the exec's process; returns its host pid and the shim's ends of its stdio.
/// `init_pid` is the container's init (whose namespaces and cgroups the process joins).
pub fn spawn(cfg: &ShimConfig, req: &ExecRequest, init_pid: i32) -> Result<(i32, ContainerIo), CreateError> {
    // The shim enters the container itself (see `exec_lean`); libcontainer covers what that
    // path does not.
    if cfg.runtime.is_none() {
        if let Some(started) = super::exec_lean::spawn(cfg, req, init_pid)? {
            return Ok(started);
        }
    }
    let sock_name = format!("exec-{}.sock", &req.exec_id[..12.min(req.exec_id.len())]);
    let _ = std::fs::remove_file(cfg.state_dir.join(&sock_name));
    let console_sock = super::sockpath::SocketPath::new(&cfg.state_dir, &sock_name).map_err(io("opening state dir"))?;
    let console_path = console_sock.path().to_path_buf();
    let console =
        if req.tty { Some(UnixListener::bind(&console_path).map_err(io("binding console socket"))?) } else { None };

    let mut fds = Vec::new();
    let mut shim_io = None;
    if !req.tty {
        let (stdin_c, stdin_s) = if req.stdin {
            let (r, w) = pipe()?;
            (r, Some(w))
        } else {
            (std::fs::File::open("/dev/null").map_err(io("opening /dev/null"))?.into(), None)
        };
        let (out_r, out_w) = pipe()?;
        let (err_r, err_w) = pipe()?;
        fds = vec![stdin_c, out_w, err_w];
        shim_io = Some(ContainerIo::Pipes { stdin: stdin_s, stdout: out_r, stderr: err_r });
    }
    let console_arg = console.as_ref().map(|_| console_path.as_path());
    let result = match &cfg.runtime {
        None => spawn_libcontainer(cfg, req, fds, console_arg),
        Some(bin) => spawn_runc(cfg, bin, req, fds, console_arg),
    };
    let pid = match result {
        Ok(pid) => pid,
        Err(e) => {
            let _ = std::fs::remove_file(cfg.state_dir.join(&sock_name));
            return Err(e);
        }
    };
    if let Some(listener) = console {
        let master = (|| {
            let (conn, _) = listener.accept().map_err(io("accepting console socket"))?;
            berth_kernel::process::recv_fd(conn.as_fd())
                .map_err(|e| CreateError::Runtime(format!("receiving pty master: {e}")))
        })();
        let _ = std::fs::remove_file(cfg.state_dir.join(&sock_name));
        match master {
            Ok(master) => {
                if let Some((h, w)) = req.console_size {
                    let _ = berth_kernel::process::set_winsize(master.as_fd(), h, w);
                }
                shim_io = Some(ContainerIo::Pty { master });
            }
            Err(e) => {
                let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGKILL);
                return Err(e);
            }
        }
    }
    let io = shim_io.ok_or_else(|| CreateError::Runtime("no stdio for exec".into()))?;
    Ok((pid, io))
}

fn spawn_libcontainer(
    cfg: &ShimConfig,
    req: &ExecRequest,
    fds: Vec<OwnedFd>,
    console: Option<&Path>,
) -> Result<i32, CreateError> {
    let mut builder = ContainerBuilder::new(cfg.id.clone(), SyscallType::default())
        .with_root_path(&cfg.runtime_root)
        .map_err(|e| CreateError::Runtime(e.to_string()))?
        .with_console_socket(console)
        .with_executor(super::executor::CleanSignals);
    let mut fds = fds.into_iter();
    if let (Some(i), Some(o), Some(e)) = (fds.next(), fds.next(), fds.next()) {
        builder = builder.with_stdin(i).with_stdout(o).with_stderr(e);
    }
    builder
        .as_tenant()
        .with_process(Some(&req.process))
        .with_detach(true)
        .build()
        .map(|p| p.as_raw())
        .map_err(|e| CreateError::Runtime(exec_message(&chain(&e), &args0(&req.process))))
}

fn chain(err: &dyn std::error::Error) -> String {
    let mut s = err.to_string();
    let mut cur = err.source();
    while let Some(e) = cur {
        s.push_str(": ");
        s.push_str(&e.to_string());
        cur = e.source();
    }
    s
}

fn spawn_runc(
    cfg: &ShimConfig,
    bin: &Path,
    req: &ExecRequest,
    fds: Vec<OwnedFd>,
    console: Option<&Path>,
) -> Result<i32, CreateError> {
    let pid_file: PathBuf = cfg.state_dir.join(format!("exec-{}.pid", req.exec_id));
    let log = cfg.state_dir.join("runc-exec.log");
    let mut cmd = Command::new(bin);
    cmd.arg("--root").arg(&cfg.runtime_root).arg("--log").arg(&log).arg("--log-format").arg("json");
    cmd.arg("exec").arg("--detach").arg("--pid-file").arg(&pid_file).arg("--process").arg(&req.process);
    if let Some(sock) = console {
        cmd.arg("--console-socket").arg(sock);
    }
    cmd.arg(&cfg.id);
    super::create::runc_stdio(&mut cmd, fds);
    let status = cmd.status().map_err(io("running OCI runtime"))?;
    if !status.success() {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let msg = text
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|v| v["level"] == "error")
            .filter_map(|v| v["msg"].as_str().map(str::to_string))
            .next_back()
            .unwrap_or_else(|| format!("runtime exited with {status}"));
        return Err(CreateError::Runtime(exec_message(&msg, &args0(&req.process))));
    }
    let pid = std::fs::read_to_string(&pid_file).map_err(io("reading exec pid file"))?;
    let _ = std::fs::remove_file(&pid_file);
    pid.trim().parse().map_err(|_| CreateError::Runtime(format!("bad pid file content {pid:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_like_dockerd() {
        assert_eq!(
            exec_message("executable 'nope' not found in $PATH", "nope"),
            "OCI runtime exec failed: exec failed: unable to start container process: exec: \"nope\": executable file not found in $PATH: unknown"
        );
        assert_eq!(
            exec_message("failed to exec: No such file or directory (os error 2)", "/bin/nope"),
            "OCI runtime exec failed: exec failed: unable to start container process: exec: \"/bin/nope\": stat /bin/nope: no such file or directory: unknown"
        );
        assert!(exec_message("executable file not found", "/bin/nope")
            .ends_with("exec: \"/bin/nope\": stat /bin/nope: no such file or directory: unknown"));
        assert!(exec_message("Permission denied (os error 13)", "/etc/passwd")
            .ends_with("exec: \"/etc/passwd\": permission denied: unknown"));
    }
}
