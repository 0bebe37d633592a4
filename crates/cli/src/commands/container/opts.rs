//! Flags shared by `run` and `create`, and their translation to a create request.

use std::collections::HashMap;

use bollard::models::{ContainerCreateBody, HostConfig};

use crate::error::CliError;

#[derive(clap::Args, Debug, Clone, Default)]
pub struct ContainerOpts {
    /// Attach to STDIN, STDOUT or STDERR
    #[arg(short = 'a', long = "attach")]
    pub attach: Vec<String>,
    /// Overwrite the default ENTRYPOINT of the image
    #[arg(long = "entrypoint")]
    pub entrypoint: Option<String>,
    /// Set environment variables
    #[arg(short = 'e', long = "env")]
    pub env: Vec<String>,
    /// Read in a file of environment variables
    #[arg(long = "env-file")]
    pub env_file: Vec<String>,
    /// Container host name
    #[arg(short = 'h', long = "hostname")]
    pub hostname: Option<String>,
    /// Keep STDIN open even if not attached
    #[arg(short = 'i', long = "interactive")]
    pub interactive: bool,
    /// Set meta data on a container
    #[arg(short = 'l', long = "label")]
    pub label: Vec<String>,
    /// Read in a line delimited file of labels
    #[arg(long = "label-file")]
    pub label_file: Vec<String>,
    /// Assign a name to the container
    #[arg(long = "name")]
    pub name: Option<String>,
    /// Connect a container to a network
    #[arg(long = "network", visible_alias = "net")]
    pub network: Option<String>,
    /// Publish a container's port(s) to the host
    #[arg(short = 'p', long = "publish")]
    pub publish: Vec<String>,
    /// Automatically remove the container and its associated anonymous volumes when it exits
    #[arg(long = "rm")]
    pub rm: bool,
    /// Allocate a pseudo-TTY
    #[arg(short = 't', long = "tty")]
    pub tty: bool,
    /// Username or UID (format: "<name|uid>[:<group|gid>]")
    #[arg(short = 'u', long = "user")]
    pub user: Option<String>,
    /// Bind mount a volume
    #[arg(short = 'v', long = "volume")]
    pub volume: Vec<String>,
    /// Attach a filesystem mount to the container
    #[arg(long = "mount")]
    pub mount: Vec<String>,
    /// Mount a tmpfs directory
    #[arg(long = "tmpfs")]
    pub tmpfs: Vec<String>,
    /// Mount volumes from the specified container(s)
    #[arg(long = "volumes-from")]
    pub volumes_from: Vec<String>,
    /// Mount the container's root filesystem as read only
    #[arg(long = "read-only")]
    pub read_only: bool,
    /// Working directory inside the container
    #[arg(short = 'w', long = "workdir")]
    pub workdir: Option<String>,
    /// Restart policy and healthcheck flags.
    #[command(flatten)]
    pub lifecycle: super::opts_lifecycle::LifecycleOpts,
    /// Networking flags (--network-alias, --ip, --dns, --add-host, --link, -P, ...)
    #[command(flatten)]
    pub net: super::opts_network::NetworkOpts,
    /// Capabilities, privileged, security options, devices, sysctls, namespaces, init
    #[command(flatten)]
    pub security: super::opts_security::SecurityOpts,
    /// Memory, CPU, pids, blkio limits, ulimits, shm size
    #[command(flatten)]
    pub resources: super::opts_resources::CreateResourceOpts,
    /// Print usage
    #[arg(long = "help", action = clap::ArgAction::Help)]
    pub help: Option<bool>,
    /// The image to run
    #[arg(value_name = "IMAGE")]
    pub image: String,
    /// The command and its arguments
    #[arg(value_name = "COMMAND", trailing_var_arg = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
}

pub fn read_lines(path: &str) -> Result<Vec<String>, CliError> {
    let text = std::fs::read_to_string(path).map_err(|e| CliError::new(125, format!("open {path}: {e}")))?;
    Ok(text
        .lines()
        .map(|l| l.trim_start())
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect())
}

/// docker's env semantics: `K=V` as is, bare `K` takes the client's value or is dropped.
pub fn parse_env(items: &[String], lookup: impl Fn(&str) -> Option<String>) -> Vec<String> {
    items
        .iter()
        .filter_map(|e| if e.contains('=') { Some(e.clone()) } else { lookup(e).map(|v| format!("{e}={v}")) })
        .collect()
}

/// `k=v` (or bare `k` meaning an empty value) → label map.
pub fn parse_labels(items: &[String]) -> HashMap<String, String> {
    items
        .iter()
        .map(|l| match l.split_once('=') {
            Some((k, v)) => (k.to_string(), v.to_string()),
            None => (l.clone(), String::new()),
        })
        .collect()
}

/// `[ip:][hostPort:]containerPort[/proto]` → (exposed key, host binding).
fn parse_publish(spec: &str) -> Result<(String, bollard::models::PortBinding), CliError> {
    let (addr, proto) = match spec.rsplit_once('/') {
        Some((a, p)) => (a, p),
        None => (spec, "tcp"),
    };
    let parts: Vec<&str> = addr.rsplitn(3, ':').collect();
    let (cport, hport, ip) = match parts.as_slice() {
        [c] => (*c, "", ""),
        [c, h] => (*c, *h, ""),
        [c, h, ip] => (*c, *h, *ip),
        _ => return Err(CliError::new(125, format!("invalid publish spec: {spec}"))),
    };
    if cport.parse::<u16>().is_err() {
        return Err(CliError::new(125, format!("invalid containerPort: {cport}")));
    }
    let binding = bollard::models::PortBinding {
        host_ip: Some(ip.trim_matches(['[', ']']).to_string()),
        host_port: Some(hport.to_string()),
    };
    Ok((format!("{cport}/{proto}"), binding))
}

impl ContainerOpts {
    /// Build the create request; `detach` is run's `-d` (always true for `create`).
    pub fn to_config(&self, detach: bool) -> Result<ContainerCreateBody, CliError> {
        let mut env_items = Vec::new();
        for f in &self.env_file {
            env_items.extend(read_lines(f)?);
        }
        env_items.extend(self.env.iter().cloned());
        let env = parse_env(&env_items, |k| std::env::var(k).ok());

        let mut label_items = Vec::new();
        for f in &self.label_file {
            label_items.extend(read_lines(f)?);
        }
        label_items.extend(self.label.iter().cloned());

        let (mut a_in, mut a_out, mut a_err) = (false, false, false);
        if !self.attach.is_empty() {
            for s in &self.attach {
                match s.to_ascii_lowercase().as_str() {
                    "stdin" => a_in = true,
                    "stdout" => a_out = true,
                    "stderr" => a_err = true,
                    _ => {
                        return Err(CliError::new(
                            125,
                            format!("invalid argument \"{s}\" for \"-a, --attach\" flag: valid streams are STDIN, STDOUT and STDERR"),
                        ))
                    }
                }
            }
        } else if !detach {
            a_out = true;
            a_err = true;
            a_in = self.interactive;
        }
        if detach && !self.attach.is_empty() {
            return Err(CliError::new(125, "Conflicting options: -a and -d"));
        }

        let entrypoint =
            self.entrypoint.as_ref().map(|e| if e.is_empty() { vec![String::new()] } else { vec![e.clone()] });
        let mut port_bindings = HashMap::new();
        let mut exposed = Vec::new();
        for p in &self.publish {
            let (key, b) = parse_publish(p)?;
            exposed.push(key.clone());
            port_bindings.entry(key).or_insert_with(|| Some(Vec::new())).get_or_insert_with(Vec::new).push(b);
        }
        let (binds, anon_volumes) = super::mount_opts::split_volumes(&self.volume)?;
        let mounts = self.mount.iter().map(|m| super::mount_opts::parse_mount(m)).collect::<Result<Vec<_>, _>>()?;
        let mut host_config = HostConfig {
            auto_remove: Some(self.rm),
            binds: (!binds.is_empty()).then_some(binds),
            mounts: (!mounts.is_empty()).then_some(mounts),
            tmpfs: (!self.tmpfs.is_empty()).then(|| super::mount_opts::parse_tmpfs(&self.tmpfs)),
            volumes_from: (!self.volumes_from.is_empty()).then(|| self.volumes_from.clone()),
            readonly_rootfs: self.read_only.then_some(true),
            network_mode: self.network.clone(),
            port_bindings: (!port_bindings.is_empty()).then_some(port_bindings),
            ..Default::default()
        };
        self.security.apply(&mut host_config)?;
        self.resources.apply(&mut host_config)?;
        let mut body = ContainerCreateBody {
            hostname: self.hostname.clone(),
            user: self.user.clone(),
            attach_stdin: Some(a_in),
            attach_stdout: Some(a_out),
            attach_stderr: Some(a_err),
            exposed_ports: (!exposed.is_empty()).then_some(exposed),
            tty: Some(self.tty),
            open_stdin: Some(self.interactive),
            stdin_once: Some(a_in),
            env: Some(env),
            cmd: (!self.command.is_empty()).then(|| self.command.clone()),
            image: Some(self.image.clone()),
            working_dir: self.workdir.clone(),
            entrypoint,
            labels: Some(parse_labels(&label_items)),
            host_config: Some(host_config),
            volumes: (!anon_volumes.is_empty()).then_some(anon_volumes),
            ..Default::default()
        };
        self.lifecycle.apply(&mut body, self.rm)?;
        self.net.apply(&mut body, self.network.as_deref())?;
        Ok(body)
    }
}

/// docker's `TagNameOnly` + familiar string: `busybox` → `busybox:latest`.
pub fn with_default_tag(image: &str) -> String {
    if image.contains('@') {
        return image.to_string();
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    if last.contains(':') {
        image.to_string()
    } else {
        format!("{image}:latest")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser, Debug)]
    #[command(disable_help_flag = true)]
    struct T {
        #[arg(short = 'd')]
        detach: bool,
        #[command(flatten)]
        o: ContainerOpts,
    }

    #[test]
    fn parse_run_flags() {
        let t = T::try_parse_from([
            "run", "-d", "-it", "--rm", "-e", "A=1", "-h", "box", "--name", "x", "busybox", "ls", "-l", "--rm",
        ])
        .unwrap();
        assert!(t.detach && t.o.interactive && t.o.tty && t.o.rm);
        assert_eq!(t.o.hostname.as_deref(), Some("box"));
        assert_eq!(t.o.image, "busybox");
        assert_eq!(t.o.command, vec!["ls", "-l", "--rm"]);
        let cfg = t.o.to_config(false).unwrap();
        assert_eq!(cfg.attach_stdin, Some(true));
        assert_eq!(cfg.stdin_once, Some(true));
        assert_eq!(cfg.host_config.unwrap().auto_remove, Some(true));
    }

    #[test]
    fn env_and_labels() {
        let env =
            parse_env(&["A=1".into(), "HOME_X".into(), "NOPE".into()], |k| (k == "HOME_X").then(|| "h".to_string()));
        assert_eq!(env, vec!["A=1", "HOME_X=h"]);
        let l = parse_labels(&["a=b=c".into(), "k".into()]);
        assert_eq!(l["a"], "b=c");
        assert_eq!(l["k"], "");
    }

    #[test]
    fn default_tag() {
        assert_eq!(with_default_tag("busybox"), "busybox:latest");
        assert_eq!(with_default_tag("localhost:5000/x"), "localhost:5000/x:latest");
        assert_eq!(with_default_tag("x:1"), "x:1");
    }

    #[test]
    fn publish() {
        let (k, b) = parse_publish("127.0.0.1:8080:80/udp").unwrap();
        assert_eq!(k, "80/udp");
        assert_eq!(b.host_port.as_deref(), Some("8080"));
        assert_eq!(b.host_ip.as_deref(), Some("127.0.0.1"));
    }
}
