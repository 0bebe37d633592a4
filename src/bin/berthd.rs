//! berthd: the daemon. Wiring only: flags and daemon.json → `Config`, tracing, listeners,
//! signals. Everything else lives in `berth-engine` and `berth-api-server`.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use berth_api_server::serve::{self, ListenAddr, Listener};
use berth_engine::{Config, Engine};
use clap::Parser;
use serde::Deserialize;
use tokio::signal::unix::{signal, SignalKind};

#[derive(Debug, Parser)]
#[command(name = "berthd", version, about = "A self-sufficient runtime for containers (Docker Engine API)")]
struct Flags {
    /// Daemon socket(s) to listen on (unix:///path or tcp://host:port)
    #[arg(short = 'H', long = "host")]
    hosts: Vec<String>,
    /// Root directory of persistent state
    #[arg(long)]
    data_root: Option<PathBuf>,
    /// Root directory for execution state files
    #[arg(long)]
    exec_root: Option<PathBuf>,
    /// Daemon configuration file
    #[arg(long, default_value = "/etc/berth/daemon.json")]
    config_file: PathBuf,
    /// Path to use for the daemon PID file
    #[arg(short = 'p', long)]
    pidfile: Option<PathBuf>,
    /// Enable debug mode
    #[arg(short = 'D', long)]
    debug: bool,
    /// Set the logging level (debug, info, warn, error)
    #[arg(short = 'l', long)]
    log_level: Option<String>,
    /// Default OCI runtime for containers (berth or runc)
    #[arg(long)]
    default_runtime: Option<String>,
    /// Parent cgroup for all containers
    #[arg(long)]
    cgroup_parent: Option<String>,
    /// Bridge device of the default bridge network
    #[arg(long = "bridge-name")]
    bridge_name: Option<String>,
    /// Address and prefix of the default bridge (gateway), e.g. 172.17.0.1/16
    #[arg(long)]
    bip: Option<String>,
    /// Name of the daemon's own nftables table (ip family)
    #[arg(long)]
    nft_table: Option<String>,
    /// Keep containers running while the daemon is down (default; `"live-restore": false` in
    /// daemon.json stops them on shutdown)
    #[arg(long)]
    live_restore: bool,
    /// Registry reached over plain HTTP or unverified TLS (host[:port] or CIDR; repeatable)
    #[arg(long = "insecure-registry")]
    insecure_registries: Vec<String>,
    /// Preferred Docker Hub mirror (http(s) URL; repeatable, tried in order)
    #[arg(long = "registry-mirror", value_parser = berth_registry::validate_mirror)]
    registry_mirrors: Vec<String>,
    /// User/group for the user namespaces of containers (`default`, user, user:group, uid, uid:gid)
    #[arg(long = "userns-remap")]
    userns_remap: Option<String>,
}

/// The subset of dockerd's daemon.json keys berthd understands.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct DaemonJson {
    hosts: Option<Vec<String>>,
    data_root: Option<PathBuf>,
    exec_root: Option<PathBuf>,
    pidfile: Option<PathBuf>,
    debug: Option<bool>,
    log_level: Option<String>,
    default_runtime: Option<String>,
    cgroup_parent: Option<String>,
    bridge_name: Option<String>,
    bip: Option<String>,
    nft_table: Option<String>,
    live_restore: Option<bool>,
    insecure_registries: Option<Vec<String>>,
    registry_mirrors: Option<Vec<String>>,
    userns_remap: Option<String>,
}

fn read_daemon_json(path: &Path, explicit: bool) -> Result<DaemonJson> {
    match std::fs::read(path) {
        Ok(bytes) => {
            serde_json::from_slice(&bytes).with_context(|| format!("invalid configuration file {}", path.display()))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !explicit => Ok(DaemonJson::default()),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

fn main() -> Result<()> {
    let flags = Flags::parse();
    let explicit = std::env::args().any(|a| a.starts_with("--config-file"));
    let file = read_daemon_json(&flags.config_file, explicit)?;

    let debug = flags.debug || file.debug.unwrap_or(false);
    let level = flags.log_level.clone().or(file.log_level.clone()).unwrap_or_else(|| {
        if debug {
            "debug".into()
        } else {
            "info".into()
        }
    });
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| level.as_str().into()),
        )
        .with_writer(std::io::stderr)
        .init();

    let data_root = flags.data_root.or(file.data_root).unwrap_or_else(|| "/var/lib/berth".into());
    let exec_root = flags.exec_root.or(file.exec_root).unwrap_or_else(|| "/run/berth".into());
    let remap_spec = flags.userns_remap.clone().or(file.userns_remap.clone()).unwrap_or_default();
    let remap = berth_engine::userns::setup(&remap_spec).context("setting up user namespace remapping")?;
    let mut config = match &remap {
        Some(r) => Config::with_roots(berth_engine::userns::daemon_root(&data_root, r)?, &exec_root),
        None => Config::with_roots(&data_root, &exec_root),
    };
    config.userns_remap = remap;
    config.shim_binary = std::env::current_exe().context("locating berthd")?.with_file_name("berth-shim");
    if let Some(r) = flags.default_runtime.or(file.default_runtime) {
        if r != "berth" && r != "runc" {
            bail!("unknown runtime {r:?}: use berth or runc");
        }
        config.default_runtime = r;
    }
    if let Some(c) = flags.cgroup_parent.or(file.cgroup_parent) {
        config.cgroup_parent = c.trim_matches('/').to_string();
    }
    if let Some(b) = flags.bridge_name.or(file.bridge_name) {
        config.bridge_name = b;
    }
    config.bip = flags.bip.or(file.bip);
    if let Some(t) = flags.nft_table.or(file.nft_table) {
        config.nft_table = t;
    }
    config.live_restore = flags.live_restore || file.live_restore.unwrap_or(true);
    config.registry.insecure = flags.insecure_registries;
    config.registry.insecure.extend(file.insecure_registries.unwrap_or_default());
    // Mirrors from the flags first, then daemon.json's, each once, checked as dockerd does.
    for m in flags.registry_mirrors.into_iter().chain(file.registry_mirrors.unwrap_or_default()) {
        let m = berth_registry::validate_mirror(&m).map_err(anyhow::Error::msg)?;
        if !config.registry.mirrors.contains(&m) {
            config.registry.mirrors.push(m);
        }
    }
    // Registry CAs live in `certs.d/<host>/*.crt` next to daemon.json, as dockerd's
    // /etc/docker/certs.d next to /etc/docker/daemon.json.
    config.registry.certs_dir = flags.config_file.parent().map(|d| d.join("certs.d"));
    let hosts = if !flags.hosts.is_empty() {
        flags.hosts
    } else {
        file.hosts.unwrap_or_else(|| vec![format!("unix://{}", exec_root.join("berth.sock").display())])
    };
    let addrs = hosts.iter().map(|h| ListenAddr::parse(h).map_err(anyhow::Error::msg)).collect::<Result<Vec<_>>>()?;
    let pidfile = flags.pidfile.or(file.pidfile);

    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    rt.block_on(run(config, addrs, pidfile))
}

async fn run(config: Config, addrs: Vec<ListenAddr>, pidfile: Option<PathBuf>) -> Result<()> {
    if let Some(p) = &pidfile {
        write_pidfile(p)?;
    }
    let engine = Engine::open(config).await.context("starting the engine")?;

    let mut listeners = Vec::new();
    let mut sockets = Vec::new();
    for addr in &addrs {
        match addr {
            ListenAddr::Unix(path) => {
                listeners.push(Listener::Unix(
                    serve::bind_unix(path).with_context(|| format!("listening on {}", path.display()))?,
                ));
                sockets.push(path.clone());
            }
            ListenAddr::Tcp(a) => {
                tracing::warn!(addr = %a, "API listening on TCP without TLS: anyone who can reach it is root on this host");
                listeners.push(Listener::Tcp(
                    tokio::net::TcpListener::bind(a).await.with_context(|| format!("listening on {a}"))?,
                ));
            }
        }
    }
    tracing::info!(hosts = ?addrs, data_root = %engine.config.data_root.display(), "API listen");

    let (tx, rx) = tokio::sync::watch::channel(false);
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    let server = tokio::spawn(serve::serve(berth_api_server::router(engine.clone()), listeners, rx));
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM: shutting down"),
        _ = int.recv() => tracing::info!("SIGINT: shutting down"),
    }
    let _ = tx.send(true);
    let _ = server.await;
    engine.shutdown().await;
    for s in sockets {
        let _ = std::fs::remove_file(s);
    }
    if let Some(p) = &pidfile {
        let _ = std::fs::remove_file(p);
    }
    tracing::info!("daemon stopped");
    Ok(())
}

fn write_pidfile(path: &Path) -> Result<()> {
    if let Ok(old) = std::fs::read_to_string(path) {
        if let Ok(pid) = old.trim().parse::<u32>() {
            if Path::new(&format!("/proc/{pid}")).exists() && pid != std::process::id() {
                bail!("pid file found, ensure berthd is not running or delete {}", path.display());
            }
        }
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, format!("{}\n", std::process::id())).with_context(|| format!("writing {}", path.display()))
}
