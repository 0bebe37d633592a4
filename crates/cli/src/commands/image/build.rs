//! `berth build` (ImageBuild): sends the context as a tar (minus `.dockerignore`, as the docker
//! CLI does) to `POST /build` and prints the classic builder's output. `--secret` values travel
//! in berth's `X-Berth-Build-Secrets` header (see `api-types` `query::build`), never in the
//! context or the query string.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use berth_api_types::dockerignore::Ignore;
use berth_api_types::query::build::{encode_secrets, SECRETS_HEADER};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};

use crate::client::{error_body_message, query_escape, Client};
use crate::error::{CliError, CmdResult};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Name and optionally a tag in the 'name:tag' format
    #[arg(short = 't', long = "tag")]
    pub tags: Vec<String>,
    /// Name of the Dockerfile (Default is 'PATH/Dockerfile')
    #[arg(short = 'f', long = "file")]
    pub file: Option<String>,
    /// Set build-time variables
    #[arg(long = "build-arg")]
    pub build_args: Vec<String>,
    /// Set the target build stage to build.
    #[arg(long)]
    pub target: Option<String>,
    /// Do not use cache when building the image
    #[arg(long = "no-cache")]
    pub no_cache: bool,
    /// Set metadata for an image
    #[arg(long = "label")]
    pub labels: Vec<String>,
    /// Secret file to expose to the build: id=mysecret[,src=/local/secret] or id=x,env=VAR
    #[arg(long = "secret")]
    pub secrets: Vec<String>,
    /// Set type of progress output (auto, plain, tty)
    #[arg(long, default_value = "auto")]
    pub progress: String,
    /// Suppress the build output and print image ID on success
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Set the networking mode for the RUN instructions during build
    #[arg(long, default_value = "default")]
    pub network: String,
    /// Set platform if server is multi-platform capable
    #[arg(long)]
    pub platform: Option<String>,
    /// Always attempt to pull a newer version of the image
    #[arg(long)]
    pub pull: bool,
    /// Remove intermediate containers after a successful build
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    pub rm: bool,
    /// Always remove intermediate containers
    #[arg(long = "force-rm")]
    pub force_rm: bool,
    /// Add a custom host-to-IP mapping (host:ip)
    #[arg(long = "add-host")]
    pub add_hosts: Vec<String>,
    #[command(flatten)]
    pub limits: Box<Limits>,
    /// Build context directory
    pub path: String,
}

/// Resource limits of the RUN containers and the `--cache-from` images (docker build's
/// classic-builder flags).
#[derive(clap::Args, Debug, Default)]
pub struct Limits {
    /// Images to consider as cache sources
    #[arg(long = "cache-from")]
    pub cache_from: Vec<String>,
    /// Size of /dev/shm
    #[arg(long = "shm-size")]
    pub shm_size: Option<String>,
    /// Memory limit
    #[arg(short = 'm', long = "memory")]
    pub memory: Option<String>,
    /// Swap limit equal to memory plus swap: '-1' to enable unlimited swap
    #[arg(long = "memory-swap")]
    pub memory_swap: Option<String>,
    /// CPU shares (relative weight)
    #[arg(short = 'c', long = "cpu-shares")]
    pub cpu_shares: Option<i64>,
    /// Limit the CPU CFS (Completely Fair Scheduler) period
    #[arg(long = "cpu-period")]
    pub cpu_period: Option<i64>,
    /// Limit the CPU CFS (Completely Fair Scheduler) quota
    #[arg(long = "cpu-quota")]
    pub cpu_quota: Option<i64>,
    /// CPUs in which to allow execution (0-3, 0,1)
    #[arg(long = "cpuset-cpus")]
    pub cpuset_cpus: Option<String>,
    /// MEMs in which to allow execution (0-3, 0,1)
    #[arg(long = "cpuset-mems")]
    pub cpuset_mems: Option<String>,
}

impl Limits {
    /// The `/build` query parameters for these flags.
    pub fn query(&self) -> Result<Vec<String>, CliError> {
        let mut q = Vec::new();
        if !self.cache_from.is_empty() {
            q.push(format!("cachefrom={}", query_escape(&serde_json::to_string(&self.cache_from).unwrap_or_default())));
        }
        let bytes = [("shmsize", "shm-size", &self.shm_size), ("memory", "memory", &self.memory)];
        for (key, flag, v) in bytes {
            if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
                let n = crate::commands::container::opts_resources::ram_in_bytes(v)
                    .ok_or_else(|| CliError::new(125, format!("invalid argument \"{v}\" for \"--{flag}\" flag")))?;
                q.push(format!("{key}={n}"));
            }
        }
        if let Some(v) = self.memory_swap.as_deref().filter(|v| !v.is_empty()) {
            let n = if v == "-1" {
                -1
            } else {
                crate::commands::container::opts_resources::ram_in_bytes(v)
                    .ok_or_else(|| CliError::new(125, format!("invalid argument \"{v}\" for \"--memory-swap\" flag")))?
            };
            q.push(format!("memswap={n}"));
        }
        let ints = [("cpushares", self.cpu_shares), ("cpuperiod", self.cpu_period), ("cpuquota", self.cpu_quota)];
        for (key, v) in ints {
            if let Some(v) = v {
                q.push(format!("{key}={v}"));
            }
        }
        for (key, v) in [("cpusetcpus", &self.cpuset_cpus), ("cpusetmems", &self.cpuset_mems)] {
            if let Some(v) = v {
                q.push(format!("{key}={}", query_escape(v)));
            }
        }
        Ok(q)
    }
}

/// Parses `--secret id=x[,src=path|,env=VAR]` into the secret's bytes.
pub fn read_secret(spec: &str) -> Result<(String, Vec<u8>), CliError> {
    let (mut id, mut src, mut env) = (String::new(), None, None);
    for kv in spec.split(',') {
        match kv.split_once('=') {
            Some(("id", v)) => id = v.to_string(),
            Some(("src" | "source", v)) => src = Some(v.to_string()),
            Some(("env", v)) => env = Some(v.to_string()),
            Some(("type", _)) => {}
            _ => return Err(CliError::new(1, format!("invalid secret {spec:?}: use id=…,src=… or id=…,env=…"))),
        }
    }
    if id.is_empty() {
        return Err(CliError::new(1, format!("invalid secret {spec:?}: id is required")));
    }
    if let Some(v) = env {
        let val = std::env::var(&v)
            .map_err(|_| CliError::new(1, format!("secret {id}: environment variable {v} is not set")))?;
        return Ok((id, val.into_bytes()));
    }
    let path = src.unwrap_or_else(|| id.clone());
    let data = std::fs::read(&path).map_err(|e| CliError::new(1, format!("secret {id}: reading {path}: {e}")))?;
    Ok((id, data))
}

/// The context as a tar: every file not excluded by `.dockerignore` (the Dockerfile and
/// `.dockerignore` always go), plus the Dockerfile under `extra_name` when it lives outside.
pub fn context_tar(
    dir: &Path,
    dockerfile_rel: Option<&str>,
    extra: Option<(&str, &[u8])>,
) -> Result<Vec<u8>, CliError> {
    let ignore = std::fs::read_to_string(dir.join(".dockerignore")).map(|t| Ignore::parse(&t)).unwrap_or_default();
    let mut b = tar::Builder::new(Vec::new());
    b.follow_symlinks(false);
    let keep = |rel: &str| rel == ".dockerignore" || Some(rel) == dockerfile_rel || !ignore.excludes(rel);
    let mut stack = vec![PathBuf::new()];
    let err = |e: std::io::Error| CliError::new(1, format!("error creating build context: {e}"));
    while let Some(rel) = stack.pop() {
        let mut entries: Vec<_> = std::fs::read_dir(dir.join(&rel)).map_err(err)?.flatten().collect();
        entries.sort_by_key(|e| e.file_name());
        for e in entries.into_iter().rev() {
            let r = rel.join(e.file_name());
            let rs = r.to_string_lossy().into_owned();
            let is_dir = e.file_type().is_ok_and(|t| t.is_dir());
            if !keep(&rs) {
                if is_dir && ignore.has_exclusions() {
                    stack.push(r);
                }
                continue;
            }
            b.append_path_with_name(e.path(), &r).map_err(err)?;
            if is_dir {
                stack.push(r);
            }
        }
    }
    if let Some((name, data)) = extra {
        let mut h = tar::Header::new_gnu();
        h.set_mode(0o644);
        h.set_size(data.len() as u64);
        h.set_entry_type(tar::EntryType::Regular);
        b.append_data(&mut h, name, data).map_err(err)?;
    }
    b.into_inner().map_err(err)
}

fn json_map(pairs: &BTreeMap<String, Option<String>>) -> String {
    serde_json::to_string(pairs).unwrap_or_default()
}

pub async fn run(c: &Client, a: Args) -> CmdResult {
    let dir = PathBuf::from(&a.path);
    if a.path == "-" || !dir.is_dir() {
        return Err(CliError::new(1, format!("unable to prepare context: path {:?} not found", a.path)));
    }
    let (dockerfile, extra) = match &a.file {
        None => ("Dockerfile".to_string(), None),
        Some(f) => {
            let p = PathBuf::from(f);
            let abs = std::fs::canonicalize(&p)
                .map_err(|e| CliError::new(1, format!("unable to prepare context: {f}: {e}")))?;
            let root = std::fs::canonicalize(&dir).map_err(|e| CliError::new(1, e.to_string()))?;
            match abs.strip_prefix(&root) {
                Ok(rel) => (rel.to_string_lossy().into_owned(), None),
                Err(_) => {
                    let data = std::fs::read(&abs).map_err(|e| CliError::new(1, e.to_string()))?;
                    (".dockerfile.berth".to_string(), Some(data))
                }
            }
        }
    };
    let mut build_args = BTreeMap::new();
    for ba in &a.build_args {
        match ba.split_once('=') {
            Some((k, v)) => {
                build_args.insert(k.to_string(), Some(v.to_string()));
            }
            None => {
                if let Ok(v) = std::env::var(ba) {
                    build_args.insert(ba.clone(), Some(v));
                }
            }
        }
    }
    let labels: BTreeMap<String, Option<String>> = a
        .labels
        .iter()
        .map(|l| match l.split_once('=') {
            Some((k, v)) => (k.to_string(), Some(v.to_string())),
            None => (l.clone(), Some(String::new())),
        })
        .collect();
    let mut secrets = BTreeMap::new();
    for s in &a.secrets {
        let (id, data) = read_secret(s)?;
        secrets.insert(id, data);
    }
    let tar = context_tar(&dir, Some(&dockerfile), extra.as_deref().map(|d| (dockerfile.as_str(), d)))?;
    if !a.quiet {
        println!("Sending build context to Docker daemon  {}", crate::format::units::human_size(tar.len() as f64));
    }
    let mut q = vec![format!("dockerfile={}", query_escape(&dockerfile))];
    for t in &a.tags {
        q.push(format!("t={}", query_escape(t)));
    }
    let flags = [("nocache", a.no_cache), ("pull", a.pull), ("q", a.quiet), ("forcerm", a.force_rm)];
    for (k, on) in flags {
        if on {
            q.push(format!("{k}=1"));
        }
    }
    q.push(format!("rm={}", if a.rm { 1 } else { 0 }));
    q.push(format!("buildargs={}", query_escape(&json_map(&build_args))));
    q.push(format!("labels={}", query_escape(&json_map(&labels))));
    if let Some(t) = &a.target {
        q.push(format!("target={}", query_escape(t)));
    }
    if let Some(p) = &a.platform {
        q.push(format!("platform={}", query_escape(p)));
    }
    q.push(format!("networkmode={}", query_escape(&a.network)));
    if !a.add_hosts.is_empty() {
        q.push(format!("extrahosts={}", query_escape(&a.add_hosts.join(","))));
    }
    q.extend(a.limits.query()?);
    let uri = format!("/v{}/build?{}", c.api_version, q.join("&"));
    let mut req = http::Request::builder()
        .method(http::Method::POST)
        .uri(uri)
        .header("Host", "api")
        .header("Content-Type", "application/x-tar");
    if !secrets.is_empty() {
        req = req.header(SECRETS_HEADER, encode_secrets(&secrets));
    }
    let req = req.body(Full::new(Bytes::from(tar))).map_err(|e| CliError::new(1, e.to_string()))?;
    let resp = c.send(req).await?;
    let status = resp.status().as_u16();
    let mut body = resp.into_body();
    if !(200..300).contains(&status) {
        let bytes = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
        return Err(CliError::new(1, format!("Error response from daemon: {}", error_body_message(&bytes))));
    }
    let mut pending = Vec::new();
    let mut stdout = std::io::stdout();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| CliError::new(1, format!("reading build output: {e}")))?;
        let Some(data) = frame.data_ref() else { continue };
        pending.extend_from_slice(data);
        while let Some(pos) = pending.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = pending.drain(..=pos).collect();
            let Ok(m) = serde_json::from_slice::<serde_json::Value>(&line) else { continue };
            if let Some(err) = m.get("errorDetail") {
                let msg = err.get("message").and_then(|v| v.as_str()).unwrap_or("build failed").to_string();
                let code = err.get("code").and_then(|v| v.as_i64()).filter(|c| *c > 0).unwrap_or(1);
                return Err(CliError::new(code as i32, msg));
            }
            if let Some(s) = m.get("stream").and_then(|v| v.as_str()) {
                let _ = stdout.write_all(s.as_bytes());
                let _ = stdout.flush();
            } else if let Some(s) = m.get("status").and_then(|v| v.as_str()) {
                let _ = writeln!(stdout, "{s}");
            }
        }
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_honours_dockerignore_but_keeps_dockerfile() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("Dockerfile"), "FROM busybox\n").unwrap();
        std::fs::write(d.path().join(".dockerignore"), "*.log\nDockerfile\nsecret/\n").unwrap();
        std::fs::write(d.path().join("a.log"), "x").unwrap();
        std::fs::write(d.path().join("keep.txt"), "x").unwrap();
        std::fs::create_dir(d.path().join("secret")).unwrap();
        std::fs::write(d.path().join("secret/k"), "x").unwrap();
        let t = context_tar(d.path(), Some("Dockerfile"), None).unwrap();
        let mut ar = tar::Archive::new(&t[..]);
        let mut names: Vec<String> =
            ar.entries().unwrap().map(|e| e.unwrap().path().unwrap().to_string_lossy().into_owned()).collect();
        names.sort();
        assert_eq!(names, [".dockerignore", "Dockerfile", "keep.txt"]);
    }

    #[test]
    fn secrets_from_file_and_env() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("s");
        std::fs::write(&f, "top").unwrap();
        let (id, data) = read_secret(&format!("id=tok,src={}", f.display())).unwrap();
        assert_eq!((id.as_str(), data.as_slice()), ("tok", &b"top"[..]));
        assert!(read_secret("src=x").is_err());
    }
}
