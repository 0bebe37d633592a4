//! One service's YAML mapping → a typed [`Service`], validating every key and naming the
//! file, line and key path of whatever is wrong.

use std::collections::BTreeMap;
use std::path::Path;

use crate::error::{Error, Result};
use crate::model::*;
use crate::units;
use crate::yaml::{Node, Value};

/// Keys a service may have (anything else, except `x-*`, is an error as in Compose).
const KNOWN: &[&str] = &[
    "annotations",
    "build",
    "cap_add",
    "cap_drop",
    "cgroup_parent",
    "command",
    "configs",
    "container_name",
    "cpu_count",
    "cpu_shares",
    "cpus",
    "depends_on",
    "deploy",
    "devices",
    "dns",
    "dns_search",
    "domainname",
    "entrypoint",
    "env_file",
    "environment",
    "expose",
    "extends",
    "external_links",
    "extra_hosts",
    "group_add",
    "healthcheck",
    "hostname",
    "image",
    "init",
    "ipc",
    "labels",
    "links",
    "logging",
    "mem_limit",
    "mem_reservation",
    "network_mode",
    "networks",
    "pid",
    "platform",
    "ports",
    "privileged",
    "profiles",
    "pull_policy",
    "read_only",
    "restart",
    "scale",
    "secrets",
    "security_opt",
    "shm_size",
    "stdin_open",
    "stop_grace_period",
    "stop_signal",
    "sysctls",
    "tmpfs",
    "tty",
    "ulimits",
    "user",
    "volumes",
    "working_dir",
];

pub(crate) fn string(n: &Node, path: &str) -> Result<String> {
    n.scalar_string().ok_or_else(|| Error::at(n, path, "must be a string"))
}

fn opt_string(svc: &Node, key: &str, path: &str) -> Result<Option<String>> {
    match svc.get(key) {
        None => Ok(None),
        Some(n) if n.value == Value::Null => Ok(None),
        Some(n) => string(n, &format!("{path}.{key}")).map(Some),
    }
}

pub(crate) fn boolean(n: &Node, path: &str) -> Result<bool> {
    match &n.value {
        Value::Bool(b) => Ok(*b),
        Value::Str(s) if s == "true" => Ok(true),
        Value::Str(s) if s == "false" => Ok(false),
        _ => Err(Error::at(n, path, "must be a boolean")),
    }
}

fn integer(n: &Node, path: &str) -> Result<i64> {
    match &n.value {
        Value::Int(i) => Ok(*i),
        Value::Str(s) => s.trim().parse().map_err(|_| Error::at(n, path, format!("invalid integer \"{s}\""))),
        _ => Err(Error::at(n, path, "must be an integer")),
    }
}

fn duration(n: &Node, path: &str) -> Result<i64> {
    let s = string(n, path)?;
    units::parse_duration(&s).ok_or_else(|| Error::at(n, path, format!("invalid duration \"{s}\"")))
}

/// A list of strings (a single string is a one-element list).
pub(crate) fn strings(n: &Node, path: &str) -> Result<Vec<String>> {
    match &n.value {
        Value::Seq(items) => items.iter().enumerate().map(|(i, x)| string(x, &format!("{path}[{i}]"))).collect(),
        Value::Null => Ok(Vec::new()),
        _ => Ok(vec![string(n, path)?]),
    }
}

/// `command`/`entrypoint`: a list, or a string split like a shell would.
fn command(n: &Node, path: &str) -> Result<Vec<String>> {
    match &n.value {
        Value::Str(s) => shell_split(s).ok_or_else(|| Error::at(n, path, format!("invalid command line \"{s}\""))),
        _ => strings(n, path),
    }
}

/// A mapping of strings (values may be null → None). Lists must have been normalised.
pub(crate) fn string_map(n: &Node, path: &str) -> Result<BTreeMap<String, Option<String>>> {
    let Some(m) = n.as_map() else {
        if n.value == Value::Null {
            return Ok(BTreeMap::new());
        }
        return Err(Error::at(n, path, "must be a mapping or a list"));
    };
    m.iter()
        .map(|(k, v)| match &v.value {
            Value::Null => Ok((k.clone(), None)),
            _ => Ok((k.clone(), Some(string(v, &format!("{path}.{k}"))?))),
        })
        .collect()
}

/// Split a command line into words: single and double quotes, backslash escapes.
pub fn shell_split(s: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                loop {
                    match chars.next()? {
                        '\'' => break,
                        x => cur.push(x),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next()? {
                        '"' => break,
                        '\\' => match chars.next()? {
                            x @ ('"' | '\\' | '$' | '`') => cur.push(x),
                            x => {
                                cur.push('\\');
                                cur.push(x);
                            }
                        },
                        x => cur.push(x),
                    }
                }
            }
            '\\' => {
                in_word = true;
                cur.push(chars.next()?);
            }
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    Some(words)
}

/// Convert one (normalised, interpolated, extends-resolved) service.
pub fn service(name: &str, n: &Node, base_dir: &Path, vars: &crate::interpolate::Vars) -> Result<Service> {
    let path = format!("services.{name}");
    let Some(entries) = n.as_map() else {
        return Err(Error::at(n, &path, "must be a mapping"));
    };
    for (k, v) in entries {
        if !KNOWN.contains(&k.as_str()) && !k.starts_with("x-") {
            return Err(Error::at(v, &path, format!("additional properties '{k}' not allowed")));
        }
    }
    let p = |k: &str| format!("{path}.{k}");
    let mut s = Service { name: name.to_string(), ..Default::default() };
    s.image = opt_string(n, "image", &path)?;
    if let Some(b) = n.get("build") {
        s.build = Some(build(b, &p("build"), base_dir)?);
    }
    if s.image.is_none() && s.build.is_none() {
        return Err(Error::at(n, &path, "has neither an image nor a build context specified"));
    }
    for (key, slot) in [("command", &mut s.command), ("entrypoint", &mut s.entrypoint)] {
        if let Some(c) = n.get(key).filter(|c| c.value != Value::Null) {
            *slot = Some(command(c, &p(key))?);
        }
    }
    // env_file first, `environment` wins; a bare KEY takes the value from the variables.
    if let Some(ef) = n.get("env_file") {
        for (i, item) in ef.as_seq().cloned().unwrap_or_else(|| vec![ef.clone()]).iter().enumerate() {
            let (file, required) = match item.get("path") {
                Some(pn) => (
                    string(pn, &format!("{}[{i}].path", p("env_file")))?,
                    item.get("required").map(|r| boolean(r, &p("env_file"))).transpose()?.unwrap_or(true),
                ),
                None => (string(item, &format!("{}[{i}]", p("env_file")))?, true),
            };
            let full = units::absolute(&file, base_dir);
            let text = match std::fs::read_to_string(&full) {
                Ok(t) => t,
                Err(_) if !required => continue,
                Err(e) => return Err(Error::at(item, &p("env_file"), format!("env file {full} not found: {e}"))),
            };
            let parsed = crate::interpolate::parse_env_file(&text, vars)
                .map_err(|m| Error::at(item, &p("env_file"), format!("{full}: {m}")))?;
            s.environment.extend(parsed);
        }
    }
    if let Some(env) = n.get("environment") {
        for (k, v) in string_map(env, &p("environment"))? {
            match v.or_else(|| vars.get(&k).map(str::to_string)) {
                Some(v) => {
                    s.environment.insert(k, v);
                }
                None => {
                    s.environment.remove(&k);
                }
            }
        }
    }
    if let Some(ports) = n.get("ports") {
        for (i, item) in ports.as_seq().map(Vec::as_slice).unwrap_or_default().iter().enumerate() {
            let ip = format!("{}[{i}]", p("ports"));
            match &item.value {
                Value::Map(_) => {
                    let target = item.get("target").ok_or_else(|| Error::at(item, &ip, "target is required"))?;
                    let target = integer(target, &format!("{ip}.target"))?;
                    let target = u16::try_from(target)
                        .map_err(|_| Error::at(item, &ip, format!("invalid port \"{target}\"")))?;
                    s.ports.push(Port {
                        target,
                        published: item.get("published").and_then(Node::scalar_string),
                        host_ip: item.get("host_ip").and_then(Node::scalar_string),
                        protocol: item.get("protocol").and_then(Node::scalar_string).unwrap_or_else(|| "tcp".into()),
                    });
                }
                _ => {
                    let spec = string(item, &ip)?;
                    s.ports.extend(units::parse_port(&spec).map_err(|m| Error::at(item, &ip, m))?);
                }
            }
        }
    }
    if let Some(e) = n.get("expose") {
        s.expose = strings(e, &p("expose"))?;
    }
    if let Some(vols) = n.get("volumes") {
        for (i, item) in vols.as_seq().map(Vec::as_slice).unwrap_or_default().iter().enumerate() {
            s.volumes.push(mount(item, &format!("{}[{i}]", p("volumes")), base_dir)?);
        }
    }
    if let Some(t) = n.get("tmpfs") {
        s.tmpfs = strings(t, &p("tmpfs"))?;
    }
    if let Some(nets) = n.get("networks") {
        for (net, cfg) in nets.as_map().map(Vec::as_slice).unwrap_or_default() {
            let np = format!("{}.{net}", p("networks"));
            let mut sn = ServiceNetwork::default();
            if let Some(a) = cfg.get("aliases") {
                sn.aliases = strings(a, &format!("{np}.aliases"))?;
            }
            sn.ipv4_address = opt_string(cfg, "ipv4_address", &np)?;
            s.networks.insert(net.clone(), sn);
        }
    }
    s.network_mode = opt_string(n, "network_mode", &path)?;
    if let Some(deps) = n.get("depends_on") {
        for (dep, cfg) in deps.as_map().map(Vec::as_slice).unwrap_or_default() {
            let dp = format!("{}.{dep}", p("depends_on"));
            let cond = match cfg.get("condition") {
                Some(c) => {
                    let cs = string(c, &format!("{dp}.condition"))?;
                    Condition::parse(&cs).ok_or_else(|| {
                        Error::at(c, &format!("{dp}.condition"), format!("invalid condition \"{cs}\""))
                    })?
                }
                None => Condition::ServiceStarted,
            };
            let required = cfg.get("required").map(|r| boolean(r, &dp)).transpose()?.unwrap_or(true);
            let restart = cfg.get("restart").map(|r| boolean(r, &dp)).transpose()?.unwrap_or(false);
            s.depends_on.insert(dep.clone(), Dependency { condition: cond, required, restart });
        }
    }
    if let Some(h) = n.get("healthcheck") {
        s.healthcheck = healthcheck(h, &p("healthcheck"))?;
    }
    s.restart = opt_string(n, "restart", &path)?;
    if let Some(r) = &s.restart {
        let ok = matches!(r.as_str(), "no" | "always" | "unless-stopped" | "on-failure")
            || r.strip_prefix("on-failure:").is_some_and(|c| c.parse::<u32>().is_ok());
        if !ok {
            return Err(Error::at(
                n.get("restart").unwrap_or(n),
                &p("restart"),
                format!("invalid restart policy \"{r}\""),
            ));
        }
    }
    s.container_name = opt_string(n, "container_name", &path)?;
    s.hostname = opt_string(n, "hostname", &path)?;
    if let Some(l) = n.get("labels") {
        s.labels = string_map(l, &p("labels"))?.into_iter().map(|(k, v)| (k, v.unwrap_or_default())).collect();
    }
    s.user = opt_string(n, "user", &path)?;
    s.working_dir = opt_string(n, "working_dir", &path)?;
    for (key, slot) in [
        ("read_only", &mut s.read_only),
        ("privileged", &mut s.privileged),
        ("tty", &mut s.tty),
        ("stdin_open", &mut s.stdin_open),
    ] {
        if let Some(b) = n.get(key) {
            *slot = boolean(b, &p(key))?;
        }
    }
    for (key, slot) in [
        ("cap_add", &mut s.cap_add),
        ("cap_drop", &mut s.cap_drop),
        ("security_opt", &mut s.security_opt),
        ("dns", &mut s.dns),
        ("profiles", &mut s.profiles),
    ] {
        if let Some(v) = n.get(key) {
            *slot = strings(v, &p(key))?;
        }
    }
    if let Some(eh) = n.get("extra_hosts") {
        s.extra_hosts = string_map(eh, &p("extra_hosts"))?
            .into_iter()
            .map(|(h, ip)| format!("{h}:{}", ip.unwrap_or_default()))
            .collect();
    }
    if let Some(u) = n.get("ulimits") {
        for (name, v) in u.as_map().map(Vec::as_slice).unwrap_or_default() {
            let up = format!("{}.{name}", p("ulimits"));
            let lim = match &v.value {
                Value::Map(_) => {
                    let soft = v.get("soft").ok_or_else(|| Error::at(v, &up, "soft is required"))?;
                    let hard = v.get("hard").ok_or_else(|| Error::at(v, &up, "hard is required"))?;
                    Ulimit { soft: integer(soft, &up)?, hard: integer(hard, &up)? }
                }
                _ => {
                    let x = integer(v, &up)?;
                    Ulimit { soft: x, hard: x }
                }
            };
            s.ulimits.insert(name.clone(), lim);
        }
    }
    if let Some(m) = n.get("mem_limit") {
        s.mem_limit = Some(bytes(m, &p("mem_limit"))?);
    }
    if let Some(c) = n.get("cpus") {
        s.cpus = Some(float(c, &p("cpus"))?);
    }
    if let Some(r) = n.get("scale") {
        s.replicas = Some(integer(r, &p("scale"))?.max(0) as u32);
    }
    if let Some(d) = n.get("deploy") {
        let dp = p("deploy");
        if let Some(r) = d.get("replicas") {
            s.replicas = Some(integer(r, &format!("{dp}.replicas"))?.max(0) as u32);
        }
        if let Some(lim) = d.get("resources").and_then(|r| r.get("limits")) {
            let lp = format!("{dp}.resources.limits");
            if let Some(m) = lim.get("memory") {
                s.mem_limit = Some(bytes(m, &format!("{lp}.memory"))?);
            }
            if let Some(c) = lim.get("cpus") {
                s.cpus = Some(float(c, &format!("{lp}.cpus"))?);
            }
        }
    }
    s.stop_signal = opt_string(n, "stop_signal", &path)?;
    if let Some(g) = n.get("stop_grace_period") {
        s.stop_grace_period = Some(duration(g, &p("stop_grace_period"))? / 1_000_000_000);
    }
    if let Some(i) = n.get("init") {
        s.init = Some(boolean(i, &p("init"))?);
    }
    if let Some(l) = n.get("logging") {
        s.logging = Some(Logging {
            driver: opt_string(l, "driver", &p("logging"))?,
            options: match l.get("options") {
                Some(o) => string_map(o, &format!("{}.options", p("logging")))?
                    .into_iter()
                    .map(|(k, v)| (k, v.unwrap_or_default()))
                    .collect(),
                None => BTreeMap::new(),
            },
        });
    }
    for (key, slot, default_dir) in [("secrets", &mut s.secrets, "/run/secrets/"), ("configs", &mut s.configs, "/")] {
        if let Some(list) = n.get(key) {
            for (i, item) in list.as_seq().map(Vec::as_slice).unwrap_or_default().iter().enumerate() {
                let ip = format!("{}[{i}]", p(key));
                let (source, target) = match item.get("source") {
                    Some(src) => (string(src, &ip)?, item.get("target").map(|t| string(t, &ip)).transpose()?),
                    None => (string(item, &ip)?, None),
                };
                let target = match target {
                    Some(t) if t.starts_with('/') => t,
                    Some(t) => format!("{default_dir}{t}"),
                    None => format!("{default_dir}{source}"),
                };
                slot.push(FileMount { source, target });
            }
        }
    }
    Ok(s)
}

fn float(n: &Node, path: &str) -> Result<f64> {
    match &n.value {
        Value::Int(i) => Ok(*i as f64),
        Value::Float(f) => Ok(*f),
        Value::Str(s) => s.parse().map_err(|_| Error::at(n, path, format!("invalid number \"{s}\""))),
        _ => Err(Error::at(n, path, "must be a number")),
    }
}

fn bytes(n: &Node, path: &str) -> Result<i64> {
    let s = string(n, path)?;
    units::parse_bytes(&s).ok_or_else(|| Error::at(n, path, format!("invalid size \"{s}\"")))
}

fn build(n: &Node, path: &str, base_dir: &Path) -> Result<Build> {
    if n.as_map().is_none() {
        return Ok(Build { context: units::absolute(&string(n, path)?, base_dir), ..Default::default() });
    }
    let to_map = |k: &str| -> Result<BTreeMap<String, String>> {
        let Some(m) = n.get(k) else { return Ok(BTreeMap::new()) };
        let mut m = m.clone();
        if let Value::Seq(items) = &m.value {
            m.value = Value::Map(
                items
                    .iter()
                    .filter_map(|i| i.scalar_string())
                    .map(|s| match s.split_once('=') {
                        Some((a, b)) => (a.to_string(), Node::str(b)),
                        None => (s, Node::new(Value::Null)),
                    })
                    .collect(),
            );
        }
        Ok(string_map(&m, &format!("{path}.{k}"))?.into_iter().map(|(k, v)| (k, v.unwrap_or_default())).collect())
    };
    Ok(Build {
        context: units::absolute(&opt_string(n, "context", path)?.unwrap_or_else(|| ".".into()), base_dir),
        dockerfile: opt_string(n, "dockerfile", path)?,
        args: to_map("args")?,
        target: opt_string(n, "target", path)?,
        labels: to_map("labels")?,
    })
}

fn mount(item: &Node, path: &str, base_dir: &Path) -> Result<Mount> {
    if item.as_map().is_none() {
        let spec = string(item, path)?;
        return units::parse_volume(&spec, base_dir).map_err(|m| Error::at(item, path, m));
    }
    let kind = match opt_string(item, "type", path)?.as_deref() {
        Some("volume") | None => MountType::Volume,
        Some("bind") => MountType::Bind,
        Some("tmpfs") => MountType::Tmpfs,
        Some(other) => return Err(Error::at(item, &format!("{path}.type"), format!("invalid mount type \"{other}\""))),
    };
    let target = opt_string(item, "target", path)?.ok_or_else(|| Error::at(item, path, "target is required"))?;
    let mut source = opt_string(item, "source", path)?;
    if kind == MountType::Bind {
        let src = source.ok_or_else(|| Error::at(item, path, "source is required for a bind mount"))?;
        source = Some(units::absolute(&src, base_dir));
    }
    let read_only = item.get("read_only").map(|r| boolean(r, path)).transpose()?.unwrap_or(false);
    let tmpfs_size = match item.get("tmpfs").and_then(|t| t.get("size")) {
        Some(sz) => Some(bytes(sz, &format!("{path}.tmpfs.size"))?),
        None => None,
    };
    Ok(Mount { kind, source, target, read_only, tmpfs_size })
}

fn healthcheck(h: &Node, path: &str) -> Result<Option<Healthcheck>> {
    if h.get("disable").map(|d| boolean(d, path)).transpose()?.unwrap_or(false) {
        return Ok(Some(Healthcheck { test: vec!["NONE".into()], ..Default::default() }));
    }
    let mut hc = Healthcheck::default();
    if let Some(t) = h.get("test") {
        hc.test = match &t.value {
            Value::Str(s) => vec!["CMD-SHELL".into(), s.clone()],
            _ => strings(t, &format!("{path}.test"))?,
        };
        if !matches!(hc.test.first().map(String::as_str), Some("CMD" | "CMD-SHELL" | "NONE")) {
            return Err(Error::at(t, &format!("{path}.test"), "must start with CMD, CMD-SHELL or NONE"));
        }
    }
    for (key, slot) in [
        ("interval", &mut hc.interval),
        ("timeout", &mut hc.timeout),
        ("start_period", &mut hc.start_period),
        ("start_interval", &mut hc.start_interval),
    ] {
        if let Some(v) = h.get(key) {
            *slot = Some(duration(v, &format!("{path}.{key}"))?);
        }
    }
    if let Some(r) = h.get("retries") {
        hc.retries = Some(integer(r, &format!("{path}.retries"))?);
    }
    Ok(Some(hc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split() {
        assert_eq!(shell_split("sh -c 'echo hi; sleep 1'").unwrap(), vec!["sh", "-c", "echo hi; sleep 1"]);
        assert_eq!(shell_split(r#"a "b c" d\ e"#).unwrap(), vec!["a", "b c", "d e"]);
        assert_eq!(shell_split("a 'open").as_deref(), None);
    }
}
