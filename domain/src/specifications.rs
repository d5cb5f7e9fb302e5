//! A product's specifications: free-form JSON facts (processor, ram, age, …)
//! with explicit bounds on size, depth, keys, text and numbers, so no listing
//! can make an event too large to store, publish or index.

use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

/// The largest specifications, serialised: 16 KiB.
pub const MAX_BYTES: usize = 16 * 1024;
/// Nesting of objects and arrays: at most 4 levels, the top one counted.
pub const MAX_DEPTH: usize = 4;
/// Keys of one object: at most 64.
pub const MAX_KEYS: usize = 64;
/// Items of one array: at most 100.
pub const MAX_ITEMS: usize = 100;
/// Characters of one key: at most 100.
pub const MAX_KEY_CHARS: usize = 100;
/// Characters of one text value: at most 2,000.
pub const MAX_TEXT_CHARS: usize = 2_000;
/// The largest magnitude of a number: 10^15, which a double holds exactly
/// when it is an integer.
pub const MAX_NUMBER: f64 = 1e15;

/// Checks `specifications` against every bound; the message names the
/// offending key.
pub fn check(specifications: &Map<String, Value>) -> Result<(), String> {
    check_object(specifications, "", 1)?;
    let bytes = serde_json::to_vec(specifications).map_err(|e| e.to_string())?;
    if bytes.len() > MAX_BYTES {
        return Err(format!("must be at most {MAX_BYTES} bytes as JSON"));
    }
    Ok(())
}

fn check_object(object: &Map<String, Value>, path: &str, depth: usize) -> Result<(), String> {
    if object.len() > MAX_KEYS {
        return Err(format!("{}has more than {MAX_KEYS} keys", at(path)));
    }
    for (key, value) in object {
        if key.is_empty() || key.chars().count() > MAX_KEY_CHARS {
            return Err(format!(
                "{}keys must be 1 to {MAX_KEY_CHARS} characters",
                at(path)
            ));
        }
        if key.contains('\0') {
            return Err(format!("{}keys must not contain NUL", at(path)));
        }
        let inner = if path.is_empty() {
            key.clone()
        } else {
            format!("{path}.{key}")
        };
        check_value(value, &inner, depth)?;
    }
    Ok(())
}

fn check_value(value: &Value, path: &str, depth: usize) -> Result<(), String> {
    match value {
        Value::Object(_) | Value::Array(_) if depth >= MAX_DEPTH => {
            Err(format!("{}nests deeper than {MAX_DEPTH} levels", at(path)))
        }
        Value::Object(object) => check_object(object, path, depth + 1),
        Value::Array(items) => {
            if items.len() > MAX_ITEMS {
                return Err(format!("{}has more than {MAX_ITEMS} items", at(path)));
            }
            items
                .iter()
                .try_for_each(|item| check_value(item, path, depth + 1))
        }
        Value::String(text) => {
            if text.contains('\0') {
                Err(format!("{}must not contain NUL", at(path)))
            } else if text.chars().count() > MAX_TEXT_CHARS {
                Err(format!(
                    "{}must be at most {MAX_TEXT_CHARS} characters",
                    at(path)
                ))
            } else {
                Ok(())
            }
        }
        Value::Number(number) => match number.as_f64() {
            Some(n) if n.is_finite() && n.abs() <= MAX_NUMBER => Ok(()),
            _ => Err(format!(
                "{}numbers must be finite and at most {MAX_NUMBER:e} in magnitude",
                at(path)
            )),
        },
        Value::Bool(_) | Value::Null => Ok(()),
    }
}

/// `key: ` before a message about a nested key, nothing at the top.
fn at(path: &str) -> String {
    if path.is_empty() {
        String::new()
    } else {
        format!("{path}: ")
    }
}

/// Reads specifications and checks them (`#[serde(deserialize_with)]`).
pub fn checked<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Map<String, Value>, D::Error> {
    let specifications = Map::deserialize(deserializer)?;
    check(&specifications).map_err(serde::de::Error::custom)?;
    Ok(specifications)
}

/// Reads optional specifications and checks them.
pub fn optional_checked<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Map<String, Value>>, D::Error> {
    let specifications = Option::<Map<String, Value>>::deserialize(deserializer)?;
    if let Some(specifications) = &specifications {
        check(specifications).map_err(serde::de::Error::custom)?;
    }
    Ok(specifications)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }

    #[test]
    fn ordinary_specifications_pass() {
        let specs = map(
            json!({"ram": "16 GB", "rating": 4.5, "ports": ["usb", "hdmi"], "size": {"w": 30}}),
        );
        assert_eq!(check(&specs), Ok(()));
    }

    #[test]
    fn each_bound_is_refused_past_its_edge() {
        let deep = map(json!({"a": {"b": {"c": {"d": {"e": 1}}}}}));
        assert!(check(&deep).unwrap_err().contains("deeper"));
        let at_depth = map(json!({"a": {"b": {"c": [1]}}}));
        assert_eq!(check(&at_depth), Ok(()));
        let wide: Map<String, Value> = (0..=MAX_KEYS)
            .map(|i| (format!("k{i}"), json!(i)))
            .collect();
        assert!(check(&wide).is_err());
        let nul = map(json!({"a": "x\u{0}y"}));
        assert!(check(&nul).unwrap_err().contains("NUL"));
        let nul_key = map(json!({"a\u{0}": 1}));
        assert!(check(&nul_key).is_err());
        let huge = map(json!({"n": 1e300}));
        assert!(check(&huge).is_err());
        let long = map(json!({"t": "x".repeat(MAX_TEXT_CHARS + 1)}));
        assert!(check(&long).is_err());
        let big: Map<String, Value> = (0..40)
            .map(|i| (format!("k{i}"), json!("y".repeat(1000))))
            .collect();
        assert!(check(&big).unwrap_err().contains("bytes"));
        let items = map(json!({"list": vec![1; MAX_ITEMS + 1]}));
        assert!(check(&items).is_err());
    }
}
