//! The CLI's error type: a message printed on stderr and the process exit code.

use std::fmt;

/// An error that ends a command: `msg` goes to stderr, `code` is the exit status.
#[derive(Debug)]
pub struct CliError {
    pub code: i32,
    pub msg: String,
}

impl CliError {
    pub fn new(code: i32, msg: impl Into<String>) -> Self {
        CliError { code, msg: msg.into() }
    }

    /// A daemon (or connection) error, formatted as the docker CLI does, exit status 1.
    pub fn daemon(err: bollard::errors::Error) -> Self {
        CliError::new(1, daemon_message(&err))
    }

    /// The same error with another exit code (125 for run/create).
    pub fn with_code(mut self, code: i32) -> Self {
        self.code = code;
        self
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.msg)
    }
}

impl From<bollard::errors::Error> for CliError {
    fn from(err: bollard::errors::Error) -> Self {
        CliError::daemon(err)
    }
}

impl From<std::io::Error> for CliError {
    fn from(err: std::io::Error) -> Self {
        CliError::new(1, err.to_string())
    }
}

/// The text the docker CLI prints for an API error.
pub fn daemon_message(err: &bollard::errors::Error) -> String {
    use bollard::errors::Error as E;
    match err {
        E::DockerResponseServerError { message, .. } => {
            format!("Error response from daemon: {message}")
        }
        E::DockerStreamError { error } => error.clone(),
        E::SocketNotFoundError(path) => {
            format!("Cannot connect to the Docker daemon at unix://{path}. Is the docker daemon running?")
        }
        E::HyperResponseError { .. } | E::IOError { .. } => {
            format!("error during connect: {err}")
        }
        other => other.to_string(),
    }
}

/// The bare daemon message (without the "Error response from daemon: " prefix).
pub fn server_message(err: &bollard::errors::Error) -> Option<&str> {
    match err {
        bollard::errors::Error::DockerResponseServerError { message, .. } => Some(message),
        _ => None,
    }
}

/// Whether the daemon answered 404 (no such container/image).
pub fn is_not_found(err: &bollard::errors::Error) -> bool {
    matches!(err, bollard::errors::Error::DockerResponseServerError { status_code: 404, .. })
}

pub type CmdResult = Result<i32, CliError>;
