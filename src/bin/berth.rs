//! `berth`: the docker-compatible CLI. Wiring only; everything lives in `berth_cli`, except
//! `berth registry serve`, which runs the registry server in this process (the CLI crate is a
//! pure API client and may not depend on the registry server).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;

/// `berth registry serve`: an OCI distribution registry over a local content store.
#[derive(Debug, Parser)]
#[command(name = "berth registry serve")]
struct ServeFlags {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:5000")]
    addr: SocketAddr,
    /// Directory holding the registry's blobs and repositories.
    #[arg(long, default_value = "/var/lib/berth-registry")]
    root: PathBuf,
    /// htpasswd file (bcrypt entries) enabling basic auth.
    #[arg(long)]
    htpasswd: Option<PathBuf>,
    /// PEM certificate chain: serve HTTPS (with --tls-key).
    #[arg(long)]
    tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert.
    #[arg(long)]
    tls_key: Option<PathBuf>,
}

fn registry_serve(args: Vec<std::ffi::OsString>) -> i32 {
    let flags = ServeFlags::parse_from(args);
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .init();
    let config = berth_registry_server::ServeConfig {
        addr: flags.addr,
        root: flags.root,
        htpasswd: flags.htpasswd,
        tls_cert: flags.tls_cert,
        tls_key: flags.tls_key,
    };
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("berth registry serve: starting runtime: {e}");
            return 1;
        }
    };
    match rt.block_on(berth_registry_server::serve(config)) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("berth registry serve: {e}");
            1
        }
    }
}

fn main() {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    // `--init`: this binary is also the container's init (mounted at /sbin/docker-init).
    if let Some(skip) = berth_runtime::init::invoked_as_init(&args) {
        std::process::exit(berth_runtime::init::run(&args[skip..]));
    }
    if args.get(1).is_some_and(|a| a == "registry") && args.get(2).is_some_and(|a| a == "serve") {
        let mut rest = vec![std::ffi::OsString::from("berth registry serve")];
        rest.extend(args.into_iter().skip(3));
        std::process::exit(registry_serve(rest));
    }
    std::process::exit(berth_cli::run(args));
}
