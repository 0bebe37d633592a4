//! berth-cli: the docker-compatible `berth` command-line client.
//!
//! Owns argument parsing (`cli`), one module per command under `commands/<group>/<verb>.rs`,
//! output formatting (`format`: tabwriter tables, Go templates via `gotmpl`, docker's units),
//! and the API client (`client`: bollard plus a tiny raw HTTP client for byte-exact calls).
//!
//! It is a pure Engine-API client: it must work unchanged against berthd and a real dockerd,
//! so it never depends on the daemon crates (engine, store, runtime, net, kernel).

pub mod cli;
pub mod client;
pub mod commands;
pub mod error;
pub mod format;
pub mod tar_output;
pub mod term;

use clap::FromArgMatches;

/// Run the CLI with `args` (including argv[0]); returns the process exit code.
pub fn run<I, T>(args: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let parsed = match cli::command().try_get_matches_from(args).and_then(|m| cli::Cli::from_arg_matches(&m)) {
        Ok(p) => p,
        Err(e) => {
            let code = if e.use_stderr() { 125 } else { 0 };
            let _ = e.print();
            return code;
        }
    };
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("failed to start runtime: {e}");
            return 1;
        }
    };
    let code = rt.block_on(async move {
        let env = std::env::var("DOCKER_HOST").ok();
        let host = client::resolve_host(parsed.host.as_deref(), env.as_deref());
        match commands::dispatch(&host, parsed.cmd).await {
            Ok(code) => code,
            Err(e) => {
                if !e.msg.is_empty() {
                    eprintln!("{}", e.msg);
                }
                e.code
            }
        }
    });
    // A blocking stdin reader may still be parked in read(2); don't wait for it.
    rt.shutdown_background();
    code
}
