//! `berth export` (ContainerExport): the container's filesystem as a tar, to `-o FILE` or
//! stdout (never a terminal).

use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;

use crate::client::Client;
use crate::error::{CliError, CmdResult};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Write to a file, instead of STDOUT
    #[arg(short = 'o', long = "output")]
    pub output: Option<String>,
    #[arg(value_name = "CONTAINER")]
    pub container: String,
}

pub async fn run(c: &Client, a: Args) -> CmdResult {
    if a.output.is_none() && crate::term::stdout_is_tty() {
        return Err(CliError::new(1, "cowardly refusing to save to a terminal. Use the -o flag or redirect"));
    }
    let mut stream = c.docker.export_container(&a.container);
    // A daemon error (no such container) arrives first: nothing is created then.
    let first = match stream.next().await {
        Some(r) => Some(r?),
        None => None,
    };
    let tmp = a.output.as_ref().map(|p| format!("{p}.berth-tmp"));
    let mut out: Box<dyn tokio::io::AsyncWrite + Unpin + Send> = match &tmp {
        Some(t) => Box::new(
            tokio::fs::File::create(t)
                .await
                .map_err(|e| CliError::new(1, format!("failed to export container: {e}")))?,
        ),
        None => Box::new(tokio::io::stdout()),
    };
    let result: Result<(), CliError> = async {
        if let Some(b) = first {
            out.write_all(&b).await?;
        }
        while let Some(chunk) = stream.next().await {
            out.write_all(&chunk?).await?;
        }
        out.flush().await?;
        Ok(())
    }
    .await;
    drop(out);
    if let (Some(t), Some(p)) = (&tmp, &a.output) {
        if result.is_err() {
            let _ = tokio::fs::remove_file(t).await;
        } else {
            tokio::fs::rename(t, p).await?;
        }
    }
    result.map(|_| 0)
}
