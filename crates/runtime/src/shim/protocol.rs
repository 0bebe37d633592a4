//! Control-socket protocol between berthd and a shim (`<exec-root>/shims/<id>/ctl.sock`).
//!
//! Every connection starts with one JSON [`Request`] line and one JSON [`Response`] line. After a
//! successful `Attach` response the connection becomes a stream: the shim sends stdcopy frames
//! (`[stream,0,0,0,len_be32]` + payload, stream 1 = stdout, 2 = stderr; with a TTY the raw
//! output, unframed, as dockerd sends it) and reads raw stdin bytes; a half-close (shutdown of the write side) by the client
//! closes the container's stdin when the container was created with `StdinOnce`.

use serde::{Deserialize, Serialize};

/// What berthd hands to `berth-shim` (as JSON in `<exec-root>/shims/<id>/shim.json`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ShimConfig {
    /// Container id (64 hex).
    pub id: String,
    /// OCI bundle directory holding `config.json` (its `root.path` is the mounted rootfs).
    pub bundle: std::path::PathBuf,
    /// `<exec-root>/shims/<id>`: ctl.sock, pid, exit live here.
    pub state_dir: std::path::PathBuf,
    /// json-file log path (`<data-root>/containers/<id>/<id>-json.log`).
    pub log_path: std::path::PathBuf,
    pub tty: bool,
    pub open_stdin: bool,
    pub stdin_once: bool,
    /// `None` for the built-in libcontainer runtime, or the path of an OCI runtime binary (runc).
    pub runtime: Option<std::path::PathBuf>,
    /// Root directory for the runtime's own state (libcontainer/runc `--root`).
    pub runtime_root: std::path::PathBuf,
    /// Create the container but run its process only on a [`Request::Start`], so clients can
    /// attach first and see every byte of output (`docker run` attaches before it starts).
    #[serde(default)]
    pub hold_start: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Request {
    State,
    /// Runs the created container's process (with `hold_start`; a no-op once started).
    Start,
    Signal {
        signal: i32,
    },
    Resize {
        height: u16,
        width: u16,
    },
    /// Blocks until the container has exited.
    Wait,
    Attach {
        stdin: bool,
        stdout: bool,
        stderr: bool,
    },
    /// Asks the shim to exit once the container has exited and its state is collected.
    Shutdown,
    /// Runs a process in the running container (`docker exec`), described by the OCI process
    /// JSON at `process` (see [`crate::exec`]). Answered with [`Response::State`] (its pid);
    /// then, unless `detach`, the connection carries its stdio like [`Request::Attach`] and
    /// closes once the process has exited and its output is drained.
    Exec(ExecRequest),
    /// The pid and, once it has exited, the exit status of an exec'd process.
    ExecState {
        exec_id: String,
    },
    ExecResize {
        exec_id: String,
        height: u16,
        width: u16,
    },
    /// Answered with [`Response::Ok`], then one line per event until the container has exited:
    /// [`Response::ExecExited`] for each exec'd process that exits (and, at once, those that
    /// exited while nobody listened), and finally [`Response::Exited`] for the container.
    Subscribe,
}

/// What [`Request::Exec`] runs and how its stdio is wired.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ExecRequest {
    pub exec_id: String,
    /// OCI `process` JSON file (args, env, cwd, user, capabilities, terminal).
    pub process: std::path::PathBuf,
    pub tty: bool,
    /// Give the process a stdin pipe fed from the connection (else /dev/null).
    pub stdin: bool,
    /// Output is discarded and the connection closes after the answer.
    pub detach: bool,
    /// Initial terminal size (height, width) with a TTY.
    #[serde(default)]
    pub console_size: Option<(u16, u16)>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Response {
    Ok,
    State(ProcessState),
    Exited(ExitStatus),
    /// An exec'd process has exited (on a [`Request::Subscribe`] stream).
    ExecExited {
        exec_id: String,
        exit: ExitStatus,
    },
    Error {
        message: String,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ProcessState {
    /// Host pid of the container's init process.
    pub pid: i32,
    /// Set once the container has exited.
    pub exit: Option<ExitStatus>,
}

/// Written atomically to `<state_dir>/exit` when the container exits.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ExitStatus {
    /// Exit code, or 128 + signal for a signalled process.
    pub code: i32,
    /// RFC 3339 with nanoseconds.
    pub finished_at: String,
    pub oom_killed: bool,
}
