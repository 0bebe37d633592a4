//! Fixture images, generated offline: busybox from Debian's `busybox-static` via
//! `scripts/make-busybox-image.sh`, built once per test process.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

pub struct Busybox {
    /// A root filesystem tar (for `import`).
    pub rootfs_tar: PathBuf,
    /// A docker-archive (for `load`), tagged `busybox:latest`.
    pub archive_tar: PathBuf,
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Builds (once per busybox binary and script version) and returns the busybox fixture tars.
/// They are cached in `$TMPDIR/berth-fixtures-<key>`, built in a temp dir and renamed into place,
/// so concurrent test processes share one copy and none leaves a directory per run.
pub fn busybox() -> &'static Busybox {
    static BB: OnceLock<Busybox> = OnceLock::new();
    BB.get_or_init(|| {
        let script = repo_root().join("scripts/make-busybox-image.sh");
        let dir = std::env::temp_dir().join(format!("berth-fixtures-{}", cache_key(&script)));
        let bb = Busybox { rootfs_tar: dir.join("busybox-rootfs.tar"), archive_tar: dir.join("busybox.tar") };
        if bb.archive_tar.exists() {
            return bb;
        }
        let tmp = tempfile::Builder::new().prefix("berth-fixtures-new").tempdir().expect("temp dir");
        let status = std::process::Command::new("bash")
            .arg(&script)
            .arg(tmp.path())
            .stdout(std::process::Stdio::null())
            .status()
            .expect("running scripts/make-busybox-image.sh");
        assert!(status.success(), "scripts/make-busybox-image.sh failed (is busybox-static installed?)");
        // Losing the race to another process is fine: its copy is identical.
        let _ = std::fs::rename(tmp.keep(), &dir);
        assert!(bb.archive_tar.exists(), "fixture missing at {}", dir.display());
        bb
    })
}

/// Changes when the busybox binary or the script does.
fn cache_key(script: &Path) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    std::fs::read(script).unwrap_or_default().hash(&mut h);
    if let Ok(md) = std::fs::metadata("/bin/busybox") {
        md.len().hash(&mut h);
        md.modified().ok().hash(&mut h);
    }
    format!("{:016x}", h.finish())
}
