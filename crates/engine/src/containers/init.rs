//! `--init`: places the static `docker-init` that berthd embeds ([`berth_kernel::init`]) at
//! `<exec-root>/docker-init`, from where each container bind-mounts it at `/sbin/docker-init`.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use berth_kernel::init::DOCKER_INIT;

/// Writes the embedded init to `<exec_root>/docker-init` (mode 0755) unless an identical file is
/// there already, and returns its path. Atomic: a concurrent start sees the old or new file.
pub fn install(exec_root: &Path) -> std::io::Result<PathBuf> {
    let path = exec_root.join("docker-init");
    let current = std::fs::metadata(&path).ok().filter(|m| m.len() == DOCKER_INIT.len() as u64);
    if current.is_some_and(|m| m.permissions().mode() & 0o777 == 0o755)
        && std::fs::read(&path).is_ok_and(|d| d == DOCKER_INIT)
    {
        return Ok(path);
    }
    std::fs::create_dir_all(exec_root)?;
    static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let seq = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = exec_root.join(format!(".docker-init.{}.{seq}", std::process::id()));
    std::fs::write(&tmp, DOCKER_INIT)?;
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o755))?;
    std::fs::File::open(&tmp)?.sync_all()?;
    std::fs::rename(&tmp, &path)?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn installs_once_executable() {
        let dir = tempfile::tempdir().unwrap();
        let p = install(dir.path()).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), DOCKER_INIT);
        assert_eq!(std::fs::metadata(&p).unwrap().permissions().mode() & 0o777, 0o755);
        std::fs::write(&p, b"stale").unwrap();
        assert_eq!(std::fs::read(install(dir.path()).unwrap()).unwrap(), DOCKER_INIT);
    }
}
