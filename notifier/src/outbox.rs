//! Sends recorded: a mail goes out once per event and recipient.

use crate::compose::Mail;
use crate::Notifier;
use anyhow::Context;

impl Notifier {
    /// Sends `mail` unless a send of it is recorded, then records it.
    pub(crate) async fn send_once(&self, mail: Mail) -> anyhow::Result<()> {
        let sent: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM mail_sent WHERE event_id = $1 AND recipient = $2)",
        )
        .bind(mail.event_id)
        .bind(&mail.to)
        .fetch_one(&self.pool)
        .await?;
        if sent {
            return Ok(());
        }
        let message = mail.message(&self.settings)?;
        self.transport
            .send(message)
            .await
            .with_context(|| format!("cannot send the {} mail to {}", mail.kind, mail.to))?;
        sqlx::query(
            "INSERT INTO mail_sent (event_id, recipient, kind, message_id) VALUES ($1, $2, $3, $4) \
             ON CONFLICT DO NOTHING",
        )
        .bind(mail.event_id)
        .bind(&mail.to)
        .bind(mail.kind)
        .bind(mail.message_id(&self.settings))
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
