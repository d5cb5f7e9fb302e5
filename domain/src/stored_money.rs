//! Money as the order events store it since their version 2: integer cents
//! and the currency, `{"cents": 7997, "currency": "EUR"}`. Version 1 stored
//! the brief's decimal number (`79.97`): a float in the record, with no
//! currency; [`crate::versioning`] reads such rows as version 2.

use crate::bounds::check_price;
use crate::Money;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{json, Value};

/// The one currency the shop trades in. Events carry it, so a second
/// currency can come without rewriting the record.
pub const SHOP_CURRENCY: &str = "EUR";

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Stored {
    cents: i64,
    currency: String,
}

/// Writes `money` in the stored shape.
pub fn serialize<S: Serializer>(money: &Money, serializer: S) -> Result<S::Ok, S::Error> {
    Stored {
        cents: money.cents(),
        currency: SHOP_CURRENCY.to_string(),
    }
    .serialize(serializer)
}

/// Reads money in the stored shape, in the shop's currency and within bounds.
pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Money, D::Error> {
    let stored = Stored::deserialize(deserializer)?;
    if stored.currency != SHOP_CURRENCY {
        return Err(serde::de::Error::custom(format!(
            "the currency {} is not the shop's ({SHOP_CURRENCY})",
            stored.currency
        )));
    }
    Money::from_cents(stored.cents).map_err(serde::de::Error::custom)
}

/// [`deserialize`], for a unit price (its bound checked too).
pub fn price<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Money, D::Error> {
    check_price(deserialize(deserializer)?).map_err(serde::de::Error::custom)
}

/// A version 1 amount (a decimal number) in the stored shape; anything else
/// as it is (reading it then fails, as it should).
pub fn from_decimal(value: Value) -> Value {
    match value.as_f64().map(Money::from_decimal) {
        Some(Ok(money)) => json!({"cents": money.cents(), "currency": SHOP_CURRENCY}),
        _ => value,
    }
}
