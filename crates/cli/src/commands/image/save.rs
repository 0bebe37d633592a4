//! `berth image save` (ImageGetAll): a tar of the images to `-o FILE` or stdout.

use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;

use crate::client::Client;
use crate::error::{CliError, CmdResult};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Write to a file, instead of STDOUT
    #[arg(short = 'o', long = "output")]
    pub output: Option<String>,
    #[arg(required = true, value_name = "IMAGE")]
    pub images: Vec<String>,
}

pub async fn run(c: &Client, a: Args) -> CmdResult {
    if a.output.is_none() && crate::term::stdout_is_tty() {
        return Err(CliError::new(1, "Cowardly refusing to save to a terminal. Use the -o flag or redirect"));
    }
    let names: Vec<&str> = a.images.iter().map(String::as_str).collect();
    let mut stream = c.docker.export_images(&names);
    // Fetch the first chunk before creating the file so a daemon error leaves nothing behind.
    let first = match stream.next().await {
        Some(Ok(b)) => Some(b),
        Some(Err(e)) => return Err(e.into()),
        None => None,
    };
    let mut out: Box<dyn tokio::io::AsyncWrite + Unpin + Send> = match &a.output {
        Some(p) => {
            let tmp = format!("{p}.berth-tmp");
            Box::new(
                tokio::fs::File::create(&tmp)
                    .await
                    .map_err(|e| CliError::new(1, format!("failed to save image: invalid output path: {e}")))?,
            )
        }
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
    if let Some(p) = &a.output {
        let tmp = format!("{p}.berth-tmp");
        if result.is_err() {
            let _ = tokio::fs::remove_file(&tmp).await;
        } else {
            tokio::fs::rename(&tmp, p).await?;
        }
    }
    result.map(|_| 0)
}
