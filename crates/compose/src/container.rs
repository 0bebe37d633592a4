//! A service → the Engine API's container-create body (ContainerCreate), as data. The first
//! network goes into the create call; the others are connected afterwards (NetworkConnect),
//! because daemons before API 1.44 accept only one endpoint at create.

use std::collections::{BTreeMap, HashMap};

use berth_api_types::models::{
    ContainerCreateBody, EndpointIpamConfig, EndpointSettings, HealthConfig, HostConfig, HostConfigLogConfig,
    Mount as ApiMount, MountTmpfsOptions, MountType as ApiMountType, NetworkingConfig, PortBinding, ResourcesUlimits,
    RestartPolicy, RestartPolicyNameEnum,
};

use crate::labels;
use crate::model::{MountType, Project, Service};

/// What a `run` (one-off) container changes about a service's container.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    pub oneoff: bool,
    pub command: Option<Vec<String>>,
    pub entrypoint: Option<Vec<String>>,
    pub env: Vec<(String, String)>,
    pub tty: Option<bool>,
    pub stdin_open: Option<bool>,
    /// Drop published ports (`run` without `--service-ports`).
    pub no_ports: bool,
    pub user: Option<String>,
    pub workdir: Option<String>,
    pub auto_remove: bool,
}

/// The create body plus the networks to connect after create.
#[derive(Clone, Debug)]
pub struct CreatePlan {
    pub name: String,
    pub body: ContainerCreateBody,
    /// (daemon network name, endpoint settings) to connect after create.
    pub connect: Vec<(String, EndpointSettings)>,
    /// (absolute target path, content) of `environment:`/`content:` secrets and configs, to
    /// copy into the container after create (as Compose does, with `PUT /archive`).
    pub inject: Vec<(String, String)>,
}

fn endpoint(svc: &Service, key: &str) -> EndpointSettings {
    let sn = svc.networks.get(key).cloned().unwrap_or_default();
    let mut aliases = vec![svc.name.clone()];
    aliases.extend(sn.aliases.iter().cloned());
    EndpointSettings {
        aliases: Some(aliases),
        ipam_config: sn.ipv4_address.map(|ip| EndpointIpamConfig { ipv4_address: Some(ip), ..Default::default() }),
        ..Default::default()
    }
}

fn restart_policy(s: &str) -> RestartPolicy {
    let (name, count) = match s.split_once(':') {
        Some((n, c)) => (n, c.parse().ok()),
        None => (s, None),
    };
    let name = match name {
        "always" => RestartPolicyNameEnum::ALWAYS,
        "unless-stopped" => RestartPolicyNameEnum::UNLESS_STOPPED,
        "on-failure" => RestartPolicyNameEnum::ON_FAILURE,
        _ => RestartPolicyNameEnum::NO,
    };
    RestartPolicy { name: Some(name), maximum_retry_count: count }
}

/// The container `number` of `svc`. `containers_of` maps a service name to one of its
/// container names (for `network_mode: service:x`).
pub fn create_plan(
    project: &Project,
    svc: &Service,
    number: u32,
    ov: &Overrides,
    containers_of: &dyn Fn(&str) -> Option<String>,
) -> CreatePlan {
    let name = if ov.oneoff {
        labels::oneoff_name(&project.name, &svc.name, &format!("{:012x}", rand_suffix()))
    } else {
        labels::container_name(&project.name, svc, number)
    };
    let mut env: BTreeMap<String, String> = svc.environment.clone();
    env.extend(ov.env.iter().cloned());
    let mut labels = labels::container_labels(project, svc, number, ov.oneoff);
    if ov.oneoff {
        labels.insert("com.docker.compose.slug".into(), name.rsplit('-').next().unwrap_or_default().to_string());
    }

    let mut exposed: Vec<String> =
        svc.expose.iter().map(|e| if e.contains('/') { e.clone() } else { format!("{e}/tcp") }).collect();
    let mut bindings: HashMap<String, Option<Vec<PortBinding>>> = HashMap::new();
    if !ov.no_ports {
        for p in &svc.ports {
            let key = format!("{}/{}", p.target, p.protocol);
            if !exposed.contains(&key) {
                exposed.push(key.clone());
            }
            bindings.entry(key).or_insert_with(|| Some(Vec::new())).get_or_insert_with(Vec::new).push(PortBinding {
                host_ip: Some(p.host_ip.clone().unwrap_or_default()),
                host_port: Some(p.published.clone().unwrap_or_default()),
            });
        }
    }

    let mut binds = Vec::new();
    let mut mounts = Vec::new();
    let mut tmpfs: HashMap<String, String> = svc
        .tmpfs
        .iter()
        .map(|t| match t.split_once(':') {
            Some((p, o)) => (p.to_string(), o.to_string()),
            None => (t.clone(), String::new()),
        })
        .collect();
    for m in &svc.volumes {
        match m.kind {
            MountType::Bind => {
                let src = m.source.clone().unwrap_or_default();
                binds.push(if m.read_only { format!("{src}:{}:ro", m.target) } else { format!("{src}:{}", m.target) });
            }
            MountType::Volume => mounts.push(ApiMount {
                typ: Some(ApiMountType::VOLUME),
                source: m
                    .source
                    .as_ref()
                    .map(|s| project.volumes.get(s).map(|v| v.name.clone()).unwrap_or_else(|| s.clone())),
                target: Some(m.target.clone()),
                read_only: m.read_only.then_some(true),
                ..Default::default()
            }),
            MountType::Tmpfs => match m.tmpfs_size {
                Some(size) => mounts.push(ApiMount {
                    typ: Some(ApiMountType::TMPFS),
                    target: Some(m.target.clone()),
                    tmpfs_options: Some(MountTmpfsOptions { size_bytes: Some(size), ..Default::default() }),
                    ..Default::default()
                }),
                None => {
                    tmpfs.insert(m.target.clone(), String::new());
                }
            },
        }
    }
    let mut inject = Vec::new();
    for (fm, objs) in
        svc.secrets.iter().map(|f| (f, &project.secrets)).chain(svc.configs.iter().map(|f| (f, &project.configs)))
    {
        let Some(obj) = objs.get(&fm.source) else { continue };
        if let Some(file) = &obj.file {
            binds.push(format!("{file}:{}:ro", fm.target));
        } else if let Some(content) = obj.inline_content() {
            inject.push((fm.target.clone(), content.to_string()));
        }
    }

    let network_mode = match svc.network_mode.as_deref() {
        Some(m) if m.starts_with("service:") => {
            let other = &m["service:".len()..];
            Some(format!("container:{}", containers_of(other).unwrap_or_else(|| other.to_string())))
        }
        Some(m) => Some(m.to_string()),
        None => None,
    };
    // Networks in a stable order: by name, the first one at create.
    let mut nets: Vec<(String, EndpointSettings)> = svc
        .networks
        .keys()
        .map(|k| (project.networks.get(k).map(|n| n.name.clone()).unwrap_or_else(|| k.clone()), endpoint(svc, k)))
        .collect();
    nets.sort_by(|a, b| a.0.cmp(&b.0));
    let (networking_config, network_mode, connect) = match (network_mode, nets.is_empty()) {
        (Some(mode), _) => (None, Some(mode), Vec::new()),
        (None, true) => (None, None, Vec::new()),
        (None, false) => {
            let first = nets.remove(0);
            let mode = first.0.clone();
            (Some(NetworkingConfig { endpoints_config: Some(HashMap::from([first])) }), Some(mode), nets)
        }
    };

    let host_config = HostConfig {
        binds: (!binds.is_empty()).then_some(binds),
        mounts: (!mounts.is_empty()).then_some(mounts),
        tmpfs: (!tmpfs.is_empty()).then_some(tmpfs),
        port_bindings: (!bindings.is_empty()).then_some(bindings),
        network_mode,
        restart_policy: svc.restart.as_deref().map(restart_policy),
        auto_remove: ov.auto_remove.then_some(true),
        memory: svc.mem_limit,
        nano_cpus: svc.cpus.map(|c| (c * 1e9) as i64),
        cap_add: (!svc.cap_add.is_empty()).then(|| svc.cap_add.clone()),
        cap_drop: (!svc.cap_drop.is_empty()).then(|| svc.cap_drop.clone()),
        security_opt: (!svc.security_opt.is_empty()).then(|| svc.security_opt.clone()),
        dns: (!svc.dns.is_empty()).then(|| svc.dns.clone()),
        extra_hosts: (!svc.extra_hosts.is_empty()).then(|| svc.extra_hosts.clone()),
        readonly_rootfs: svc.read_only.then_some(true),
        privileged: svc.privileged.then_some(true),
        init: svc.init,
        ulimits: (!svc.ulimits.is_empty()).then(|| {
            svc.ulimits
                .iter()
                .map(|(n, u)| ResourcesUlimits { name: Some(n.clone()), soft: Some(u.soft), hard: Some(u.hard) })
                .collect()
        }),
        log_config: svc.logging.as_ref().map(|l| HostConfigLogConfig {
            typ: l.driver.clone(),
            config: Some(l.options.clone().into_iter().collect()),
        }),
        ..Default::default()
    };
    let body = ContainerCreateBody {
        image: Some(svc.image_name(&project.name)),
        hostname: svc.hostname.clone(),
        user: ov.user.clone().or_else(|| svc.user.clone()),
        working_dir: ov.workdir.clone().or_else(|| svc.working_dir.clone()),
        env: Some(env.into_iter().map(|(k, v)| format!("{k}={v}")).collect()),
        cmd: ov.command.clone().or_else(|| svc.command.clone()),
        entrypoint: ov.entrypoint.clone().or_else(|| svc.entrypoint.clone()),
        tty: Some(ov.tty.unwrap_or(svc.tty)),
        open_stdin: Some(ov.stdin_open.unwrap_or(svc.stdin_open)),
        attach_stdin: Some(ov.stdin_open.unwrap_or(false)),
        stdin_once: ov.stdin_open.filter(|s| *s),
        attach_stdout: Some(ov.oneoff),
        attach_stderr: Some(ov.oneoff),
        exposed_ports: (!exposed.is_empty()).then_some(exposed),
        labels: Some(labels.into_iter().collect()),
        healthcheck: svc.healthcheck.as_ref().map(|h| HealthConfig {
            test: Some(h.test.clone()).filter(|t| !t.is_empty()),
            interval: h.interval,
            timeout: h.timeout,
            retries: h.retries,
            start_period: h.start_period,
            start_interval: h.start_interval,
        }),
        stop_signal: svc.stop_signal.clone(),
        stop_timeout: svc.stop_grace_period,
        host_config: Some(host_config),
        networking_config,
        ..Default::default()
    };
    CreatePlan { name, body, connect, inject }
}

/// A random-enough suffix for one-off container names (time and pid; no crypto needed).
fn rand_suffix() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0));
    h.write_u32(std::process::id());
    h.finish() & 0xffff_ffff_ffff
}
