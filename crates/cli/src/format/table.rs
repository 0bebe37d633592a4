//! Column alignment exactly like docker's `tabwriter.NewWriter(out, 10, 1, 3, ' ', 0)`.

use std::io::Write;

use tabwriter::TabWriter;

/// Align tab-separated cells: minimum width 10, padding 3, spaces. (Go counts padding
/// inside minwidth; this crate adds it on top, hence 7.)
pub fn align(text: &str) -> String {
    let mut tw = TabWriter::new(Vec::new()).minwidth(7).padding(3);
    // Writing into a Vec cannot fail.
    let _ = tw.write_all(text.as_bytes());
    let _ = tw.flush();
    match tw.into_inner() {
        Ok(buf) => String::from_utf8_lossy(&buf).into_owned(),
        Err(_) => text.to_string(),
    }
}

/// docker's `Ellipsis`: keep at most `max` characters, marking a cut with `…`.
pub fn ellipsis(s: &str, max: usize) -> String {
    let n = s.chars().count();
    if n <= max {
        return s.to_string();
    }
    if max == 0 {
        return String::new();
    }
    let mut out: String = s.chars().take(max - 1).collect();
    out.push('…');
    out
}

/// `stringid.TruncateID`: drop the algorithm prefix and keep 12 characters.
pub fn short_id(id: &str) -> String {
    let id = id.split_once(':').map(|(_, h)| h).unwrap_or(id);
    id.chars().take(12).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_ps_header() {
        let s = align("CONTAINER ID\tIMAGE\tCOMMAND\tCREATED\tSTATUS\tPORTS\tNAMES\n");
        assert_eq!(s, "CONTAINER ID   IMAGE     COMMAND   CREATED   STATUS    PORTS     NAMES\n");
    }

    #[test]
    fn ellipsis_and_ids() {
        assert_eq!(ellipsis("echo hello", 20), "echo hello");
        assert_eq!(ellipsis("sh -c 'sleep 1000; echo done'", 20), "sh -c 'sleep 1000; …");
        assert_eq!(short_id("sha256:0659f457d999aaaa"), "0659f457d999");
        assert_eq!(short_id("0659f457d999aaaa"), "0659f457d999");
    }
}
