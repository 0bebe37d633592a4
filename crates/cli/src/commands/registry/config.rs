//! Registry credentials in the docker CLI's `config.json` (`$DOCKER_CONFIG` or `~/.docker`):
//! `auths.<server>.auth` (base64 `user:password`) or `identitytoken`, and the
//! `credsStore`/`credHelpers` helpers (`docker-credential-<name> get|store|erase`). Reading goes
//! through the `docker_credential` crate; writing keeps every other key of the file.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use base64::Engine as _;
use bollard::auth::DockerCredentials;

use crate::error::CliError;

/// The key Docker Hub credentials are stored under.
pub const DEFAULT_SERVER: &str = "https://index.docker.io/v1/";

/// The directory holding `config.json`.
pub fn config_dir() -> Option<PathBuf> {
    std::env::var_os("DOCKER_CONFIG")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| std::path::Path::new(&h).join(".docker")))
}

fn config_path() -> Result<PathBuf, CliError> {
    config_dir()
        .map(|d| d.join("config.json"))
        .ok_or_else(|| CliError::new(1, "cannot find the docker config directory: set HOME or DOCKER_CONFIG"))
}

/// The registry key of an image name (`127.0.0.1:5000/bb:1` → `127.0.0.1:5000`; Docker Hub
/// names → [`DEFAULT_SERVER`]).
pub fn registry_of(name: &str) -> String {
    match name.split_once('/') {
        Some((first, _)) if first.contains('.') || first.contains(':') || first == "localhost" => {
            if first == "docker.io" || first == "index.docker.io" {
                DEFAULT_SERVER.to_string()
            } else {
                first.to_string()
            }
        }
        _ => DEFAULT_SERVER.to_string(),
    }
}

/// The key `docker login SERVER` stores under: the Hub's for empty/`docker.io`, else as given.
pub fn server_key(server: Option<&str>) -> String {
    match server.map(str::trim).filter(|s| !s.is_empty()) {
        None | Some("docker.io" | "index.docker.io" | "registry-1.docker.io") => DEFAULT_SERVER.to_string(),
        Some(s) => s.to_string(),
    }
}

/// Stored credentials for the registry of image `name`, as `X-Registry-Auth` wants them.
pub fn credentials_for(name: &str) -> Option<DockerCredentials> {
    let host = registry_of(name);
    let cred = docker_credential::get_credential(&host).ok()?;
    Some(match cred {
        docker_credential::DockerCredential::UsernamePassword(u, p) => {
            DockerCredentials { username: Some(u), password: Some(p), serveraddress: Some(host), ..Default::default() }
        }
        docker_credential::DockerCredential::IdentityToken(t) => {
            DockerCredentials { identitytoken: Some(t), serveraddress: Some(host), ..Default::default() }
        }
    })
}

fn read_config() -> Result<serde_json::Map<String, serde_json::Value>, CliError> {
    let path = config_path()?;
    match std::fs::read(&path) {
        Ok(b) if b.iter().all(u8::is_ascii_whitespace) => Ok(Default::default()),
        Ok(b) => serde_json::from_slice(&b)
            .map_err(|e| CliError::new(1, format!("loading config file {}: {e}", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Default::default()),
        Err(e) => Err(CliError::new(1, format!("loading config file {}: {e}", path.display()))),
    }
}

/// Writes the config file atomically (temp file, fsync, rename), mode 0600.
fn write_config(config: &serde_json::Map<String, serde_json::Value>) -> Result<PathBuf, CliError> {
    use std::os::unix::fs::OpenOptionsExt;
    let path = config_path()?;
    let dir = path.parent().map(PathBuf::from).unwrap_or_default();
    std::fs::create_dir_all(&dir)?;
    let tmp = dir.join(format!(".config.json.{}", std::process::id()));
    let bytes = serde_json::to_vec_pretty(config).map_err(|e| CliError::new(1, e.to_string()))?;
    let mut f = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&tmp)?;
    f.write_all(&bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, &path)?;
    Ok(path)
}

/// The credential helper configured for `server`, if any (`credHelpers` wins over `credsStore`).
fn helper_for(config: &serde_json::Map<String, serde_json::Value>, server: &str) -> Option<String> {
    let named = |v: Option<&serde_json::Value>| v.and_then(|v| v.as_str()).filter(|s| !s.is_empty()).map(String::from);
    named(config.get("credHelpers").and_then(|h| h.get(server))).or_else(|| named(config.get("credsStore")))
}

fn run_helper(helper: &str, verb: &str, input: &[u8]) -> Result<(), CliError> {
    let program = format!("docker-credential-{helper}");
    let mut child = Command::new(&program)
        .arg(verb)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| CliError::new(1, format!("error getting credentials - err: exec: \"{program}\": {e}")))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(input)?;
    }
    let out = child.wait_with_output()?;
    if !out.status.success() {
        let msg = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let msg = if msg.is_empty() { String::from_utf8_lossy(&out.stderr).trim().to_string() } else { msg };
        return Err(CliError::new(1, format!("error storing credentials - err: {program} {verb}: {msg}")));
    }
    Ok(())
}

/// Where credentials ended up: a helper's name, or the config file path (plain text).
pub enum Stored {
    Helper(String),
    File(PathBuf),
}

/// Saves credentials for `server`: through the configured helper (keeping an empty `auths`
/// entry, as docker does), else base64 in `auths`. An identity token replaces the password.
pub fn store(server: &str, username: &str, password: &str, identity_token: &str) -> Result<Stored, CliError> {
    let mut config = read_config()?;
    let helper = helper_for(&config, server);
    let entry = match &helper {
        Some(h) => {
            let (user, secret) =
                if identity_token.is_empty() { (username, password) } else { ("<token>", identity_token) };
            let input = serde_json::json!({ "ServerURL": server, "Username": user, "Secret": secret });
            run_helper(h, "store", input.to_string().as_bytes())?;
            serde_json::json!({})
        }
        None if !identity_token.is_empty() => serde_json::json!({ "identitytoken": identity_token }),
        None => serde_json::json!({
            "auth": base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}")),
        }),
    };
    let auths = config.entry("auths").or_insert_with(|| serde_json::json!({}));
    if !auths.is_object() {
        *auths = serde_json::json!({});
    }
    if let Some(a) = auths.as_object_mut() {
        a.insert(server.to_string(), entry);
    }
    let path = write_config(&config)?;
    Ok(match helper {
        Some(h) => Stored::Helper(h),
        None => Stored::File(path),
    })
}

/// Removes stored credentials for `server`; false when there were none.
pub fn erase(server: &str) -> Result<bool, CliError> {
    let mut config = read_config()?;
    let had = config.get("auths").and_then(|a| a.get(server)).is_some();
    if let Some(h) = helper_for(&config, server) {
        // A helper that has nothing for the server fails; that is "not logged in", not an error.
        let erased = run_helper(&h, "erase", server.as_bytes()).is_ok();
        if !had && !erased {
            return Ok(false);
        }
    } else if !had {
        return Ok(false);
    }
    if let Some(a) = config.get_mut("auths").and_then(|a| a.as_object_mut()) {
        a.remove(server);
    }
    write_config(&config)?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_keys() {
        assert_eq!(registry_of("busybox"), DEFAULT_SERVER);
        assert_eq!(registry_of("library/busybox"), DEFAULT_SERVER);
        assert_eq!(registry_of("docker.io/library/busybox"), DEFAULT_SERVER);
        assert_eq!(registry_of("127.0.0.1:5000/bb:1"), "127.0.0.1:5000");
        assert_eq!(registry_of("localhost/bb"), "localhost");
        assert_eq!(server_key(None), DEFAULT_SERVER);
        assert_eq!(server_key(Some("docker.io")), DEFAULT_SERVER);
        assert_eq!(server_key(Some("127.0.0.1:5000")), "127.0.0.1:5000");
    }

    #[test]
    fn helper_choice() {
        let c: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(r#"{"credsStore":"pass","credHelpers":{"gcr.io":"gcloud","x":""}}"#).unwrap();
        assert_eq!(helper_for(&c, "gcr.io").as_deref(), Some("gcloud"));
        assert_eq!(helper_for(&c, "x").as_deref(), Some("pass"));
        assert_eq!(helper_for(&c, "127.0.0.1:5000").as_deref(), Some("pass"));
        assert_eq!(helper_for(&Default::default(), "a"), None);
    }
}
