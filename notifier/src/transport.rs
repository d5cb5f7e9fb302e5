//! Where mail goes: an SMTP server, or without one `.eml` files in a folder.

use anyhow::Context;
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::path::PathBuf;

/// How mail is sent and signed.
#[derive(Debug, Clone)]
pub struct MailSettings {
    /// The SMTP server (`smtp://host:port`, `smtps://user:password@host`,
    /// `smtp://host?tls=required`); without one, mail is written into `mail_dir`.
    pub smtp_url: Option<String>,
    /// Where `.eml` files go without an SMTP server.
    pub mail_dir: PathBuf,
    /// The sender, `Name <address>`.
    pub from: String,
    /// The shop's name, in every mail.
    pub shop: String,
}

/// An SMTP server, or a folder of `.eml` files.
pub enum Transport {
    /// Sent over SMTP.
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    /// Written as files (development, a fresh machine).
    Files(AsyncFileTransport<Tokio1Executor>, PathBuf),
}

impl Transport {
    /// The transport `settings` name.
    pub fn new(settings: &MailSettings) -> anyhow::Result<Self> {
        Ok(match &settings.smtp_url {
            Some(url) => Transport::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .context("bad SMTP_URL")?
                    .build(),
            ),
            None => {
                std::fs::create_dir_all(&settings.mail_dir).with_context(|| {
                    format!(
                        "cannot make the mail folder {}",
                        settings.mail_dir.display()
                    )
                })?;
                Transport::Files(
                    AsyncFileTransport::new(&settings.mail_dir),
                    settings.mail_dir.clone(),
                )
            }
        })
    }

    /// Hands `message` to the server (or writes it).
    pub async fn send(&self, message: Message) -> anyhow::Result<()> {
        match self {
            Transport::Smtp(smtp) => {
                smtp.send(message).await?;
            }
            Transport::Files(files, _) => {
                files.send(message).await?;
            }
        }
        Ok(())
    }

    /// Whether the server answers (or the folder is there).
    pub async fn reachable(&self) -> anyhow::Result<()> {
        match self {
            Transport::Smtp(smtp) => {
                if !smtp.test_connection().await? {
                    anyhow::bail!("the SMTP server does not answer");
                }
            }
            Transport::Files(_, dir) => {
                anyhow::ensure!(dir.is_dir(), "the mail folder {} is gone", dir.display());
            }
        }
        Ok(())
    }
}
