//! Event filters as moby's `daemon/events/filter.go` applies them: `type` and `event` match
//! exactly (`event` by prefix for `health_status`, `exec_create`, `exec_start`), `container`,
//! `volume`, `network` and `daemon` match the actor id or its `name` attribute by prefix, `image`
//! matches the id or image name with or without tag, `label` needs every `k` / `k=v` among the
//! attributes. Every filter given must match.

use berth_api_types::events::EventMessage;
use berth_api_types::Filters;

/// Filter names `GET /events` understands.
pub const ACCEPTED: &[&str] = &[
    "container",
    "daemon",
    "event",
    "image",
    "label",
    "network",
    "type",
    "volume",
    "plugin",
    "node",
    "service",
    "scope",
    "config",
    "secret",
];

fn exact(f: &Filters, key: &str, value: &str) -> bool {
    let values = f.get(key);
    values.is_empty() || values.iter().any(|v| v == value)
}

fn fuzzy(f: &Filters, key: &str, value: &str) -> bool {
    let values = f.get(key);
    values.is_empty() || values.iter().any(|v| value.starts_with(v.as_str()))
}

/// The actor id or its name matches the `typ` filter (prefix match).
fn fuzzy_name(f: &Filters, typ: &str, m: &EventMessage) -> bool {
    let name = m.actor.attributes.get("name").map(String::as_str).unwrap_or("");
    fuzzy(f, typ, &m.actor.id) || (!name.is_empty() && fuzzy(f, typ, name))
}

fn strip_tag(image: &str) -> &str {
    let slash = image.rfind('/').map_or(0, |i| i + 1);
    match image[slash..].rfind(':') {
        Some(colon) if !image.starts_with("sha256:") => &image[..slash + colon],
        _ => image,
    }
}

fn matches_event(f: &Filters, m: &EventMessage) -> bool {
    let fuzzy_actions = ["health_status", "exec_create", "exec_start"];
    if f.get("event").iter().any(|v| fuzzy_actions.contains(&v.as_str())) {
        fuzzy(f, "event", &m.action)
    } else {
        exact(f, "event", &m.action)
    }
}

fn matches_image(f: &Filters, m: &EventMessage) -> bool {
    if !f.contains("image") {
        return true;
    }
    let attr = if m.typ == "image" { "name" } else { "image" };
    let name = m.actor.attributes.get(attr).map(String::as_str).unwrap_or("");
    let candidates = [m.actor.id.as_str(), name, strip_tag(&m.actor.id), strip_tag(name)];
    candidates.iter().any(|c| f.get("image").iter().any(|v| v == c))
}

fn matches_labels(f: &Filters, m: &EventMessage) -> bool {
    f.get("label").iter().all(|want| match want.split_once('=') {
        Some((k, v)) => m.actor.attributes.get(k).is_some_and(|a| a == v),
        None => m.actor.attributes.contains_key(want.as_str()),
    })
}

/// True when `m` passes every filter in `f`.
pub fn matches(f: &Filters, m: &EventMessage) -> bool {
    matches_event(f, m)
        && exact(f, "type", &m.typ)
        && exact(f, "scope", &m.scope)
        && fuzzy_name(f, "daemon", m)
        && fuzzy_name(f, "container", m)
        && fuzzy_name(f, "volume", m)
        && fuzzy_name(f, "network", m)
        && matches_image(f, m)
        && matches_labels(f, m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::message;
    use std::collections::BTreeMap;

    fn filters(pairs: &[(&str, &str)]) -> Filters {
        let mut f = Filters::default();
        for (k, v) in pairs {
            f.insert(*k, *v);
        }
        f
    }

    fn container(action: &str) -> EventMessage {
        let attrs: BTreeMap<String, String> = [("name", "web1"), ("image", "busybox:latest"), ("foo", "bar")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        message("container", action, "abcdef0123", attrs)
    }

    #[test]
    fn empty_filters_match_everything() {
        assert!(matches(&Filters::default(), &container("start")));
    }

    #[test]
    fn type_and_event_are_exact_except_fuzzy_actions() {
        let m = container("start");
        assert!(matches(&filters(&[("type", "container")]), &m));
        assert!(!matches(&filters(&[("type", "image")]), &m));
        assert!(matches(&filters(&[("event", "start"), ("event", "die")]), &m));
        assert!(!matches(&filters(&[("event", "sta")]), &m));
        let h = container("health_status: healthy");
        assert!(matches(&filters(&[("event", "health_status")]), &h));
        assert!(!matches(&filters(&[("event", "start")]), &h));
        let e = container("exec_create: sh -c true");
        assert!(matches(&filters(&[("event", "exec_create")]), &e));
    }

    #[test]
    fn names_and_ids_by_prefix() {
        let m = container("die");
        assert!(matches(&filters(&[("container", "web1")]), &m));
        assert!(matches(&filters(&[("container", "abcd")]), &m));
        assert!(matches(&filters(&[("container", "we")]), &m));
        assert!(!matches(&filters(&[("container", "db")]), &m));
        // A container filter excludes other types, as in dockerd.
        let v = message("volume", "create", "data", BTreeMap::new());
        assert!(!matches(&filters(&[("container", "web1")]), &v));
        assert!(matches(&filters(&[("volume", "da")]), &v));
        assert!(!matches(&filters(&[("network", "x")]), &v));
    }

    #[test]
    fn images_with_and_without_tag() {
        let m = container("create");
        assert!(matches(&filters(&[("image", "busybox")]), &m));
        assert!(matches(&filters(&[("image", "busybox:latest")]), &m));
        assert!(!matches(&filters(&[("image", "alpine")]), &m));
        let attrs: BTreeMap<String, String> = [("name".to_string(), "localhost:5000/x:1".to_string())].into();
        let i = message("image", "tag", "sha256:aa", attrs);
        assert!(matches(&filters(&[("image", "localhost:5000/x")]), &i));
        assert!(matches(&filters(&[("image", "sha256:aa")]), &i));
        assert_eq!(strip_tag("localhost:5000/x"), "localhost:5000/x");
    }

    #[test]
    fn labels_need_all() {
        let m = container("create");
        assert!(matches(&filters(&[("label", "foo")]), &m));
        assert!(matches(&filters(&[("label", "foo=bar")]), &m));
        assert!(!matches(&filters(&[("label", "foo=baz")]), &m));
        assert!(!matches(&filters(&[("label", "foo"), ("label", "nope")]), &m));
    }
}
