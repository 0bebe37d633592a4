//! Registry authentication end to end: `docker login` / `berth login` against
//! `berth registry serve --htpasswd` (basic auth, bcrypt), credential helpers, and a bearer-token
//! flow: Debian's `docker-registry` configured with `auth: token`, trusting a certificate made
//! here, and a token issuer written here (JWTs signed with `openssl dgst`).

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use base64::Engine as _;

use crate::registry::{berth_registry_with, docker_registry_with};
use crate::{daemon, ok, output, stderr, stdout};

const USER: &str = "alice";
const PASS: &str = "s3cret-pass";

/// An htpasswd file with one bcrypt entry.
fn htpasswd(dir: &Path) -> PathBuf {
    let path = dir.join("htpasswd");
    let hash = bcrypt::hash(PASS, 4).unwrap();
    std::fs::write(&path, format!("{USER}:{hash}\n")).unwrap();
    path
}

/// Runs `cmd` with `input` on stdin; returns its output.
fn with_stdin(cmd: &mut Command, input: &str) -> std::process::Output {
    let mut child = cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

fn config_json(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("config.json")).unwrap()).unwrap()
}

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

#[test]
fn login_push_pull_with_basic_auth() {
    let Some(d) = daemon("login_push_pull_with_basic_auth") else { return };
    let dir = tempfile::tempdir().unwrap();
    let reg = berth_registry_with(&["--htpasswd", htpasswd(dir.path()).to_str().unwrap()]);
    let host = reg.host();
    let image = format!("{host}/auth/bb:1");
    ok(d.docker().args(["tag", "busybox", &image]));

    let refused = output(d.docker().args(["push", &image]));
    assert!(!refused.status.success(), "push without login succeeded: {}", stdout(&refused));
    let text = (stdout(&refused) + &stderr(&refused)).to_lowercase();
    assert!(text.contains("unauthorized") || text.contains("authentication required"), "{text}");

    // The API answers a bad login with 401 and a message, as dockerd does.
    let body = serde_json::json!({"username": USER, "password": "wrong", "serveraddress": host}).to_string();
    let r = d.request("POST", "/auth", Some(("application/json", body.as_bytes())));
    assert_eq!(r.status, 401, "{}", r.text());
    assert_eq!(
        r.json()["message"],
        format!("login attempt to http://{host}/v2/ failed with status: 401 Unauthorized"),
        "{}",
        r.text()
    );
    let bad = with_stdin(d.docker().args(["login", "-u", USER, "--password-stdin", &host]), "wrong\n");
    assert!(!bad.status.success());
    assert!(stderr(&bad).contains("Error response from daemon"), "{}", stderr(&bad));

    let good = with_stdin(d.docker().args(["login", "-u", USER, "--password-stdin", &host]), &format!("{PASS}\n"));
    assert!(good.status.success(), "{}", stderr(&good));
    assert!(stdout(&good).contains("Login Succeeded"), "{}", stdout(&good));
    let docker_config = d.dir.path().join("docker-config");
    assert_eq!(config_json(&docker_config)["auths"][&host]["auth"], b64(&format!("{USER}:{PASS}")));
    let pushed = ok(d.docker().args(["push", &image]));
    assert!(pushed.contains("1: digest: sha256:"), "{pushed}");
    ok(d.docker().args(["rmi", &image]));
    ok(d.docker().args(["pull", &image]));

    // berth login/logout with its own config directory.
    let cfg = tempfile::tempdir().unwrap();
    let berth = || {
        let mut c = d.berth();
        c.env("DOCKER_CONFIG", cfg.path());
        c
    };
    let image2 = format!("{host}/auth/bb:2");
    ok(berth().args(["tag", "busybox", &image2]));
    assert!(!output(berth().args(["push", &image2])).status.success());
    let bad = output(berth().args(["login", "-u", USER, "-p", "nope", &host]));
    assert!(!bad.status.success());
    assert!(stderr(&bad).starts_with("WARNING! Using --password via the CLI is insecure"), "{}", stderr(&bad));
    assert!(stderr(&bad).contains("Error response from daemon: "), "{}", stderr(&bad));
    assert!(!cfg.path().join("config.json").exists(), "a failed login wrote credentials");
    let out = ok(berth().args(["login", "-u", USER, "-p", PASS, &host]));
    assert_eq!(out, "Login Succeeded\n");
    assert_eq!(config_json(cfg.path())["auths"][&host]["auth"], b64(&format!("{USER}:{PASS}")));
    let pushed = ok(berth().args(["push", &image2]));
    assert!(pushed.contains("2: digest: sha256:"), "{pushed}");
    ok(berth().args(["rmi", &image2]));
    ok(berth().args(["pull", &image2]));
    assert_eq!(ok(berth().args(["logout", &host])), format!("Removing login credentials for {host}\n"));
    assert!(config_json(cfg.path())["auths"].get(&host).is_none());
    assert_eq!(ok(berth().args(["logout", &host])), format!("Not logged in to {host}\n"));
    ok(berth().args(["rmi", &image2]));
    assert!(!output(berth().args(["pull", &image2])).status.success(), "pull after logout succeeded");
}

/// A `docker-credential-berthtest` helper keeping one credential in a file next to it.
fn credential_helper(dir: &Path) {
    let script = r#"#!/bin/sh
store="$(dirname "$0")/store.json"
case "$1" in
  store) cat > "$store" ;;
  get) read server; if [ -f "$store" ]; then cat "$store"; else echo "credentials not found in native keychain"; exit 1; fi ;;
  erase) read server; if [ -f "$store" ]; then rm "$store"; else echo "credentials not found in native keychain"; exit 1; fi ;;
  *) exit 1 ;;
esac
"#;
    let path = dir.join("docker-credential-berthtest");
    std::fs::write(&path, script).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn login_uses_the_configured_credential_helper() {
    let Some(d) = daemon("login_uses_the_configured_credential_helper") else { return };
    let dir = tempfile::tempdir().unwrap();
    let reg = berth_registry_with(&["--htpasswd", htpasswd(dir.path()).to_str().unwrap()]);
    let host = reg.host();
    let bin = tempfile::tempdir().unwrap();
    credential_helper(bin.path());
    let cfg = tempfile::tempdir().unwrap();
    std::fs::write(cfg.path().join("config.json"), r#"{"credsStore":"berthtest","experimental":"keep-me"}"#).unwrap();
    let path = format!("{}:{}", bin.path().display(), std::env::var("PATH").unwrap_or_default());
    let berth = || {
        let mut c = d.berth();
        c.env("DOCKER_CONFIG", cfg.path()).env("PATH", &path);
        c
    };
    let out = with_stdin(berth().args(["login", "-u", USER, "--password-stdin", &host]), PASS);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stderr(&out).contains("unencrypted"), "{}", stderr(&out));
    let stored: serde_json::Value =
        serde_json::from_slice(&std::fs::read(bin.path().join("store.json")).unwrap()).unwrap();
    assert_eq!(stored, serde_json::json!({"ServerURL": host, "Username": USER, "Secret": PASS}));
    let config = config_json(cfg.path());
    assert_eq!(config["auths"][&host], serde_json::json!({}), "{config}");
    assert_eq!(config["experimental"], "keep-me");
    let image = format!("{host}/helper/bb:1");
    ok(berth().args(["tag", "busybox", &image]));
    let pushed = ok(berth().args(["push", &image]));
    assert!(pushed.contains("1: digest: sha256:"), "{pushed}");
    ok(berth().args(["logout", &host]));
    assert!(!bin.path().join("store.json").exists(), "logout did not erase the helper's credential");
}

/// A token issuer on 127.0.0.1: answers `GET /token` with a JWT (RS256, `x5c` header) for the
/// requested scopes when the basic credentials are right, anonymously with no access, 401
/// otherwise. Counts the tokens that granted push.
struct TokenIssuer {
    port: u16,
    stop: Arc<AtomicBool>,
    push_grants: Arc<AtomicUsize>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for TokenIssuer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => {
                out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap_or(b'?'));
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Signs `header.claims` with the key via `openssl dgst -sha256 -sign`.
fn jwt(dir: &Path, cert_der: &[u8], claims: &serde_json::Value) -> String {
    let header = serde_json::json!({"typ": "JWT", "alg": "RS256", "x5c": [base64::engine::general_purpose::STANDARD.encode(cert_der)]});
    let input = format!("{}.{}", b64url(header.to_string().as_bytes()), b64url(claims.to_string().as_bytes()));
    let file = dir.join(format!("sign-{}", std::process::id()));
    std::fs::write(&file, &input).unwrap();
    let sig = Command::new("openssl")
        .args(["dgst", "-sha256", "-binary", "-sign"])
        .arg(dir.join("key.pem"))
        .arg(&file)
        .output()
        .unwrap();
    assert!(sig.status.success(), "openssl dgst: {}", String::from_utf8_lossy(&sig.stderr));
    format!("{input}.{}", b64url(&sig.stdout))
}

fn serve_token(stream: TcpStream, dir: &Path, cert_der: &[u8], grants: &AtomicUsize) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let target = line.split_whitespace().nth(1).unwrap_or("").to_string();
    let mut auth = String::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            if k.eq_ignore_ascii_case("authorization") {
                auth = v.trim().to_string();
            }
        }
    }
    let query = target.split_once('?').map(|(_, q)| q.to_string()).unwrap_or_default();
    let params: Vec<(String, String)> = query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (percent_decode(k), percent_decode(v)))
        .collect();
    let creds = auth
        .strip_prefix("Basic ")
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .map(|b| String::from_utf8_lossy(&b).into_owned());
    let mut out = stream;
    let authorized = match creds.as_deref() {
        None => false,
        Some(c) if c == format!("{USER}:{PASS}") => true,
        Some(_) => {
            let body = r#"{"details":"incorrect username or password"}"#;
            let _ = write!(
                out,
                "HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            return;
        }
    };
    let mut access = Vec::new();
    if authorized {
        for (_, scope) in params.iter().filter(|(k, _)| k == "scope") {
            // repository:<name>:<actions>
            let mut parts = scope.splitn(3, ':');
            let (Some(kind), Some(name), Some(actions)) = (parts.next(), parts.next(), parts.next()) else { continue };
            let actions: Vec<&str> = actions.split(',').collect();
            if actions.contains(&"push") {
                grants.fetch_add(1, Ordering::SeqCst);
            }
            access.push(serde_json::json!({"type": kind, "name": name, "actions": actions}));
        }
    }
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let claims = serde_json::json!({
        "iss": "berth-test-issuer", "sub": if authorized { USER } else { "" }, "aud": "berth-test-registry",
        "exp": now + 600, "nbf": now - 60, "iat": now, "jti": format!("{now}-{}", grants.load(Ordering::SeqCst)),
        "access": access,
    });
    let token = jwt(dir, cert_der, &claims);
    let body = serde_json::json!({"token": token, "access_token": token, "expires_in": 600}).to_string();
    let _ = write!(
        out,
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}

fn token_issuer(dir: &Path) -> TokenIssuer {
    let gen = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=berth-test-token"])
        .arg("-keyout")
        .arg(dir.join("key.pem"))
        .arg("-out")
        .arg(dir.join("cert.pem"))
        .output()
        .unwrap();
    assert!(gen.status.success(), "openssl req: {}", String::from_utf8_lossy(&gen.stderr));
    let der =
        Command::new("openssl").args(["x509", "-outform", "DER", "-in"]).arg(dir.join("cert.pem")).output().unwrap();
    assert!(der.status.success());
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let stop = Arc::new(AtomicBool::new(false));
    let push_grants = Arc::new(AtomicUsize::new(0));
    let (stop2, grants2, dir2) = (stop.clone(), push_grants.clone(), dir.to_path_buf());
    let thread = std::thread::spawn(move || {
        for stream in listener.incoming() {
            if stop2.load(Ordering::SeqCst) {
                break;
            }
            if let Ok(s) = stream {
                let _ = s.set_read_timeout(Some(std::time::Duration::from_secs(10)));
                serve_token(s, &dir2, &der.stdout, &grants2);
            }
        }
    });
    TokenIssuer { port, stop, push_grants, thread: Some(thread) }
}

#[test]
fn bearer_token_flow_with_docker_registry() {
    let Some(d) = daemon("bearer_token_flow_with_docker_registry") else { return };
    let dir = tempfile::tempdir().unwrap();
    let issuer = token_issuer(dir.path());
    let extra = format!(
        "auth:\n  token:\n    realm: http://127.0.0.1:{}/token\n    service: berth-test-registry\n    issuer: berth-test-issuer\n    rootcertbundle: {}\n",
        issuer.port,
        dir.path().join("cert.pem").display()
    );
    let Some(reg) = docker_registry_with("bearer_token_flow_with_docker_registry", &extra) else { return };
    let host = reg.host();
    let image = format!("{host}/tok/bb:1");
    ok(d.docker().args(["tag", "busybox", &image]));
    let refused = output(d.docker().args(["push", &image]));
    assert!(!refused.status.success(), "anonymous push succeeded: {}", stdout(&refused));

    let bad = with_stdin(d.docker().args(["login", "-u", USER, "--password-stdin", &host]), "wrong\n");
    assert!(!bad.status.success(), "login with a wrong password succeeded");
    let good = with_stdin(d.docker().args(["login", "-u", USER, "--password-stdin", &host]), &format!("{PASS}\n"));
    assert!(good.status.success(), "{}", stderr(&good));

    let pushed = ok(d.docker().args(["push", &image]));
    assert!(pushed.contains("1: digest: sha256:"), "{pushed}");
    assert!(issuer.push_grants.load(Ordering::SeqCst) > 0, "no token granting push was issued");
    ok(d.docker().args(["rmi", "busybox", &image]));
    let pulled = ok(d.docker().args(["pull", &image]));
    assert!(pulled.contains("Pull complete"), "{pulled}");
    assert_eq!(ok(d.docker().args(["run", "--rm", &image, "echo", "token-ok"])).trim(), "token-ok");
}
