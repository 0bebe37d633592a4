//! Go's `json.Indent(dst, src, "", "    ")`: re-indents raw JSON bytes without decoding,
//! so `inspect` prints the daemon's fields in the daemon's order.

/// Indent `src` with four spaces per level; empty objects/arrays stay `{}`/`[]`.
pub fn indent(src: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(src.len() * 2);
    let mut depth = 0usize;
    let mut in_str = false;
    let mut esc = false;
    let mut i = 0;
    let newline = |out: &mut Vec<u8>, depth: usize| {
        out.push(b'\n');
        for _ in 0..depth {
            out.extend_from_slice(b"    ");
        }
    };
    while i < src.len() {
        let c = src[i];
        i += 1;
        if in_str {
            out.push(c);
            if esc {
                esc = false;
            } else if c == b'\\' {
                esc = true;
            } else if c == b'"' {
                in_str = false;
            }
            continue;
        }
        match c {
            b' ' | b'\t' | b'\n' | b'\r' => {}
            b'"' => {
                in_str = true;
                out.push(c);
            }
            b'{' | b'[' => {
                let close = if c == b'{' { b'}' } else { b']' };
                let mut j = i;
                while j < src.len() && matches!(src[j], b' ' | b'\t' | b'\n' | b'\r') {
                    j += 1;
                }
                if j < src.len() && src[j] == close {
                    out.push(c);
                    out.push(close);
                    i = j + 1;
                } else {
                    out.push(c);
                    depth += 1;
                    newline(&mut out, depth);
                }
            }
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(c);
            }
            b',' => {
                out.push(c);
                newline(&mut out, depth);
            }
            b':' => {
                out.push(c);
                out.push(b' ');
            }
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indents_like_go() {
        let src = br#"[{"Id":"a b","Args":[],"Cfg":{},"X":[1,{"k":"v\"}"}],"N":null}]"#;
        let want = "[\n    {\n        \"Id\": \"a b\",\n        \"Args\": [],\n        \"Cfg\": {},\n        \"X\": [\n            1,\n            {\n                \"k\": \"v\\\"}\"\n            }\n        ],\n        \"N\": null\n    }\n]";
        assert_eq!(String::from_utf8(indent(src)).unwrap(), want);
    }
}
