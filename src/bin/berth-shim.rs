//! `berth-shim <state_dir>/shim.json`: one per container; see `berth_runtime::shim::server`.

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt().with_writer(std::io::stderr).with_ansi(false).init();
    let Some(path) = std::env::args_os().nth(1) else {
        eprintln!("usage: berth-shim <shim.json>");
        return std::process::ExitCode::from(2);
    };
    match berth_runtime::shim::server::run(std::path::Path::new(&path)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("berth-shim: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
