//! The dependency graph of services (`depends_on`): start order, stop order, cycles.

use std::collections::BTreeSet;

use crate::error::{Error, Invalid, Result};
use crate::model::Project;

/// Services in start order: every service after the services it depends on; ties by name.
/// A cycle is an error naming it (`dependency cycle detected: a -> b -> a`).
pub fn order(project: &Project) -> Result<Vec<String>> {
    let mut done: Vec<String> = Vec::new();
    let mut stack: Vec<String> = Vec::new();
    for name in project.services.keys() {
        visit(project, name, &mut done, &mut stack)?;
    }
    Ok(done)
}

/// The services that must restart when `changed` were restarted or recreated by compose:
/// transitively, those that depend on one of them with `depends_on.<dep>.restart: true`
/// (not including `changed` themselves), in start order.
pub fn restart_dependents(project: &Project, changed: &[String]) -> Vec<String> {
    let mut hit: BTreeSet<String> = changed.iter().cloned().collect();
    let mut out = BTreeSet::new();
    loop {
        let more: Vec<String> = project
            .services
            .iter()
            .filter(|(name, _)| !hit.contains(*name))
            .filter(|(_, s)| s.depends_on.iter().any(|(dep, d)| d.restart && hit.contains(dep)))
            .map(|(name, _)| name.clone())
            .collect();
        if more.is_empty() {
            break;
        }
        hit.extend(more.iter().cloned());
        out.extend(more);
    }
    order(project).unwrap_or_default().into_iter().filter(|s| out.contains(s)).collect()
}

fn visit(project: &Project, name: &str, done: &mut Vec<String>, stack: &mut Vec<String>) -> Result<()> {
    if done.iter().any(|d| d == name) {
        return Ok(());
    }
    if let Some(pos) = stack.iter().position(|s| s == name) {
        let mut cycle: Vec<&str> = stack[pos..].iter().map(String::as_str).collect();
        cycle.push(name);
        return Err(Error::Invalid(Invalid {
            location: String::new(),
            path: String::new(),
            message: format!("dependency cycle detected: {}", cycle.join(" -> ")),
        }));
    }
    let Some(svc) = project.services.get(name) else { return Ok(()) };
    stack.push(name.to_string());
    for dep in svc.depends_on.keys() {
        visit(project, dep, done, stack)?;
    }
    stack.pop();
    done.push(name.to_string());
    Ok(())
}

/// `names` plus everything they depend on, transitively (for `up web`, `run web`).
pub fn with_dependencies(project: &Project, names: &[String]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut todo: Vec<String> = names.to_vec();
    while let Some(n) = todo.pop() {
        if out.insert(n.clone()) {
            if let Some(s) = project.services.get(&n) {
                todo.extend(s.depends_on.keys().cloned());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Condition, Dependency, Service};

    fn project(edges: &[(&str, &[&str])]) -> Project {
        let mut p = Project::default();
        for (name, deps) in edges {
            let mut s = Service { name: name.to_string(), ..Default::default() };
            for d in *deps {
                s.depends_on.insert(
                    d.to_string(),
                    Dependency { condition: Condition::ServiceStarted, required: true, restart: false },
                );
            }
            p.services.insert(name.to_string(), s);
        }
        p
    }

    #[test]
    fn start_order() {
        let p = project(&[("web", &["api"]), ("api", &["db", "cache"]), ("db", &[]), ("cache", &[]), ("admin", &[])]);
        assert_eq!(order(&p).unwrap(), vec!["admin", "cache", "db", "api", "web"]);
        let deps: Vec<_> = with_dependencies(&p, &["api".into()]).into_iter().collect();
        assert_eq!(deps, vec!["api", "cache", "db"]);
    }

    #[test]
    fn restart_dependents_follow_restart_true_only() {
        let mut p = project(&[("web", &["api"]), ("api", &["db"]), ("db", &[]), ("worker", &["db"]), ("ui", &["web"])]);
        for (svc, dep) in [("api", "db"), ("web", "api")] {
            if let Some(d) = p.services.get_mut(svc).and_then(|s| s.depends_on.get_mut(dep)) {
                d.restart = true;
            }
        }
        // worker depends on db without restart; ui depends on web without restart.
        assert_eq!(restart_dependents(&p, &["db".into()]), vec!["api", "web"]);
        assert_eq!(restart_dependents(&p, &["api".into()]), vec!["web"]);
        assert!(restart_dependents(&p, &["web".into()]).is_empty());
    }

    #[test]
    fn cycle() {
        let p = project(&[("a", &["b"]), ("b", &["c"]), ("c", &["a"])]);
        assert_eq!(order(&p).unwrap_err().to_string(), "dependency cycle detected: a -> b -> c -> a");
    }
}
