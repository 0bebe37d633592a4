//! Merging compose files (`-f a.yaml -f b.yaml`, `extends`, `include`) by the compose-spec
//! merge rules: mappings merge key by key, scalars are overridden, `command`, `entrypoint` and
//! `healthcheck.test` are replaced, `volumes`/`secrets`/`configs` merge by target path, and other
//! sequences append what is not already there. Mapping-or-list keys (`environment`, `labels`,
//! `depends_on`, `networks`, …) are first normalised to mappings so both forms merge alike.

use crate::yaml::{Node, Value};

/// Service keys whose list form (`KEY=VALUE` or `KEY:VALUE` strings) is a mapping.
const KV_LISTS: &[(&str, char)] =
    &[("environment", '='), ("labels", '='), ("extra_hosts", ':'), ("sysctls", '='), ("annotations", '=')];

/// Sequences that are replaced rather than appended to.
const REPLACED: &[&str] = &["command", "entrypoint", "test"];

/// Normalise every service of a file in place so merging works on one shape.
pub fn normalize_file(root: &mut Node) {
    let Value::Map(top) = &mut root.value else { return };
    for (k, services) in top.iter_mut() {
        if k != "services" {
            continue;
        }
        if let Value::Map(list) = &mut services.value {
            for (_, svc) in list.iter_mut() {
                normalize_service(svc);
            }
        }
    }
}

/// Normalise one service mapping (list forms → mappings).
pub fn normalize_service(svc: &mut Node) {
    let Value::Map(entries) = &mut svc.value else { return };
    for (key, node) in entries.iter_mut() {
        if let Some((_, sep)) = KV_LISTS.iter().find(|(k, _)| k == key) {
            kv_list_to_map(node, *sep);
        }
        match key.as_str() {
            "depends_on" => list_to_map(node, |_| {
                Node::new(Value::Map(vec![
                    ("condition".into(), Node::str("service_started")),
                    ("required".into(), Node::new(Value::Bool(true))),
                ]))
            }),
            "networks" => list_to_map(node, |_| Node::new(Value::Null)),
            _ => {}
        }
    }
}

fn kv_list_to_map(node: &mut Node, sep: char) {
    let Value::Seq(items) = &node.value else { return };
    let mut map: Vec<(String, Node)> = Vec::new();
    for item in items {
        let Some(s) = item.scalar_string() else { continue };
        let (k, v) = match s.split_once(sep) {
            Some((k, v)) => (k.to_string(), Node { value: Value::Str(v.to_string()), ..item.clone() }),
            None => (s.clone(), Node { value: Value::Null, ..item.clone() }),
        };
        map.retain(|(ek, _)| *ek != k);
        map.push((k, v));
    }
    node.value = Value::Map(map);
}

fn list_to_map(node: &mut Node, default: impl Fn(&str) -> Node) {
    let Value::Seq(items) = &node.value else { return };
    let map = items
        .iter()
        .filter_map(|i| i.scalar_string())
        .map(|name| {
            let v = default(&name);
            (name, v)
        })
        .collect();
    node.value = Value::Map(map);
}

/// Merge `over` onto `base` (both whole files, normalised).
pub fn merge(base: &mut Node, over: Node) {
    merge_at(base, over, "")
}

fn merge_at(base: &mut Node, over: Node, key: &str) {
    match (&mut base.value, over.value) {
        (Value::Map(b), Value::Map(o)) => {
            for (k, v) in o {
                match b.iter_mut().find(|(bk, _)| *bk == k) {
                    Some((_, slot)) => merge_at(slot, v, &k),
                    None => b.push((k, v)),
                }
            }
        }
        (Value::Seq(b), Value::Seq(o)) if !REPLACED.contains(&key) => {
            let by_target = matches!(key, "volumes" | "secrets" | "configs");
            for item in o {
                if by_target {
                    let t = mount_target(&item);
                    if let Some(pos) = b.iter().position(|e| t.is_some() && mount_target(e) == t) {
                        b[pos] = item;
                        continue;
                    }
                }
                if !b.contains(&item) {
                    b.push(item);
                }
            }
        }
        (_, v) => {
            base.value = v;
            base.line = over.line;
            base.file = over.file;
        }
    }
}

/// The container path a volume/secret/config entry mounts at (for merging by target).
fn mount_target(n: &Node) -> Option<String> {
    match &n.value {
        Value::Str(s) => {
            let parts: Vec<&str> = s.split(':').collect();
            Some(if parts.len() >= 2 { parts[1].to_string() } else { parts[0].to_string() })
        }
        Value::Map(_) => n.get("target").and_then(Node::scalar_string).or_else(|| n.get("source")?.scalar_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::parse;

    fn load(name: &str, text: &str) -> Node {
        let mut n = parse(name, text).unwrap();
        normalize_file(&mut n);
        n
    }

    #[test]
    fn override_rules() {
        let mut base = load(
            "a.yaml",
            "services:\n  web:\n    image: busybox\n    command: [a, b]\n    environment:\n      - A=1\n      - B=2\n    ports: ['80:80']\n    volumes: ['data:/data', '/tmp:/tmp']\n    depends_on: [db]\n",
        );
        let over = load(
            "b.yaml",
            "services:\n  web:\n    image: busybox:2\n    command: [c]\n    environment:\n      B: three\n      C: '4'\n    ports: ['80:80', '81:81']\n    volumes: ['other:/data']\n    depends_on:\n      cache:\n        condition: service_healthy\n",
        );
        merge(&mut base, over);
        let web = base.get("services").unwrap().get("web").unwrap();
        assert_eq!(web.get("image").unwrap().scalar_string().unwrap(), "busybox:2");
        assert_eq!(web.get("image").unwrap().location(), "b.yaml:3");
        let cmd: Vec<_> =
            web.get("command").unwrap().as_seq().unwrap().iter().map(|n| n.scalar_string().unwrap()).collect();
        assert_eq!(cmd, vec!["c"]);
        let env = web.get("environment").unwrap().to_json();
        assert_eq!(env, serde_json::json!({"A": "1", "B": "three", "C": "4"}));
        assert_eq!(web.get("ports").unwrap().to_json(), serde_json::json!(["80:80", "81:81"]));
        assert_eq!(web.get("volumes").unwrap().to_json(), serde_json::json!(["other:/data", "/tmp:/tmp"]));
        assert_eq!(
            web.get("depends_on").unwrap().to_json(),
            serde_json::json!({"db": {"condition": "service_started", "required": true}, "cache": {"condition": "service_healthy"}})
        );
    }
}
