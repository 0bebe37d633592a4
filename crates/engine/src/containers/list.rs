//! `GET /containers/json` (ContainerList).

use std::collections::HashMap;

use berth_api_types::models::{
    ContainerSummary, ContainerSummaryHostConfig, ContainerSummaryNetworkSettings, ContainerSummaryStateEnum,
};
use berth_api_types::Filters;
use chrono::{DateTime, Utc};

use super::record::Record;
use super::state::Status;
use crate::{Engine, Error, Result};

/// Filter names dockerd accepts for containers.
pub const ACCEPTED_FILTERS: &[&str] = &[
    "ancestor",
    "before",
    "expose",
    "exited",
    "health",
    "id",
    "isolation",
    "is-task",
    "label",
    "name",
    "network",
    "publish",
    "since",
    "status",
    "volume",
];

const STATUSES: &[&str] = &["created", "restarting", "running", "removing", "paused", "exited", "dead"];

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListOptions {
    pub all: bool,
    pub limit: Option<usize>,
    pub size: bool,
    pub filters: Filters,
}

/// Checks filter names and values with dockerd's messages.
pub fn validate_filters(f: &Filters) -> Result<()> {
    if let Err(e) = f.validate(ACCEPTED_FILTERS) {
        let key = match e {
            berth_api_types::filters::FilterError::UnknownKey(k) => k,
            other => return Err(Error::InvalidArgument(other.to_string())),
        };
        return Err(Error::InvalidArgument(format!("Invalid filter '{key}'")));
    }
    for s in f.get("status") {
        if !STATUSES.contains(&s.as_str()) {
            return Err(Error::InvalidArgument(format!("Invalid filter 'status={s}'")));
        }
    }
    for e in f.get("exited") {
        if e.parse::<i64>().is_err() {
            return Err(Error::InvalidArgument(format!("Invalid filter 'exited={e}'")));
        }
    }
    Ok(())
}

/// True when `r` passes every filter (values of one filter are OR-ed, filters AND-ed).
pub fn matches(r: &Record, f: &Filters) -> bool {
    let any = |key: &str, pred: &dyn Fn(&str) -> bool| {
        let vals = f.get(key);
        vals.is_empty() || vals.iter().any(|v| pred(v))
    };
    let labels: HashMap<String, String> = r.config.labels.clone().into_iter().collect();
    any("id", &|v| r.id.starts_with(v))
        && any("name", &|v| r.name.contains(v.trim_start_matches('/')))
        && f.match_labels(&labels)
        && any("status", &|v| v == r.state.status.as_str())
        && any("exited", &|v| r.state.status == Status::Exited && v.parse::<i64>().ok() == Some(r.state.exit_code))
        && any("ancestor", &|v| ancestor_matches(r, v))
        && any("health", &|v| v == super::health::filter_word(r))
}

/// Every filter but `ancestor` (which the caller checks against resolved image ids).
fn matches_except_ancestor(r: &Record, f: &Filters) -> bool {
    let mut rest = f.clone();
    rest.remove("ancestor");
    matches(r, &rest)
}

fn ancestor_matches(r: &Record, a: &str) -> bool {
    let with_tag = |s: &str| {
        if s.rsplit('/').next().is_some_and(|l| l.contains(':')) {
            s.to_string()
        } else {
            format!("{s}:latest")
        }
    };
    let hex = r.image_id.strip_prefix("sha256:").unwrap_or(&r.image_id);
    let a_hex = a.strip_prefix("sha256:").unwrap_or(a);
    with_tag(&r.image) == with_tag(a) || (a_hex.len() >= 4 && hex.starts_with(a_hex))
}

pub fn summary(r: &Record, now: DateTime<Utc>) -> ContainerSummary {
    let mut command = r.path.clone();
    for a in &r.args {
        command.push(' ');
        command.push_str(a);
    }
    ContainerSummary {
        id: Some(r.id.clone()),
        names: Some(vec![format!("/{}", r.name)]),
        image: Some(r.image.clone()),
        image_id: Some(r.image_id.clone()),
        command: Some(command),
        created: Some(r.created.timestamp()),
        ports: Some(vec![]),
        labels: Some(r.config.labels.clone().into_iter().collect()),
        state: Some(if r.state.paused { ContainerSummaryStateEnum::PAUSED } else { summary_state(r.state.status) }),
        status: Some(super::health::status_text(r, now)),
        host_config: Some(ContainerSummaryHostConfig {
            network_mode: Some(r.host.network_mode.clone()),
            annotations: None,
        }),
        network_settings: Some(ContainerSummaryNetworkSettings { networks: Some(HashMap::new()) }),
        mounts: Some(vec![]),
        ..Default::default()
    }
}

fn summary_state(s: Status) -> ContainerSummaryStateEnum {
    match s {
        Status::Created => ContainerSummaryStateEnum::CREATED,
        Status::Running => ContainerSummaryStateEnum::RUNNING,
        Status::Restarting => ContainerSummaryStateEnum::RESTARTING,
        Status::Exited => ContainerSummaryStateEnum::EXITED,
        Status::Removing => ContainerSummaryStateEnum::REMOVING,
        Status::Dead => ContainerSummaryStateEnum::DEAD,
    }
}

impl Engine {
    pub async fn container_list(&self, opts: &ListOptions) -> Result<Vec<ContainerSummary>> {
        validate_filters(&opts.filters)?;
        let f = &opts.filters;
        let show_all = opts.all || opts.limit.is_some_and(|l| l > 0) || f.contains("status") || f.contains("exited");
        let mut records: Vec<Record> = self.containers.all().iter().map(|c| c.record()).collect();
        records.sort_by_key(|r| std::cmp::Reverse(r.created));
        let created_of = |key: &str| -> Result<Option<DateTime<Utc>>> {
            match f.get(key).first() {
                None => Ok(None),
                Some(v) => Ok(Some(self.containers.get(v)?.record().created)),
            }
        };
        let before = created_of("before")?;
        let since = created_of("since")?;
        // `ancestor=busybox` also matches containers whose image is busybox's current id.
        let ancestor_ids: Vec<String> =
            f.get("ancestor").iter().filter_map(|a| self.images.resolve(a).ok().map(|i| i.id)).collect();
        let now = Utc::now();
        let net_registry = self.networks.snapshot();
        let mut out: Vec<(String, ContainerSummary)> = records
            .iter()
            .filter(|r| {
                // dockerd lists a container waiting to restart as running.
                show_all
                    || before.is_some()
                    || since.is_some()
                    || matches!(r.state.status, Status::Running | Status::Restarting)
            })
            .filter(|r| before.is_none_or(|b| r.created < b))
            .filter(|r| since.is_none_or(|s| r.created > s))
            .filter(|r| matches(r, f) || (matches_except_ancestor(r, f) && ancestor_ids.contains(&r.image_id)))
            .map(|r| {
                let mut s = summary(r, now);
                // dockerd lists the mount points as inspect shows them (`ps --format {{.Mounts}}`).
                s.mounts = Some(self.mount_points(r));
                // And the networks with their endpoints (`ps --format {{.Networks}}`).
                let networks = self.container_network_settings_in(&net_registry, r).networks;
                s.network_settings = Some(ContainerSummaryNetworkSettings { networks });
                (r.id.clone(), s)
            })
            .collect();
        if let Some(limit) = opts.limit.filter(|l| *l > 0) {
            out.truncate(limit);
        }
        if opts.size {
            for (id, s) in &mut out {
                if let Ok((rw, rootfs)) = self.images.rootfs_sizes(id) {
                    s.size_rw = Some(rw);
                    s.size_root_fs = Some(rootfs);
                }
            }
        }
        Ok(out.into_iter().map(|(_, s)| s).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::containers::record::sample;

    fn f(json: &str) -> Filters {
        Filters::parse(json).unwrap()
    }

    #[test]
    fn filter_validation() {
        assert!(validate_filters(&f(r#"{"status":["running"],"label":["a"]}"#)).is_ok());
        assert_eq!(validate_filters(&f(r#"{"bogus":["x"]}"#)).unwrap_err().to_string(), "Invalid filter 'bogus'");
        assert_eq!(validate_filters(&f(r#"{"status":["x"]}"#)).unwrap_err().to_string(), "Invalid filter 'status=x'");
        assert!(validate_filters(&f(r#"{"exited":["x"]}"#)).is_err());
    }

    #[test]
    fn filter_matching() {
        let mut r = sample(&format!("abcd{}", "0".repeat(60)), "web-1");
        r.config.labels.insert("a".into(), "b".into());
        r.image_id = format!("sha256:{}", "f".repeat(64));
        assert!(matches(&r, &f(r#"{"id":["abc"],"name":["web"],"label":["a=b"],"status":["created"]}"#)));
        assert!(!matches(&r, &f(r#"{"id":["abd"]}"#)));
        assert!(!matches(&r, &f(r#"{"label":["a=c"]}"#)));
        assert!(matches(&r, &f(r#"{"status":["running","created"]}"#)));
        assert!(matches(&r, &f(r#"{"ancestor":["busybox:latest"]}"#)));
        assert!(matches(&r, &f(r#"{"ancestor":["ffff"]}"#)));
        assert!(!matches(&r, &f(r#"{"ancestor":["alpine"]}"#)));
        assert!(!matches(&r, &f(r#"{"exited":["0"]}"#)));
        r.state.started(1, Utc::now()).unwrap();
        r.state.exited(3, Utc::now(), false).unwrap();
        assert!(matches(&r, &f(r#"{"exited":["3"],"status":["exited"]}"#)));
    }

    #[test]
    fn summary_shape() {
        let mut r = sample(&"a".repeat(64), "web");
        r.path = "sleep".into();
        r.args = vec!["30".into()];
        let s = serde_json::to_value(summary(&r, Utc::now())).unwrap();
        assert_eq!(s["Names"][0], "/web");
        assert_eq!(s["Command"], "sleep 30");
        assert_eq!(s["State"], "created");
        assert_eq!(s["Status"], "Created");
        assert_eq!(s["Ports"], serde_json::json!([]));
        assert_eq!(s["HostConfig"]["NetworkMode"], "");
    }
}
