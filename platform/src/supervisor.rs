//! The supervisor of a process's components: each runs as a task of its own.
//! A loop component (relay, saga, projector) that panics is logged with the
//! panic's message and started again after a doubling backoff; a server that
//! panics, or any component that fails, ends the run with that error, which
//! stops the others. No panic is lost. Inside a component,
//! [`until_shutdown`] is the loop that starts an attempt again after an error.

use crate::metrics::Metrics;
use std::future::Future;
use std::time::Duration;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// The first wait before a panicked component starts again.
const FIRST_BACKOFF: Duration = Duration::from_millis(100);

/// The longest wait before a panicked component starts again.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Components running side by side until shutdown or the first to end.
pub struct Supervisor {
    tasks: JoinSet<(&'static str, anyhow::Result<()>)>,
    shutdown: CancellationToken,
    metrics: Metrics,
}

/// What a panic said.
fn message(panic: Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|m| m.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".into())
}

impl Supervisor {
    /// A supervisor whose components stop on `shutdown`, which it cancels
    /// when the first component ends; it counts restarts in `metrics`
    /// (`atlantic_component_restarts_total{component}`).
    pub fn new(shutdown: CancellationToken, metrics: Metrics) -> Self {
        Supervisor {
            tasks: JoinSet::new(),
            shutdown,
            metrics,
        }
    }

    /// Runs `component` once (a server): its panic is its error.
    pub fn once<F>(&mut self, name: &'static str, component: F)
    where
        F: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        self.tasks.spawn(async move {
            let outcome = match tokio::spawn(component).await {
                Ok(outcome) => outcome,
                Err(failure) if failure.is_panic() => Err(anyhow::anyhow!(
                    "panicked: {}",
                    message(failure.into_panic())
                )),
                Err(failure) => Err(failure.into()),
            };
            (name, outcome)
        });
    }

    /// Runs `start(shutdown)` as the loop component `name`, starting it again
    /// each time it panics.
    pub fn restarting<F, Fut>(&mut self, name: &'static str, start: F)
    where
        F: Fn(CancellationToken) -> Fut + Send + 'static,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        let shutdown = self.shutdown.clone();
        let metrics = self.metrics.clone();
        self.tasks.spawn(async move {
            let mut backoff = FIRST_BACKOFF;
            loop {
                match tokio::spawn(start(shutdown.clone())).await {
                    Ok(outcome) => return (name, outcome),
                    Err(failure) if failure.is_panic() => {
                        let panic = message(failure.into_panic());
                        tracing::error!(component = name, %panic, ?backoff, "component panicked; starting it again");
                        metrics.add(
                            "atlantic_component_restarts_total",
                            &format!("component=\"{name}\""),
                            1,
                        );
                    }
                    Err(failure) => return (name, Err(failure.into())),
                }
                tokio::select! {
                    _ = shutdown.cancelled() => return (name, Ok(())),
                    _ = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        });
    }

    /// Waits until a component ends, stops the others and waits for them;
    /// the first error, named after its component.
    pub async fn join(mut self) -> anyhow::Result<()> {
        let mut outcome = Ok(());
        while let Some(ended) = self.tasks.join_next().await {
            self.shutdown.cancel();
            let error = match ended {
                Ok((_, Ok(()))) => continue,
                Ok((name, Err(error))) => error.context(format!("component {name}")),
                Err(failure) => failure.into(),
            };
            tracing::error!(
                error = format!("{error:#}"),
                "component ended with an error"
            );
            if outcome.is_ok() {
                outcome = Err(error);
            }
        }
        outcome
    }
}

/// Runs `attempt` until shutdown: after an error, logs it as `what` and
/// starts again after `pause`; an attempt that ends without error ends it.
pub async fn until_shutdown<F, Fut>(
    what: &str,
    pause: Duration,
    shutdown: &CancellationToken,
    mut attempt: F,
) where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    while !shutdown.is_cancelled() {
        match attempt().await {
            Ok(()) => return,
            Err(error) => {
                tracing::warn!(
                    error = format!("{error:#}"),
                    "{what} failed; starting again"
                );
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = tokio::time::sleep(pause) => {}
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    #[tokio::test]
    async fn a_loop_that_panics_is_started_again() {
        let shutdown = CancellationToken::new();
        let metrics = Metrics::default();
        let mut supervisor = Supervisor::new(shutdown.clone(), metrics.clone());
        let starts = Arc::new(AtomicUsize::new(0));
        let counted = starts.clone();
        supervisor.restarting("flaky", move |stop| {
            let start = counted.fetch_add(1, Ordering::SeqCst);
            async move {
                assert!(start > 0, "the first run fails");
                stop.cancelled().await;
                Ok(())
            }
        });
        let restarted = starts.clone();
        let stopper = shutdown.clone();
        supervisor.once("watcher", async move {
            while restarted.load(Ordering::SeqCst) < 2 {
                tokio::task::yield_now().await;
            }
            stopper.cancel();
            Ok(())
        });
        supervisor.join().await.unwrap();
        assert_eq!(starts.load(Ordering::SeqCst), 2);
        assert_eq!(
            metrics.get("atlantic_component_restarts_total", "component=\"flaky\""),
            1
        );
    }

    #[tokio::test]
    async fn a_server_that_panics_ends_the_run_with_its_message() {
        let shutdown = CancellationToken::new();
        let mut supervisor = Supervisor::new(shutdown.clone(), Metrics::default());
        supervisor.once("server", async { panic!("the socket is gone") });
        let stop = shutdown.clone();
        supervisor.restarting("loop", move |_| {
            let stop = stop.clone();
            async move {
                stop.cancelled().await;
                Ok(())
            }
        });
        let error = supervisor.join().await.unwrap_err();
        let text = format!("{error:#}");
        assert!(
            text.contains("server") && text.contains("the socket is gone"),
            "{text}"
        );
        assert!(shutdown.is_cancelled(), "the other components were stopped");
    }
}
