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

/// Builds (once) and returns the busybox fixture tars.
pub fn busybox() -> &'static Busybox {
    static BB: OnceLock<Busybox> = OnceLock::new();
    BB.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("berth-fixtures-{}", std::process::id()));
        let status = std::process::Command::new("bash")
            .arg(repo_root().join("scripts/make-busybox-image.sh"))
            .arg(&dir)
            .stdout(std::process::Stdio::null())
            .status()
            .expect("running scripts/make-busybox-image.sh");
        assert!(status.success(), "scripts/make-busybox-image.sh failed (is busybox-static installed?)");
        Busybox { rootfs_tar: dir.join("busybox-rootfs.tar"), archive_tar: dir.join("busybox.tar") }
    })
}
