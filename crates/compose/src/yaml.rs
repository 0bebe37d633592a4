//! The YAML document tree: every node keeps the file and line it came from, so errors can say
//! `compose.yaml:12: services.web.ports[0]: ...`. Parsing (anchors, aliases, `<<` merge keys)
//! is serde-saphyr's; this module only turns its events into [`Node`]s.

use std::fmt;
use std::sync::Arc;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

/// A YAML value. Mappings keep their key order (compose files are read by people).
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(String, Node)>),
}

/// A value with where it was written.
#[derive(Clone, Debug)]
pub struct Node {
    pub value: Value,
    /// 1-based line; 0 when the node was made by the program (defaults, merges).
    pub line: usize,
    /// The file it was read from (shared by every node of one file).
    pub file: Arc<str>,
}

impl PartialEq for Node {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

impl Node {
    pub fn new(value: Value) -> Node {
        Node { value, line: 0, file: Arc::from("") }
    }

    pub fn str(s: impl Into<String>) -> Node {
        Node::new(Value::Str(s.into()))
    }

    /// `file:line` for error messages (empty when unknown).
    pub fn location(&self) -> String {
        match (self.file.is_empty(), self.line) {
            (true, _) | (_, 0) => String::new(),
            (false, l) => format!("{}:{}", self.file, l),
        }
    }

    pub fn as_map(&self) -> Option<&Vec<(String, Node)>> {
        match &self.value {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> Option<&Vec<Node>> {
        match &self.value {
            Value::Seq(s) => Some(s),
            _ => None,
        }
    }

    /// A map entry by key.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map()?.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// A scalar as text (`80` → "80", `true` → "true"); None for null, maps and sequences.
    pub fn scalar_string(&self) -> Option<String> {
        match &self.value {
            Value::Str(s) => Some(s.clone()),
            Value::Int(i) => Some(i.to_string()),
            Value::Float(f) => Some(f.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    fn set_file(&mut self, file: &Arc<str>) {
        self.file = file.clone();
        match &mut self.value {
            Value::Seq(s) => s.iter_mut().for_each(|n| n.set_file(file)),
            Value::Map(m) => m.iter_mut().for_each(|(_, n)| n.set_file(file)),
            _ => {}
        }
    }

    /// The node as plain JSON (for hashing and `config --format json`).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match &self.value {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(i) => J::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f).map(J::Number).unwrap_or(J::Null),
            Value::Str(s) => J::String(s.clone()),
            Value::Seq(s) => J::Array(s.iter().map(Node::to_json).collect()),
            Value::Map(m) => J::Object(m.iter().map(|(k, v)| (k.clone(), v.to_json())).collect()),
        }
    }
}

/// A YAML syntax error, with the file and the parser's message (which names line and column).
#[derive(Debug, thiserror::Error)]
#[error("{file}: {message}")]
pub struct ParseError {
    pub file: String,
    pub message: String,
}

/// Parse one YAML document. An empty document is an empty mapping.
pub fn parse(file: &str, text: &str) -> Result<Node, ParseError> {
    if text.trim().is_empty() {
        return Ok(Node { value: Value::Map(Vec::new()), line: 1, file: Arc::from(file) });
    }
    let mut node: Node = serde_saphyr::from_str(text).map_err(|e| {
        // The first line says what and where (`line 3 column 12: ...`); the rest is a snippet
        // of the input that would name it `<input>`.
        let text = e.to_string();
        let first = text.lines().next().unwrap_or_default().trim();
        ParseError { file: file.to_string(), message: first.strip_prefix("error: ").unwrap_or(first).to_string() }
    })?;
    node.set_file(&Arc::from(file));
    Ok(node)
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Node, D::Error> {
        let spanned = serde_saphyr::Spanned::<Value>::deserialize(d)?;
        Ok(Node { value: spanned.value, line: spanned.referenced.line() as usize, file: Arc::from("") })
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Value::deserialize(d)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(i64::try_from(v).map(Value::Int).unwrap_or(Value::Float(v as f64)))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Float(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::Str(v.to_string()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::Str(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(n) = seq.next_element::<Node>()? {
            out.push(n);
        }
        Ok(Value::Seq(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out: Vec<(String, Node)> = Vec::new();
        while let Some(k) = map.next_key::<Node>()? {
            let key = k.scalar_string().unwrap_or_default();
            let v = map.next_value::<Node>()?;
            if let Some(slot) = out.iter_mut().find(|(ek, _)| *ek == key) {
                slot.1 = v;
            } else {
                out.push((key, v));
            }
        }
        Ok(Value::Map(out))
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
        d.deserialize_any(ValueVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_anchors_and_merge_keys() {
        let text = "x-base: &base\n  image: busybox\n  restart: always\nservices:\n  web:\n    <<: *base\n    ports:\n      - \"80:80\"\n      - 8080\n";
        let n = parse("c.yaml", text).unwrap();
        let web = n.get("services").unwrap().get("web").unwrap();
        assert_eq!(web.get("image").unwrap().value, Value::Str("busybox".into()));
        assert_eq!(web.get("restart").unwrap().value, Value::Str("always".into()));
        let ports = web.get("ports").unwrap().as_seq().unwrap();
        assert_eq!(ports[0].value, Value::Str("80:80".into()));
        assert_eq!(ports[0].line, 8);
        assert_eq!(ports[0].location(), "c.yaml:8");
        assert_eq!(ports[1].value, Value::Int(8080));
        assert_eq!(n.get("services").unwrap().line, 5);
    }

    #[test]
    fn syntax_error_names_file() {
        let e = parse("bad.yaml", "services:\n  web: [\n").unwrap_err();
        assert!(e.to_string().starts_with("bad.yaml: "), "{e}");
    }

    #[test]
    fn empty_and_null() {
        assert_eq!(parse("e", "").unwrap().value, Value::Map(vec![]));
        let n = parse("n", "a:\nb: ~\n").unwrap();
        assert_eq!(n.get("a").unwrap().value, Value::Null);
    }
}
