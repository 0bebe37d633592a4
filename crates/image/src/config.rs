//! The image configuration JSON (OCI image-spec `config` with Docker's extra fields), as stored
//! in the content store and hashed into the image id.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ImageConfig {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub architecture: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub os: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    #[serde(default)]
    pub config: ContainerConfig,
    #[serde(default)]
    pub rootfs: RootFs,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<HistoryEntry>,
    /// Docker's legacy fields, kept so ids of images we did not make are preserved on re-save.
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

/// The runtime defaults of an image (`config` in the image JSON), in Docker's field names.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exposed_ports: Option<BTreeMap<String, serde_json::Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entrypoint: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cmd: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volumes: Option<BTreeMap<String, serde_json::Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub working_dir: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_signal: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shell: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_build: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RootFs {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub diff_ids: Vec<String>,
}

impl Default for RootFs {
    fn default() -> Self {
        RootFs { kind: "layers".into(), diff_ids: vec![] }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HistoryEntry {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub empty_layer: bool,
}

impl ImageConfig {
    /// The layer diff ids, parsed; an error names the bad entry.
    pub fn diff_ids(&self) -> Result<Vec<crate::Digest>, crate::DigestError> {
        self.rootfs.diff_ids.iter().map(|d| d.parse()).collect()
    }

    /// `created` as a timestamp (the Unix epoch when absent or unparsable, as dockerd shows).
    pub fn created_time(&self) -> chrono::DateTime<chrono::Utc> {
        self.created
            .as_deref()
            .and_then(|c| chrono::DateTime::parse_from_rfc3339(c).ok())
            .map(|t| t.with_timezone(&chrono::Utc))
            .unwrap_or_default()
    }
}

/// A `changes` line (`docker import --change`, `docker commit --change`) that could not be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChangeError {
    #[error("{0} is not a valid change command")]
    Unsupported(String),
    #[error("dockerfile parse error line 1: unknown instruction: {0}")]
    Unknown(String),
    #[error("{0} requires at least one argument")]
    MissingArgs(String),
    #[error("{instruction}: {message}")]
    Bad { instruction: String, message: String },
}

impl ContainerConfig {
    /// Applies one Dockerfile line (`CMD ["sh"]`, `ENV A=b`, `WORKDIR /x`, ...) as
    /// `docker import --change` does.
    pub fn apply_change(&mut self, line: &str) -> Result<(), ChangeError> {
        let line = line.trim();
        let (word, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        let instruction = word.to_ascii_uppercase();
        let rest = rest.trim();
        let need_args = |v: &[String]| {
            if v.is_empty() {
                Err(ChangeError::MissingArgs(instruction.clone()))
            } else {
                Ok(())
            }
        };
        match instruction.as_str() {
            "CMD" => self.cmd = Some(exec_or_shell(rest)),
            "ENTRYPOINT" => self.entrypoint = Some(exec_or_shell(rest)),
            "SHELL" => self.shell = Some(json_array(rest).ok_or_else(|| bad(&instruction, "requires a JSON array"))?),
            "ENV" => {
                let pairs = key_values(rest, &instruction)?;
                need_args(&pairs.iter().map(|p| p.0.clone()).collect::<Vec<_>>())?;
                let env = self.env.get_or_insert_with(Vec::new);
                for (k, v) in pairs {
                    let entry = format!("{k}={v}");
                    match env.iter_mut().find(|e| e.split('=').next() == Some(k.as_str())) {
                        Some(slot) => *slot = entry,
                        None => env.push(entry),
                    }
                }
            }
            "LABEL" => {
                let pairs = key_values(rest, &instruction)?;
                need_args(&pairs.iter().map(|p| p.0.clone()).collect::<Vec<_>>())?;
                self.labels.get_or_insert_with(BTreeMap::new).extend(pairs);
            }
            "WORKDIR" => {
                if rest.is_empty() {
                    return Err(ChangeError::MissingArgs(instruction));
                }
                let cur = self.working_dir.clone().unwrap_or_default();
                self.working_dir = Some(if rest.starts_with('/') || cur.is_empty() {
                    rest.to_string()
                } else {
                    format!("{}/{}", cur.trim_end_matches('/'), rest)
                });
            }
            "USER" => {
                if rest.is_empty() {
                    return Err(ChangeError::MissingArgs(instruction));
                }
                self.user = Some(rest.to_string());
            }
            "STOPSIGNAL" => {
                if rest.is_empty() {
                    return Err(ChangeError::MissingArgs(instruction));
                }
                self.stop_signal = Some(rest.to_string());
            }
            "EXPOSE" => {
                let ports: Vec<String> = rest.split_whitespace().map(str::to_string).collect();
                need_args(&ports)?;
                let map = self.exposed_ports.get_or_insert_with(BTreeMap::new);
                for p in ports {
                    let p = if p.contains('/') { p } else { format!("{p}/tcp") };
                    map.insert(p, serde_json::json!({}));
                }
            }
            "VOLUME" => {
                let vols =
                    json_array(rest).unwrap_or_else(|| rest.split_whitespace().map(str::to_string).collect::<Vec<_>>());
                need_args(&vols)?;
                let map = self.volumes.get_or_insert_with(BTreeMap::new);
                for v in vols {
                    map.insert(v, serde_json::json!({}));
                }
            }
            "ONBUILD" => {
                if rest.is_empty() {
                    return Err(ChangeError::MissingArgs(instruction));
                }
                self.on_build.get_or_insert_with(Vec::new).push(rest.to_string());
            }
            "ADD" | "COPY" | "RUN" | "FROM" | "ARG" | "MAINTAINER" | "HEALTHCHECK" => {
                return Err(ChangeError::Unsupported(instruction))
            }
            _ => return Err(ChangeError::Unknown(word.to_ascii_lowercase())),
        }
        Ok(())
    }
}

fn bad(instruction: &str, message: &str) -> ChangeError {
    ChangeError::Bad { instruction: instruction.to_string(), message: message.to_string() }
}

fn json_array(s: &str) -> Option<Vec<String>> {
    if !s.starts_with('[') {
        return None;
    }
    serde_json::from_str(s).ok()
}

/// Exec form (`["a","b"]`) or shell form (`a b` → `/bin/sh -c "a b"`).
fn exec_or_shell(s: &str) -> Vec<String> {
    json_array(s).unwrap_or_else(|| vec!["/bin/sh".into(), "-c".into(), s.to_string()])
}

/// `A=b C="d e"` pairs, or the legacy `A b c` form (one key, rest is the value).
fn key_values(s: &str, instruction: &str) -> Result<Vec<(String, String)>, ChangeError> {
    let words = split_words(s).map_err(|m| bad(instruction, &m))?;
    if words.is_empty() {
        return Ok(vec![]);
    }
    if !words[0].contains('=') {
        let (k, v) = s.split_once(char::is_whitespace).ok_or_else(|| bad(instruction, "missing value"))?;
        return Ok(vec![(k.to_string(), v.trim().to_string())]);
    }
    words
        .into_iter()
        .map(|w| {
            w.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .ok_or_else(|| bad(instruction, &format!("{instruction} names can not be blank")))
        })
        .collect()
}

/// Splits on whitespace, honouring double and single quotes and backslash escapes.
fn split_words(s: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some('"'), '\\') | (None, '\\') => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
                in_word = true;
            }
            (Some(_), c) => cur.push(c),
            (None, '"') | (None, '\'') => {
                quote = Some(c);
                in_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            (None, c) => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if quote.is_some() {
        return Err("unmatched quote".into());
    }
    if in_word {
        out.push(cur);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn applies_changes_like_docker_import() {
        let mut c = ContainerConfig::default();
        for line in [
            r#"CMD ["sh"]"#,
            "ENV A=b C=\"d e\"",
            "ENV A=z",
            "WORKDIR /x",
            "WORKDIR y",
            "ENTRYPOINT /bin/true",
            "USER nobody",
            "LABEL k=v",
            "EXPOSE 80 53/udp",
            r#"VOLUME ["/data"]"#,
            "STOPSIGNAL SIGINT",
        ] {
            c.apply_change(line).unwrap();
        }
        assert_eq!(c.cmd, Some(vec!["sh".to_string()]));
        assert_eq!(c.env, Some(vec!["A=z".to_string(), "C=d e".to_string()]));
        assert_eq!(c.working_dir.as_deref(), Some("/x/y"));
        assert_eq!(c.entrypoint, Some(vec!["/bin/sh".into(), "-c".into(), "/bin/true".into()]));
        assert_eq!(c.user.as_deref(), Some("nobody"));
        assert_eq!(c.labels.as_ref().unwrap()["k"], "v");
        assert!(c.exposed_ports.as_ref().unwrap().contains_key("80/tcp"));
        assert!(c.exposed_ports.as_ref().unwrap().contains_key("53/udp"));
        assert!(c.volumes.as_ref().unwrap().contains_key("/data"));
        assert_eq!(c.stop_signal.as_deref(), Some("SIGINT"));
    }

    #[test]
    fn refuses_bad_changes() {
        let mut c = ContainerConfig::default();
        assert_eq!(c.apply_change("RUN true").unwrap_err().to_string(), "RUN is not a valid change command");
        assert!(matches!(c.apply_change("BOGUS x"), Err(ChangeError::Unknown(_))));
        assert!(c.apply_change("USER").is_err());
        assert!(c.apply_change("ENV A=\"b").is_err());
    }

    #[test]
    fn keeps_unknown_fields_and_parses_times() {
        let j = r#"{"architecture":"amd64","os":"linux","created":"2020-01-02T03:04:05Z","docker_version":"20.10","config":{},"rootfs":{"type":"layers","diff_ids":[]}}"#;
        let c: ImageConfig = serde_json::from_str(j).unwrap();
        assert_eq!(c.extra["docker_version"], "20.10");
        assert_eq!(c.created_time().timestamp(), 1577934245);
        assert!(c.diff_ids().unwrap().is_empty());
    }
}
