//! Several containers' logs as one stream, each line prefixed by the container's short name
//! (`web-1  | `) as Compose prints them, coloured when stdout is a terminal. Used by `logs`
//! and by attached `up`.

use std::io::Write;

use bollard::container::LogOutput;
use bollard::query_parameters::LogsOptionsBuilder;
use futures_util::StreamExt;
use tokio::sync::mpsc;

use crate::client::Client;

/// Which containers and how.
#[derive(Clone, Debug)]
pub struct LogSpec {
    pub follow: bool,
    pub tail: String,
    pub timestamps: bool,
    pub prefix: bool,
    pub color: bool,
}

/// Compose's display name for a container: the name without the `<project>-` prefix.
pub fn short_name(project: &str, name: &str) -> String {
    name.strip_prefix(&format!("{project}-")).unwrap_or(name).to_string()
}

const COLORS: &[&str] = &["36", "33", "32", "35", "34", "96", "93", "92", "95", "94"];

/// The prefix `name` padded to `width`, then ` | `.
pub fn prefix(name: &str, width: usize, color: Option<usize>) -> String {
    let text = format!("{name:<width$} | ");
    match color {
        Some(i) => format!("\x1b[{}m{text}\x1b[0m", COLORS[i % COLORS.len()]),
        None => text,
    }
}

/// Split complete lines off `buf`, leaving a partial last line in it.
pub fn take_lines(buf: &mut Vec<u8>) -> Vec<String> {
    let mut out = Vec::new();
    while let Some(pos) = buf.iter().position(|b| *b == b'\n') {
        let line: Vec<u8> = buf.drain(..=pos).collect();
        out.push(String::from_utf8_lossy(&line[..line.len() - 1]).into_owned());
    }
    out
}

/// One line for the printer: (prefix, text, to stderr).
type Line = (String, String, bool);

/// Stream the logs of `targets` (id, display name) until they end (or forever with follow).
/// New containers can be added through the returned sender while streaming.
pub async fn stream(c: &Client, targets: Vec<(String, String)>, spec: LogSpec) {
    // Compose pads to the longest name plus one.
    let width = targets.iter().map(|(_, n)| n.len()).max().unwrap_or(0) + 1;
    let (tx, mut rx) = mpsc::unbounded_channel::<Line>();
    for (i, (id, name)) in targets.into_iter().enumerate() {
        let p = if spec.prefix { prefix(&name, width, spec.color.then_some(i)) } else { String::new() };
        spawn_one(c, id, p, &spec, tx.clone());
    }
    drop(tx);
    while let Some((p, text, err)) = rx.recv().await {
        if err && !spec.prefix {
            let mut e = std::io::stderr().lock();
            let _ = writeln!(e, "{p}{text}");
        } else {
            let mut o = std::io::stdout().lock();
            if writeln!(o, "{p}{text}").and_then(|_| o.flush()).is_err() {
                return;
            }
        }
    }
}

fn spawn_one(c: &Client, id: String, p: String, spec: &LogSpec, tx: mpsc::UnboundedSender<Line>) {
    let c = c.clone();
    let spec = spec.clone();
    tokio::spawn(async move {
        let opts = LogsOptionsBuilder::new()
            .stdout(true)
            .stderr(true)
            .follow(spec.follow)
            .timestamps(spec.timestamps)
            .tail(&spec.tail)
            .build();
        let mut logs = c.docker.logs(&id, Some(opts));
        let (mut out, mut err) = (Vec::new(), Vec::new());
        while let Some(Ok(frame)) = logs.next().await {
            let (buf, is_err, msg) = match frame {
                LogOutput::StdErr { message } => (&mut err, true, message),
                LogOutput::StdOut { message } | LogOutput::Console { message } => (&mut out, false, message),
                LogOutput::StdIn { .. } => continue,
            };
            buf.extend_from_slice(&msg);
            for line in take_lines(buf) {
                if tx.send((p.clone(), line, is_err)).is_err() {
                    return;
                }
            }
        }
        for (buf, is_err) in [(out, false), (err, true)] {
            if !buf.is_empty() {
                let _ = tx.send((p.clone(), String::from_utf8_lossy(&buf).into_owned(), is_err));
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_and_lines() {
        assert_eq!(short_name("proj", "proj-web-1"), "web-1");
        assert_eq!(short_name("proj", "custom"), "custom");
        assert_eq!(prefix("db-1", 6, None), "db-1   | ");
        assert_eq!(prefix("db-1", 4, Some(0)), "\x1b[36mdb-1 | \x1b[0m");
        let mut buf = b"a\nb\npart".to_vec();
        assert_eq!(take_lines(&mut buf), vec!["a", "b"]);
        assert_eq!(buf, b"part");
    }
}
