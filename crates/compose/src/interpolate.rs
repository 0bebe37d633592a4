//! Variable interpolation as the compose spec defines it: `$VAR`, `${VAR}`, `${VAR:-default}`,
//! `${VAR-default}`, `${VAR:?error}`, `${VAR?error}`, `${VAR:+replacement}`,
//! `${VAR+replacement}`, and `$$` for a literal `$`. Defaults may themselves interpolate.

use std::collections::BTreeMap;

use crate::yaml::{Node, Value};

/// Where variables come from: the environment first, then `.env` / `--env-file`.
#[derive(Clone, Debug, Default)]
pub struct Vars {
    pub map: BTreeMap<String, String>,
}

impl Vars {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.map.get(name).map(String::as_str)
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum InterpolateError {
    #[error("invalid interpolation format for {path}: \"{value}\". You may need to escape any $ with another $.")]
    Format { path: String, value: String },
    #[error("required variable {name} is missing a value: {message}")]
    Required { name: String, message: String },
}

/// Interpolate one string. Unset variables without a default become "" and are reported in
/// `unset` (the CLI warns about them as Compose does).
pub fn interpolate_str(s: &str, vars: &Vars, path: &str, unset: &mut Vec<String>) -> Result<String, InterpolateError> {
    let bad = || InterpolateError::Format { path: path.to_string(), value: s.to_string() };
    let mut out = String::with_capacity(s.len());
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'$' {
            // Copy one whole UTF-8 character.
            let ch_len = s[i..].chars().next().map_or(1, char::len_utf8);
            out.push_str(&s[i..i + ch_len]);
            i += ch_len;
            continue;
        }
        match b.get(i + 1) {
            Some(b'$') => {
                out.push('$');
                i += 2;
            }
            Some(b'{') => {
                let end = matching_brace(s, i + 1).ok_or_else(bad)?;
                let inner = &s[i + 2..end];
                out.push_str(&expand_braced(inner, vars, path, unset).map_err(|e| match e {
                    InterpolateError::Format { .. } => bad(),
                    other => other,
                })?);
                i = end + 1;
            }
            Some(c) if c.is_ascii_alphabetic() || *c == b'_' => {
                let start = i + 1;
                let mut j = start;
                while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
                    j += 1;
                }
                out.push_str(&lookup(&s[start..j], vars, unset));
                i = j;
            }
            _ => return Err(bad()),
        }
    }
    Ok(out)
}

/// Index of the `}` closing the `{` at `open`, honouring nested `${...}`.
fn matching_brace(s: &str, open: usize) -> Option<usize> {
    let b = s.as_bytes();
    let mut depth = 0usize;
    let mut i = open;
    while i < b.len() {
        match b[i] {
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

fn lookup(name: &str, vars: &Vars, unset: &mut Vec<String>) -> String {
    match vars.get(name) {
        Some(v) => v.to_string(),
        None => {
            if !unset.iter().any(|u| u == name) {
                unset.push(name.to_string());
            }
            String::new()
        }
    }
}

fn expand_braced(inner: &str, vars: &Vars, path: &str, unset: &mut Vec<String>) -> Result<String, InterpolateError> {
    let name_end = inner.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(inner.len());
    let name = &inner[..name_end];
    let fmt_err = || InterpolateError::Format { path: path.to_string(), value: inner.to_string() };
    if name.is_empty() || name.as_bytes()[0].is_ascii_digit() {
        return Err(fmt_err());
    }
    let rest = &inner[name_end..];
    if rest.is_empty() {
        return Ok(lookup(name, vars, unset));
    }
    let value = vars.get(name);
    let (op, arg) = if let Some(a) = rest.strip_prefix(":-") {
        (":-", a)
    } else if let Some(a) = rest.strip_prefix(":?") {
        (":?", a)
    } else if let Some(a) = rest.strip_prefix(":+") {
        (":+", a)
    } else if let Some(a) = rest.strip_prefix('-') {
        ("-", a)
    } else if let Some(a) = rest.strip_prefix('?') {
        ("?", a)
    } else if let Some(a) = rest.strip_prefix('+') {
        ("+", a)
    } else {
        return Err(fmt_err());
    };
    let set_nonempty = value.is_some_and(|v| !v.is_empty());
    let mut arg = || interpolate_str(arg, vars, path, unset);
    Ok(match op {
        ":-" if set_nonempty => value.unwrap_or_default().to_string(),
        ":-" => arg()?,
        "-" => match value {
            Some(v) => v.to_string(),
            None => arg()?,
        },
        ":?" | "?" => {
            let ok = if op == ":?" { set_nonempty } else { value.is_some() };
            if !ok {
                return Err(InterpolateError::Required { name: name.to_string(), message: arg()? });
            }
            value.unwrap_or_default().to_string()
        }
        ":+" if set_nonempty => arg()?,
        "+" if value.is_some() => arg()?,
        _ => String::new(),
    })
}

/// Interpolate every string value under `node` (keys are left alone, as Compose does).
/// `path` is the dotted path of `node`; errors are prefixed with the value's `file:line`.
pub fn interpolate_node(
    node: &mut Node,
    vars: &Vars,
    path: &str,
    unset: &mut Vec<String>,
) -> Result<(), crate::error::Error> {
    let location = node.location();
    match &mut node.value {
        Value::Str(s) => {
            *s = interpolate_str(s, vars, path, unset).map_err(|e| {
                crate::error::Error::Invalid(crate::error::Invalid {
                    location,
                    path: String::new(),
                    message: e.to_string(),
                })
            })?
        }
        Value::Seq(items) => {
            for (i, n) in items.iter_mut().enumerate() {
                interpolate_node(n, vars, &format!("{path}[{i}]"), unset)?;
            }
        }
        Value::Map(entries) => {
            for (k, n) in entries.iter_mut() {
                let p = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                interpolate_node(n, vars, &p, unset)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// Parse a `.env` file: `KEY=VALUE` lines, `#` comments, optional `export `, single quotes
/// literal, double quotes with `\n` escapes, inline ` #` comments on unquoted values. Values
/// may refer to earlier variables (`${A}`), as Compose allows.
pub fn parse_env_file(text: &str, base: &Vars) -> Result<Vec<(String, String)>, String> {
    let mut out: Vec<(String, String)> = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let (key, val) = match line.split_once('=') {
            Some((k, v)) => (k.trim(), v.trim()),
            None => (line, ""),
        };
        if key.is_empty() || key.contains(char::is_whitespace) {
            return Err(format!("line {}: unexpected character in variable name {key:?}", n + 1));
        }
        let value = if let Some(v) = val.strip_prefix('\'') {
            v.strip_suffix('\'').unwrap_or(v).to_string()
        } else {
            let (unquoted, interp) = if let Some(v) = val.strip_prefix('"') {
                (v.strip_suffix('"').unwrap_or(v).replace("\\n", "\n").replace("\\\"", "\""), true)
            } else {
                let v = match val.find(" #") {
                    Some(i) => val[..i].trim_end(),
                    None => val,
                };
                (v.to_string(), true)
            };
            if interp {
                let mut vars = base.clone();
                vars.map.extend(out.iter().cloned());
                let mut unset = Vec::new();
                interpolate_str(&unquoted, &vars, key, &mut unset).unwrap_or(unquoted)
            } else {
                unquoted
            }
        };
        out.retain(|(k, _)| k != key);
        out.push((key.to_string(), value));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vars {
        Vars { map: pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect() }
    }

    fn run(s: &str, v: &Vars) -> Result<String, InterpolateError> {
        interpolate_str(s, v, "services.web.image", &mut Vec::new())
    }

    #[test]
    fn forms() {
        let v = vars(&[("A", "a"), ("E", ""), ("TAG", "1.2")]);
        assert_eq!(run("busybox:${TAG}", &v).unwrap(), "busybox:1.2");
        assert_eq!(run("$A-$A", &v).unwrap(), "a-a");
        assert_eq!(run("${E:-def}", &v).unwrap(), "def");
        assert_eq!(run("${E-def}", &v).unwrap(), "");
        assert_eq!(run("${U-def}", &v).unwrap(), "def");
        assert_eq!(run("${U:-${A}x}", &v).unwrap(), "ax");
        assert_eq!(run("${A:+yes}", &v).unwrap(), "yes");
        assert_eq!(run("${E:+yes}", &v).unwrap(), "");
        assert_eq!(run("${E+yes}", &v).unwrap(), "yes");
        assert_eq!(run("$$A costs $$5", &v).unwrap(), "$A costs $5");
        assert_eq!(run("${A:?need A}", &v).unwrap(), "a");
    }

    #[test]
    fn unset_is_blank_and_reported() {
        let mut unset = Vec::new();
        let out = interpolate_str("x${NOPE}y$NOPE", &Vars::default(), "p", &mut unset).unwrap();
        assert_eq!(out, "xy");
        assert_eq!(unset, vec!["NOPE".to_string()]);
    }

    #[test]
    fn errors() {
        let v = vars(&[("E", "")]);
        assert_eq!(
            run("${E:?must be set}", &v).unwrap_err().to_string(),
            "required variable E is missing a value: must be set"
        );
        assert_eq!(
            run("${U?}", &v).unwrap_err(),
            InterpolateError::Required { name: "U".into(), message: String::new() }
        );
        assert_eq!(
            run("a${", &v).unwrap_err().to_string(),
            "invalid interpolation format for services.web.image: \"a${\". You may need to escape any $ with another $."
        );
        assert!(run("${A B}", &v).is_err());
        assert!(run("cost $5", &v).is_err());
    }

    #[test]
    fn env_file() {
        let text = "# c\nA=1\nexport B = two \nC='${A} lit'\nD=\"x${A}\\ny\"\nE=v # comment\nF\n";
        let got = parse_env_file(text, &Vars::default()).unwrap();
        let m: BTreeMap<_, _> = got.into_iter().collect();
        assert_eq!(m["A"], "1");
        assert_eq!(m["B"], "two");
        assert_eq!(m["C"], "${A} lit");
        assert_eq!(m["D"], "x1\ny");
        assert_eq!(m["E"], "v");
        assert_eq!(m["F"], "");
        assert!(parse_env_file("BAD KEY=1\n", &Vars::default()).is_err());
    }
}
