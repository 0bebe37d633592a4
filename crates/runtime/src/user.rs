//! Resolving Docker's `User` (`name`, `uid`, `name:group`, `uid:gid`) against a rootfs's
//! `/etc/passwd` and `/etc/group`.
//!
//! Follows runc's `user.GetExecUser` as used by dockerd: an empty user is root; a numeric uid
//! or gid need not exist in the files; a name must. Without an explicit group the
//! supplementary groups are the primary gid plus every group that lists the user as a member.

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

struct PasswdEntry {
    name: String,
    uid: u32,
    gid: u32,
    home: String,
}

struct GroupEntry {
    name: String,
    gid: u32,
    members: Vec<String>,
}

/// Lines of a colon-separated file under the rootfs; a missing file reads as empty.
fn read_entries(rootfs: &Path, rel: &str) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(rootfs.join(rel)).unwrap_or_default();
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| l.split(':').map(str::to_string).collect())
        .collect()
}

fn passwd(rootfs: &Path) -> Vec<PasswdEntry> {
    read_entries(rootfs, "etc/passwd")
        .into_iter()
        .filter_map(|f| {
            Some(PasswdEntry {
                name: f.first()?.clone(),
                uid: f.get(2)?.parse().ok()?,
                gid: f.get(3)?.parse().ok()?,
                home: f.get(5).cloned().unwrap_or_default(),
            })
        })
        .collect()
}

fn groups(rootfs: &Path) -> Vec<GroupEntry> {
    read_entries(rootfs, "etc/group")
        .into_iter()
        .filter_map(|f| {
            Some(GroupEntry {
                name: f.first()?.clone(),
                gid: f.get(2)?.parse().ok()?,
                members: f
                    .get(3)
                    .map(|m| m.split(',').filter(|s| !s.is_empty()).map(str::to_string).collect())
                    .unwrap_or_default(),
            })
        })
        .collect()
}

fn numeric(s: &str) -> Option<u32> {
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        s.parse().ok()
    } else {
        None
    }
}

pub fn resolve(rootfs: &Path, user: &str) -> Result<ExecUser, UserError> {
    let (user_spec, group_spec) = match user.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (user, None),
    };
    let users = passwd(rootfs);
    let mut out = ExecUser { uid: 0, gid: 0, additional_gids: Vec::new(), home: "/".into() };

    // The matched passwd entry's name, for group membership.
    let mut name: Option<String> = None;
    let user_spec = if user_spec.is_empty() { "0" } else { user_spec };
    let found = match numeric(user_spec) {
        Some(uid) => {
            out.uid = uid;
            users.iter().find(|e| e.uid == uid)
        }
        None => {
            Some(users.iter().find(|e| e.name == user_spec).ok_or_else(|| UserError::NoUser(user_spec.to_string()))?)
        }
    };
    if let Some(e) = found {
        out.uid = e.uid;
        out.gid = e.gid;
        if !e.home.is_empty() {
            out.home = e.home.clone();
        }
        name = Some(e.name.clone());
    }

    let groups = groups(rootfs);
    match group_spec.filter(|g| !g.is_empty()) {
        Some(g) => {
            out.gid = match numeric(g) {
                Some(gid) => gid,
                None => groups.iter().find(|e| e.name == g).ok_or_else(|| UserError::NoGroup(g.to_string()))?.gid,
            };
            out.additional_gids = vec![out.gid];
        }
        None => {
            out.additional_gids.push(out.gid);
            if let Some(name) = &name {
                for g in groups.iter().filter(|g| g.members.iter().any(|m| m == name)) {
                    if !out.additional_gids.contains(&g.gid) {
                        out.additional_gids.push(g.gid);
                    }
                }
            }
        }
    }
    Ok(out)
}

/// `--group-add`: group names or gids → gids, looked up in the rootfs's `/etc/group` (a
/// number need not exist there, a name must).
pub fn group_ids(rootfs: &Path, names: &[String]) -> Result<Vec<u32>, UserError> {
    let groups = groups(rootfs);
    names
        .iter()
        .map(|n| match numeric(n) {
            Some(gid) => Ok(gid),
            None => groups.iter().find(|g| g.name == *n).map(|g| g.gid).ok_or_else(|| UserError::NoGroup(n.clone())),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rootfs() -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join("etc")).expect("mkdir");
        std::fs::write(
            dir.path().join("etc/passwd"),
            "root:x:0:0:root:/root:/bin/sh\n\
             daemon:x:1:1:daemon:/usr/sbin:/bin/false\n\
             app:x:1000:1000:App:/home/app:/bin/sh\n",
        )
        .expect("passwd");
        std::fs::write(
            dir.path().join("etc/group"),
            "root:x:0:\nwheel:x:10:root\nstaff:x:50:app,daemon\napp:x:1000:\nusers:x:100:app\n",
        )
        .expect("group");
        dir
    }

    fn eu(uid: u32, gid: u32, gids: &[u32], home: &str) -> ExecUser {
        ExecUser { uid, gid, additional_gids: gids.to_vec(), home: home.into() }
    }

    #[test]
    fn empty_is_root_with_wheel() {
        let d = rootfs();
        assert_eq!(resolve(d.path(), "").expect("root"), eu(0, 0, &[0, 10], "/root"));
        assert_eq!(resolve(d.path(), "root").expect("root"), eu(0, 0, &[0, 10], "/root"));
    }

    #[test]
    fn by_name_and_uid() {
        let d = rootfs();
        let app = eu(1000, 1000, &[1000, 50, 100], "/home/app");
        assert_eq!(resolve(d.path(), "app").expect("app"), app);
        assert_eq!(resolve(d.path(), "1000").expect("1000"), app);
    }

    #[test]
    fn unknown_numeric_uid_is_allowed() {
        let d = rootfs();
        assert_eq!(resolve(d.path(), "1234").expect("1234"), eu(1234, 0, &[0], "/"));
        assert_eq!(resolve(d.path(), "1234:5678").expect("ids"), eu(1234, 5678, &[5678], "/"));
    }

    #[test]
    fn with_group() {
        let d = rootfs();
        assert_eq!(resolve(d.path(), "app:staff").expect("g"), eu(1000, 50, &[50], "/home/app"));
        assert_eq!(resolve(d.path(), "1:wheel").expect("g"), eu(1, 10, &[10], "/usr/sbin"));
        assert_eq!(resolve(d.path(), "daemon:0").expect("g"), eu(1, 0, &[0], "/usr/sbin"));
    }

    #[test]
    fn errors() {
        let d = rootfs();
        assert_eq!(resolve(d.path(), "nobody"), Err(UserError::NoUser("nobody".into())));
        assert_eq!(resolve(d.path(), "app:nogroup"), Err(UserError::NoGroup("nogroup".into())));
        assert_eq!(
            resolve(d.path(), "nobody").unwrap_err().to_string(),
            "unable to find user nobody: no matching entries in passwd file"
        );
    }

    #[test]
    fn missing_files() {
        let d = tempfile::tempdir().expect("tempdir");
        assert_eq!(resolve(d.path(), "").expect("root"), eu(0, 0, &[0], "/"));
        assert!(resolve(d.path(), "app").is_err());
    }
}
