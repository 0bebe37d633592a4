//! `compose config`: the resolved model rendered as YAML (or JSON), like `docker compose
//! config` prints it.

use crate::model::Project;

/// The project as YAML: `name`, then services, networks, volumes, secrets, configs.
pub fn to_yaml(project: &Project) -> String {
    let opts = serde_saphyr::ser_options! { compact_list_indent: false };
    serde_saphyr::to_string_with_options(project, opts).unwrap_or_else(|e| format!("# cannot render: {e}\n"))
}

/// The project as indented JSON.
pub fn to_json(project: &Project) -> String {
    serde_json::to_string_pretty(project).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Service;

    #[test]
    fn yaml_shape() {
        let mut p = Project { name: "demo".into(), ..Default::default() };
        let mut s = Service { name: "web".into(), image: Some("busybox".into()), ..Default::default() };
        s.command = Some(vec!["httpd".into(), "-f".into()]);
        s.environment.insert("A".into(), "1".into());
        p.services.insert("web".into(), s);
        let y = to_yaml(&p);
        assert!(y.starts_with("name: demo\nservices:\n  web:\n"), "{y}");
        assert!(y.contains("    command:\n      - httpd\n      - -f\n"), "{y}");
        assert!(y.contains("    environment:\n      A: \"1\"\n"), "{y}");
    }
}
