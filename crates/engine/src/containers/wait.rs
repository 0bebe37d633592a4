//! `POST /containers/{id}/wait` (ContainerWait).

use std::future::Future;
use std::str::FromStr;
use std::time::Duration;

use super::state::Status;
use super::{Container, Snapshot};
use crate::{Engine, Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitCondition {
    NotRunning,
    NextExit,
    Removed,
}

impl FromStr for WaitCondition {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "" | "not-running" => Ok(WaitCondition::NotRunning),
            "next-exit" => Ok(WaitCondition::NextExit),
            "removed" => Ok(WaitCondition::Removed),
            other => Err(Error::InvalidArgument(format!("invalid condition: \"{other}\""))),
        }
    }
}

/// `{"StatusCode": N, "Error": {"Message": ...} | null}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitOutcome {
    pub status_code: i64,
    pub error: Option<String>,
}

fn outcome(s: &Snapshot) -> WaitOutcome {
    WaitOutcome { status_code: s.exit_code, error: (!s.error.is_empty()).then(|| s.error.clone()) }
}

impl Container {
    /// Waits until `done` holds for the latest snapshot (or the container is gone), at most
    /// `timeout`. Returns the snapshot that satisfied it, `None` on timeout.
    pub(crate) async fn wait_until(
        &self,
        done: impl Fn(&Snapshot) -> bool,
        timeout: Option<Duration>,
    ) -> Option<Snapshot> {
        let rx = self.subscribe();
        wait_on(rx, done, timeout).await
    }
}

async fn wait_on(
    mut rx: tokio::sync::watch::Receiver<Snapshot>,
    done: impl Fn(&Snapshot) -> bool,
    timeout: Option<Duration>,
) -> Option<Snapshot> {
    let fut = async {
        let seen = rx.wait_for(|s| done(s) || s.removed).await.map(|s| s.clone());
        match seen {
            Ok(s) => s,
            // The container (and its sender) is gone: the last value is final.
            Err(_) => rx.borrow().clone(),
        }
    };
    match timeout {
        Some(t) => tokio::time::timeout(t, fut).await.ok(),
        None => Some(fut.await),
    }
}

impl Engine {
    /// Checks the container and condition now, and returns a future that resolves when the
    /// condition is met (so the API can send headers first, as dockerd does).
    pub fn container_wait(
        &self,
        key: &str,
        condition: WaitCondition,
    ) -> Result<impl Future<Output = WaitOutcome> + Send + 'static> {
        let c = self.containers.get(key)?;
        let rx = c.subscribe();
        let initial = rx.borrow().clone();
        Ok(async move {
            let done: Box<dyn Fn(&Snapshot) -> bool + Send + Sync> = match condition {
                WaitCondition::NotRunning => Box::new(|s: &Snapshot| s.status != Status::Running),
                WaitCondition::NextExit => Box::new(move |s: &Snapshot| s.exits > initial.exits),
                WaitCondition::Removed => Box::new(|s: &Snapshot| s.removed),
            };
            let snap = wait_on(rx, done, None).await.unwrap_or(initial);
            let mut out = outcome(&snap);
            if condition == WaitCondition::Removed {
                // dockerd reports only the last exit code once a container is removed.
                out.error = None;
            }
            out
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions() {
        assert_eq!("".parse::<WaitCondition>().unwrap(), WaitCondition::NotRunning);
        assert_eq!("next-exit".parse::<WaitCondition>().unwrap(), WaitCondition::NextExit);
        assert_eq!("removed".parse::<WaitCondition>().unwrap(), WaitCondition::Removed);
        assert_eq!("bogus".parse::<WaitCondition>().unwrap_err().kind(), crate::ErrorKind::InvalidArgument);
    }

    #[tokio::test]
    async fn waits_for_exit_and_removal() {
        let snap = |status, exits, removed| Snapshot { status, exits, exit_code: 3, error: String::new(), removed };
        let (tx, rx) = tokio::sync::watch::channel(snap(Status::Running, 0, false));
        let h = tokio::spawn(wait_on(rx, |s| s.exits > 0, None));
        tx.send_replace(snap(Status::Exited, 1, false));
        let got = h.await.unwrap().unwrap();
        assert_eq!(outcome(&got), WaitOutcome { status_code: 3, error: None });
        let rx = tx.subscribe();
        assert!(wait_on(rx, |s| s.removed, Some(Duration::from_millis(20))).await.is_none());
        let rx = tx.subscribe();
        drop(tx);
        assert_eq!(wait_on(rx, |s| s.removed, None).await.unwrap().exits, 1);
    }
}
