//! A Meilisearch server of the test's own, on a free port with a temporary
//! database, from `MEILI_BIN` or `../shared/tools/meilisearch` beside the
//! project; none where neither exists (the test then says it was skipped).

use super::nats::free_port;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct MeiliServer {
    child: Child,
    port: u16,
    key: String,
    _store: tempfile::TempDir,
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
        let child = Command::new(binary)
            .args([
                "--http-addr",
                &format!("127.0.0.1:{port}"),
                "--master-key",
                &key,
            ])
            .arg("--no-analytics")
            .arg("--db-path")
            .arg(store.path().join("data.ms"))
            .arg("--dump-dir")
            .arg(store.path().join("dumps"))
            .arg("--snapshot-dir")
            .arg(store.path().join("snapshots"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start meilisearch");
        let server = MeiliServer {
            child,
            port,
            key,
            _store: store,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "meilisearch did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(server)
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
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
