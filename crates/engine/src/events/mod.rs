//! The event bus behind `GET /events`: every emitted event goes into a bounded in-memory history
//! (for `since`) and to live subscribers (a tokio broadcast channel).
//!
//! # How to emit (one line in an engine operation)
//!
//! ```text
//! // Container events: attributes get the container's labels, `image` and `name` added.
//! self.emit_container(&c.record(), "pause", &[]);
//! self.emit_container(&record, "exec_create: sh -c true", &[("execID", exec_id)]);
//! self.emit_container(&record, "exec_die", &[("execID", exec_id), ("exitCode", code.to_string())]);
//! // Anything else: type, action, actor id, attributes.
//! self.emit("volume", "create", &name, [("driver".to_string(), "local".to_string())].into());
//! self.emit_image(&image_id, "tag", "busybox:latest");
//! ```
//!
//! Actions are dockerd's words: `create start attach die stop kill pause unpause restart rename
//! destroy oom resize`, `health_status: healthy`, `exec_create: <cmd>`, `exec_start: <cmd>`,
//! `exec_die`; images `pull push tag untag delete import load save`; volumes `create mount
//! unmount destroy`; networks `create connect disconnect destroy`. Emitting never fails and never
//! blocks.

pub mod filter;

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;

use berth_api_types::events::{EventActor, EventMessage};
use berth_api_types::Filters;
use futures_util::Stream;
use tokio::sync::broadcast;

use crate::containers::record::Record;
use crate::{Engine, Error, Result};

/// How many past events `since` can reach back to.
pub const HISTORY: usize = 1024;

/// The bus: history plus live fan-out.
pub struct Events {
    history: Mutex<VecDeque<EventMessage>>,
    live: broadcast::Sender<EventMessage>,
}

impl Default for Events {
    fn default() -> Self {
        Events { history: Mutex::new(VecDeque::with_capacity(HISTORY)), live: broadcast::channel(HISTORY).0 }
    }
}

/// What a `GET /events` subscriber asked for; times in nanoseconds since the epoch.
#[derive(Debug, Clone, Default)]
pub struct EventsOptions {
    pub since: Option<i64>,
    pub until: Option<i64>,
    pub filters: Filters,
}

fn now_nanos() -> i64 {
    let d = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)
}

fn lock(m: &Mutex<VecDeque<EventMessage>>) -> std::sync::MutexGuard<'_, VecDeque<EventMessage>> {
    // A poisoned lock only means a panic elsewhere while it was held; the queue is still valid.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Events {
    /// Stamps `msg` with the current time, records it and sends it to live subscribers.
    pub fn publish(&self, mut msg: EventMessage) {
        msg.time_nano = now_nanos();
        msg.time = msg.time_nano / 1_000_000_000;
        if msg.scope.is_empty() {
            msg.scope = "local".into();
        }
        let mut history = lock(&self.history);
        if history.len() == HISTORY {
            history.pop_front();
        }
        history.push_back(msg.clone());
        // Sent under the history lock so a subscriber sees each event exactly once.
        let _ = self.live.send(msg);
    }

    /// Past events matching `opts` and a receiver of the live ones that follow them.
    fn subscribe(&self, opts: &EventsOptions) -> (Vec<EventMessage>, broadcast::Receiver<EventMessage>) {
        let history = lock(&self.history);
        let past = if opts.since.is_none() && opts.until.is_none() {
            Vec::new()
        } else {
            let since = opts.since.unwrap_or(0);
            history
                .iter()
                .filter(|m| m.time_nano >= since && opts.until.is_none_or(|u| m.time_nano <= u))
                .filter(|m| filter::matches(&opts.filters, m))
                .cloned()
                .collect()
        };
        (past, self.live.subscribe())
    }
}

/// Builds a message (time is stamped on publish).
pub fn message(typ: &str, action: &str, id: &str, attributes: BTreeMap<String, String>) -> EventMessage {
    let legacy = matches!(typ, "container" | "image");
    EventMessage {
        status: if legacy { action.to_string() } else { String::new() },
        id: if legacy { id.to_string() } else { String::new() },
        from: String::new(),
        typ: typ.to_string(),
        action: action.to_string(),
        actor: EventActor { id: id.to_string(), attributes },
        scope: "local".into(),
        time: 0,
        time_nano: 0,
    }
}

/// A container event as dockerd builds it: labels, then `image` and `name`, then `extra`.
pub fn container_message(r: &Record, action: &str, extra: &[(&str, String)]) -> EventMessage {
    let mut attributes: BTreeMap<String, String> = r.config.labels.clone();
    attributes.insert("image".into(), r.image.clone());
    attributes.insert("name".into(), r.name.clone());
    for (k, v) in extra {
        attributes.insert((*k).to_string(), v.clone());
    }
    let mut m = message("container", action, &r.id, attributes);
    m.from = r.image.clone();
    m
}

impl Engine {
    /// Emits any event (see the module docs).
    pub fn emit(&self, typ: &str, action: &str, id: &str, attributes: BTreeMap<String, String>) {
        self.events.publish(message(typ, action, id, attributes));
    }

    /// Emits a container event with dockerd's attributes plus `extra`.
    pub fn emit_container(&self, r: &Record, action: &str, extra: &[(&str, String)]) {
        self.events.publish(container_message(r, action, extra));
    }

    /// Emits an image event: actor `id`, attribute `name` plus the image's labels when known.
    pub fn emit_image(&self, id: &str, action: &str, name: &str) {
        let mut attributes: BTreeMap<String, String> = self
            .images
            .inner
            .config(id)
            .ok()
            .and_then(|(_, c)| c.config.labels)
            .map(|l| l.into_iter().collect())
            .unwrap_or_default();
        attributes.insert("name".into(), name.to_string());
        self.emit("image", action, id, attributes);
    }

    /// A volume event (`create`, `destroy`) with dockerd's `driver` attribute.
    pub fn emit_volume(&self, name: &str, action: &str) {
        self.emit("volume", action, name, [("driver".to_string(), "local".to_string())].into());
    }

    /// The `mount` event of a volume as container `r` starts.
    pub(crate) fn emit_volume_mount(&self, r: &Record, m: &crate::volumes::spec::MountPoint) {
        let attrs = [
            ("container", r.id.clone()),
            ("destination", m.destination.clone()),
            ("driver", "local".to_string()),
            ("propagation", m.propagation.clone()),
            ("read/write", m.rw.to_string()),
        ];
        self.emit("volume", "mount", &m.source, attrs.into_iter().map(|(k, v)| (k.to_string(), v)).collect());
    }

    /// The `unmount` events of container `r`'s volumes after it stopped.
    pub(crate) fn emit_volume_unmounts(&self, r: &Record) {
        for m in r.host.mounts.iter().filter(|m| m.kind == crate::volumes::spec::MountKind::Volume) {
            let attrs = [("container".to_string(), r.id.clone()), ("driver".to_string(), "local".to_string())];
            self.emit("volume", "unmount", &m.source, attrs.into());
        }
    }

    /// A network event: `name` and `type` (the driver), plus `container` for connect/disconnect.
    pub fn emit_network(&self, id: &str, action: &str, name: &str, driver: &str, container: Option<&str>) {
        let mut attrs: BTreeMap<String, String> =
            [("name".to_string(), name.to_string()), ("type".to_string(), driver.to_string())].into();
        if let Some(c) = container {
            attrs.insert("container".into(), c.to_string());
        }
        self.emit("network", action, id, attrs);
    }

    /// `GET /events`: past events from `since` (up to `until`), then live ones until `until`
    /// (forever when unset). A past `until` ends the stream after the history.
    pub fn system_events(&self, opts: EventsOptions) -> Result<impl Stream<Item = EventMessage> + Send + 'static> {
        if let (Some(s), Some(u)) = (opts.since, opts.until) {
            if s > u {
                return Err(Error::InvalidArgument(format!(
                    "`since` time ({}) cannot be after `until` time ({})",
                    fmt_secs(s),
                    fmt_secs(u)
                )));
            }
        }
        let (past, rx) = self.events.subscribe(&opts);
        let live_wanted = opts.until.is_none_or(|u| u > now_nanos());
        let deadline = opts.until.map(|u| {
            let wait = u64::try_from(u.saturating_sub(now_nanos())).unwrap_or(0);
            tokio::time::Instant::now() + std::time::Duration::from_nanos(wait)
        });
        let past = futures_util::stream::iter(past);
        let live = futures_util::stream::unfold(
            (rx, opts.filters, deadline, live_wanted),
            |(mut rx, filters, deadline, wanted)| async move {
                if !wanted {
                    return None;
                }
                loop {
                    let next = match deadline {
                        Some(d) => match tokio::time::timeout_at(d, rx.recv()).await {
                            Ok(r) => r,
                            Err(_) => return None,
                        },
                        None => rx.recv().await,
                    };
                    match next {
                        Ok(m) if filter::matches(&filters, &m) => return Some((m, (rx, filters, deadline, wanted))),
                        Ok(_) => {}
                        Err(broadcast::error::RecvError::Lagged(n)) => {
                            tracing::warn!(skipped = n, "events subscriber too slow; events dropped");
                        }
                        Err(broadcast::error::RecvError::Closed) => return None,
                    }
                }
            },
        );
        Ok(futures_util::StreamExt::chain(past, live))
    }
}

/// Seconds as moby prints them in the since/until error.
fn fmt_secs(nanos: i64) -> String {
    let (s, n) = (nanos / 1_000_000_000, nanos % 1_000_000_000);
    if n == 0 {
        s.to_string()
    } else {
        format!("{s}.{n:09}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bus_with(n: usize) -> Events {
        let bus = Events::default();
        for i in 0..n {
            bus.publish(message("volume", "create", &format!("v{i}"), BTreeMap::new()));
        }
        bus
    }

    #[test]
    fn history_is_bounded_and_since_filters() {
        let bus = bus_with(HISTORY + 5);
        let all = EventsOptions { since: Some(0), ..Default::default() };
        let (past, _) = bus.subscribe(&all);
        assert_eq!(past.len(), HISTORY);
        assert_eq!(past[0].actor.id, "v5");
        let (none, _) = bus.subscribe(&EventsOptions::default());
        assert!(none.is_empty());
        let later = EventsOptions { since: Some(now_nanos() + 1_000_000_000), ..Default::default() };
        assert!(bus.subscribe(&later).0.is_empty());
        let mut f = Filters::default();
        f.insert("volume", "v1028");
        let (one, _) = bus.subscribe(&EventsOptions { since: Some(0), until: None, filters: f });
        assert_eq!(one.len(), 1);
    }

    #[test]
    fn live_subscribers_get_each_event_once() {
        let bus = bus_with(2);
        let (past, mut rx) = bus.subscribe(&EventsOptions { since: Some(0), ..Default::default() });
        assert_eq!(past.len(), 2);
        bus.publish(message("network", "create", "n1", BTreeMap::new()));
        let m = rx.try_recv().unwrap();
        assert_eq!((m.typ.as_str(), m.actor.id.as_str(), m.scope.as_str()), ("network", "n1", "local"));
        assert!(m.time_nano > 0 && m.time == m.time_nano / 1_000_000_000);
        assert!(m.status.is_empty() && m.id.is_empty());
        assert!(rx.try_recv().is_err());
    }

    #[test]
    fn container_messages_carry_labels_image_and_name() {
        let mut r = crate::containers::record::sample(&"a".repeat(64), "web");
        r.config.labels.insert("foo".into(), "bar".into());
        let m = container_message(&r, "die", &[("exitCode", "3".into())]);
        assert_eq!(m.status, "die");
        assert_eq!(m.id, r.id);
        assert_eq!(m.from, "busybox");
        let keys: Vec<_> = m.actor.attributes.keys().cloned().collect();
        assert_eq!(keys, ["exitCode", "foo", "image", "name"]);
        assert_eq!(fmt_secs(5_000_000_000), "5");
        assert_eq!(fmt_secs(5_500_000_000), "5.500000000");
    }
}
