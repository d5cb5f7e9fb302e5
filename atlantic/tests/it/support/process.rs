//! `atlantic serve` (or one component) as a child process, to kill with SIGKILL.

use super::scenario::Api;
use super::{eventually, TestEnv};
use std::process::{Child, Command};
use std::time::Duration;

pub struct Server {
    child: Child,
}

impl Server {
    /// Starts `atlantic serve` on `port` against `env`, with extra variables.
    pub fn start(env: &TestEnv, port: u16, extra: &[(&str, &str)]) -> Self {
        Server::run(env, "serve", port, extra)
    }

    /// Starts `atlantic <command>` (a component: `serve`, `notify`, …) against
    /// `env`, its command API (if it runs one) on `port`.
    pub fn run(env: &TestEnv, command: &str, port: u16, extra: &[(&str, &str)]) -> Self {
        let child = Command::new(env!("CARGO_BIN_EXE_atlantic"))
            .arg(command)
            .envs(env.child_env())
            .env("COMMAND_API_ADDR", format!("127.0.0.1:{port}"))
            // A free port unless the test names one: tests run side by side.
            .env(
                "QUERY_API_ADDR",
                format!("127.0.0.1:{}", super::nats::free_port()),
            )
            .envs(extra.iter().copied())
            .spawn()
            .expect("start atlantic serve");
        Server { child }
    }

    pub fn kill_9(&mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reap");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub async fn wait_healthy(api: &Api) {
    eventually(Duration::from_secs(30), "the server to answer", || async {
        let response = api.http.get(api.url("/health")).send().await.ok()?;
        response.status().is_success().then_some(())
    })
    .await;
}
