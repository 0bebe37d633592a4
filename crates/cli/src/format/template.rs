//! Go templates (`--format`) with docker's function set, the `table` directive, and the
//! JSON ⇄ template-value conversions.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Arc;

use gotmpl::{Template, Value};

use crate::error::CliError;
use crate::format::table;

/// A parsed `--format`: the row template, and whether it is a `table` (header + aligned).
pub struct Format {
    rows: Template,
    header: Option<Template>,
}

/// Docker's preprocessing: `\t`/`\n` escapes, `json` shorthand, `.Label "k"` calls.
/// Returns (is_table, template source).
pub fn preprocess(format: &str, default_table: &str) -> (bool, String) {
    let f = format.replace("\\t", "\t").replace("\\n", "\n");
    let (table, body) = if f == "table" {
        // Callers pass their default as `table {{...}}` or as the bare row template.
        (true, default_table.strip_prefix("table ").unwrap_or(default_table).to_string())
    } else if let Some(rest) = f.strip_prefix("table ") {
        (true, rest.to_string())
    } else if f == "json" {
        (false, "{{json .}}".to_string())
    } else {
        (false, f)
    };
    (table, rewrite_label_calls(&body))
}

/// `.Label "k"` is a method call in Go; gotmpl has no methods, so it becomes
/// `(__label .Labels "k")` which reads the comma-joined `Labels` field.
fn rewrite_label_calls(src: &str) -> String {
    let mut out = String::with_capacity(src.len());
    let mut rest = src;
    while let Some(pos) = rest.find(".Label ") {
        let prev = rest[..pos].chars().last();
        if prev.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            out.push_str(&rest[..pos + 7]);
            rest = &rest[pos + 7..];
            continue;
        }
        out.push_str(&rest[..pos]);
        let after = rest[pos + 7..].trim_start();
        if let Some(q) = after.strip_prefix('"') {
            if let Some(end) = q.find('"') {
                out.push_str(&format!("(__label .Labels \"{}\")", &q[..end]));
                rest = &q[end + 1..];
                continue;
            }
        }
        out.push_str(".Label ");
        rest = &rest[pos + 7..];
    }
    out.push_str(rest);
    out
}

fn arg_str(args: &[Value], i: usize) -> String {
    match args.get(i) {
        Some(Value::String(s)) => s.to_string(),
        Some(v) => v.to_string(),
        None => String::new(),
    }
}

fn arg_int(args: &[Value], i: usize) -> i64 {
    args.get(i).and_then(|v| v.as_int()).unwrap_or(0)
}

fn go_title(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut prev_letter = false;
    for c in s.chars() {
        if !prev_letter && c.is_alphabetic() {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        prev_letter = c.is_alphanumeric() || c == '_' || c == '\'';
    }
    out
}

/// Look `key` up in docker's `k=v,k2=v2` label string.
pub fn label_from_joined(labels: &str, key: &str) -> String {
    labels
        .split(',')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v.to_string())
        .unwrap_or_default()
}

fn with_funcs(t: Template, header: bool) -> Template {
    let s = |v: String| Ok(Value::String(v.into()));
    if header {
        let ident = |a: &[Value]| Ok(a.first().cloned().unwrap_or(Value::Nil));
        return t
            .func("json", ident)
            .func("split", ident)
            .func("join", ident)
            .func("title", ident)
            .func("lower", ident)
            .func("upper", ident)
            .func("truncate", ident)
            .func("pad", ident)
            .func("__jsonrow", ident)
            .func("__label", move |a| s(arg_str(a, 1).to_uppercase()));
    }
    t.func("json", |a| {
        let v = a.first().map(value_to_json).unwrap_or(serde_json::Value::Null);
        Ok(Value::String(serde_json::to_string(&v).unwrap_or_default().into()))
    })
    .func("__jsonrow", |a| {
        // A row context marshals itself with json.Marshal, which escapes <, > and &.
        let v = a.first().map(value_to_json).unwrap_or(serde_json::Value::Null);
        let text = serde_json::to_string(&v).unwrap_or_default();
        let text = text.replace('<', "\\u003c").replace('>', "\\u003e").replace('&', "\\u0026");
        Ok(Value::String(text.into()))
    })
    .func("split", |a| {
        let (src, sep) = (arg_str(a, 0), arg_str(a, 1));
        let parts: Vec<Value> = if sep.is_empty() {
            src.chars().map(|c| Value::String(c.to_string().into())).collect()
        } else {
            src.split(sep.as_str()).map(|p| Value::String(p.into())).collect()
        };
        Ok(Value::List(parts.into()))
    })
    .func("join", |a| {
        let sep = arg_str(a, 1);
        let items: Vec<String> = match a.first() {
            Some(Value::List(l)) => l.iter().map(|v| v.to_string()).collect(),
            Some(v) => vec![v.to_string()],
            None => vec![],
        };
        Ok(Value::String(items.join(&sep).into()))
    })
    .func("title", move |a| s(go_title(&arg_str(a, 0))))
    .func("lower", move |a| s(arg_str(a, 0).to_lowercase()))
    .func("upper", move |a| s(arg_str(a, 0).to_uppercase()))
    .func("truncate", move |a| {
        let src = arg_str(a, 0);
        let n = arg_int(a, 1).max(0) as usize;
        s(src.chars().take(n).collect())
    })
    .func("pad", move |a| {
        // docker's padWithSpace leaves an empty string empty.
        if arg_str(a, 0).is_empty() {
            return s(String::new());
        }
        let pre = " ".repeat(arg_int(a, 1).max(0) as usize);
        let post = " ".repeat(arg_int(a, 2).max(0) as usize);
        s(format!("{pre}{}{post}", arg_str(a, 0)))
    })
    .func("__label", move |a| s(label_from_joined(&arg_str(a, 0), &arg_str(a, 1))))
}

fn parse_err(e: gotmpl::TemplateError) -> CliError {
    CliError::new(1, format!("template parsing error: {e}"))
}

impl Format {
    /// Parse `format` (falls back to `default_table` for the bare word `table`).
    pub fn parse(format: &str, default_table: &str) -> Result<Format, CliError> {
        let (table, src) = preprocess(format, default_table);
        let rows = with_funcs(Template::new("format"), false).parse(&src).map_err(parse_err)?;
        let header =
            if table { Some(with_funcs(Template::new("header"), true).parse(&src).map_err(parse_err)?) } else { None };
        Ok(Format { rows, header })
    }

    /// Like `parse`, for list rows (ps, images, history): `{{json .}}` on a whole row
    /// escapes HTML characters the way docker's row contexts do.
    pub fn parse_rows(format: &str, default_table: &str) -> Result<Format, CliError> {
        let f = if format == "json" { "{{json .}}" } else { format };
        Format::parse(&f.replace("{{json .}}", "{{__jsonrow .}}"), default_table)
    }

    /// Execute on one value (no trailing newline).
    pub fn execute(&self, data: &Value) -> Result<String, CliError> {
        self.rows.execute_to_string(data).map_err(|e| CliError::new(1, format!("template: {e}")))
    }

    /// Render every row followed by `\n`; a table gets its header and tabwriter alignment.
    pub fn render(&self, header: &Value, rows: &[Value]) -> Result<String, CliError> {
        let mut body = String::new();
        for r in rows {
            body.push_str(&self.execute(r)?);
            body.push('\n');
        }
        match &self.header {
            None => Ok(body),
            Some(h) => {
                let mut text = h.execute_to_string(header).map_err(|e| CliError::new(1, format!("template: {e}")))?;
                text.push('\n');
                text.push_str(&body);
                Ok(table::align(&text))
            }
        }
    }

    /// Render and print to stdout.
    pub fn print(&self, header: &Value, rows: &[Value]) -> Result<(), CliError> {
        let out = self.render(header, rows)?;
        let mut stdout = std::io::stdout().lock();
        stdout.write_all(out.as_bytes())?;
        stdout.flush()?;
        Ok(())
    }
}

/// A string-keyed map value from `(key, value)` pairs.
pub fn map<I, K>(entries: I) -> Value
where
    I: IntoIterator<Item = (K, Value)>,
    K: Into<Arc<str>>,
{
    let m: BTreeMap<Arc<str>, Value> = entries.into_iter().map(|(k, v)| (k.into(), v)).collect();
    Value::Map(Arc::new(m))
}

/// A string value.
pub fn str_val(s: impl AsRef<str>) -> Value {
    Value::String(s.as_ref().into())
}

/// Decoded API JSON → template value (integers stay integers, like docker's typed structs).
pub fn json_to_value(v: &serde_json::Value) -> Value {
    match v {
        serde_json::Value::Null => Value::Nil,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::Int(i)
            } else if let Some(u) = n.as_u64() {
                Value::Uint(u)
            } else {
                Value::Float(n.as_f64().unwrap_or(0.0))
            }
        }
        serde_json::Value::String(s) => Value::String(s.as_str().into()),
        serde_json::Value::Array(a) => Value::List(a.iter().map(json_to_value).collect()),
        serde_json::Value::Object(o) => map(o.iter().map(|(k, v)| (k.as_str(), json_to_value(v)))),
    }
}

/// Template value → JSON (for the `json` function).
pub fn value_to_json(v: &Value) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        Value::Nil => J::Null,
        Value::Bool(b) => J::Bool(*b),
        Value::Int(i) => J::from(*i),
        Value::Uint(u) => J::from(*u),
        Value::Float(f) => J::from(*f),
        Value::String(s) => J::String(s.to_string()),
        Value::List(l) => J::Array(l.iter().map(value_to_json).collect()),
        Value::Map(m) => J::Object(m.iter().map(|(k, v)| (k.to_string(), value_to_json(v))).collect()),
        _ => J::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row() -> Value {
        map([("ID", str_val("abc")), ("Names", str_val("web")), ("Labels", str_val("a=1,com.x=y"))])
    }

    #[test]
    fn funcs() {
        let f = Format::parse(
            r#"{{upper .Names}} {{lower "AB"}} {{title "hello world"}} {{join (split "a:b" ":") ","}} {{truncate .ID 2}}|{{pad .ID 1 2}}|"#,
            "",
        )
        .unwrap();
        assert_eq!(f.execute(&row()).unwrap(), "WEB ab Hello World a,b ab| abc  |");
        let f = Format::parse(r#"x{{pad "" 1 2}}y"#, "").unwrap();
        assert_eq!(f.execute(&row()).unwrap(), "xy");
    }

    #[test]
    fn label_call_and_json() {
        let f = Format::parse(r#"{{.Label "com.x"}}-{{.Label "nope"}}-{{json .Names}}"#, "").unwrap();
        assert_eq!(f.execute(&row()).unwrap(), "y--\"web\"");
        let f = Format::parse("json", "").unwrap();
        assert_eq!(f.execute(&row()).unwrap(), r#"{"ID":"abc","Labels":"a=1,com.x=y","Names":"web"}"#);
    }

    #[test]
    fn row_json_escapes_html() {
        let f = Format::parse_rows("json", "").unwrap();
        let r = map([("Digest", str_val("<none>"))]);
        assert_eq!(f.execute(&r).unwrap(), r#"{"Digest":"\u003cnone\u003e"}"#);
    }

    #[test]
    fn table_header_and_escapes() {
        let f = Format::parse(r"table {{.ID}}\t{{upper .Names}}", "").unwrap();
        let header = map([("ID", str_val("CONTAINER ID")), ("Names", str_val("NAMES"))]);
        assert_eq!(f.render(&header, &[row()]).unwrap(), "CONTAINER ID   NAMES\nabc            WEB\n");
        let f = Format::parse(r"{{.ID}}\t{{.Names}}", "").unwrap();
        assert_eq!(f.render(&header, &[row()]).unwrap(), "abc\tweb\n");
    }

    #[test]
    fn json_numbers_stay_integers() {
        let v: serde_json::Value = serde_json::json!({"State": {"Pid": 42, "Status": "running"}, "Size": 1990000});
        let f = Format::parse("{{.State.Status}} {{.State.Pid}} {{.Size}}", "").unwrap();
        assert_eq!(f.execute(&json_to_value(&v)).unwrap(), "running 42 1990000");
    }
}
