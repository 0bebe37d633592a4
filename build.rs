//! Link options of the thin binaries. `berth-shim` runs once per container for the container's
//! whole life, so its memory counts N times: it is linked as a position-dependent executable
//! (`-no-pie`), so the linker resolves every address and the binary has no dynamic relative
//! relocations: its read-only data (vtables, string tables) stays clean, shared file pages
//! instead of a private copy that the loader writes at start in every shim.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let target = std::env::var("TARGET").unwrap_or_default();
    if target.contains("linux") {
        println!("cargo:rustc-link-arg-bin=berth-shim=-no-pie");
    }
}
