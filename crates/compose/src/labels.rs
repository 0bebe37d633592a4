//! Docker Compose v2's labels and names, so Compose and `berth compose` recognise each other's
//! containers, networks and volumes, and the per-service config hash that decides whether a
//! container is up to date.

use std::collections::BTreeMap;

use crate::model::{Project, Service};

pub const PROJECT: &str = "com.docker.compose.project";
pub const SERVICE: &str = "com.docker.compose.service";
pub const NUMBER: &str = "com.docker.compose.container-number";
pub const ONEOFF: &str = "com.docker.compose.oneoff";
pub const CONFIG_HASH: &str = "com.docker.compose.config-hash";
pub const VERSION: &str = "com.docker.compose.version";
pub const DEPENDS_ON: &str = "com.docker.compose.depends_on";
pub const WORKING_DIR: &str = "com.docker.compose.project.working_dir";
pub const CONFIG_FILES: &str = "com.docker.compose.project.config_files";
pub const IMAGE: &str = "com.docker.compose.image";
pub const NETWORK: &str = "com.docker.compose.network";
pub const VOLUME: &str = "com.docker.compose.volume";
pub const REPLACE: &str = "com.docker.compose.replace";

/// The Compose version berth writes in `com.docker.compose.version`.
pub const COMPOSE_VERSION: &str = "2.29.0";

/// `<project>-<service>-<n>`, or the service's `container_name`.
pub fn container_name(project: &str, svc: &Service, number: u32) -> String {
    svc.container_name.clone().unwrap_or_else(|| format!("{project}-{}-{number}", svc.name))
}

/// One-off (`run`) containers: `<project>-<service>-run-<12 hex>`.
pub fn oneoff_name(project: &str, service: &str, suffix: &str) -> String {
    format!("{project}-{service}-run-{suffix}")
}

/// The service's config hash, as Docker Compose v2 computes it (see [`crate::hash`]), so
/// Compose and berth each see the other's containers as up to date.
pub fn config_hash(svc: &Service) -> String {
    crate::hash::service_hash(svc)
}

/// `com.docker.compose.depends_on`: `svc:condition:restart` entries, comma separated.
pub fn depends_on_label(svc: &Service) -> String {
    svc.depends_on
        .iter()
        .map(|(name, d)| format!("{name}:{}:{}", d.condition.as_str(), d.restart))
        .collect::<Vec<_>>()
        .join(",")
}

/// The labels of a service container (the service's own labels first, Compose's win).
pub fn container_labels(project: &Project, svc: &Service, number: u32, oneoff: bool) -> BTreeMap<String, String> {
    let mut l = svc.labels.clone();
    l.insert(PROJECT.into(), project.name.clone());
    l.insert(SERVICE.into(), svc.name.clone());
    l.insert(NUMBER.into(), number.to_string());
    l.insert(ONEOFF.into(), if oneoff { "True" } else { "False" }.into());
    l.insert(CONFIG_HASH.into(), config_hash(svc));
    l.insert(VERSION.into(), COMPOSE_VERSION.into());
    l.insert(DEPENDS_ON.into(), depends_on_label(svc));
    l.insert(IMAGE.into(), svc.image_name(&project.name));
    l.insert(WORKING_DIR.into(), project.working_dir.display().to_string());
    l.insert(
        CONFIG_FILES.into(),
        project.config_files.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(","),
    );
    l
}

/// Labels of a project network or volume (`kind_label` is [`NETWORK`] or [`VOLUME`]).
pub fn object_labels(
    project: &str,
    kind_label: &str,
    key: &str,
    own: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let mut l = own.clone();
    l.insert(PROJECT.into(), project.into());
    l.insert(kind_label.into(), key.into());
    l.insert(VERSION.into(), COMPOSE_VERSION.into());
    l
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_ignores_scale_but_not_env() {
        let mut a = Service { name: "web".into(), image: Some("busybox".into()), ..Default::default() };
        let h = config_hash(&a);
        assert_eq!(h.len(), 64);
        a.replicas = Some(3);
        assert_eq!(config_hash(&a), h);
        a.environment.insert("A".into(), "1".into());
        assert_ne!(config_hash(&a), h);
    }

    #[test]
    fn names() {
        let mut s = Service { name: "web".into(), ..Default::default() };
        assert_eq!(container_name("proj", &s, 2), "proj-web-2");
        s.container_name = Some("fixed".into());
        assert_eq!(container_name("proj", &s, 1), "fixed");
    }
}
