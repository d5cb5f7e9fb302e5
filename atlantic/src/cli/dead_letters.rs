//! `atlantic dead-letters`: list, retry and drop parked messages.

use super::args::DeadLetterCommand;

pub(super) async fn dead_letters(command: DeadLetterCommand) -> anyhow::Result<()> {
    match command {
        DeadLetterCommand::List { selection, json } => {
            let letters = selection
                .store()
                .await?
                .list(selection.selection(true)?)
                .await?;
            for letter in letters {
                if json {
                    println!("{}", serde_json::to_string(&letter)?);
                } else {
                    println!(
                        "{}\t{}\t{}\t{}\tattempts {}\t{}\tnext {}\t{}",
                        letter.id,
                        letter.consumer,
                        letter.message_key,
                        letter.subject,
                        letter.attempts,
                        if letter.held { "held" } else { "first" },
                        letter.next_attempt_at.to_rfc3339(),
                        letter.error
                    );
                }
            }
        }
        DeadLetterCommand::Retry(selection) => {
            let due = selection
                .store()
                .await?
                .retry(selection.selection(false)?)
                .await?;
            println!("{due} due now");
        }
        DeadLetterCommand::Drop(selection) => {
            let dropped = selection
                .store()
                .await?
                .drop(selection.selection(false)?)
                .await?;
            println!("{dropped} dropped");
        }
    }
    Ok(())
}
