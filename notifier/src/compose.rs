//! Which mail each event makes, with the order's and customer's real data.

use crate::{MailSettings, Notifier};
use anyhow::Context;
use atlantic_domain::integration::event_id;
use atlantic_domain::published::PublishedEvent;
use atlantic_domain::stored_money::SHOP_CURRENCY;
use atlantic_domain::Money;
use atlantic_platform::value_lists::{padded_len, values};
use atlantic_projections::Envelope;
use lettre::message::{Mailbox, MultiPart};
use lettre::Message;
use serde_json::{json, Value};
use std::collections::HashMap;
use uuid::Uuid;

/// One mail to send.
pub(crate) struct Mail {
    /// The kind (its template).
    pub kind: &'static str,
    /// The event it tells of.
    pub event_id: Uuid,
    /// The recipient's address.
    pub to: String,
    /// The recipient's name.
    pub name: String,
    /// The subject.
    pub subject: String,
    /// The plain-text body.
    pub text: String,
    /// The HTML body.
    pub html: String,
}

impl Mail {
    /// Its `Message-ID`: the same each time the event's mail is made.
    pub fn message_id(&self, settings: &MailSettings) -> String {
        let domain = settings
            .from
            .rsplit('@')
            .next()
            .unwrap_or("atlantic")
            .trim_end_matches('>');
        format!("<{}.{}@{domain}>", self.event_id, self.kind)
    }

    /// The message as it goes out.
    pub fn message(&self, settings: &MailSettings) -> anyhow::Result<Message> {
        let from: Mailbox = settings.from.parse().context("bad MAIL_FROM")?;
        let to = Mailbox::new(
            Some(self.name.clone()),
            self.to
                .parse()
                .context("a customer's address does not parse")?,
        );
        Message::builder()
            .from(from)
            .to(to)
            .subject(&self.subject)
            .message_id(Some(self.message_id(settings)))
            .multipart(MultiPart::alternative_plain_html(
                self.text.clone(),
                self.html.clone(),
            ))
            .context("cannot build the message")
    }
}

/// The names products were listed under (`rows` ids from `$1`: see
/// [`atlantic_platform::value_lists`]), each read by the primary key: as
/// `aggregate_id = ANY($1)`, a plan made on a young store read every
/// product's first event.
pub fn product_names(rows: usize) -> String {
    format!(
        "SELECT c.id, e.name FROM {} AS c(id) \
         CROSS JOIN LATERAL ( \
             SELECT payload -> 'ProductCreated' ->> 'name' AS name FROM events \
             WHERE aggregate_type = 'Product' AND aggregate_id = c.id AND sequence = 1 LIMIT 1) e",
        values(1, rows, &["text"])
    )
}

/// How many products' sellers a notifier keeps in memory before it starts
/// over.
const MAX_KNOWN_SELLERS: usize = 100_000;

/// An amount as the mails show it.
fn shown(money: Money) -> String {
    format!("{money} {SHOP_CURRENCY}")
}

/// A customer's address and name.
struct Customer {
    email: String,
    name: String,
}

impl Notifier {
    /// The mails `event` makes (none for most events).
    pub(crate) async fn compose(&self, event: &Envelope) -> anyhow::Result<Vec<Mail>> {
        let id = event_id(&event.aggregate_type, &event.aggregate_id, event.sequence);
        let shop = &self.settings.shop;
        let (kind, customer, subject, context) = match event.event() {
            PublishedEvent::UserCreated {
                user_id,
                email,
                name,
                ..
            } => {
                if !self.takes_non_transactional_mail(*user_id).await? {
                    return Ok(Vec::new());
                }
                (
                    "welcome",
                    Customer {
                        email: email.clone(),
                        name: name.clone(),
                    },
                    format!("Welcome to {shop}"),
                    json!({"email": email}),
                )
            }
            PublishedEvent::ProductUpdated {
                product_id,
                inventory: Some(after),
                inventory_change: Some(change),
                ..
            } if *change < 0 => match self.stock_alert(*product_id, *after, *change).await? {
                Some(alert) => alert,
                None => return Ok(Vec::new()),
            },
            PublishedEvent::OrderCreated {
                order_id,
                customer_id,
                items,
                total_price,
            } => {
                let order = self.orders.load(&order_id.to_string()).await?;
                let names = self
                    .product_names(items.iter().map(|l| l.product_id))
                    .await?;
                let lines: Vec<Value> = items
                    .iter()
                    .map(|line| {
                        let total = line.price.times(line.quantity).unwrap_or(Money::ZERO);
                        json!({
                            "name": names.get(&line.product_id).cloned().unwrap_or_else(|| line.product_id.to_string()),
                            "quantity": line.quantity,
                            "price": shown(line.price),
                            "total": shown(total),
                        })
                    })
                    .collect();
                (
                    "order_created",
                    self.customer(*customer_id).await?,
                    format!("Your order {order_id}"),
                    json!({"order_id": order_id, "lines": lines, "total": shown(*total_price),
                           "address": order.shipping_address()}),
                )
            }
            PublishedEvent::OrderShipped {
                order_id,
                carrier,
                tracking_number,
                ..
            } => (
                "order_shipped",
                self.customer_of(*order_id).await?,
                format!("Your order {order_id} has shipped"),
                json!({"order_id": order_id, "carrier": carrier, "tracking_number": tracking_number}),
            ),
            PublishedEvent::OrderDelivered { order_id, .. } => (
                "order_delivered",
                self.customer_of(*order_id).await?,
                format!("Your order {order_id} was delivered"),
                json!({"order_id": order_id}),
            ),
            PublishedEvent::OrderCancelled {
                order_id,
                cancellation_reason,
            } => (
                "order_cancelled",
                self.customer_of(*order_id).await?,
                format!("Your order {order_id} was cancelled"),
                json!({"order_id": order_id, "reason": cancellation_reason,
                       "refund": self.captured(*order_id).await?.map(shown)}),
            ),
            PublishedEvent::OrderReturned {
                order_id,
                refund_amount,
                ..
            } => (
                "order_returned",
                self.customer_of(*order_id).await?,
                format!("Your return of order {order_id}"),
                json!({"order_id": order_id, "refund": shown(*refund_amount)}),
            ),
            _ => return Ok(Vec::new()),
        };
        let mut context = context;
        context["name"] = json!(customer.name);
        context["shop"] = json!(shop);
        let (text, html) = self.templates.render(kind, &context)?;
        Ok(vec![Mail {
            kind,
            event_id: id,
            to: customer.email,
            name: customer.name,
            subject,
            text,
            html,
        }])
    }

    /// Whether `user_id` takes mail that is not about an order.
    async fn takes_non_transactional_mail(&self, user_id: Uuid) -> anyhow::Result<bool> {
        let user = self.users.load(&user_id.to_string()).await?;
        Ok(user.takes_non_transactional_mail())
    }

    /// The alert to a product's seller when its stock just fell below the
    /// seller's threshold (from `after - change` to `after`), if they take it.
    async fn stock_alert(
        &self,
        product_id: Uuid,
        after: i64,
        change: i64,
    ) -> anyhow::Result<Option<(&'static str, Customer, String, Value)>> {
        let Some(seller_id) = self.seller_of(product_id).await? else {
            return Ok(None);
        };
        let seller = self.sellers.load(&seller_id.to_string()).await?;
        let below = i64::from(seller.stock_alert_below());
        let before = after - change;
        if below == 0 || after >= below || before < below {
            return Ok(None);
        }
        let product = self.products.load(&product_id.to_string()).await?;
        let (Some(owner), Some(contact)) = (seller.owner_id(), seller.contact_email()) else {
            return Ok(None);
        };
        if !self.takes_non_transactional_mail(owner).await? {
            return Ok(None);
        }
        let product_name = product.name().unwrap_or_default().to_string();
        Ok(Some((
            "stock_alert",
            Customer {
                email: contact.as_str().to_string(),
                name: seller.name().unwrap_or_default().to_string(),
            },
            format!("{product_name}: {after} left"),
            json!({"product_id": product_id, "product": product_name, "inventory": after,
                   "below": below}),
        )))
    }

    /// The seller of `product_id`: a product's seller never changes, so it is
    /// loaded once per process (a product's history is long, its seller's
    /// short) and every later stock change only loads the seller.
    async fn seller_of(&self, product_id: Uuid) -> anyhow::Result<Option<Uuid>> {
        if let Some(seller) = self.known_sellers().get(&product_id) {
            return Ok(Some(*seller));
        }
        let product = self.products.load(&product_id.to_string()).await?;
        let seller = product.seller_id();
        if let Some(seller) = seller {
            let mut known = self.known_sellers();
            if known.len() >= MAX_KNOWN_SELLERS {
                known.clear();
            }
            known.insert(product_id, seller);
        }
        Ok(seller)
    }

    /// The products' sellers known so far. A panic elsewhere cannot leave the
    /// map half-written, so a poisoned lock is taken as it is.
    fn known_sellers(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, Uuid>> {
        self.sellers_of_products
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A user's address and name, from their registration.
    async fn customer(&self, user_id: Uuid) -> anyhow::Result<Customer> {
        let row: Option<(String, String)> = sqlx::query_as(
            "SELECT payload -> 'UserRegistered' ->> 'email', payload -> 'UserRegistered' ->> 'name' \
             FROM events WHERE aggregate_type = 'User' AND aggregate_id = $1 AND sequence = 1",
        )
        .bind(user_id.to_string())
        .fetch_optional(&self.pool)
        .await?;
        let (email, name) = row.with_context(|| format!("no user {user_id}"))?;
        Ok(Customer { email, name })
    }

    /// The customer who placed `order_id`.
    async fn customer_of(&self, order_id: Uuid) -> anyhow::Result<Customer> {
        let order = self.orders.load(&order_id.to_string()).await?;
        let customer = order
            .customer_id()
            .with_context(|| format!("no order {order_id}"))?;
        self.customer(customer).await
    }

    /// What the gateway took for `order_id`, if anything.
    async fn captured(&self, order_id: Uuid) -> anyhow::Result<Option<Money>> {
        let amount: Option<f64> = sqlx::query_scalar(
            "SELECT (payload -> 'PaymentCaptured' ->> 'amount')::float8 FROM events \
             WHERE aggregate_type = 'Payment' AND aggregate_id = $1 AND event_type = 'PaymentCaptured'",
        )
        .bind(order_id.to_string())
        .fetch_optional(&self.pool)
        .await?
        .flatten();
        amount
            .map(|a| Money::from_decimal(a).context("a captured amount"))
            .transpose()
    }

    /// The products' names as they were listed.
    async fn product_names(
        &self,
        products: impl Iterator<Item = Uuid>,
    ) -> anyhow::Result<HashMap<Uuid, String>> {
        let mut ids: Vec<String> = products.map(|p| p.to_string()).collect();
        // Padding: no product has an empty id.
        ids.resize(padded_len(ids.len()), String::new());
        let statement = product_names(ids.len());
        let mut query = sqlx::query_as(&statement);
        for id in &ids {
            query = query.bind(id);
        }
        let rows: Vec<(String, String)> = query.fetch_all(&self.pool).await?;
        Ok(rows
            .into_iter()
            .filter_map(|(id, name)| Uuid::parse_str(&id).ok().map(|id| (id, name)))
            .collect())
    }
}
