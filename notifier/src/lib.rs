//! Mail to customers and sellers. The notifier consumes the published order,
//! user and product events like a read model (the projector runtime: checkpoints, retries,
//! dead letters) and sends each event's mail once: a send is recorded by
//! event id and recipient after the server took it, so after a crash only
//! sends not recorded are made again, with the same `Message-ID`.

mod compose;
mod outbox;
mod templates;
mod transport;

pub use compose::product_names;
pub use transport::{MailSettings, Transport};

use atlantic_domain::order::Order;
use atlantic_domain::product::Product;
use atlantic_domain::seller::Seller;
use atlantic_domain::user::User;
use atlantic_platform::bus::CommandBus;
use atlantic_platform::buses::Buses;
use atlantic_projections::{Envelope, Projection};
use sqlx::PgPool;
use std::collections::HashMap;
use std::sync::Arc;
use templates::Templates;
use uuid::Uuid;

/// The projection's name (its checkpoint, lease and dead letters).
pub const NAME: &str = "notifications";

/// Sends the mail of each order and account event.
pub struct Notifier {
    pool: PgPool,
    transport: Transport,
    settings: MailSettings,
    orders: Arc<CommandBus<Order>>,
    products: Arc<CommandBus<Product>>,
    sellers: Arc<CommandBus<Seller>>,
    users: Arc<CommandBus<User>>,
    templates: Templates,
    /// Each product's seller, as loaded once (see `compose::seller_of`).
    sellers_of_products: std::sync::Mutex<HashMap<Uuid, Uuid>>,
}

impl Notifier {
    /// A notifier reading `pool` (the event store) through the process's
    /// `buses` and sending as `settings` say.
    pub fn new(pool: PgPool, buses: &Buses, settings: MailSettings) -> anyhow::Result<Self> {
        Ok(Notifier {
            transport: Transport::new(&settings)?,
            orders: buses.orders.clone(),
            products: buses.products.clone(),
            sellers: buses.sellers.clone(),
            users: buses.users.clone(),
            templates: Templates::new()?,
            sellers_of_products: std::sync::Mutex::new(HashMap::new()),
            pool,
            settings,
        })
    }
}

#[async_trait::async_trait]
impl Projection for Notifier {
    fn name(&self) -> &'static str {
        NAME
    }

    fn subjects(&self) -> Vec<String> {
        vec![
            "events.order.>".into(),
            "events.user.>".into(),
            "events.product.>".into(),
        ]
    }

    async fn reachable(&self) -> anyhow::Result<()> {
        atlantic_projections::runtime::postgres_reachable(&self.pool).await?;
        self.transport.reachable().await
    }

    async fn apply(&self, events: &[Envelope]) -> anyhow::Result<()> {
        for event in events {
            for mail in self.compose(event).await? {
                self.send_once(mail).await?;
            }
        }
        Ok(())
    }
}
