//! Build errors. A failed `RUN` keeps its exit code so the API can report it as dockerd does
//! (`errorDetail.code`).

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Dockerfile syntax or expansion error (400 before the build starts).
    #[error("{0}")]
    Parse(String),
    /// A bad option or a missing input (stage, file, image).
    #[error("{0}")]
    InvalidArgument(String),
    /// A `RUN` step exited non-zero.
    #[error("The command '{command}' returned a non-zero code: {code}")]
    RunFailed { command: String, code: i64 },
    /// The engine failed (mount, container, store).
    #[error("{0}")]
    Backend(String),
    #[error("{context} {path}: {source}")]
    Io {
        context: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The client went away.
    #[error("build cancelled")]
    Cancelled,
}

impl Error {
    pub(crate) fn io(context: &'static str, path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { context, path, source }
    }

    /// The exit code for `errorDetail.code` (1 unless a RUN failed with its own).
    pub fn code(&self) -> i64 {
        match self {
            Error::RunFailed { code, .. } => *code,
            _ => 1,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
