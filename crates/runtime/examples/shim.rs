//! Same wiring as `src/bin/berth-shim.rs`, built with this crate's tests so the shim
//! integration tests can run it (`target/debug/examples/shim`) without building the root package.

fn main() -> std::process::ExitCode {
    let Some(path) = std::env::args_os().nth(1) else {
        eprintln!("usage: shim <shim.json>");
        return std::process::ExitCode::from(2);
    };
    match berth_runtime::shim::server::run(std::path::Path::new(&path)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("berth-shim: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
