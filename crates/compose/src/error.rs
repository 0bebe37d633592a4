//! Load errors: each names the file, line and key path it is about, e.g.
//! `compose.yaml:12: services.web.ports[0]: invalid port "80:x"`.

use std::fmt;

use crate::yaml::Node;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Invalid(Invalid),
    #[error(transparent)]
    Yaml(#[from] crate::yaml::ParseError),
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("no configuration file provided: not found")]
    NoConfigFile,
}

/// A value that is valid YAML but not a valid compose value.
#[derive(Debug, PartialEq)]
pub struct Invalid {
    /// `file:line`, or empty when unknown.
    pub location: String,
    /// Dotted key path: `services.web.ports[0]`.
    pub path: String,
    pub message: String,
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.location.is_empty() {
            write!(f, "{}: ", self.location)?;
        }
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

impl Error {
    pub fn at(node: &Node, path: &str, message: impl Into<String>) -> Error {
        Error::Invalid(Invalid { location: node.location(), path: path.to_string(), message: message.into() })
    }

    pub fn io(path: impl fmt::Display, source: std::io::Error) -> Error {
        Error::Io { path: path.to_string(), source }
    }
}

pub type Result<T> = std::result::Result<T, Error>;
