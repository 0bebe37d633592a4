//! `berth login` (SystemAuth, `POST /auth`): the daemon checks the credentials against the
//! registry; on success they are saved in `config.json` (or its credential helper).

use std::io::{BufRead, IsTerminal, Write};

use bytes::Bytes;

use super::config::{self, Stored};
use crate::client::{error_body_message, read_body, Client};
use crate::error::{CliError, CmdResult};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Username
    #[arg(short = 'u', long = "username")]
    pub username: Option<String>,
    /// Password or Personal Access Token (PAT)
    #[arg(short = 'p', long = "password")]
    pub password: Option<String>,
    /// Take the Password or Personal Access Token (PAT) from stdin
    #[arg(long = "password-stdin")]
    pub password_stdin: bool,
    /// Registry server (default: Docker Hub)
    pub server: Option<String>,
}

/// Terminal echo off while a password is typed; restored (with the newline the user typed) on
/// drop.
struct NoEcho(Option<rustix::termios::Termios>);

impl NoEcho {
    fn new() -> NoEcho {
        use rustix::termios;
        let stdin = std::io::stdin();
        let Ok(saved) = termios::tcgetattr(&stdin) else { return NoEcho(None) };
        let mut quiet = saved.clone();
        quiet.local_modes.remove(termios::LocalModes::ECHO);
        if termios::tcsetattr(&stdin, termios::OptionalActions::Now, &quiet).is_err() {
            return NoEcho(None);
        }
        NoEcho(Some(saved))
    }
}

impl Drop for NoEcho {
    fn drop(&mut self) {
        if let Some(saved) = &self.0 {
            let _ = rustix::termios::tcsetattr(std::io::stdin(), rustix::termios::OptionalActions::Now, saved);
            println!();
        }
    }
}

/// Username and password from the flags, stdin or a prompt, checked as the docker CLI does.
fn read_credentials(a: &Args) -> Result<(String, String), CliError> {
    let stdin = std::io::stdin();
    if a.password_stdin {
        if a.password.is_some() {
            return Err(CliError::new(1, "--password and --password-stdin are mutually exclusive"));
        }
        let Some(user) = a.username.clone().filter(|u| !u.is_empty()) else {
            return Err(CliError::new(1, "Must provide --username with --password-stdin"));
        };
        let mut pass = String::new();
        std::io::Read::read_to_string(&mut stdin.lock(), &mut pass)?;
        return Ok((user, pass.trim_end_matches(['\n', '\r']).to_string()));
    }
    if a.password.is_some() {
        eprintln!("WARNING! Using --password via the CLI is insecure. Use --password-stdin.");
    }
    let prompt = |label: &str| -> Result<String, CliError> {
        if !stdin.is_terminal() {
            return Err(CliError::new(1, "Error: Cannot perform an interactive login from a non TTY device"));
        }
        print!("{label}: ");
        std::io::stdout().flush()?;
        let mut line = String::new();
        stdin.lock().read_line(&mut line)?;
        Ok(line.trim_end_matches(['\n', '\r']).to_string())
    };
    let user = match a.username.clone().filter(|u| !u.is_empty()) {
        Some(u) => u,
        None => prompt("Username")?,
    };
    if user.is_empty() {
        return Err(CliError::new(1, "Error: Non-null Username Required"));
    }
    let pass = match a.password.clone() {
        Some(p) => p,
        None => {
            let _quiet = NoEcho::new();
            prompt("Password")?
        }
    };
    if pass.is_empty() {
        return Err(CliError::new(1, "Error: Password Required"));
    }
    Ok((user, pass))
}

pub async fn run(c: &Client, a: Args) -> CmdResult {
    let server = config::server_key(a.server.as_deref());
    let (user, pass) = read_credentials(&a)?;
    let body = serde_json::json!({ "username": user, "password": pass, "serveraddress": server });
    let resp = c.raw_with_body(http::Method::POST, "/auth", Some(Bytes::from(body.to_string()))).await?;
    let (status, body) = read_body(resp).await?;
    if !(200..300).contains(&status) {
        return Err(CliError::new(1, format!("Error response from daemon: {}", error_body_message(&body))));
    }
    let answer: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let token = answer.get("IdentityToken").and_then(|t| t.as_str()).unwrap_or_default();
    match config::store(&server, &user, &pass, token)? {
        Stored::File(path) => eprintln!(
            "WARNING! Your credentials are stored unencrypted in '{}'.\nConfigure a credential helper to remove this warning. See\nhttps://docs.docker.com/go/credential-store/\n",
            path.display()
        ),
        Stored::Helper(_) => {}
    }
    println!("Login Succeeded");
    Ok(0)
}
