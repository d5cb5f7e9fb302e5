//! The command line: the argument types (`args.rs`), one module per command
//! that is not a component, and the dispatch.

mod args;
mod dead_letters;
mod payments;
mod replay;
mod seed;
mod user;

pub use args::Cli;
use args::{PaymentsCommand, Subcommands, UserCommand};
use atlantic::system::{self, Components};

impl Cli {
    /// Runs the chosen subcommand.
    pub async fn run(self) -> anyhow::Result<()> {
        match self.command {
            Subcommands::Serve(run) => run.launch(Components::all()).await,
            Subcommands::CommandApi(run) => {
                run.launch(Components {
                    command_api: true,
                    ..Components::default()
                })
                .await
            }
            Subcommands::QueryApi(run) => {
                run.launch(Components {
                    query_api: true,
                    ..Components::default()
                })
                .await
            }
            Subcommands::Relay(run) => {
                run.launch(Components {
                    relay: true,
                    ..Components::default()
                })
                .await
            }
            Subcommands::Saga(run) => {
                run.launch(Components {
                    saga: true,
                    ..Components::default()
                })
                .await
            }
            Subcommands::Notify(run) => {
                run.launch(Components {
                    notifier: true,
                    ..Components::default()
                })
                .await
            }
            Subcommands::Project { projection, run } => {
                run.launch(Components {
                    projections: projection.read_models(),
                    ..Components::default()
                })
                .await
            }
            Subcommands::Migrate(connections) => {
                system::Connections::open(&connections.config()).await?;
                tracing::info!("migrations applied");
                Ok(())
            }
            Subcommands::Seed(seed) => seed::seed_catalog(seed).await,
            Subcommands::Replay(replay) => replay::replay_read_models(replay).await,
            Subcommands::User {
                command: UserCommand::Create(args),
            } => user::create_user(args).await,
            Subcommands::DeadLetters { command } => dead_letters::dead_letters(command).await,
            Subcommands::Payments {
                command: PaymentsCommand::Audit(connections),
            } => payments::audit_payments(connections).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Cli;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }
}
