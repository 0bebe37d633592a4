//! `ADD <http(s) URL>`: the daemon downloads the file (moby's `downloadSource`), so the URL
//! is reached from the host's network, never from a step container.

use std::path::Path;
use std::time::Duration;

use berth_builder::Fetched;
use tokio::io::AsyncWriteExt;

/// GETs `url` into the new file `dest`; a status >= 400 fails as dockerd words it.
pub(crate) async fn fetch(url: &str, dest: &Path) -> berth_builder::Result<Fetched> {
    let err = |m: String| berth_builder::Error::InvalidArgument(m);
    let client = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| berth_builder::Error::Backend(format!("http client: {e}")))?;
    let mut resp = client.get(url).send().await.map_err(|e| err(format!("error downloading {url}: {e}")))?;
    let status = resp.status();
    if status.as_u16() >= 400 {
        let body = resp.text().await.unwrap_or_default();
        let reason = status.canonical_reason().unwrap_or("");
        return Err(err(format!("failed to GET {url} with status {} {reason}: {}", status.as_u16(), body.trim())));
    }
    let header =
        |name: reqwest::header::HeaderName| resp.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
    let fetched = Fetched {
        content_disposition: header(reqwest::header::CONTENT_DISPOSITION),
        last_modified: header(reqwest::header::LAST_MODIFIED),
    };
    let io = |e: std::io::Error| berth_builder::Error::Backend(format!("writing {}: {e}", dest.display()));
    let mut f = tokio::fs::OpenOptions::new().write(true).create_new(true).open(dest).await.map_err(io)?;
    while let Some(chunk) = resp.chunk().await.map_err(|e| err(format!("error downloading {url}: {e}")))? {
        f.write_all(&chunk).await.map_err(io)?;
    }
    f.flush().await.map_err(io)?;
    Ok(fetched)
}
