//! Creating, starting and deleting the container through libcontainer (default) or an OCI
//! runtime binary such as runc. Runs before the shim's event loop, in a single-threaded process.

use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use libcontainer::container::builder::ContainerBuilder;
use libcontainer::container::Container;
use libcontainer::syscall::syscall::SyscallType;
use nix::fcntl::OFlag;

use super::protocol::ShimConfig;

#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    /// Message as Docker prints it after `failed to create task for container: `.
    #[error("{0}")]
    Runtime(String),
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> CreateError {
    let what = what.into();
    move |source| CreateError::Io { what, source }
}

/// The container's end of stdio as the shim holds it.
#[derive(Debug)]
pub enum ContainerIo {
    Pipes { stdin: Option<OwnedFd>, stdout: OwnedFd, stderr: OwnedFd },
    Pty { master: OwnedFd },
}

#[derive(Debug)]
pub struct Started {
    pub pid: i32,
    pub io: ContainerIo,
}

fn pipe() -> Result<(OwnedFd, OwnedFd), CreateError> {
    nix::unistd::pipe2(OFlag::O_CLOEXEC).map_err(|e| CreateError::Io { what: "pipe".into(), source: e.into() })
}

/// Turns a runtime's error text into Docker's wording where Docker has one.
pub fn docker_message(raw: &str, args0: Option<&str>) -> String {
    let name = args0.unwrap_or_default();
    if raw.contains("not found in $PATH") || raw.contains("executable file not found") {
        format!("OCI runtime create failed: exec: \"{name}\": executable file not found in $PATH: unknown")
    } else if raw.contains("No such file or directory") && name.contains('/') {
        format!("OCI runtime create failed: exec: \"{name}\": stat {name}: no such file or directory: unknown")
    } else if raw.contains("does not have correct permissions") || raw.contains("permission denied") {
        format!("OCI runtime create failed: exec: \"{name}\": permission denied: unknown")
    } else {
        format!("OCI runtime create failed: {raw}: unknown")
    }
}

fn args0(bundle: &Path) -> Option<String> {
    let spec = oci_spec::runtime::Spec::load(bundle.join("config.json")).ok()?;
    spec.process().as_ref()?.args().as_ref()?.first().cloned()
}

/// Full text of an error and its sources.
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

/// Creates and starts the container; returns its init pid and the shim's ends of its stdio.
pub fn create_and_start(cfg: &ShimConfig) -> Result<Started, CreateError> {
    let started = create(cfg)?;
    if let Err(e) = start(cfg) {
        let _ = delete(cfg);
        return Err(e);
    }
    Ok(started)
}

/// Creates the container (its init waits to exec the process until [`start`]); returns its init
/// pid and the shim's ends of its stdio.
pub fn create(cfg: &ShimConfig) -> Result<Started, CreateError> {
    std::fs::create_dir_all(&cfg.runtime_root).map_err(io("creating runtime root"))?;
    let _ = std::fs::remove_file(cfg.state_dir.join("console.sock"));
    // The runtime connects to this path while `create` runs; the alias stays valid until then.
    let console_sock =
        super::sockpath::SocketPath::new(&cfg.state_dir, "console.sock").map_err(io("opening state dir"))?;
    let console_path = console_sock.path().to_path_buf();
    let console =
        if cfg.tty { Some(UnixListener::bind(&console_path).map_err(io("binding console socket"))?) } else { None };

    // Container-side fds are handed over; shim-side ends are kept.
    let mut container_fds: Vec<OwnedFd> = Vec::new();
    let mut shim_io = None;
    if !cfg.tty {
        let stdin_container: OwnedFd;
        let mut stdin_shim = None;
        if cfg.open_stdin {
            let (r, w) = pipe()?;
            stdin_container = r;
            stdin_shim = Some(w);
        } else {
            stdin_container = std::fs::File::open("/dev/null").map_err(io("opening /dev/null"))?.into();
        }
        let (out_r, out_w) = pipe()?;
        let (err_r, err_w) = pipe()?;
        container_fds = vec![stdin_container, out_w, err_w];
        shim_io = Some(ContainerIo::Pipes { stdin: stdin_shim, stdout: out_r, stderr: err_r });
    }

    let pid = match &cfg.runtime {
        None => create_libcontainer(cfg, container_fds, console.as_ref().map(|_| console_path.as_path()))?,
        Some(bin) => create_runc(cfg, bin, container_fds, console.as_ref().map(|_| console_path.as_path()))?,
    };

    if let Some(listener) = console {
        let master = (|| {
            let (conn, _) = listener.accept().map_err(io("accepting console socket"))?;
            berth_kernel::process::recv_fd(conn.as_fd())
                .map_err(|e| CreateError::Runtime(format!("receiving pty master: {e}")))
        })();
        let _ = std::fs::remove_file(cfg.state_dir.join("console.sock"));
        match master {
            Ok(master) => shim_io = Some(ContainerIo::Pty { master }),
            Err(e) => {
                let _ = delete(cfg);
                return Err(e);
            }
        }
    }

    let io = shim_io.ok_or_else(|| CreateError::Runtime("no stdio for container".into()))?;
    Ok(Started { pid, io })
}

fn create_libcontainer(cfg: &ShimConfig, fds: Vec<OwnedFd>, console: Option<&Path>) -> Result<i32, CreateError> {
    let mut builder = ContainerBuilder::new(cfg.id.clone(), SyscallType::default())
        .with_root_path(&cfg.runtime_root)
        .map_err(|e| CreateError::Runtime(chain(&e)))?
        .with_console_socket(console)
        .with_executor(super::executor::CleanSignals);
    let mut fds = fds.into_iter();
    if let (Some(i), Some(o), Some(e)) = (fds.next(), fds.next(), fds.next()) {
        builder = builder.with_stdin(i).with_stdout(o).with_stderr(e);
    }
    let container = builder
        .validate_id()
        .and_then(|b| b.as_init(&cfg.bundle).with_systemd(false).with_detach(true).build())
        .map_err(|e| CreateError::Runtime(docker_message(&chain(&e), args0(&cfg.bundle).as_deref())))?;
    container.pid().map(|p| p.as_raw()).ok_or_else(|| CreateError::Runtime("container has no pid after create".into()))
}

fn runc_log(cfg: &ShimConfig) -> PathBuf {
    cfg.state_dir.join("runc.log")
}

fn runc_base(cfg: &ShimConfig, bin: &Path) -> Command {
    let mut cmd = Command::new(bin);
    cmd.arg("--root").arg(&cfg.runtime_root);
    cmd.arg("--log").arg(runc_log(cfg)).arg("--log-format").arg("json");
    cmd
}

/// Runs a runc command; on failure the last error it logged becomes the message.
fn run_runc(cfg: &ShimConfig, mut cmd: Command) -> Result<(), CreateError> {
    let status = cmd.status().map_err(io("running OCI runtime"))?;
    if status.success() {
        return Ok(());
    }
    let log = std::fs::read_to_string(runc_log(cfg)).unwrap_or_default();
    let msg = log
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["level"] == "error")
        .filter_map(|v| v["msg"].as_str().map(str::to_string))
        .next_back()
        .unwrap_or_else(|| format!("runtime exited with {status}"));
    Err(CreateError::Runtime(docker_message(&msg, args0(&cfg.bundle).as_deref())))
}

/// Without a TTY, runc hands its own stdio to the process: the three pipe ends in `fds`
/// (stdin, stdout, stderr), or nothing at all with a TTY (the console socket carries it).
pub(super) fn runc_stdio(cmd: &mut Command, fds: Vec<OwnedFd>) {
    let mut fds = fds.into_iter();
    match (fds.next(), fds.next(), fds.next()) {
        (Some(i), Some(o), Some(e)) => {
            cmd.stdin(Stdio::from(i)).stdout(Stdio::from(o)).stderr(Stdio::from(e));
        }
        _ => {
            cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
        }
    }
}

fn create_runc(cfg: &ShimConfig, bin: &Path, fds: Vec<OwnedFd>, console: Option<&Path>) -> Result<i32, CreateError> {
    let pid_file: PathBuf = cfg.state_dir.join("runc.pid");
    let mut cmd = runc_base(cfg, bin);
    cmd.arg("create").arg("--bundle").arg(&cfg.bundle).arg("--pid-file").arg(&pid_file);
    if let Some(sock) = console {
        cmd.arg("--console-socket").arg(sock);
    }
    cmd.arg(&cfg.id);
    runc_stdio(&mut cmd, fds);
    run_runc(cfg, cmd)?;
    let pid = std::fs::read_to_string(&pid_file).map_err(io("reading runc pid file"))?;
    pid.trim().parse().map_err(|_| CreateError::Runtime(format!("bad pid file content {pid:?}")))
}

/// Runs the created container's process.
pub fn start(cfg: &ShimConfig) -> Result<(), CreateError> {
    match &cfg.runtime {
        None => {
            let mut c = Container::load(cfg.runtime_root.join(&cfg.id)).map_err(|e| CreateError::Runtime(chain(&e)))?;
            c.start().map_err(|e| CreateError::Runtime(format!("OCI runtime start failed: {}", chain(&e))))
        }
        Some(bin) => {
            let mut cmd = runc_base(cfg, bin);
            cmd.arg("start").arg(&cfg.id).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
            run_runc(cfg, cmd)
        }
    }
}

/// Deletes the runtime's state for the container (and its cgroup), killing what is left.
pub fn delete(cfg: &ShimConfig) -> Result<(), CreateError> {
    match &cfg.runtime {
        None => {
            let dir = cfg.runtime_root.join(&cfg.id);
            if !dir.exists() {
                return Ok(());
            }
            let mut c = Container::load(dir).map_err(|e| CreateError::Runtime(chain(&e)))?;
            c.delete(true).map_err(|e| CreateError::Runtime(chain(&e)))
        }
        Some(bin) => {
            let mut cmd = runc_base(cfg, bin);
            cmd.arg("delete").arg("-f").arg(&cfg.id).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
            run_runc(cfg, cmd)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_missing_executable() {
        let m = docker_message("executable 'nope' not found in $PATH", Some("nope"));
        assert_eq!(m, "OCI runtime create failed: exec: \"nope\": executable file not found in $PATH: unknown");
    }
}
