//! The container a step "ran in", as dockerd 20.10's classic builder records it in each
//! image config: `container` (its id) and `container_config` (the step's config with `Cmd`
//! set to the step's command, `Image` to the parent image). `RUN` steps have a real
//! container; config-only steps (`ENV`, `LABEL`, `CMD`, …, `WORKDIR`) and `COPY`/`ADD` need
//! none in berth, so they get a fresh id that is only recorded and printed
//! (` ---> Running in …`, `Removing intermediate container …`), as dockerd prints its
//! short-lived one.

use berth_image::ImageConfig;
use serde_json::{json, Map, Value};
use sha2::{Digest as _, Sha256};

/// The container of one step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepContainer {
    pub id: String,
    /// `Cmd` in `container_config` (dockerd's `["/bin/sh","-c","#(nop) ","ENV A=1"]`).
    pub cmd: Vec<String>,
    /// Config-only steps record their short id as `Hostname`; RUN steps record `""`.
    pub hostname: String,
    /// `Labels` when the config has none: `{}` for config-only steps, `null` for RUN.
    pub empty_labels: Value,
}

impl StepContainer {
    /// A container for a step that runs nothing; `cmd` is recovered from `created_by`
    /// (`<shell> #(nop)  TEXT` → `[…shell, "#(nop) ", "TEXT"]`, `<shell> #(nop) TEXT` →
    /// `[…shell, "#(nop) TEXT"]`).
    pub fn nop(shell: &[String], created_by: &str) -> StepContainer {
        let mut h = Sha256::new();
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        h.update(format!("{}\n{}\n{created_by}", now.as_nanos(), std::process::id()).as_bytes());
        static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        h.update(N.fetch_add(1, std::sync::atomic::Ordering::Relaxed).to_le_bytes());
        let id = hex::encode(h.finalize());
        let prefix = format!("{} ", shell.join(" "));
        let mut cmd: Vec<String> = shell.to_vec();
        match created_by.strip_prefix(&prefix) {
            Some(rest) => match rest.strip_prefix("#(nop)  ") {
                Some(text) => cmd.extend(["#(nop) ".to_string(), text.to_string()]),
                None => cmd.push(rest.to_string()),
            },
            None => cmd = vec![created_by.to_string()],
        }
        StepContainer { hostname: id[..12].to_string(), id, cmd, empty_labels: json!({}) }
    }

    /// The container of a RUN step.
    pub fn run(id: &str, cmd: Vec<String>) -> StepContainer {
        StepContainer { id: id.to_string(), cmd, hostname: String::new(), empty_labels: Value::Null }
    }

    /// Writes `container` and `container_config` into `config` (the new image's config,
    /// made on top of `parent`).
    pub fn record(&self, config: &mut ImageConfig, parent: &str) {
        let c = serde_json::to_value(&config.config).unwrap_or_else(|_| json!({}));
        let get = |k: &str, empty: Value| c.get(k).cloned().unwrap_or(empty);
        let mut m = Map::new();
        m.insert("Hostname".into(), json!(self.hostname));
        m.insert("Domainname".into(), json!(""));
        m.insert("User".into(), get("User", json!("")));
        for k in ["AttachStdin", "AttachStdout", "AttachStderr"] {
            m.insert(k.into(), json!(false));
        }
        if let Some(p) = c.get("ExposedPorts") {
            m.insert("ExposedPorts".into(), p.clone());
        }
        for k in ["Tty", "OpenStdin", "StdinOnce"] {
            m.insert(k.into(), json!(false));
        }
        m.insert("Env".into(), get("Env", Value::Null));
        m.insert("Cmd".into(), json!(self.cmd));
        if let Some(h) = c.get("Healthcheck") {
            m.insert("Healthcheck".into(), h.clone());
        }
        m.insert("Image".into(), json!(parent));
        m.insert("Volumes".into(), get("Volumes", Value::Null));
        m.insert("WorkingDir".into(), get("WorkingDir", json!("")));
        m.insert("Entrypoint".into(), get("Entrypoint", Value::Null));
        m.insert("OnBuild".into(), get("OnBuild", Value::Null));
        m.insert("Labels".into(), get("Labels", self.empty_labels.clone()));
        for k in ["StopSignal", "Shell"] {
            if let Some(v) = c.get(k) {
                m.insert(k.into(), v.clone());
            }
        }
        config.extra.insert("container".into(), json!(self.id));
        config.extra.insert("container_config".into(), Value::Object(m));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nop_commands_as_dockerd() {
        let sh = vec!["/bin/sh".to_string(), "-c".to_string()];
        let c = StepContainer::nop(&sh, "/bin/sh -c #(nop)  CMD [\"sh\"]");
        assert_eq!(c.cmd, ["/bin/sh", "-c", "#(nop) ", "CMD [\"sh\"]"]);
        assert_eq!((c.id.len(), c.hostname.as_str()), (64, &c.id[..12]));
        let c = StepContainer::nop(&sh, "/bin/sh -c #(nop) WORKDIR /app");
        assert_eq!(c.cmd, ["/bin/sh", "-c", "#(nop) WORKDIR /app"]);
        assert_ne!(StepContainer::nop(&sh, "x").id, StepContainer::nop(&sh, "x").id);
        let mut cfg = ImageConfig::default();
        c.record(&mut cfg, "sha256:p");
        let cc = &cfg.extra["container_config"];
        assert_eq!((cc["Image"].as_str(), cc["Labels"].clone()), (Some("sha256:p"), json!({})));
        assert_eq!(cc["Env"], Value::Null);
        assert_eq!(cfg.extra["container"], json!(c.id));
    }
}
