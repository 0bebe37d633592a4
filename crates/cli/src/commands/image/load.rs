//! `berth image load` (ImageLoad): a tar from `-i FILE` or stdin.

use bollard::query_parameters::ImportImageOptionsBuilder;
use futures_util::StreamExt;
use tokio_util::io::ReaderStream;

use crate::client::Client;
use crate::error::{CliError, CmdResult};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Read from tar archive file, instead of STDIN
    #[arg(short = 'i', long = "input")]
    pub input: Option<String>,
    /// Suppress the load output
    #[arg(short = 'q', long = "quiet")]
    pub quiet: bool,
}

pub async fn run(c: &Client, a: Args) -> CmdResult {
    let reader: Box<dyn tokio::io::AsyncRead + Unpin + Send> = match &a.input {
        Some(p) => Box::new(tokio::fs::File::open(p).await.map_err(|e| CliError::new(1, format!("open {p}: {e}")))?),
        None => {
            if crate::term::stdin_is_tty() {
                return Err(CliError::new(1, "requested load from stdin, but stdin is empty"));
            }
            Box::new(tokio::io::stdin())
        }
    };
    let opts = ImportImageOptionsBuilder::new().quiet(a.quiet).build();
    let mut stream = c.docker.import_image_stream(opts, ReaderStream::new(reader), None);
    while let Some(msg) = stream.next().await {
        let info = msg?;
        if let Some(s) = info.stream {
            print!("{s}");
        } else if let Some(s) = info.status {
            println!("{s}");
        }
    }
    Ok(0)
}
