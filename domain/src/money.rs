//! Exact money: an integer count of cents, shown as the brief's decimal JSON.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// The largest amount Atlantic accepts, an order's total included: one billion
/// in the currency's major unit. Every sum and product of amounts is checked
/// against it: none wraps or saturates.
pub const MAX_CENTS: i64 = 100_000_000_000;

/// An exact, non-negative amount of money in minor units (cents).
///
/// It serialises as a JSON number with at most two decimals (`19.99`), the way the
/// brief shows prices, and parses only numbers that are exact to the cent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Money(i64);

/// Why a value is not an amount of money.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    /// Below zero.
    #[error("must not be negative")]
    Negative,
    /// More than two decimals.
    #[error("must have at most two decimals")]
    TooPrecise,
    /// Above the accepted maximum.
    #[error("is too large")]
    TooLarge,
}

impl Money {
    /// Zero.
    pub const ZERO: Money = Money(0);

    /// An amount of cents.
    pub fn from_cents(cents: i64) -> Result<Self, MoneyError> {
        if cents < 0 {
            Err(MoneyError::Negative)
        } else if cents > MAX_CENTS {
            Err(MoneyError::TooLarge)
        } else {
            Ok(Money(cents))
        }
    }

    /// Parses a decimal amount that must be exact to the cent (`19.99`, `20`).
    pub fn from_decimal(value: f64) -> Result<Self, MoneyError> {
        if !value.is_finite() || value > (MAX_CENTS / 100) as f64 {
            return Err(MoneyError::TooLarge);
        }
        if value < 0.0 {
            return Err(MoneyError::Negative);
        }
        let money = Self::from_cents((value * 100.0).round() as i64)?;
        // Exact to the cent means the decimal of the cents is the very same double.
        if money.as_decimal() != value {
            return Err(MoneyError::TooPrecise);
        }
        Ok(money)
    }

    /// The amount in cents.
    pub fn cents(self) -> i64 {
        self.0
    }

    /// The amount as a decimal number, for JSON and analytics.
    pub fn as_decimal(self) -> f64 {
        // Division of an exact integer by 100 is correctly rounded, so this is the
        // double closest to the decimal, which prints back as the same decimal.
        self.0 as f64 / 100.0
    }

    /// `self × quantity`, or `None` past [`MAX_CENTS`].
    pub fn times(self, quantity: u32) -> Option<Money> {
        self.0
            .checked_mul(i64::from(quantity))
            .and_then(|cents| Money::from_cents(cents).ok())
    }

    /// `self + other`, or `None` past [`MAX_CENTS`].
    pub fn plus(self, other: Money) -> Option<Money> {
        self.0
            .checked_add(other.0)
            .and_then(|cents| Money::from_cents(cents).ok())
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02}", self.0 / 100, self.0 % 100)
    }
}

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_f64(self.as_decimal())
    }
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = f64::deserialize(deserializer)?;
        Money::from_decimal(value).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn brief_prices_round_trip_exactly() {
        let price = Money::from_decimal(19.99).unwrap();
        assert_eq!(price.cents(), 1999);
        let total = price
            .times(2)
            .unwrap()
            .plus(Money::from_decimal(39.99).unwrap());
        assert_eq!(serde_json::to_string(&total.unwrap()).unwrap(), "79.97");
    }

    #[test]
    fn rejects_fractions_of_a_cent_and_negatives() {
        assert_eq!(Money::from_decimal(1.001), Err(MoneyError::TooPrecise));
        assert_eq!(Money::from_decimal(-1.0), Err(MoneyError::Negative));
        assert!(serde_json::from_str::<Money>("\"1.00\"").is_err());
    }

    #[test]
    fn arithmetic_stops_at_the_maximum_instead_of_wrapping() {
        let max = Money::from_cents(MAX_CENTS).unwrap();
        assert_eq!(max.plus(Money::ZERO), Some(max));
        assert_eq!(max.plus(Money::from_cents(1).unwrap()), None);
        assert_eq!(max.times(1), Some(max));
        assert_eq!(max.times(2), None);
        assert_eq!(Money::from_cents(100).unwrap().times(u32::MAX), None);
        assert_eq!(Money::from_cents(MAX_CENTS + 1), Err(MoneyError::TooLarge));
    }

    proptest! {
        #[test]
        fn any_cent_amount_survives_json(cents in 0i64..MAX_CENTS) {
            let money = Money::from_cents(cents).unwrap();
            let json = serde_json::to_string(&money).unwrap();
            prop_assert_eq!(serde_json::from_str::<Money>(&json).unwrap(), money);
        }
    }
}
