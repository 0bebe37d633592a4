//! The per-service config hash (`com.docker.compose.config-hash`), computed as Docker Compose
//! v2 does (`pkg/compose/hash.go` `ServiceHash`): the sha256, in hex, of Go's `json.Marshal`
//! of compose-go's `types.ServiceConfig` with `build`, `pull_policy`, `scale`,
//! `deploy.replicas`, `depends_on` and `profiles` cleared.
//!
//! The JSON is rebuilt here from berth's model with compose-go's field order, names, shapes
//! and defaults (`command`/`entrypoint` always present, `null` when unset; short-syntax ports
//! as `{mode: ingress, host_ip, target, published, protocol}`; short-syntax volumes with
//! `volume: {}` / `bind: {create_host_path: true}`; networks `null` when bare; durations as
//! Go prints them; Go's escaping of `<`, `>`, `&`). It matches Compose v2.2x (compose-go
//! v2.1) for services that use only what berth models. It cannot match exactly when the file
//! uses something berth's model normalises away, because compose-go keeps it in the JSON:
//! `env_file` (compose-go keeps the `env_file` list besides the resolved environment), a
//! `deploy` section (kept as a struct, with `resources`/`placement` even when empty; berth
//! folds `deploy.resources.limits` into `cpus`/`mem_limit`), secret/config targets written
//! explicitly as their default path, `ulimits` written as `{soft, hard}` with equal values,
//! `x-*` extensions, and keys berth does not model (e.g. `devices`, `sysctls`, `pid`, `ipc`).
//! The hash is also Compose-version specific: compose-go changed these shapes over time
//! (newer versions omit `create_host_path: true`), so Compose itself recreates containers
//! after some upgrades.

use std::collections::BTreeMap;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::model::{Healthcheck, Logging, Mount, MountType, Port, Service};
use crate::units::format_duration;

/// Compose v2's config hash of `svc`.
pub fn service_hash(svc: &Service) -> String {
    let json = serde_json::to_string(&GoService::from(svc)).unwrap_or_default();
    hex::encode(Sha256::digest(go_escape(&json).as_bytes()))
}

/// Go's encoder escapes `<`, `>`, `&`, U+2028 and U+2029 inside strings (they cannot occur
/// outside strings in JSON, so replacing them everywhere is exact).
fn go_escape(json: &str) -> String {
    json.replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029")
}

fn no<T>(v: &[T]) -> bool {
    v.is_empty()
}

fn not(b: &bool) -> bool {
    !*b
}

/// compose-go's `ServiceConfig`, only the fields berth models, in Go's field order.
#[derive(Serialize)]
struct GoService<'a> {
    #[serde(skip_serializing_if = "no")]
    cap_add: &'a [String],
    #[serde(skip_serializing_if = "no")]
    cap_drop: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    cpus: Option<serde_json::Number>,
    command: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    configs: Vec<FileRef<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    container_name: Option<&'a str>,
    #[serde(skip_serializing_if = "no")]
    dns: &'a [String],
    entrypoint: Option<&'a [String]>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    environment: &'a BTreeMap<String, String>,
    #[serde(skip_serializing_if = "no")]
    expose: &'a [String],
    #[serde(skip_serializing_if = "Vec::is_empty")]
    extra_hosts: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    hostname: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    healthcheck: Option<GoHealth<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    image: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    init: Option<bool>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    labels: &'a BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    logging: Option<&'a Logging>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mem_limit: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    network_mode: Option<&'a str>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    networks: BTreeMap<&'a str, Option<GoNetwork<'a>>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    ports: Vec<GoPort<'a>>,
    #[serde(skip_serializing_if = "not")]
    privileged: bool,
    #[serde(skip_serializing_if = "not")]
    read_only: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    restart: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    secrets: Vec<FileRef<'a>>,
    #[serde(skip_serializing_if = "no")]
    security_opt: &'a [String],
    #[serde(skip_serializing_if = "not")]
    stdin_open: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    stop_grace_period: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stop_signal: Option<&'a str>,
    #[serde(skip_serializing_if = "no")]
    tmpfs: &'a [String],
    #[serde(skip_serializing_if = "not")]
    tty: bool,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    ulimits: BTreeMap<&'a str, GoUlimit>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    volumes: Vec<GoVolume<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    working_dir: Option<&'a str>,
}

#[derive(Serialize)]
struct FileRef<'a> {
    source: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    target: Option<&'a str>,
}

#[derive(Serialize)]
struct GoHealth<'a> {
    #[serde(skip_serializing_if = "no")]
    test: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    timeout: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    interval: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    retries: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    start_period: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    start_interval: Option<String>,
}

#[derive(Serialize)]
struct GoNetwork<'a> {
    #[serde(skip_serializing_if = "no")]
    aliases: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    ipv4_address: Option<&'a str>,
}

#[derive(Serialize)]
struct GoPort<'a> {
    mode: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    host_ip: Option<&'a str>,
    target: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    published: Option<&'a str>,
    protocol: &'a str,
}

#[derive(Serialize)]
#[serde(untagged)]
enum GoUlimit {
    Single { single: i64 },
    Pair { soft: i64, hard: i64 },
}

#[derive(Serialize)]
struct GoVolume<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<&'a str>,
    target: &'a str,
    #[serde(skip_serializing_if = "not")]
    read_only: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    bind: Option<BindOpts>,
    #[serde(skip_serializing_if = "Option::is_none")]
    volume: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tmpfs: Option<TmpfsOpts>,
}

#[derive(Serialize)]
struct BindOpts {
    create_host_path: bool,
}

#[derive(Serialize)]
struct TmpfsOpts {
    size: i64,
}

/// A Go `float32` as `json.Marshal` prints it: integers without `.0`.
fn go_float(v: f64) -> Option<serde_json::Number> {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        return Some(serde_json::Number::from(v as i64));
    }
    let short: f64 = format!("{}", v as f32).parse().ok()?;
    serde_json::Number::from_f64(short)
}

fn file_refs<'a>(list: &'a [crate::model::FileMount], default_dir: &str) -> Vec<FileRef<'a>> {
    list.iter()
        .map(|f| FileRef {
            source: &f.source,
            target: (f.target != format!("{default_dir}{}", f.source)).then_some(f.target.as_str()),
        })
        .collect()
}

fn health(h: &Healthcheck) -> GoHealth<'_> {
    GoHealth {
        test: &h.test,
        timeout: h.timeout.map(format_duration),
        interval: h.interval.map(format_duration),
        retries: h.retries,
        start_period: h.start_period.map(format_duration),
        start_interval: h.start_interval.map(format_duration),
    }
}

fn port(p: &Port) -> GoPort<'_> {
    GoPort {
        mode: "ingress",
        host_ip: p.host_ip.as_deref(),
        target: p.target,
        published: p.published.as_deref(),
        protocol: &p.protocol,
    }
}

fn volume(m: &Mount) -> GoVolume<'_> {
    let (kind, bind, volume, tmpfs) = match m.kind {
        MountType::Bind => ("bind", Some(BindOpts { create_host_path: true }), None, None),
        MountType::Volume => ("volume", None, Some(BTreeMap::new()), None),
        MountType::Tmpfs => ("tmpfs", None, None, m.tmpfs_size.map(|size| TmpfsOpts { size })),
    };
    GoVolume { kind, source: m.source.as_deref(), target: &m.target, read_only: m.read_only, bind, volume, tmpfs }
}

impl<'a> From<&'a Service> for GoService<'a> {
    fn from(s: &'a Service) -> Self {
        GoService {
            cap_add: &s.cap_add,
            cap_drop: &s.cap_drop,
            cpus: s.cpus.and_then(go_float),
            command: s.command.as_deref(),
            configs: file_refs(&s.configs, "/"),
            container_name: s.container_name.as_deref(),
            dns: &s.dns,
            entrypoint: s.entrypoint.as_deref(),
            environment: &s.environment,
            expose: &s.expose,
            extra_hosts: {
                let mut h: Vec<String> = s.extra_hosts.iter().map(|e| e.replacen(':', "=", 1)).collect();
                h.sort();
                h
            },
            hostname: s.hostname.as_deref(),
            healthcheck: s.healthcheck.as_ref().map(health),
            image: s.image.as_deref(),
            init: s.init,
            labels: &s.labels,
            logging: s.logging.as_ref(),
            mem_limit: s.mem_limit,
            network_mode: s.network_mode.as_deref(),
            networks: s
                .networks
                .iter()
                .map(|(k, n)| {
                    let bare = n.aliases.is_empty() && n.ipv4_address.is_none();
                    let net = GoNetwork { aliases: &n.aliases, ipv4_address: n.ipv4_address.as_deref() };
                    (k.as_str(), (!bare).then_some(net))
                })
                .collect(),
            ports: s.ports.iter().map(port).collect(),
            privileged: s.privileged,
            read_only: s.read_only,
            restart: s.restart.as_deref(),
            secrets: file_refs(&s.secrets, "/run/secrets/"),
            security_opt: &s.security_opt,
            stdin_open: s.stdin_open,
            stop_grace_period: s.stop_grace_period.map(|secs| format_duration(secs * 1_000_000_000)),
            stop_signal: s.stop_signal.as_deref(),
            tmpfs: &s.tmpfs,
            tty: s.tty,
            ulimits: s
                .ulimits
                .iter()
                .map(|(k, u)| {
                    let v = if u.soft == u.hard {
                        GoUlimit::Single { single: u.soft }
                    } else {
                        GoUlimit::Pair { soft: u.soft, hard: u.hard }
                    };
                    (k.as_str(), v)
                })
                .collect(),
            user: s.user.as_deref(),
            volumes: s.volumes.iter().map(volume).collect(),
            working_dir: s.working_dir.as_deref(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ServiceNetwork;

    fn json(s: &Service) -> String {
        go_escape(&serde_json::to_string(&GoService::from(s)).unwrap())
    }

    #[test]
    fn minimal_service_json_is_compose_go_s() {
        let mut s = Service { name: "web".into(), image: Some("busybox".into()), ..Default::default() };
        s.networks.insert("default".into(), ServiceNetwork::default());
        assert_eq!(json(&s), r#"{"command":null,"entrypoint":null,"image":"busybox","networks":{"default":null}}"#);
        // Fields Compose clears before hashing do not change the hash.
        let h = service_hash(&s);
        s.replicas = Some(3);
        s.profiles = vec!["x".into()];
        s.build = Some(Default::default());
        assert_eq!(service_hash(&s), h);
        assert_eq!(h, hex::encode(Sha256::digest(json(&s).as_bytes())));
        s.environment.insert("A".into(), "1".into());
        assert_ne!(service_hash(&s), h);
    }

    #[test]
    fn ports_volumes_durations_and_escaping() {
        let s = Service {
            image: Some("busybox".into()),
            command: Some(vec!["sh".into(), "-c".into(), "a && b > c".into()]),
            ports: vec![Port {
                target: 80,
                published: Some("8080".into()),
                host_ip: Some("127.0.0.1".into()),
                protocol: "tcp".into(),
            }],
            volumes: vec![
                Mount {
                    kind: MountType::Volume,
                    source: Some("data".into()),
                    target: "/data".into(),
                    read_only: false,
                    tmpfs_size: None,
                },
                Mount {
                    kind: MountType::Bind,
                    source: Some("/srv".into()),
                    target: "/srv".into(),
                    read_only: true,
                    tmpfs_size: None,
                },
            ],
            stop_grace_period: Some(90),
            cpus: Some(0.5),
            ..Default::default()
        };
        assert_eq!(
            json(&s),
            concat!(
                r#"{"cpus":0.5,"command":["sh","-c","a \u0026\u0026 b \u003e c"],"entrypoint":null,"image":"busybox","#,
                r#""ports":[{"mode":"ingress","host_ip":"127.0.0.1","target":80,"published":"8080","protocol":"tcp"}],"#,
                r#""stop_grace_period":"1m30s","volumes":[{"type":"volume","source":"data","target":"/data","volume":{}},"#,
                r#"{"type":"bind","source":"/srv","target":"/srv","read_only":true,"bind":{"create_host_path":true}}]}"#
            )
        );
        assert_eq!(go_float(2.0).unwrap().to_string(), "2");
    }
}
