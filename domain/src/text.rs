//! Text values that carry rules: bounded free text and e-mail addresses.

use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;

/// What a text with NUL is told.
pub const NUL_REFUSED: &str = "must not contain NUL characters";

/// Free text that is not blank, at most `MAX` characters long, trimmed, and
/// without NUL (which PostgreSQL's `text` and `jsonb` cannot hold).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Text<const MAX: usize>(String);

impl<const MAX: usize> Text<MAX> {
    /// Checks `value` is at most `MAX` characters as sent and not blank, and trims it.
    pub fn parse(value: &str) -> Result<Self, String> {
        let trimmed = value.trim();
        if trimmed.is_empty() {
            Err("must not be blank".to_string())
        } else if trimmed.contains('\0') {
            Err(NUL_REFUSED.to_string())
        } else if value.chars().count() > MAX {
            Err(format!("must be at most {MAX} characters"))
        } else {
            Ok(Text(trimmed.to_string()))
        }
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<const MAX: usize> fmt::Display for Text<MAX> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de, const MAX: usize> Deserialize<'de> for Text<MAX> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = String::deserialize(deserializer)?;
        Text::parse(&value).map_err(serde::de::Error::custom)
    }
}

/// A lower-cased e-mail address with one `@`, a local part and a dotted domain.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    /// Normalises (trim, lower case) and checks the address's shape.
    pub fn parse(value: &str) -> Result<Self, String> {
        let email = value.trim().to_lowercase();
        let valid = email.len() <= 254
            && !email.chars().any(|c| c.is_whitespace() || c.is_control())
            && match email.split_once('@') {
                Some((local, domain)) => {
                    !local.is_empty()
                        && !domain.contains('@')
                        && domain.contains('.')
                        && !domain.starts_with('.')
                        && !domain.ends_with('.')
                }
                None => false,
            };
        if valid {
            Ok(Email(email))
        } else {
            Err("is not an e-mail address".to_string())
        }
    }

    /// The address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Email {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = String::deserialize(deserializer)?;
        Email::parse(&value).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_is_normalised_and_checked() {
        assert_eq!(
            Email::parse(" Ann@Example.COM ").unwrap().as_str(),
            "ann@example.com"
        );
        for bad in [
            "",
            "ann",
            "ann@",
            "@x.io",
            "a@b@c.io",
            "ann@localhost",
            "a n@x.io",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn text_is_trimmed_and_bounded() {
        assert_eq!(Text::<6>::parse("  abc ").unwrap().as_str(), "abc");
        // The bound counts the characters as sent, as the OpenAPI documents say.
        assert!(Text::<5>::parse("  abc ").is_err());
        assert!(Text::<5>::parse("   ").is_err());
        assert!(Text::<5>::parse("abcdef").is_err());
        assert_eq!(Text::<5>::parse("a\0b").unwrap_err(), NUL_REFUSED);
        assert!(Email::parse("a\0@x.io").is_err());
    }
}
