//! Resolving Docker's `User` (`name`, `uid`, `name:group`, `uid:gid`) against a rootfs's
//! `/etc/passwd` and `/etc/group`.

use std::path::Path;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExecUser {
    pub uid: u32,
    pub gid: u32,
    pub additional_gids: Vec<u32>,
    /// Home directory from passwd, for HOME.
    pub home: String,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum UserError {
    #[error("unable to find user {0}: no matching entries in passwd file")]
    NoUser(String),
    #[error("unable to find group {0}: no matching entries in group file")]
    NoGroup(String),
}

pub fn resolve(rootfs: &Path, user: &str) -> Result<ExecUser, UserError> {
    let _ = (rootfs, user);
    todo!("runtime helper")
}
