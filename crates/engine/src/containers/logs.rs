//! `GET /containers/{id}/logs` (ContainerLogs): reads the json-file log the shim writes,
//! `{"log":"…","stream":"stdout","time":"…"}` per line, as stdcopy frames (raw with a TTY),
//! following new lines until the container stops when asked to.

use std::io::SeekFrom;
use std::time::Duration;

use berth_api_types::stdcopy::{self, StreamType};
use bytes::{Bytes, BytesMut};
use chrono::{DateTime, SecondsFormat, Utc};
use futures_util::stream::BoxStream;
use serde::Deserialize;
use tokio::io::{AsyncBufReadExt, AsyncSeekExt, BufReader};
use tokio::sync::{mpsc, watch};

use super::state::Status;
use super::Snapshot;
use crate::{Engine, Error, Result};

#[derive(Debug, Clone, Default, PartialEq)]
pub struct LogOptions {
    pub follow: bool,
    pub stdout: bool,
    pub stderr: bool,
    /// Unix seconds (fractional).
    pub since: Option<f64>,
    pub until: Option<f64>,
    pub timestamps: bool,
    /// `None` = all lines.
    pub tail: Option<usize>,
}

/// Log bytes ready for the wire, and whether they are raw (TTY) or multiplexed.
pub struct LogStream {
    pub tty: bool,
    pub body: BoxStream<'static, std::io::Result<Bytes>>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct LogLine {
    pub log: String,
    pub stream: String,
    pub time: DateTime<Utc>,
}

/// Encodes one log line for the wire, or `None` when options exclude it.
pub fn render(line: &LogLine, opts: &LogOptions, tty: bool) -> Option<Bytes> {
    let kind = match line.stream.as_str() {
        "stderr" if opts.stderr => StreamType::Stderr,
        "stdout" if opts.stdout => StreamType::Stdout,
        _ => return None,
    };
    let secs = line.time.timestamp() as f64 + f64::from(line.time.timestamp_subsec_nanos()) / 1e9;
    if opts.since.is_some_and(|s| secs < s) || opts.until.is_some_and(|u| secs > u) {
        return None;
    }
    let mut payload = String::new();
    if opts.timestamps {
        payload.push_str(&line.time.to_rfc3339_opts(SecondsFormat::Nanos, true));
        payload.push(' ');
    }
    payload.push_str(&line.log);
    if tty {
        return Some(Bytes::from(payload));
    }
    let mut out = BytesMut::new();
    stdcopy::encode_frame(kind, payload.as_bytes(), &mut out);
    Some(out.freeze())
}

/// Streams the log at `path`; with `follow`, keeps reading until `state` says the container is
/// no longer running and the file is drained.
pub(crate) fn stream(
    path: std::path::PathBuf,
    opts: LogOptions,
    tty: bool,
    state: watch::Receiver<Snapshot>,
) -> LogStream {
    let (tx, rx) = mpsc::channel::<std::io::Result<Bytes>>(64);
    tokio::spawn(async move {
        if let Err(e) = pump(&path, &opts, tty, state, &tx).await {
            let _ = tx.send(Err(e)).await;
        }
    });
    let body = futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|item| (item, rx)) });
    LogStream { tty, body: Box::pin(body) }
}

/// Reads the next complete json-file line (a partial last line is left for later) and moves
/// `offset` past it. `None` at the end; `Some(None)` for a line that does not parse.
async fn next_entry<R: tokio::io::AsyncBufRead + Unpin>(
    reader: &mut R,
    line: &mut String,
    offset: &mut u64,
) -> std::io::Result<Option<Option<LogLine>>> {
    line.clear();
    let n = reader.read_line(line).await?;
    if n == 0 || !line.ends_with('\n') {
        return Ok(None);
    }
    *offset += n as u64;
    Ok(Some(serde_json::from_str::<LogLine>(line).ok()))
}

async fn pump(
    path: &std::path::Path,
    opts: &LogOptions,
    tty: bool,
    state: watch::Receiver<Snapshot>,
    tx: &mpsc::Sender<std::io::Result<Bytes>>,
) -> std::io::Result<()> {
    let file = match tokio::fs::File::open(path).await {
        Ok(f) => Some(f),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e),
    };
    let mut offset = 0u64;
    if let Some(file) = file {
        let mut reader = BufReader::new(file);
        let mut rendered = Vec::new();
        let mut line = String::new();
        while let Some(out) = next_entry(&mut reader, &mut line, &mut offset).await? {
            rendered.extend(out.and_then(|l| render(&l, opts, tty)));
        }
        let skip = opts.tail.map_or(0, |t| rendered.len().saturating_sub(t));
        for b in rendered.into_iter().skip(skip) {
            if tx.send(Ok(b)).await.is_err() {
                return Ok(());
            }
        }
    }
    if !opts.follow {
        return Ok(());
    }
    let mut line = String::new();
    loop {
        let running = state.borrow().status == Status::Running;
        if let Ok(mut f) = tokio::fs::File::open(path).await {
            f.seek(SeekFrom::Start(offset)).await?;
            let mut reader = BufReader::new(f);
            while let Some(out) = next_entry(&mut reader, &mut line, &mut offset).await? {
                if let Some(b) = out.and_then(|l| render(&l, opts, tty)) {
                    if tx.send(Ok(b)).await.is_err() {
                        return Ok(());
                    }
                }
            }
        }
        if !running || state.borrow().removed {
            return Ok(());
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(100)) => {}
            _ = tx.closed() => return Ok(()),
        }
    }
}

impl Engine {
    pub async fn container_logs(&self, key: &str, opts: LogOptions) -> Result<LogStream> {
        let c = self.containers.get(key)?;
        if !opts.stdout && !opts.stderr {
            return Err(Error::InvalidArgument("You must choose at least one stream".into()));
        }
        let tty = c.record().config.tty;
        Ok(stream(c.log_path(), opts, tty, c.subscribe()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;

    fn all() -> LogOptions {
        LogOptions { stdout: true, stderr: true, ..Default::default() }
    }

    #[test]
    fn renders_frames_and_raw() {
        let l =
            LogLine { log: "hi\n".into(), stream: "stderr".into(), time: "2024-01-02T03:04:05.5Z".parse().unwrap() };
        assert_eq!(render(&l, &all(), false).unwrap().as_ref(), b"\x02\0\0\0\0\0\0\x03hi\n");
        assert_eq!(render(&l, &all(), true).unwrap().as_ref(), b"hi\n");
        let only_out = LogOptions { stdout: true, ..Default::default() };
        assert!(render(&l, &only_out, false).is_none());
        let ts = LogOptions { timestamps: true, ..all() };
        assert_eq!(render(&l, &ts, true).unwrap().as_ref(), b"2024-01-02T03:04:05.500000000Z hi\n");
        let since = LogOptions { since: Some(1_704_164_646.0), ..all() };
        assert!(render(&l, &since, true).is_none());
    }

    #[tokio::test]
    async fn reads_with_tail() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("x-json.log");
        let mut data = String::new();
        for i in 0..5 {
            data.push_str(&format!(
                "{{\"log\":\"l{i}\\n\",\"stream\":\"stdout\",\"time\":\"2024-01-01T00:00:0{i}Z\"}}\n"
            ));
        }
        std::fs::write(&p, data).unwrap();
        let snap = Snapshot { status: Status::Exited, exits: 1, exit_code: 0, error: String::new(), removed: false };
        let (_tx, rx) = watch::channel(snap);
        let s = stream(p, LogOptions { tail: Some(2), follow: true, ..all() }, true, rx);
        let got: Vec<Bytes> = s.body.map(|b| b.unwrap()).collect().await;
        assert_eq!(got, vec![Bytes::from_static(b"l3\n"), Bytes::from_static(b"l4\n")]);
    }
}
