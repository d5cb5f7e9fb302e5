//! The bounds on every number a client sends, in one place. The HTTP layer
//! reads them through the domain's types, the aggregates check them in every
//! decision, and the stored events are read back through the same checks, so
//! the three cannot disagree. Text lengths are in the types themselves
//! (`Text<N>`, `Email`); specifications have theirs in `specifications`.

use crate::Money;
use serde::{Deserialize, Deserializer};

/// Units of one product on one order line, and in one cart line: 1 to 1,000.
/// More is a wholesale order, not a shopper's.
pub const MAX_LINE_QUANTITY: u32 = 1_000;

/// Lines of one order, and products in one cart: at most 100, each product on
/// one line only.
pub const MAX_ORDER_LINES: usize = 100;

/// The dearest unit price, in cents: 1,000,000.00.
pub const MAX_UNIT_PRICE_CENTS: i64 = 100_000_000;

/// Units of one product, for sale and held for orders together: at most one
/// billion. Any adjustment is smaller than that too, so no sum of stock can
/// leave `i64` or the range JSON numbers carry exactly.
pub const MAX_INVENTORY: i64 = 1_000_000_000;

/// The highest rating, customers' or a catalogue's: 5 stars.
pub const MAX_RATING: f64 = 5.0;

/// Checks an order line's quantity.
pub fn check_quantity(quantity: u32) -> Result<u32, String> {
    if (1..=MAX_LINE_QUANTITY).contains(&quantity) {
        Ok(quantity)
    } else {
        Err(format!("must be 1 to {MAX_LINE_QUANTITY}"))
    }
}

/// Checks a unit price.
pub fn check_price(price: Money) -> Result<Money, String> {
    if price.cents() <= MAX_UNIT_PRICE_CENTS {
        Ok(price)
    } else {
        Err(format!(
            "must be at most {}",
            Money::from_cents(MAX_UNIT_PRICE_CENTS).unwrap_or_default()
        ))
    }
}

/// Checks a stock level (a new product's, or one set).
pub fn check_inventory(units: i64) -> Result<i64, String> {
    if (0..=MAX_INVENTORY).contains(&units) {
        Ok(units)
    } else {
        Err(format!("must be 0 to {MAX_INVENTORY}"))
    }
}

/// Checks a change of stock.
pub fn check_stock_change(delta: i64) -> Result<i64, String> {
    if (-MAX_INVENTORY..=MAX_INVENTORY).contains(&delta) {
        Ok(delta)
    } else {
        Err(format!("must be -{MAX_INVENTORY} to {MAX_INVENTORY}"))
    }
}

/// Checks a catalogue's rating of a listing: 0 to 5.
pub fn check_catalogue_rating(rating: f64) -> Result<f64, String> {
    if (0.0..=MAX_RATING).contains(&rating) {
        Ok(rating)
    } else {
        Err(format!("must be 0 to {MAX_RATING}"))
    }
}

/// Reads an optional catalogue rating and checks it.
pub fn optional_catalogue_rating<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<f64>, D::Error> {
    Option::<f64>::deserialize(deserializer)?
        .map(check_catalogue_rating)
        .transpose()
        .map_err(serde::de::Error::custom)
}

/// Reads an order line's quantity and checks it (`#[serde(deserialize_with)]`).
pub fn quantity<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u32, D::Error> {
    check_quantity(u32::deserialize(deserializer)?).map_err(serde::de::Error::custom)
}

/// Reads a unit price and checks it.
pub fn price<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Money, D::Error> {
    check_price(Money::deserialize(deserializer)?).map_err(serde::de::Error::custom)
}

/// Reads an optional stock-alert threshold and checks it (0 to
/// [`MAX_INVENTORY`]; 0 turns alerts off).
pub fn optional_stock_alert<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<u32>, D::Error> {
    Option::<u32>::deserialize(deserializer)?
        .map(|units| {
            if i64::from(units) <= MAX_INVENTORY {
                Ok(units)
            } else {
                Err(serde::de::Error::custom(format!(
                    "must be 0 to {MAX_INVENTORY}"
                )))
            }
        })
        .transpose()
}

/// Reads an optional unit price and checks it.
pub fn optional_price<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Money>, D::Error> {
    Option::<Money>::deserialize(deserializer)?
        .map(check_price)
        .transpose()
        .map_err(serde::de::Error::custom)
}

/// Reads a stock level and checks it.
pub fn inventory<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    check_inventory(i64::deserialize(deserializer)?).map_err(serde::de::Error::custom)
}

/// Reads a change of stock and checks it.
pub fn stock_change<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    check_stock_change(i64::deserialize(deserializer)?).map_err(serde::de::Error::custom)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_bound_holds_at_its_edges() {
        assert!(check_quantity(0).is_err());
        assert_eq!(check_quantity(1), Ok(1));
        assert_eq!(check_quantity(MAX_LINE_QUANTITY), Ok(MAX_LINE_QUANTITY));
        assert!(check_quantity(MAX_LINE_QUANTITY + 1).is_err());
        assert!(check_quantity(u32::MAX).is_err());
        let dearest = Money::from_cents(MAX_UNIT_PRICE_CENTS).unwrap();
        assert_eq!(check_price(dearest), Ok(dearest));
        assert!(check_price(Money::from_cents(MAX_UNIT_PRICE_CENTS + 1).unwrap()).is_err());
        assert!(check_inventory(-1).is_err());
        assert_eq!(check_inventory(MAX_INVENTORY), Ok(MAX_INVENTORY));
        assert!(check_inventory(MAX_INVENTORY + 1).is_err());
        assert!(check_stock_change(i64::MIN).is_err());
        assert_eq!(check_stock_change(-MAX_INVENTORY), Ok(-MAX_INVENTORY));
        assert!(check_stock_change(MAX_INVENTORY + 1).is_err());
    }
}
