//! `userns-remap` (daemon option): the remapped root's user and subordinate id ranges, the
//! per-remap data root, and the checks dockerd makes on containers that would leave the user
//! namespace.
//!
//! As dockerd (`daemon_unix.go` `parseRemappedRoot`, `setupRemappedRoot`, `setupDaemonRoot`):
//! `default` is the `dockremap` user (created with `useradd -r -s /bin/false` when missing,
//! with a 65536-id range from 100000 up added to `/etc/subuid` and `/etc/subgid` when it has
//! none); `user`, `user:group`, `uid`, `uid:gid` name an existing user whose ranges must exist.
//! Images, containers and volumes then live in `<data-root>/<uid>.<gid>` (the first host ids),
//! and every container gets a user namespace mapping its ids onto those ranges, unless it asks
//! for `--userns=host`.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use berth_api_types::models::HostConfig;
use berth_runtime::userns::{IdMapping, IdMappings};
use berth_store::idmap::{IdMap, IdRange};

use crate::containers::record::Record;
use crate::{Engine, Error, Result};

/// The user `default` stands for.
pub const DEFAULT_REMAP_USER: &str = "dockremap";
const DEFAULT_RANGE_START: u64 = 100000;
const DEFAULT_RANGE_LEN: u64 = 65536;

/// A resolved remapped root: `user:group` (as dockerd reports it) and the id ranges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remap {
    pub user: String,
    pub group: String,
    pub map: IdMap,
}

impl Remap {
    /// The host uid and gid of the containers' root.
    pub fn root(&self) -> (u32, u32) {
        self.map.root()
    }
}

/// One `name:x:id:...` line of `/etc/passwd` or `/etc/group`: (name, id).
fn entries(text: &str) -> impl Iterator<Item = (&str, u32)> {
    text.lines().filter_map(|l| {
        let mut f = l.split(':');
        let name = f.next()?;
        let id = f.nth(1)?.parse().ok()?;
        Some((name, id))
    })
}

fn read(etc: &Path, file: &str) -> String {
    std::fs::read_to_string(etc.join(file)).unwrap_or_default()
}

fn by_name(etc: &Path, file: &str, name: &str) -> Option<u32> {
    entries(&read(etc, file)).find(|(n, _)| *n == name).map(|(_, id)| id)
}

fn by_id(etc: &Path, file: &str, id: u32) -> Option<String> {
    entries(&read(etc, file)).find(|(_, i)| *i == id).map(|(n, _)| n.to_string())
}

fn invalid(m: String) -> Error {
    Error::InvalidArgument(m)
}

/// `parseRemappedRoot`: the user and group names of a `userns-remap` value. `None` for the
/// `default` user when it does not exist yet (the caller creates it).
pub fn parse_remapped_root(spec: &str, etc: &Path) -> Result<Option<(String, String)>> {
    let parts: Vec<&str> = spec.split(':').collect();
    if parts.len() > 2 {
        return Err(invalid(format!("Invalid user/group specification in --userns-remap: {spec:?}")));
    }
    let mut group = None;
    let user = if let Ok(uid) = parts[0].parse::<i32>() {
        let uid = uid as u32;
        let name = by_id(etc, "passwd", uid)
            .ok_or_else(|| invalid(format!("Uid {uid} has no entry in /etc/passwd: no such user")))?;
        if parts.len() == 1 {
            group = Some(
                by_id(etc, "group", uid)
                    .ok_or_else(|| invalid(format!("Gid {uid} has no entry in /etc/group: no such group")))?,
            );
        }
        name
    } else {
        let lookup = if parts[0] == "default" { DEFAULT_REMAP_USER } else { parts[0] };
        if by_name(etc, "passwd", lookup).is_none() {
            if parts[0] == "default" {
                return Ok(None);
            }
            return Err(invalid(format!(
                "Error during uid lookup for {lookup:?}: getent unable to find entry {lookup:?} in passwd database"
            )));
        }
        if parts.len() == 1 {
            if by_name(etc, "group", lookup).is_none() {
                return Err(invalid(format!(
                    "Error during gid lookup for {lookup:?}: getent unable to find entry {lookup:?} in group database"
                )));
            }
            group = Some(lookup.to_string());
        }
        lookup.to_string()
    };
    if let Some(g) = parts.get(1) {
        group = Some(if let Ok(gid) = g.parse::<i32>() {
            by_id(etc, "group", gid as u32)
                .ok_or_else(|| invalid(format!("Gid {gid} has no entry in /etc/passwd: no such group")))?
        } else {
            if by_name(etc, "group", g).is_none() {
                return Err(invalid(format!(
                    "Error during groupname lookup for {g:?}: getent unable to find entry {g:?} in group database"
                )));
            }
            g.to_string()
        });
    }
    Ok(Some((user, group.unwrap_or_default())))
}

/// The ranges of `/etc/subuid` or `/etc/subgid` (`name:start:count`) belonging to the user
/// `name` or uid `uid`, in file order.
pub fn sub_ranges(text: &str, name: &str, uid: u32) -> Vec<(u64, u64)> {
    let uid = uid.to_string();
    text.lines()
        .filter_map(|l| {
            let mut f = l.trim().split(':');
            let (who, start, count) = (f.next()?, f.next()?.parse().ok()?, f.next()?.parse().ok()?);
            (who == name || who == uid).then_some((start, count))
        })
        .collect()
}

/// `lookupSubRangesFile`: consecutive container ids from 0 over the user's ranges.
fn ranges(etc: &Path, file: &str, name: &str, uid: u32) -> Result<Vec<IdRange>> {
    let found = sub_ranges(&read(etc, file), name, uid);
    if found.is_empty() {
        return Err(invalid(format!("error creating ID mappings: no subuid ranges found for user {name:?}")));
    }
    let mut next = 0u64;
    let mut out = Vec::new();
    for (start, count) in found {
        let fit = |v: u64| {
            u32::try_from(v)
                .map_err(|_| invalid(format!("subordinate id range {start}:{count} of {name:?} does not fit 32 bits")))
        };
        out.push(IdRange { container: fit(next)?, host: fit(start)?, size: fit(count)? });
        next += count;
    }
    Ok(out)
}

/// `LoadIdentityMapping`: the uid and gid ranges of `user`.
pub fn load_mapping(etc: &Path, user: &str) -> Result<IdMap> {
    let uid = by_name(etc, "passwd", user)
        .ok_or_else(|| invalid(format!("error creating ID mappings: could not get user for username {user}")))?;
    Ok(IdMap { uids: ranges(etc, "subuid", user, uid)?, gids: ranges(etc, "subgid", user, uid)? })
}

/// `findNextRangeStart`: the first 65536-id block from 100000 up clear of every range in
/// `text` (a subuid or subgid file).
pub fn next_range_start(text: &str) -> u64 {
    let mut all: Vec<(u64, u64)> = text
        .lines()
        .filter_map(|l| {
            let mut f = l.trim().split(':');
            f.next()?;
            Some((f.next()?.parse().ok()?, f.next()?.parse().ok()?))
        })
        .collect();
    all.sort();
    let mut start = DEFAULT_RANGE_START;
    for (sub, count) in all {
        let high = start + DEFAULT_RANGE_LEN;
        if (start >= sub && start <= sub + count) || (high <= sub + count && high >= sub) {
            start = sub + count;
        }
    }
    start
}

fn run(cmd: &mut Command) -> Result<()> {
    let out = cmd.output().map_err(|e| Error::io(format!("running {cmd:?}"), e))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(Error::Internal(format!(
            "{cmd:?} failed: {}; output: {:?}",
            out.status,
            String::from_utf8_lossy(&[out.stdout, out.stderr].concat())
        )))
    }
}

/// `AddNamespaceRangesUser`: creates the `dockremap` user (and its group) when missing and
/// gives it subordinate ranges when it has none.
fn ensure_default_user(etc: &Path) -> Result<()> {
    let name = DEFAULT_REMAP_USER;
    if by_name(etc, "passwd", name).is_none() {
        run(Command::new("useradd").args(["-r", "-s", "/bin/false", name])).map_err(|e| {
            Error::Internal(format!("Error during {name:?} user creation: error adding user {name:?}: {e}"))
        })?;
    }
    let uid = by_name(etc, "passwd", name).unwrap_or(u32::MAX);
    for (file, flag) in [("subuid", "-v"), ("subgid", "-w")] {
        let text = read(etc, file);
        if sub_ranges(&text, name, uid).is_empty() {
            let start = next_range_start(&text);
            let range = format!("{start}-{}", start + DEFAULT_RANGE_LEN - 1);
            run(Command::new("usermod").args([flag, &range, name])).map_err(|e| {
                Error::Internal(format!(
                    "Error during {name:?} user creation: couldn't create subordinate ID ranges: {e}"
                ))
            })?;
        }
    }
    Ok(())
}

/// `setupRemappedRoot`: resolves a `userns-remap` value against `/etc`. `None` when remapping
/// is off (an empty value, or `root`, which cannot be remapped with itself).
pub fn setup(spec: &str) -> Result<Option<Remap>> {
    setup_in(spec, Path::new("/etc"))
}

fn setup_in(spec: &str, etc: &Path) -> Result<Option<Remap>> {
    if spec.is_empty() {
        return Ok(None);
    }
    if spec.split(':').next() == Some("default") {
        ensure_default_user(etc)?;
    }
    let (user, group) = parse_remapped_root(spec, etc)?
        .ok_or_else(|| Error::Internal(format!("Error during {DEFAULT_REMAP_USER:?} user creation")))?;
    if user == "root" {
        tracing::warn!("User namespaces: root cannot be remapped with itself; user namespaces are OFF");
        return Ok(None);
    }
    tracing::info!("User namespaces: ID ranges will be mapped to subuid/subgid ranges of: {user}");
    let map = load_mapping(etc, &user)?;
    Ok(Some(Remap { user, group, map }))
}

fn can_traverse(md: &std::fs::Metadata, uid: u32, gid: u32) -> bool {
    let mode = md.permissions().mode();
    if md.uid() == uid {
        mode & 0o100 != 0
    } else if md.gid() == gid {
        mode & 0o010 != 0
    } else {
        mode & 0o001 != 0
    }
}

/// `setupDaemonRoot` with remapping: `root` made `0711`, and `<root>/<uid>.<gid>` created
/// `0710` owned by root and the remapped group. Fails, with dockerd's message, when a directory
/// above it would stop the remapped root from reaching container filesystems.
pub fn daemon_root(root: &Path, remap: &Remap) -> Result<PathBuf> {
    let io = |what: &Path| {
        let what = what.display().to_string();
        move |e| Error::io(format!("could not create or set daemon root permissions: {what}"), e)
    };
    std::fs::create_dir_all(root).map_err(io(root))?;
    std::fs::set_permissions(root, std::fs::Permissions::from_mode(0o711)).map_err(io(root))?;
    let (uid, gid) = remap.root();
    let dir = root.join(format!("{uid}.{gid}"));
    std::fs::create_dir_all(&dir).map_err(io(&dir))?;
    std::os::unix::fs::chown(&dir, Some(0), Some(gid)).map_err(io(&dir))?;
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o710)).map_err(io(&dir))?;
    let mut p = dir.as_path();
    while let Some(parent) = p.parent() {
        if parent == Path::new("/") || parent.as_os_str().is_empty() {
            break;
        }
        let md = std::fs::metadata(parent).map_err(io(parent))?;
        if !can_traverse(&md, uid, gid) {
            return Err(invalid(format!(
                "a subdirectory in your graphroot path ({}) restricts access to the remapped root uid/gid; please fix by allowing 'o+x' permissions on existing directories",
                dir.display()
            )));
        }
        p = parent;
    }
    Ok(dir)
}

/// `verifyPlatformContainerSettings`: what a container in the daemon's user namespace (any
/// `UsernsMode` but `host`, as dockerd's `IsPrivate`) may not ask for.
pub fn verify_container(hc: &HostConfig, remapped: bool) -> Result<()> {
    if remapped && hc.userns_mode.as_deref() != Some("host") {
        if hc.privileged == Some(true) {
            return Err(invalid("privileged mode is incompatible with user namespaces.  You must run the container in the host namespace when running privileged mode".into()));
        }
        if hc.network_mode.as_deref() == Some("host") {
            return Err(invalid("cannot share the host's network namespace when user namespaces are enabled".into()));
        }
        if hc.pid_mode.as_deref() == Some("host") {
            return Err(invalid("cannot share the host PID namespace when user namespaces are enabled".into()));
        }
    }
    Ok(())
}

/// Network modes whose namespace the daemon makes for the container (bridge networks). Under
/// remapping the container makes it itself, inside its user namespace (a namespace owned by the
/// host's user namespace cannot be joined from there, nor sysfs mounted), and the daemon
/// attaches it once the container's process exists.
fn own_network_namespace(mode: &str) -> bool {
    !matches!(mode, "host" | "none") && !mode.starts_with("container:")
}

impl Engine {
    /// The user namespace of container `r`: the remapped ranges, or `None` when remapping is
    /// off or the container asked for `--userns=host`.
    pub(crate) fn container_userns(&self, r: &Record) -> Option<IdMappings> {
        let remap = self.config.userns_remap.as_ref()?;
        if r.host.security.userns_mode == "host" {
            return None;
        }
        let conv = |v: &[IdRange]| {
            v.iter().map(|m| IdMapping { container_id: m.container, host_id: m.host, size: m.size }).collect()
        };
        let mut m = IdMappings { uids: conv(&remap.map.uids), gids: conv(&remap.map.gids), join: None };
        // As dockerd: sharing another container's network, IPC or PID namespace means sharing its
        // user namespace (the last of them wins). A donor in the host's user namespace leaves
        // this container there too.
        let s = &r.host.security;
        for mode in [&r.host.network_mode, &s.ipc_mode, &s.pid_mode] {
            let Some(donor) = mode.strip_prefix("container:") else { continue };
            let Ok(d) = self.containers.get(donor) else { continue };
            let pid = d.record().state.pid;
            if pid <= 0 {
                continue;
            }
            let theirs = PathBuf::from(format!("/proc/{pid}/ns/user"));
            let same = |a: &Path, b: &Path| matches!((std::fs::metadata(a), std::fs::metadata(b)), (Ok(x), Ok(y)) if (x.dev(), x.ino()) == (y.dev(), y.ino()));
            if same(&theirs, Path::new("/proc/self/ns/user")) {
                return None;
            }
            m.join = Some(theirs);
        }
        Some(m)
    }

    /// Makes the container's directory reachable by its remapped root (`0710`, group of the
    /// remapped root, as dockerd) and its `/etc` files (hostname, hosts, resolv.conf) owned by
    /// it.
    pub(crate) fn userns_own_container_files(&self, dir: &Path, r: &Record) -> Result<()> {
        let Some(remap) = self.config.userns_remap.as_ref().filter(|_| r.host.security.userns_mode != "host") else {
            return Ok(());
        };
        let (uid, gid) = remap.root();
        let io = |p: &Path| {
            let p = p.display().to_string();
            move |e| Error::io(format!("changing the owner of {p}"), e)
        };
        std::os::unix::fs::chown(dir, Some(0), Some(gid)).map_err(io(dir))?;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o710)).map_err(io(dir))?;
        for f in ["hostname", "hosts", "resolv.conf"] {
            let p = dir.join(f);
            if p.exists() {
                std::os::unix::fs::chown(&p, Some(uid), Some(gid)).map_err(io(&p))?;
            }
        }
        Ok(())
    }

    /// Whether the container's network is attached after its process exists
    /// ([`Self::attach_network_of`]) rather than before.
    pub(crate) fn userns_defers_network(&self, r: &Record) -> bool {
        self.container_userns(r).is_some() && own_network_namespace(&r.host.network_mode)
    }

    /// Adopts the network namespace the container's process `pid` made and attaches the
    /// container's networks to it.
    pub(crate) async fn attach_network_of(&self, r: &Record, pid: i32) -> Result<()> {
        let path = self.netns_path(&r.id);
        berth_kernel::netns::adopt(pid, &path).map_err(|e| Error::Internal(e.to_string()))?;
        self.network_attach(r).await.map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_root() -> bool {
        std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
    }

    fn etc() -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(
            d.path().join("passwd"),
            "root:x:0:0::/root:/bin/sh\nalice:x:1000:1000::/home/a:/bin/sh\nbob:x:1001:1001::/:/bin/false\n",
        )
        .unwrap();
        std::fs::write(d.path().join("group"), "root:x:0:\nalice:x:1000:\nstaff:x:50:\n").unwrap();
        std::fs::write(d.path().join("subuid"), "alice:100000:65536\n1000:300000:10\n").unwrap();
        std::fs::write(d.path().join("subgid"), "alice:200000:65536\n").unwrap();
        d
    }

    #[test]
    fn parses_user_group_forms_like_dockerd() {
        let e = etc();
        let p = |s| parse_remapped_root(s, e.path());
        assert_eq!(p("alice").unwrap(), Some(("alice".into(), "alice".into())));
        assert_eq!(p("alice:staff").unwrap(), Some(("alice".into(), "staff".into())));
        assert_eq!(p("1000").unwrap(), Some(("alice".into(), "alice".into())));
        assert_eq!(p("1000:50").unwrap(), Some(("alice".into(), "staff".into())));
        assert_eq!(p("default").unwrap(), None);
        assert!(p("a:b:c").unwrap_err().to_string().contains("Invalid user/group specification in --userns-remap"));
        assert!(p("nobody").unwrap_err().to_string().contains("Error during uid lookup for \"nobody\""));
        assert!(p("bob").unwrap_err().to_string().contains("Error during gid lookup for \"bob\""));
        assert!(p("2000").unwrap_err().to_string().contains("Uid 2000 has no entry in /etc/passwd"));
    }

    #[test]
    fn loads_ranges_by_name_and_uid() {
        let e = etc();
        let m = load_mapping(e.path(), "alice").unwrap();
        assert_eq!(
            m.uids,
            [IdRange { container: 0, host: 100000, size: 65536 }, IdRange { container: 65536, host: 300000, size: 10 }]
        );
        assert_eq!(m.gids, [IdRange { container: 0, host: 200000, size: 65536 }]);
        let r = setup_in("alice", e.path()).unwrap().unwrap();
        assert_eq!(r.root(), (100000, 200000));
        std::fs::write(e.path().join("subgid"), "").unwrap();
        assert!(load_mapping(e.path(), "alice")
            .unwrap_err()
            .to_string()
            .contains("no subuid ranges found for user \"alice\""));
        assert_eq!(setup_in("root", e.path()).unwrap(), None);
        assert_eq!(setup_in("", e.path()).unwrap(), None);
    }

    #[test]
    fn next_range_skips_used_blocks() {
        assert_eq!(next_range_start(""), 100000);
        assert_eq!(next_range_start("a:100000:65536\n"), 165536);
        assert_eq!(next_range_start("b:165536:65536\na:100000:65536\n"), 231072);
        assert_eq!(next_range_start("a:500000:10\n"), 100000);
    }

    #[test]
    fn containers_must_use_host_namespace_for_host_modes() {
        let hc = |f: fn(&mut HostConfig)| {
            let mut h = HostConfig::default();
            f(&mut h);
            h
        };
        let privileged = hc(|h| h.privileged = Some(true));
        assert!(verify_container(&privileged, true)
            .unwrap_err()
            .to_string()
            .starts_with("privileged mode is incompatible"));
        assert!(verify_container(&privileged, false).is_ok());
        let host_ok = hc(|h| {
            h.privileged = Some(true);
            h.userns_mode = Some("host".into())
        });
        assert!(verify_container(&host_ok, true).is_ok());
        let net = hc(|h| h.network_mode = Some("host".into()));
        assert!(verify_container(&net, true).unwrap_err().to_string().contains("host's network namespace"));
        let pid = hc(|h| h.pid_mode = Some("host".into()));
        assert!(verify_container(&pid, true).unwrap_err().to_string().contains("host PID namespace"));
        let private = hc(|h| {
            h.privileged = Some(true);
            h.userns_mode = Some("private".into())
        });
        assert!(verify_container(&private, true).is_err(), "anything but host is private");
    }

    #[test]
    fn daemon_root_is_per_remap_and_checks_parents() {
        if !is_root() {
            return;
        }
        let d = tempfile::tempdir().unwrap();
        let remap = Remap {
            user: "u".into(),
            group: "g".into(),
            map: IdMap {
                uids: vec![IdRange { container: 0, host: 100000, size: 65536 }],
                gids: vec![IdRange { container: 0, host: 100000, size: 65536 }],
            },
        };
        std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
        let err = daemon_root(&d.path().join("data"), &remap).unwrap_err();
        assert!(err.to_string().contains("restricts access to the remapped root uid/gid"), "{err}");
        std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(0o711)).unwrap();
        let dir = daemon_root(&d.path().join("data"), &remap).unwrap();
        assert_eq!(dir, d.path().join("data/100000.100000"));
        let md = std::fs::metadata(&dir).unwrap();
        assert_eq!((md.uid(), md.gid(), md.mode() & 0o777), (0, 100000, 0o710));
    }
}
