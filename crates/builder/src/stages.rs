//! Multi-stage scheduling: the stages the target needs run concurrently, each as soon as the
//! stages it uses (base, `COPY --from`, `RUN --mount=from`) are built. dockerd's classic
//! builder runs them one after the other, so the output must read the same: every stage
//! writes into its own buffer and one printer forwards the buffers in Dockerfile order
//! (the first stage streams live, later ones as soon as every earlier stage is done). When a
//! stage fails, nothing after it is printed and its error is the build's, as if the build
//! had stopped there; stages not started yet are skipped.

use std::collections::BTreeSet;

use futures_util::future::join_all;
use tokio::sync::{mpsc, watch};

use crate::backend::{BuildBackend, Progress};
use crate::build::{stage_deps, Builder};
use crate::expand::Vars;
use crate::parse::Dockerfile;
use crate::{Error, Result};

/// Messages a stage may get ahead of the printer before it waits.
const STAGE_BUFFER: usize = 4096;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Status {
    Pending,
    Done(String),
    Failed,
}

/// What one stage task ended with: `None` when it was skipped because an earlier stage
/// failed.
type StageOutcome = (Option<Result<String>>, BTreeSet<String>);

impl<B: BuildBackend> Builder<'_, B> {
    /// Builds the `need`ed stages up to `target` and returns the target's image.
    pub(crate) async fn run_stages(
        &mut self,
        df: &Dockerfile,
        target: usize,
        need: &[bool],
        meta: &Vars,
    ) -> Result<String> {
        let mut offsets = Vec::with_capacity(df.stages.len());
        let mut at = self.step;
        for s in &df.stages {
            offsets.push(at);
            at += 1 + s.steps.len();
        }
        let order: Vec<usize> = (0..=target).filter(|i| need[*i]).collect();
        let (status, _) = watch::channel(vec![Status::Pending; df.stages.len()]);
        let mut receivers = Vec::with_capacity(order.len());
        let mut tasks = Vec::with_capacity(order.len());
        for &i in &order {
            let (tx, rx) = mpsc::channel(STAGE_BUFFER);
            receivers.push((i, rx));
            let deps = stage_deps(df, i, meta, self.escape);
            tasks.push(self.stage_task(df, i, deps, offsets[i], tx, &status, meta));
        }
        let printer = print_in_order(self.out, receivers, &status);
        let (outcomes, printed) = tokio::join!(join_all(tasks), printer);
        let mut first_err = None;
        for (r, used) in outcomes {
            self.used_args.extend(used);
            if let (Some(Err(e)), None) = (r, &first_err) {
                first_err = Some(e);
            }
        }
        if let Some(e) = first_err {
            return Err(e);
        }
        printed?;
        let done = status.borrow()[target].clone();
        match done {
            Status::Done(id) => Ok(id),
            _ => Err(Error::Backend("target stage produced no image".into())),
        }
    }

    /// One stage: waits for the stages it uses, then builds with its own progress buffer.
    #[allow(clippy::too_many_arguments)]
    async fn stage_task(
        &self,
        df: &Dockerfile,
        i: usize,
        deps: Vec<usize>,
        offset: usize,
        tx: Progress,
        status: &watch::Sender<Vec<Status>>,
        meta: &Vars,
    ) -> StageOutcome {
        let mut rx = status.subscribe();
        let ready = rx.wait_for(|v| deps.iter().all(|d| v[*d] != Status::Pending)).await.map(|v| v.clone());
        let Ok(snap) = ready else { return (None, BTreeSet::new()) };
        if deps.iter().any(|d| snap[*d] == Status::Failed) || snap[..i].contains(&Status::Failed) {
            status.send_modify(|v| v[i] = Status::Failed);
            return (None, BTreeSet::new());
        }
        let run_out = if self.opts.quiet { mpsc::channel(1).0 } else { tx.clone() };
        let mut sb = Builder {
            backend: self.backend,
            opts: self.opts,
            out: &tx,
            run_out,
            context: self.context.clone(),
            escape: self.escape,
            step: offset,
            total: self.total,
            stage_images: snap.iter().map(|s| if let Status::Done(id) = s { Some(id.clone()) } else { None }).collect(),
            stage_names: self.stage_names.clone(),
            used_args: BTreeSet::new(),
        };
        let r = sb.build_stage(i, &df.stages[i], meta).await;
        status.send_modify(|v| {
            v[i] = match &r {
                Ok(id) => Status::Done(id.clone()),
                Err(_) => Status::Failed,
            }
        });
        let used = std::mem::take(&mut sb.used_args);
        drop(sb);
        drop(tx);
        (Some(r), used)
    }
}

/// Forwards each stage's buffer to `out`, stage by stage in Dockerfile order, stopping after
/// a failed stage. Returning drops the buffers, so stages still writing see the build as
/// cancelled.
async fn print_in_order(
    out: &Progress,
    receivers: Vec<(usize, mpsc::Receiver<berth_api_types::query::images::JsonMessage>)>,
    status: &watch::Sender<Vec<Status>>,
) -> Result<()> {
    for (i, mut rx) in receivers {
        while let Some(m) = rx.recv().await {
            out.send(m).await.map_err(|_| Error::Cancelled)?;
        }
        if status.borrow()[i] == Status::Failed {
            return Ok(());
        }
    }
    Ok(())
}
