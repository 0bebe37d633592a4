//! The converge plan of `up`: for each service, in dependency order, which of its containers
//! to keep, start, recreate, create or remove, decided from the config hash Compose stores
//! in `com.docker.compose.config-hash`. The plan is data; the CLI applies it.

use std::collections::BTreeMap;

use crate::labels;
use crate::model::Project;

/// A container of the project as the daemon lists it.
#[derive(Clone, Debug, PartialEq)]
pub struct Existing {
    pub id: String,
    pub name: String,
    pub service: String,
    pub number: u32,
    pub config_hash: String,
    /// Docker's state: created, running, paused, restarting, exited, dead.
    pub state: String,
    pub oneoff: bool,
    /// The image ID the container was created from (empty when unknown).
    pub image_id: String,
}

impl Existing {
    /// From a ContainerList entry's id, first name and labels.
    pub fn from_labels(id: &str, name: &str, state: &str, l: &BTreeMap<String, String>) -> Option<Existing> {
        Some(Existing {
            id: id.to_string(),
            name: name.trim_start_matches('/').to_string(),
            service: l.get(labels::SERVICE)?.clone(),
            number: l.get(labels::NUMBER).and_then(|n| n.parse().ok()).unwrap_or(1),
            config_hash: l.get(labels::CONFIG_HASH).cloned().unwrap_or_default(),
            state: state.to_string(),
            oneoff: l.get(labels::ONEOFF).is_some_and(|v| v.eq_ignore_ascii_case("true")),
            image_id: String::new(),
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Up to date and running.
    Keep {
        id: String,
        name: String,
    },
    /// Up to date but not running.
    Start {
        id: String,
        name: String,
    },
    /// Out of date: stop and remove it, create number `number` again.
    Recreate {
        id: String,
        name: String,
        number: u32,
    },
    Create {
        number: u32,
    },
    /// Scale down (or `down`).
    Remove {
        id: String,
        name: String,
    },
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct UpOptions {
    pub force_recreate: bool,
    pub no_recreate: bool,
    /// `--scale svc=N`, winning over `deploy.replicas`/`scale`.
    pub scale: BTreeMap<String, u32>,
    /// The current image ID of each service's image: a container made from another image
    /// (a rebuilt or re-pulled tag) is out of date.
    pub image_ids: BTreeMap<String, String>,
}

/// One service's actions.
#[derive(Clone, Debug, PartialEq)]
pub struct ServicePlan {
    pub service: String,
    pub actions: Vec<Action>,
}

/// The plan for `services` (already in start order) given the project's current containers.
pub fn plan_up(project: &Project, services: &[String], existing: &[Existing], opts: &UpOptions) -> Vec<ServicePlan> {
    let mut out = Vec::new();
    for name in services {
        let Some(svc) = project.services.get(name) else { continue };
        let hash = labels::config_hash(svc);
        let want = opts.scale.get(name).copied().or(svc.replicas).unwrap_or(1);
        let mut mine: Vec<&Existing> = existing.iter().filter(|e| &e.service == name && !e.oneoff).collect();
        mine.sort_by_key(|e| e.number);
        let mut actions = Vec::new();
        // Highest numbers go first when scaling down.
        let keep_n = (want as usize).min(mine.len());
        for e in mine.iter().skip(keep_n).rev() {
            actions.push(Action::Remove { id: e.id.clone(), name: e.name.clone() });
        }
        for e in mine.iter().take(keep_n) {
            let new_image = opts.image_ids.get(name).is_some_and(|id| !e.image_id.is_empty() && *id != e.image_id);
            let outdated = opts.force_recreate || (!opts.no_recreate && (e.config_hash != hash || new_image));
            actions.push(if outdated {
                Action::Recreate { id: e.id.clone(), name: e.name.clone(), number: e.number }
            } else if e.state == "running" {
                Action::Keep { id: e.id.clone(), name: e.name.clone() }
            } else {
                Action::Start { id: e.id.clone(), name: e.name.clone() }
            });
        }
        let mut used: Vec<u32> = mine.iter().take(keep_n).map(|e| e.number).collect();
        let mut next = 1;
        for _ in keep_n..want as usize {
            while used.contains(&next) {
                next += 1;
            }
            used.push(next);
            actions.push(Action::Create { number: next });
        }
        out.push(ServicePlan { service: name.clone(), actions });
    }
    out
}

/// Containers of services the project no longer defines (not one-offs).
pub fn orphans<'a>(project: &Project, existing: &'a [Existing]) -> Vec<&'a Existing> {
    existing
        .iter()
        .filter(|e| {
            !e.oneoff && !project.services.contains_key(&e.service) && !project.disabled.contains_key(&e.service)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Service;

    fn project() -> Project {
        let mut p = Project { name: "p".into(), ..Default::default() };
        for n in ["db", "web"] {
            p.services
                .insert(n.into(), Service { name: n.into(), image: Some("busybox".into()), ..Default::default() });
        }
        p
    }

    fn ex(p: &Project, svc: &str, n: u32, state: &str, fresh: bool) -> Existing {
        Existing {
            id: format!("{svc}{n}"),
            name: format!("p-{svc}-{n}"),
            service: svc.into(),
            number: n,
            config_hash: if fresh { labels::config_hash(&p.services[svc]) } else { "old".into() },
            state: state.into(),
            oneoff: false,
            image_id: "sha256:a".into(),
        }
    }

    #[test]
    fn fresh_project_creates_one_each() {
        let p = project();
        let plan = plan_up(&p, &["db".into(), "web".into()], &[], &UpOptions::default());
        assert_eq!(plan[0].actions, vec![Action::Create { number: 1 }]);
        assert_eq!(plan[1].service, "web");
    }

    #[test]
    fn unchanged_is_noop_changed_recreates_stopped_starts() {
        let p = project();
        let existing = vec![ex(&p, "db", 1, "running", true), ex(&p, "web", 1, "exited", true)];
        let plan = plan_up(&p, &["db".into(), "web".into()], &existing, &UpOptions::default());
        assert_eq!(plan[0].actions, vec![Action::Keep { id: "db1".into(), name: "p-db-1".into() }]);
        assert_eq!(plan[1].actions, vec![Action::Start { id: "web1".into(), name: "p-web-1".into() }]);

        let existing = vec![ex(&p, "db", 1, "running", true), ex(&p, "web", 1, "running", false)];
        let plan = plan_up(&p, &["db".into(), "web".into()], &existing, &UpOptions::default());
        assert_eq!(plan[0].actions, vec![Action::Keep { id: "db1".into(), name: "p-db-1".into() }]);
        assert_eq!(plan[1].actions, vec![Action::Recreate { id: "web1".into(), name: "p-web-1".into(), number: 1 }]);
        let no = plan_up(&p, &["web".into()], &existing, &UpOptions { no_recreate: true, ..Default::default() });
        assert_eq!(no[0].actions, vec![Action::Keep { id: "web1".into(), name: "p-web-1".into() }]);
        let force = plan_up(&p, &["db".into()], &existing, &UpOptions { force_recreate: true, ..Default::default() });
        assert!(matches!(force[0].actions[0], Action::Recreate { .. }));
    }

    #[test]
    fn new_image_recreates() {
        let p = project();
        let existing = vec![ex(&p, "web", 1, "running", true)];
        let mut opts = UpOptions::default();
        opts.image_ids.insert("web".into(), "sha256:a".into());
        assert!(matches!(plan_up(&p, &["web".into()], &existing, &opts)[0].actions[0], Action::Keep { .. }));
        opts.image_ids.insert("web".into(), "sha256:b".into());
        assert!(matches!(plan_up(&p, &["web".into()], &existing, &opts)[0].actions[0], Action::Recreate { .. }));
    }

    #[test]
    fn scale_up_fills_gaps_and_down_removes_highest() {
        let p = project();
        let existing = vec![ex(&p, "web", 2, "running", true)];
        let opts = UpOptions { scale: BTreeMap::from([("web".into(), 3)]), ..Default::default() };
        let plan = plan_up(&p, &["web".into()], &existing, &opts);
        assert_eq!(
            plan[0].actions,
            vec![
                Action::Keep { id: "web2".into(), name: "p-web-2".into() },
                Action::Create { number: 1 },
                Action::Create { number: 3 }
            ]
        );
        let existing: Vec<_> = (1..=3).map(|n| ex(&p, "web", n, "running", true)).collect();
        let opts = UpOptions { scale: BTreeMap::from([("web".into(), 1)]), ..Default::default() };
        let plan = plan_up(&p, &["web".into()], &existing, &opts);
        assert_eq!(plan[0].actions[0], Action::Remove { id: "web3".into(), name: "p-web-3".into() });
        assert_eq!(plan[0].actions[1], Action::Remove { id: "web2".into(), name: "p-web-2".into() });
        assert_eq!(plan[0].actions[2], Action::Keep { id: "web1".into(), name: "p-web-1".into() });
    }

    #[test]
    fn orphans_are_unknown_services() {
        let p = project();
        let mut old = ex(&p, "web", 1, "running", true);
        old.service = "old".into();
        let existing = vec![ex(&p, "web", 1, "running", true), old];
        let o = orphans(&p, &existing);
        assert_eq!(o.len(), 1);
        assert_eq!(o[0].service, "old");
    }
}
