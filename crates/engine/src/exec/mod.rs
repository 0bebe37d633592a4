//! Exec instances (`docker exec`), one operation per file named after the swagger operationId:
//! `create.rs` (ContainerExec), `start.rs` (ExecStart), `inspect.rs` (ExecInspect), `resize.rs`
//! (ExecResize). Instances live in memory, as in dockerd; the process itself is run by the
//! container's shim, which records its exit.

mod create;
mod inspect;
mod resize;
mod start;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use oci_spec::runtime::Process;

pub use start::ExecSession;

use crate::{Error, Result};

/// What the client asked for (`ExecConfig`), as kept for start and inspect.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExecSettings {
    pub attach_stdin: bool,
    pub attach_stdout: bool,
    pub attach_stderr: bool,
    pub detach_keys: String,
    pub tty: bool,
    pub console_size: Option<(u16, u16)>,
    pub env: Vec<String>,
    pub cmd: Vec<String>,
    pub privileged: bool,
    pub user: String,
    pub working_dir: String,
}

/// Where an exec instance is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExecStatus {
    #[default]
    Created,
    Running,
    Exited,
}

impl ExecStatus {
    pub fn can_start(self) -> bool {
        self == ExecStatus::Created
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExecRunState {
    pub status: ExecStatus,
    pub pid: i32,
    pub exit_code: Option<i64>,
}

/// One exec instance.
#[derive(Debug)]
pub struct Exec {
    pub id: String,
    pub container_id: String,
    pub settings: ExecSettings,
    /// The container's exit count when the exec was created: it belongs to that run only.
    pub run: u64,
    state: Mutex<ExecRunState>,
}

/// 64 hex characters from 32 random bytes.
fn new_id() -> String {
    let bytes: [u8; 32] = rand::random();
    hex::encode(bytes)
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A poisoned lock only means a panic happened while it was held; the data is still usable.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Exec {
    pub fn state(&self) -> ExecRunState {
        lock(&self.state).clone()
    }

    pub(crate) fn set_state(&self, f: impl FnOnce(&mut ExecRunState)) {
        f(&mut lock(&self.state));
    }

    /// Records the process's exit once (pushed by the shim, or read from it): true the first
    /// time, so `exec_die` is emitted once.
    pub(crate) fn finish(&self, exit_code: i64) -> bool {
        let mut st = lock(&self.state);
        if st.status == ExecStatus::Exited {
            return false;
        }
        st.status = ExecStatus::Exited;
        st.exit_code = Some(exit_code);
        true
    }
}

/// Exec instances by id.
#[derive(Debug, Default)]
pub struct Execs {
    by_id: Mutex<HashMap<String, Arc<Exec>>>,
    /// Each running container's OCI process and rootfs, parsed from its bundle's `config.json`
    /// at its first exec (that file is written once per start: a new one has another stamp).
    bases: Mutex<HashMap<String, (FileStamp, Arc<ContainerProcess>)>>,
}

/// A container's OCI process and the path of its rootfs.
pub(crate) type ContainerProcess = (Process, PathBuf);

/// Identifies one version of a file: inode, size and modification time.
type FileStamp = (u64, u64, Option<std::time::SystemTime>);

fn stamp(path: &Path) -> std::io::Result<FileStamp> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(path)?;
    Ok((m.ino(), m.len(), m.modified().ok()))
}

impl Execs {
    pub(crate) fn insert(&self, e: Arc<Exec>) {
        lock(&self.by_id).insert(e.id.clone(), e);
    }

    /// By full id only (ids the shim reports).
    pub(crate) fn get_exact(&self, id: &str) -> Option<Arc<Exec>> {
        lock(&self.by_id).get(id).cloned()
    }

    /// By full id or unique prefix; dockerd's 404 otherwise.
    pub fn get(&self, key: &str) -> Result<Arc<Exec>> {
        let map = lock(&self.by_id);
        if let Some(e) = map.get(key) {
            return Ok(e.clone());
        }
        let mut found = map.values().filter(|e| !key.is_empty() && e.id.starts_with(key));
        match (found.next(), found.next()) {
            (Some(e), None) => Ok(e.clone()),
            _ => Err(Error::NotFound(format!("No such exec instance: {key}"))),
        }
    }

    /// Ids of the container's exec instances of its current run (`ExecIDs` in inspect).
    pub fn ids_of(&self, container_id: &str, run: u64) -> Vec<String> {
        lock(&self.by_id)
            .values()
            .filter(|e| e.container_id == container_id && e.run == run)
            .map(|e| e.id.clone())
            .collect()
    }

    /// Forgets one instance (healthcheck probes, as dockerd unregisters them).
    pub(crate) fn remove(&self, id: &str) {
        lock(&self.by_id).remove(id);
    }

    /// Forgets the instances of a removed container.
    pub fn remove_container(&self, container_id: &str) {
        lock(&self.by_id).retain(|_, e| e.container_id != container_id);
        lock(&self.bases).remove(container_id);
    }

    /// The container's OCI process and rootfs path from `<bundle>/config.json`, parsed once
    /// per version of that file.
    pub(crate) fn container_process(&self, container_id: &str, bundle: &Path) -> Result<Arc<ContainerProcess>> {
        let path = bundle.join("config.json");
        let st = stamp(&path).map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
        if let Some((s, base)) = lock(&self.bases).get(container_id) {
            if *s == st {
                return Ok(base.clone());
            }
        }
        let base = berth_runtime::exec::container_process(bundle).map_err(|e| Error::Internal(e.to_string()))?;
        let base = Arc::new(base);
        lock(&self.bases).insert(container_id.to_string(), (st, base.clone()));
        Ok(base)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exec(id: &str, container: &str, run: u64) -> Arc<Exec> {
        Arc::new(Exec {
            id: id.into(),
            container_id: container.into(),
            settings: ExecSettings::default(),
            run,
            state: Mutex::new(ExecRunState::default()),
        })
    }

    #[test]
    fn lookup_and_container_ids() {
        let execs = Execs::default();
        execs.insert(exec("abc1", "c1", 0));
        execs.insert(exec("abc2", "c1", 1));
        execs.insert(exec("def", "c2", 0));
        assert_eq!(execs.get("abc1").unwrap().id, "abc1");
        assert_eq!(execs.get("de").unwrap().id, "def");
        assert_eq!(execs.get("abc").unwrap_err().to_string(), "No such exec instance: abc");
        assert_eq!(execs.get("").unwrap_err().kind(), crate::ErrorKind::NotFound);
        assert_eq!(execs.ids_of("c1", 1), ["abc2"]);
        execs.remove_container("c1");
        assert!(execs.get("abc2").is_err());
        assert!(execs.container_process("c1", Path::new("/nonexistent")).is_err());
        assert!(ExecStatus::Created.can_start() && !ExecStatus::Exited.can_start());
        let e = exec("x", "c3", 0);
        e.set_state(|s| s.status = ExecStatus::Running);
        assert!(e.finish(3) && !e.finish(4), "recorded once");
        assert_eq!((e.state().status, e.state().exit_code), (ExecStatus::Exited, Some(3)));
        execs.insert(e);
        assert!(execs.get_exact("x").is_some() && execs.get_exact("").is_none());
    }

    #[test]
    fn container_process_is_parsed_once_per_file_version() {
        let dir = tempfile::tempdir().unwrap();
        let write = |args: &[&str]| {
            let spec = berth_runtime::spec::build(&berth_runtime::spec::SpecInput {
                args: args.iter().map(|a| a.to_string()).collect(),
                ..Default::default()
            });
            std::fs::write(dir.path().join("config.json"), serde_json::to_vec(&spec).unwrap()).unwrap();
        };
        write(&["sleep", "1"]);
        let execs = Execs::default();
        let a = execs.container_process("c1", dir.path()).unwrap();
        let b = execs.container_process("c1", dir.path()).unwrap();
        assert!(Arc::ptr_eq(&a, &b), "cached");
        assert_eq!(a.0.args().as_deref(), Some(&["sleep".to_string(), "1".to_string()][..]));
        write(&["sleep", "100"]);
        let c = execs.container_process("c1", dir.path()).unwrap();
        assert_eq!(c.0.args().as_deref(), Some(&["sleep".to_string(), "100".to_string()][..]), "a new start's spec");
    }
}
