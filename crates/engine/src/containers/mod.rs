//! Container operations, one per file named after the Docker operation
//! (`create.rs` → [`Engine::container_create`]), over an in-memory index of [`Container`]s that is
//! persisted as one versioned record per container (`record.rs`). The lifecycle state machine is
//! in `state.rs`; `monitor.rs` follows running containers through their shims and records exits.

mod archive;
mod archive_tar;
mod attach;
mod create;
mod delete;
mod export;
pub mod files;
pub mod health;
mod init;
mod inspect;
mod kill;
mod list;
mod logs;
mod monitor;
pub mod names;
mod pause;
mod prune;
pub mod record;
mod rename;
mod resize;
pub mod resources;
mod restart;
pub mod restart_policy;
pub mod security;
mod shutdown;
pub mod signal;
pub(crate) mod start;
pub mod state;
pub mod stats;
pub mod status;
mod stop;
mod top;
pub mod update;
mod wait;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use berth_runtime::shim::client::ShimClient;
use tokio::sync::watch;

pub use archive::ExtractRequest;
pub use attach::AttachStreams;
pub use list::ListOptions;
pub use logs::{LogOptions, LogStream};
pub use monitor::restore;
pub use restart_policy::restart_on_boot;
pub use wait::{WaitCondition, WaitOutcome};

use record::Record;
use state::Status;

use crate::{Config, Engine, Error, Result};

/// What waiters watch: changes of status, exit count and removal.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    pub status: Status,
    pub exits: u64,
    pub exit_code: i64,
    pub error: String,
    pub removed: bool,
}

/// One container: its record (behind a short-held lock, never held across `.await`), a watch
/// channel of state changes, a lifecycle lock serialising start/stop/delete, and its shim.
pub struct Container {
    pub id: String,
    pub(crate) dir: PathBuf,
    record: Mutex<Record>,
    changes: watch::Sender<Snapshot>,
    /// Behind an `Arc` so an operation can hold it from a spawned task (`lock_owned`).
    pub(crate) op: Arc<tokio::sync::Mutex<()>>,
    shim: Mutex<Option<ShimClient>>,
    /// Attach requests made before start: each gets the new shim, attaches, and reports back
    /// before the process is started, so no output is lost.
    pending_attach: Mutex<Vec<PendingAttach>>,
}

/// The shim to attach to, and where to say that the attach stream is open.
pub(crate) type PendingAttach = tokio::sync::oneshot::Sender<(ShimClient, tokio::sync::oneshot::Sender<()>)>;

impl std::fmt::Debug for Container {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Container").field("id", &self.id).field("status", &self.status()).finish()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A poisoned lock only means a panic happened while it was held; the data is still usable.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Container {
    fn new(dir: PathBuf, record: Record) -> Container {
        let snap = snapshot(&record, false);
        let (changes, _) = watch::channel(snap);
        Container {
            id: record.id.clone(),
            dir,
            record: Mutex::new(record),
            changes,
            op: Arc::new(tokio::sync::Mutex::new(())),
            shim: Mutex::new(None),
            pending_attach: Mutex::new(Vec::new()),
        }
    }

    /// A copy of the current record.
    pub fn record(&self) -> Record {
        lock(&self.record).clone()
    }

    pub fn status(&self) -> Status {
        lock(&self.record).state.status
    }

    pub fn name(&self) -> String {
        lock(&self.record).name.clone()
    }

    /// Mutates the record, persists it and notifies waiters. If `f` fails nothing changes.
    pub(crate) fn update<R>(&self, f: impl FnOnce(&mut Record) -> Result<R>) -> Result<R> {
        let mut guard = lock(&self.record);
        let mut next = guard.clone();
        let out = f(&mut next)?;
        record::save(&self.dir, &next)?;
        *guard = next;
        let snap = snapshot(&guard, false);
        drop(guard);
        self.changes.send_replace(snap);
        Ok(out)
    }

    pub(crate) fn subscribe(&self) -> watch::Receiver<Snapshot> {
        self.changes.subscribe()
    }

    pub(crate) fn mark_removed(&self) {
        let snap = snapshot(&lock(&self.record), true);
        self.changes.send_replace(snap);
    }

    pub(crate) fn shim(&self) -> Option<ShimClient> {
        lock(&self.shim).clone()
    }

    pub(crate) fn set_shim(&self, shim: Option<ShimClient>) {
        *lock(&self.shim) = shim;
    }

    pub(crate) fn add_pending_attach(&self, p: PendingAttach) {
        lock(&self.pending_attach).push(p);
    }

    pub(crate) fn take_pending_attaches(&self) -> Vec<PendingAttach> {
        std::mem::take(&mut *lock(&self.pending_attach))
    }

    pub fn log_path(&self) -> PathBuf {
        self.dir.join(format!("{}-json.log", self.id))
    }
}

fn snapshot(r: &Record, removed: bool) -> Snapshot {
    Snapshot {
        status: r.state.status,
        exits: r.state.exits,
        exit_code: r.state.exit_code,
        error: r.state.error.clone(),
        removed,
    }
}

#[derive(Default)]
struct Index {
    by_id: BTreeMap<String, Arc<Container>>,
    /// Name without `/` → id.
    names: HashMap<String, String>,
}

/// In-memory index of containers, persisted under `<data-root>/containers/<id>/`.
pub struct Containers {
    dir: PathBuf,
    index: RwLock<Index>,
}

fn name_conflict(name: &str, id: &str) -> Error {
    Error::Conflict(format!(
        "Conflict. The container name \"/{name}\" is already in use by container \"{id}\". You have to remove (or rename) that container to be able to reuse that name."
    ))
}

impl Containers {
    /// Loads every record under `<data-root>/containers`. Unreadable records are skipped with a
    /// warning rather than failing the daemon.
    pub fn open(config: &Config) -> Result<Containers> {
        let dir = config.containers_dir();
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
        let mut index = Index::default();
        let entries = std::fs::read_dir(&dir).map_err(|e| Error::io(format!("reading {}", dir.display()), e))?;
        for entry in entries.flatten() {
            let cdir = entry.path();
            if !record::record_path(&cdir).exists() {
                continue;
            }
            match record::load(&cdir) {
                Ok(r) => {
                    index.names.insert(r.name.clone(), r.id.clone());
                    index.by_id.insert(r.id.clone(), Arc::new(Container::new(cdir, r)));
                }
                Err(e) => tracing::warn!(error = %e, "skipping unreadable container record"),
            }
        }
        Ok(Containers { dir, index: RwLock::new(index) })
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Index> {
        // See `lock`: poisoning leaves the index consistent (every mutation is one insert/remove).
        self.index.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Index> {
        self.index.write().unwrap_or_else(|p| p.into_inner())
    }

    pub async fn shutdown(&self) {}

    /// Finds a container by full id, name (with or without `/`), or unique id prefix.
    pub fn get(&self, key: &str) -> Result<Arc<Container>> {
        let index = self.read();
        if let Some(c) = index.by_id.get(key) {
            return Ok(c.clone());
        }
        let bare = key.strip_prefix('/').unwrap_or(key);
        if let Some(c) = index.names.get(bare).and_then(|id| index.by_id.get(id)) {
            return Ok(c.clone());
        }
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(Error::no_such_container(key));
        }
        let mut matches = index.by_id.range(key.to_string()..).take_while(|(id, _)| id.starts_with(key));
        match (matches.next(), matches.next()) {
            (Some((_, c)), None) => Ok(c.clone()),
            (Some(_), Some(_)) => {
                Err(Error::InvalidArgument(format!("Multiple IDs found with provided prefix: {key}")))
            }
            (None, _) => Err(Error::no_such_container(key)),
        }
    }

    pub fn all(&self) -> Vec<Arc<Container>> {
        self.read().by_id.values().cloned().collect()
    }

    pub(crate) fn container_dir(&self, id: &str) -> PathBuf {
        self.dir.join(id)
    }

    /// True when `name` (without `/`) is free.
    pub(crate) fn name_is_free(&self, name: &str) -> bool {
        !self.read().names.contains_key(name)
    }

    /// Adds a new container, failing with dockerd's conflict if its name is taken.
    pub(crate) fn insert(&self, c: Arc<Container>) -> Result<()> {
        let name = c.name();
        let mut index = self.write();
        if let Some(other) = index.names.get(&name) {
            return Err(name_conflict(&name, other));
        }
        index.names.insert(name, c.id.clone());
        index.by_id.insert(c.id.clone(), c);
        Ok(())
    }

    /// Moves a name; the caller persists the record.
    pub(crate) fn rename(&self, id: &str, old: &str, new: &str) -> Result<()> {
        let mut index = self.write();
        if let Some(other) = index.names.get(new) {
            return Err(Error::Conflict(format!("Error when allocating new name: {}", name_conflict(new, other))));
        }
        index.names.remove(old);
        index.names.insert(new.to_string(), id.to_string());
        Ok(())
    }

    pub(crate) fn remove(&self, id: &str) {
        let mut index = self.write();
        if let Some(c) = index.by_id.remove(id) {
            let name = c.name();
            if index.names.get(&name).is_some_and(|i| i == id) {
                index.names.remove(&name);
            }
        }
    }

    /// Ids of containers created from `image_id` (for `DELETE /images/{name}`).
    pub fn using_image(&self, image_id: &str) -> Vec<String> {
        self.read().by_id.values().filter(|c| lock(&c.record).image_id == image_id).map(|c| c.id.clone()).collect()
    }

    /// Container counts for `/info`.
    pub fn counts(&self) -> Counts {
        let mut counts = Counts::default();
        for c in self.read().by_id.values() {
            counts.total += 1;
            match c.status() {
                Status::Running => counts.running += 1,
                _ => counts.stopped += 1,
            }
        }
        counts
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub total: usize,
    pub running: usize,
    pub paused: usize,
    pub stopped: usize,
}

impl Engine {
    /// `<exec-root>/containers/<id>`: the OCI bundle.
    pub(crate) fn bundle_dir(&self, id: &str) -> PathBuf {
        self.config.exec_root.join("containers").join(id)
    }

    /// `<exec-root>/shims/<id>`.
    pub(crate) fn shim_dir(&self, id: &str) -> PathBuf {
        self.config.shims_dir().join(id)
    }
}

/// Removes a directory tree, fine when it does not exist.
pub(crate) fn remove_dir_if_exists(p: &Path) -> Result<()> {
    match std::fs::remove_dir_all(p) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io(format!("removing {}", p.display()), e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn containers_with(ids: &[(&str, &str)]) -> (tempfile::TempDir, Containers) {
        let d = tempfile::tempdir().unwrap();
        let config = Config::with_roots(d.path().join("data"), d.path().join("exec"));
        for (id, name) in ids {
            let dir = config.containers_dir().join(id);
            std::fs::create_dir_all(&dir).unwrap();
            record::save(&dir, &record::sample(id, name)).unwrap();
        }
        let c = Containers::open(&config).unwrap();
        (d, c)
    }

    #[test]
    fn lookup_by_id_name_and_prefix() {
        let a = format!("abc1{}", "0".repeat(60));
        let b = format!("abc2{}", "0".repeat(60));
        let (_d, cs) = containers_with(&[(&a, "web"), (&b, "db")]);
        assert_eq!(cs.get(&a).unwrap().id, a);
        assert_eq!(cs.get("web").unwrap().id, a);
        assert_eq!(cs.get("/db").unwrap().id, b);
        assert_eq!(cs.get("abc2").unwrap().id, b);
        assert_eq!(cs.get("abc").unwrap_err().to_string(), "Multiple IDs found with provided prefix: abc");
        assert_eq!(cs.get("nope").unwrap_err().to_string(), "No such container: nope");
        assert_eq!(cs.get("ff").unwrap_err().kind(), crate::ErrorKind::NotFound);
        assert_eq!(cs.counts(), Counts { total: 2, running: 0, paused: 0, stopped: 2 });
        assert_eq!(cs.using_image("sha256:abc").len(), 2);
    }

    #[test]
    fn names_are_unique() {
        let a = "a".repeat(64);
        let (d, cs) = containers_with(&[(&a, "web")]);
        let dir = d.path().join("x");
        std::fs::create_dir_all(&dir).unwrap();
        let dup = Arc::new(Container::new(dir, record::sample(&"b".repeat(64), "web")));
        let e = cs.insert(dup).unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::Conflict);
        assert!(e
            .to_string()
            .starts_with("Conflict. The container name \"/web\" is already in use by container \"aaaa"));
        assert!(cs.rename(&a, "web", "web2").is_ok());
        assert!(cs.name_is_free("web"));
        assert_eq!(cs.get("web2").unwrap().id, a);
        cs.remove(&a);
        assert!(cs.get("web2").is_err());
    }
}
