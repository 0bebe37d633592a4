//! Engine errors. Each carries a kind that the API server maps to dockerd's status code; the
//! `Display` text is the `message` dockerd would send.

use std::io;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    NotFound,
    InvalidArgument,
    Conflict,
    NotModified,
    Unauthorized,
    Forbidden,
    Unavailable,
    NotImplemented,
    Internal,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    InvalidArgument(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    NotModified(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Unavailable(String),
    #[error("{0}")]
    NotImplemented(String),
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: io::Error,
    },
    #[error("{context}: {source}")]
    Store {
        context: String,
        #[source]
        source: berth_store::Error,
    },
    #[error("{0}")]
    Runtime(#[from] berth_runtime::shim::client::ShimError),
    #[error("{0}")]
    Internal(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::NotFound(_) => ErrorKind::NotFound,
            Error::InvalidArgument(_) => ErrorKind::InvalidArgument,
            Error::Conflict(_) => ErrorKind::Conflict,
            Error::NotModified(_) => ErrorKind::NotModified,
            Error::Unauthorized(_) => ErrorKind::Unauthorized,
            Error::Forbidden(_) => ErrorKind::Forbidden,
            Error::Unavailable(_) => ErrorKind::Unavailable,
            Error::NotImplemented(_) => ErrorKind::NotImplemented,
            Error::Store { source, .. } if source.is_not_found() => ErrorKind::NotFound,
            Error::Io { .. } | Error::Store { .. } | Error::Runtime(_) | Error::Internal(_) => ErrorKind::Internal,
        }
    }

    pub fn io(context: impl Into<String>, source: io::Error) -> Self {
        Error::Io { context: context.into(), source }
    }

    pub fn store(context: impl Into<String>, source: berth_store::Error) -> Self {
        Error::Store { context: context.into(), source }
    }

    pub fn no_such_container(name: &str) -> Self {
        Error::NotFound(format!("No such container: {name}"))
    }

    pub fn no_such_image(name: &str) -> Self {
        Error::NotFound(format!("No such image: {name}"))
    }
}
