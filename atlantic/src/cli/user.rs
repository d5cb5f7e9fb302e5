//! `atlantic user create`: an account made on the command line.

use anyhow::Context;
use atlantic_command_api::app::Application;
use atlantic_platform::db;
use atlantic_platform::metadata::CommandMetadata;

use super::args::CreateUser;
use atlantic_domain::{Email, Text};

pub(super) async fn create_user(args: CreateUser) -> anyhow::Result<()> {
    db::migrate(&args.connections.database_url).await?;
    let email = Email::parse(&args.email).map_err(|e| anyhow::anyhow!("email {e}"))?;
    let name = Text::parse(&args.name).map_err(|e| anyhow::anyhow!("name {e}"))?;
    let app = Application::build(args.connections.commands_only()).await?;
    let created = atlantic_command_api::http::register_user(
        app.state(),
        email,
        args.password,
        name,
        args.role,
        &CommandMetadata::system(),
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))
    .context("cannot create the user")?;
    println!("{}", created.id);
    Ok(())
}
