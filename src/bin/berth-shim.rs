//! `berth-shim <state_dir>/shim.json`: one per container; see `berth_runtime::shim::server`.

fn main() -> std::process::ExitCode {
    // libcontainer's container-init code logs through this subscriber after the container's
    // stdio is in place: its warning for each syscall of the seccomp profile the host's
    // libseccomp does not know (newer than the kernel) would land in the container's output.
    // libcgroups names every v1 controller the host lacks on each exec: noise in shim.log that
    // costs a write per line on the exec path.
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_env_filter(tracing_subscriber::EnvFilter::new("info,libcontainer::seccomp=error,libcgroups=error"))
        .init();
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
