//! Waiting for Meilisearch tasks. Writes are asynchronous tasks whose errors
//! show only in the task's status: each is waited for with an explicit
//! deadline, polled often at first and then every [`POLL_MAX`].

use anyhow::{bail, Context};
use meilisearch_sdk::client::Client;
use meilisearch_sdk::errors::MeilisearchError;
use meilisearch_sdk::task_info::TaskInfo;
use meilisearch_sdk::tasks::Task;
use std::time::{Duration, Instant};

/// The first pause between two looks at a task.
const POLL_MIN: Duration = Duration::from_millis(2);

/// The longest pause between two looks at a task.
const POLL_MAX: Duration = Duration::from_millis(10);

/// Waits for `task` at most `timeout`; the error of a failed task.
pub async fn outcome(
    client: &Client,
    task: &TaskInfo,
    timeout: Duration,
) -> anyhow::Result<Option<MeilisearchError>> {
    let uid = task.task_uid;
    let deadline = Instant::now() + timeout;
    let mut pause = POLL_MIN;
    loop {
        match client
            .get_task(task)
            .await
            .with_context(|| format!("cannot read Meilisearch task {uid}"))?
        {
            Task::Succeeded { .. } => return Ok(None),
            Task::Failed { content } => return Ok(Some(content.error)),
            Task::Enqueued { .. } | Task::Processing { .. } => {}
        }
        if Instant::now() >= deadline {
            bail!("Meilisearch task {uid} did not finish within {timeout:?}");
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(POLL_MAX);
    }
}

/// Waits for every task of `tasks`; fails when one failed or did not finish.
pub async fn finish(client: &Client, tasks: &[TaskInfo], timeout: Duration) -> anyhow::Result<()> {
    for task in tasks {
        if let Some(error) = outcome(client, task, timeout).await? {
            bail!(
                "Meilisearch task {} failed: {}",
                task.task_uid,
                error.error_message
            );
        }
    }
    Ok(())
}
