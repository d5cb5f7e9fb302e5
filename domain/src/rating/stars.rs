//! The value of a rating.

use serde::{Deserialize, Deserializer, Serialize};

/// 1 to 5 stars.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Stars(u8);

impl Stars {
    /// Checks that `value` is 1 to 5.
    pub fn parse(value: i64) -> Result<Self, String> {
        match u8::try_from(value) {
            Ok(stars @ 1..=5) => Ok(Stars(stars)),
            _ => Err("must be 1 to 5".to_string()),
        }
    }

    /// The number of stars.
    pub fn get(self) -> u8 {
        self.0
    }
}

impl<'de> Deserialize<'de> for Stars {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = i64::deserialize(deserializer)?;
        Stars::parse(value).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::Stars;

    #[test]
    fn one_to_five_stars() {
        for stars in 1..=5 {
            assert_eq!(Stars::parse(stars).map(Stars::get), Ok(stars as u8));
        }
        for stars in [0, 6, 255, 256, -1] {
            assert!(Stars::parse(stars).is_err(), "{stars}");
        }
        assert!(serde_json::from_str::<Stars>("3").is_ok());
        assert!(serde_json::from_str::<Stars>("7").is_err());
    }
}
