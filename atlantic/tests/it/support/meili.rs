//! A Meilisearch server of the test's own, on a free port with a temporary
//! database, from `MEILI_BIN` or `../shared/tools/meilisearch` beside the
//! project; none where neither exists (the test then says it was skipped).

use super::nats::free_port;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct MeiliServer {
    binary: PathBuf,
    child: Child,
    port: u16,
    key: String,
    store: tempfile::TempDir,
}

/// Starts `binary` on `port` with its database in `store`, and waits until it
/// takes connections.
fn launch(binary: &Path, port: u16, key: &str, store: &Path) -> Child {
    let child = Command::new(binary)
        .args([
            "--http-addr",
            &format!("127.0.0.1:{port}"),
            "--master-key",
            key,
        ])
        .arg("--no-analytics")
        // Meilisearch's default (two thirds of the RAM) costs each task
        // hundreds of milliseconds; see the README.
        .arg("--max-indexing-memory=512MiB")
        .arg("--db-path")
        .arg(store.join("data.ms"))
        .arg("--dump-dir")
        .arg(store.join("dumps"))
        .arg("--snapshot-dir")
        .arg(store.join("snapshots"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start meilisearch");
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "meilisearch did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

/// Where the Meilisearch binary is, if anywhere.
fn binary() -> Option<PathBuf> {
    std::env::var_os("MEILI_BIN")
        .map(PathBuf::from)
        .or_else(|| {
            let shared =
                PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/tools/meilisearch");
            shared.exists().then_some(shared)
        })
}

impl MeiliServer {
    /// Starts one, or says why the test is skipped and answers `None`.
    pub fn start(test: &str) -> Option<Self> {
        let Some(binary) = binary() else {
            eprintln!(
                "skipped {test}: no Meilisearch binary (MEILI_BIN, ../shared/tools/meilisearch)"
            );
            return None;
        };
        let store = tempfile::tempdir().expect("a temp dir");
        let port = free_port();
        let key = format!("test-key-{}", uuid::Uuid::new_v4().simple());
        let child = launch(&binary, port, &key, store.path());
        Some(MeiliServer {
            binary,
            child,
            port,
            key,
            store,
        })
    }

    /// Kills it with SIGKILL.
    pub fn kill_9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Starts it again on the same port and database.
    pub fn restart(&mut self) {
        self.kill_9();
        self.child = launch(&self.binary, self.port, &self.key, self.store.path());
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn key(&self) -> &str {
        &self.key
    }
}

impl Drop for MeiliServer {
    fn drop(&mut self) {
        self.kill_9();
    }
}
