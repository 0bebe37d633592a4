//! Builds `init/docker_init.rs` on its own into a static executable (`+crt-static`, std only)
//! that `src/init.rs` embeds: the `--init` process must run in any container image, with no
//! host library mounted into it.

use std::path::PathBuf;
use std::process::Command;

fn main() {
    let src = "init/docker_init.rs";
    println!("cargo:rerun-if-changed={src}");
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default());
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let target = std::env::var("TARGET").unwrap_or_default();
    let status = Command::new(rustc)
        .args(["--edition", "2021", "--crate-type", "bin", "--crate-name", "docker_init", "--target", &target])
        .args(["-C", "opt-level=s", "-C", "panic=abort", "-C", "strip=symbols", "-C", "target-feature=+crt-static"])
        .arg(src)
        .arg("-o")
        .arg(out_dir.join("docker-init"))
        .status();
    match status {
        Ok(s) if s.success() => {}
        Ok(s) => panic!("building the static docker-init failed: rustc {s}"),
        Err(e) => panic!("running rustc for the static docker-init: {e}"),
    }
}
