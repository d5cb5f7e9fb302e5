//! `atlantic user create`: an account made on the command line.

use super::args::CreateUser;
use anyhow::Context;
use atlantic::system::Connections;
use atlantic_application::accounts::{self, Registration};
use atlantic_domain::{Email, Text};
use atlantic_platform::metadata::CommandMetadata;

pub(super) async fn create_user(args: CreateUser) -> anyhow::Result<()> {
    let email = Email::parse(&args.email).map_err(|e| anyhow::anyhow!("email {e}"))?;
    let name = Text::parse(&args.name).map_err(|e| anyhow::anyhow!("name {e}"))?;
    let shop = Connections::open(&args.connections.config())
        .await?
        .shop()
        .await?;
    let registration = Registration {
        email,
        password: args.password,
        name,
        role: args.role,
        non_transactional_mail: true,
    };
    let created = accounts::register(&shop, registration, &CommandMetadata::system())
        .await
        .context("cannot create the user")?;
    println!("{}", created.id);
    Ok(())
}
