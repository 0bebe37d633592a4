//! Writing a tar the daemon streams (`save`, `export`) to `-o FILE` or stdout. The first chunk
//! is read before the file is created, so a daemon error (no such image or container) leaves
//! nothing behind, and the file appears only complete: written under a temp name, renamed last.

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use tokio::io::AsyncWriteExt;

use crate::error::{CliError, CmdResult};

/// Copies `stream` to `output` (or stdout). `create_failed` prefixes the error when the file
/// cannot be created, in the command's own docker wording.
pub async fn write_tar<S>(mut stream: S, output: Option<&str>, create_failed: &str) -> CmdResult
where
    S: Stream<Item = Result<Bytes, bollard::errors::Error>> + Unpin,
{
    let first = match stream.next().await {
        Some(r) => Some(r?),
        None => None,
    };
    let tmp = output.map(|p| format!("{p}.berth-tmp"));
    let mut out: Box<dyn tokio::io::AsyncWrite + Unpin + Send> = match &tmp {
        Some(t) => {
            Box::new(tokio::fs::File::create(t).await.map_err(|e| CliError::new(1, format!("{create_failed}: {e}")))?)
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
    if let (Some(t), Some(p)) = (&tmp, output) {
        if result.is_err() {
            let _ = tokio::fs::remove_file(t).await;
        } else {
            tokio::fs::rename(t, p).await?;
        }
    }
    result.map(|_| 0)
}
