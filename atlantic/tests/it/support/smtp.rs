//! An SMTP server of the test's own: aiosmtpd (an RFC 5321 server from PyPI,
//! which `make test` installs) on a free port, keeping every message it takes
//! in a Maildir.

use super::nats::free_port;
use mail_parser::MessageParser;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct SmtpServer {
    child: Child,
    port: u16,
    mailbox: tempfile::TempDir,
}

/// A message the server took.
#[derive(Debug, Clone)]
pub struct Received {
    pub message_id: String,
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Starts aiosmtpd on `port`, storing into `mailbox`, and waits until it
/// takes connections.
fn launch(port: u16, mailbox: &Path) -> Child {
    let child = Command::new("python3")
        .args(["-m", "aiosmtpd", "-n", "-l"])
        .arg(format!("127.0.0.1:{port}"))
        .args(["-c", "aiosmtpd.handlers.Mailbox"])
        .arg(mailbox.join("maildir"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start aiosmtpd (python3 -m pip install aiosmtpd; make test does)");
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "aiosmtpd did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

impl SmtpServer {
    pub fn start() -> Self {
        let port = free_port();
        let mailbox = tempfile::tempdir().expect("a mailbox folder");
        let child = launch(port, mailbox.path());
        SmtpServer {
            child,
            port,
            mailbox,
        }
    }

    /// `SMTP_URL` for this server (plain SMTP on loopback).
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Stops the server (SIGKILL); what it took stays.
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Starts it again on the same port and mailbox.
    pub fn restart(&mut self) {
        self.child = launch(self.port, self.mailbox.path());
    }

    /// Every message taken so far.
    pub fn messages(&self) -> Vec<Received> {
        let mut messages = Vec::new();
        for folder in ["new", "cur"] {
            let dir = self.mailbox.path().join("maildir").join(folder);
            let Ok(entries) = std::fs::read_dir(dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let Ok(raw) = std::fs::read(entry.path()) else {
                    continue;
                };
                let Some(parsed) = MessageParser::default().parse(&raw) else {
                    continue;
                };
                messages.push(Received {
                    message_id: parsed.message_id().unwrap_or_default().to_string(),
                    to: parsed
                        .to()
                        .and_then(|to| to.first())
                        .and_then(|a| a.address())
                        .unwrap_or_default()
                        .to_string(),
                    subject: parsed.subject().unwrap_or_default().to_string(),
                    text: parsed.body_text(0).unwrap_or_default().into_owned(),
                    html: parsed.body_html(0).unwrap_or_default().into_owned(),
                });
            }
        }
        messages
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.stop();
    }
}
