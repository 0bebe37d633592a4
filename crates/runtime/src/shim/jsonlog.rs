//! The json-file log format, byte for byte as dockerd's json-file driver writes it:
//! `{"log":"hello\n","stream":"stdout","time":"2026-11-22T16:15:02.212937707Z"}` per line.
//!
//! [`LineSplitter`] cuts a stream into messages the way dockerd's copier does: at each newline
//! (kept in the message), and a line longer than [`MAX_LINE`] is emitted in pieces.

use std::io::Write;

/// dockerd's copier buffer size: longer lines are split.
pub const MAX_LINE: usize = 16 * 1024;

/// RFC 3339 with up to nine fractional digits, trailing zeros trimmed (Go's `RFC3339Nano`).
pub fn rfc3339_nano(t: chrono::DateTime<chrono::Utc>) -> String {
    let base = t.format("%Y-%m-%dT%H:%M:%S").to_string();
    let nanos = format!("{:09}", t.timestamp_subsec_nanos());
    let frac = nanos.trim_end_matches('0');
    if frac.is_empty() {
        format!("{base}Z")
    } else {
        format!("{base}.{frac}Z")
    }
}

/// Appends `s` as a JSON string, escaping as Go's encoder does in dockerd (`<`, `>`, `&`,
/// U+2028, U+2029 as `\u` escapes; invalid UTF-8 as U+FFFD).
fn write_json_string(out: &mut Vec<u8>, s: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    for chunk in s.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '"' => out.extend_from_slice(b"\\\""),
                '\\' => out.extend_from_slice(b"\\\\"),
                '\n' => out.extend_from_slice(b"\\n"),
                '\r' => out.extend_from_slice(b"\\r"),
                '\t' => out.extend_from_slice(b"\\t"),
                '<' | '>' | '&' | '\u{0}'..='\u{1f}' => {
                    let b = c as u8;
                    out.extend_from_slice(b"\\u00");
                    out.push(HEX[(b >> 4) as usize]);
                    out.push(HEX[(b & 0xf) as usize]);
                }
                '\u{2028}' => out.extend_from_slice(b"\\u2028"),
                '\u{2029}' => out.extend_from_slice(b"\\u2029"),
                c => {
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
            }
        }
        if !chunk.invalid().is_empty() {
            out.extend_from_slice(b"\\ufffd");
        }
    }
    out.push(b'"');
}

/// One log record, newline-terminated.
pub fn encode(msg: &[u8], stream: &str, time: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(msg.len() + 64);
    out.extend_from_slice(b"{\"log\":");
    write_json_string(&mut out, msg);
    out.extend_from_slice(b",\"stream\":");
    write_json_string(&mut out, stream.as_bytes());
    out.extend_from_slice(b",\"time\":\"");
    out.extend_from_slice(time.as_bytes());
    out.extend_from_slice(b"\"}\n");
    out
}

/// Cuts one output stream into log messages.
#[derive(Debug, Default)]
pub struct LineSplitter {
    buf: Vec<u8>,
}

impl LineSplitter {
    /// Feeds bytes, returning the complete messages they finish.
    pub fn push(&mut self, data: &[u8]) -> Vec<Vec<u8>> {
        self.buf.extend_from_slice(data);
        let mut out = Vec::new();
        loop {
            let nl = self.buf.iter().position(|&b| b == b'\n');
            match nl {
                Some(i) if i < MAX_LINE => {
                    out.push(self.buf.drain(..=i).collect());
                }
                _ if self.buf.len() >= MAX_LINE => {
                    out.push(self.buf.drain(..MAX_LINE).collect());
                }
                _ => break,
            }
        }
        out
    }

    /// The unterminated rest at end of stream.
    pub fn finish(&mut self) -> Option<Vec<u8>> {
        if self.buf.is_empty() {
            None
        } else {
            Some(std::mem::take(&mut self.buf))
        }
    }
}

/// Appends records to a json-file log.
#[derive(Debug)]
pub struct JsonLogWriter {
    file: std::fs::File,
}

impl JsonLogWriter {
    pub fn open(path: &std::path::Path) -> std::io::Result<Self> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let file = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
        Ok(Self { file })
    }

    pub fn write(&mut self, msg: &[u8], stream: &str) -> std::io::Result<()> {
        let time = rfc3339_nano(chrono::Utc::now());
        self.file.write_all(&encode(msg, stream, &time))
    }

    pub fn sync(&mut self) -> std::io::Result<()> {
        self.file.sync_data()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn time_format_trims_zeros() {
        let t = chrono::Utc.with_ymd_and_hms(2026, 11, 22, 13, 35, 2).single().expect("time")
            + chrono::Duration::nanoseconds(212_937_707);
        assert_eq!(rfc3339_nano(t), "2026-11-22T13:35:02.212937707Z");
        let t = chrono::Utc.with_ymd_and_hms(2026, 11, 22, 13, 35, 2).single().expect("time")
            + chrono::Duration::milliseconds(210);
        assert_eq!(rfc3339_nano(t), "2026-11-22T13:35:02.21Z");
        let t = chrono::Utc.with_ymd_and_hms(2026, 11, 22, 13, 35, 2).single().expect("time");
        assert_eq!(rfc3339_nano(t), "2026-11-22T13:35:02Z");
    }

    #[test]
    fn encodes_like_dockerd() {
        let rec = encode(b"a \"q\" <b>&\t\x01\xff\n", "stdout", "T");
        assert_eq!(
            String::from_utf8(rec).expect("utf8"),
            "{\"log\":\"a \\\"q\\\" \\u003cb\\u003e\\u0026\\t\\u0001\\ufffd\\n\",\"stream\":\"stdout\",\"time\":\"T\"}\n"
        );
    }

    #[test]
    fn splits_lines() {
        let mut s = LineSplitter::default();
        assert_eq!(s.push(b"hel"), Vec::<Vec<u8>>::new());
        assert_eq!(s.push(b"lo\nwor"), vec![b"hello\n".to_vec()]);
        assert_eq!(s.push(b"ld\n\n"), vec![b"world\n".to_vec(), b"\n".to_vec()]);
        assert_eq!(s.finish(), None);
        s.push(b"tail");
        assert_eq!(s.finish(), Some(b"tail".to_vec()));
    }

    #[test]
    fn splits_long_lines() {
        let mut s = LineSplitter::default();
        let mut long = vec![b'x'; MAX_LINE + 10];
        long.push(b'\n');
        let out = s.push(&long);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].len(), MAX_LINE);
        assert_eq!(out[1].len(), 11);
    }
}
