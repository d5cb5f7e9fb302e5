//! Text PostgreSQL cannot store. serde accepts a `\u0000` escape in any JSON
//! string, but neither `text` nor `jsonb` holds NUL, and no other character
//! that serde accepts is refused by them (serde refuses lone surrogates
//! itself). So every body is searched for NUL before it is read, and every
//! query string, whatever the endpoint: a NUL is a 422 naming the field, not
//! a 500 from the database.

use super::error::ApiError;
use atlantic_domain::text::NUL_REFUSED;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

/// The path of the first string or key holding NUL in `value`
/// (`items[2].name`), if any.
pub fn first_nul(value: &Value) -> Option<String> {
    match value {
        Value::String(text) if text.contains('\0') => Some(String::new()),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| first_nul(item).map(|inner| format!("[{i}]{}", dotted(&inner)))),
        Value::Object(object) => object.iter().find_map(|(key, item)| {
            if key.contains('\0') {
                Some(key.replace('\0', "\u{fffd}"))
            } else {
                first_nul(item).map(|inner| format!("{key}{}", dotted(&inner)))
            }
        }),
        _ => None,
    }
    .map(|path| if path.is_empty() { "body".into() } else { path })
}

/// `inner` as the continuation of a path: `.name` or `[2]`.
fn dotted(inner: &str) -> String {
    match inner {
        "body" => String::new(),
        path if path.starts_with('[') => path.to_string(),
        path => format!(".{path}"),
    }
}

/// Refuses a request whose query string holds NUL in any parameter, with a
/// 422 naming the parameter.
pub async fn refuse_nul_in_query(request: Request, next: Next) -> Response {
    let nul = request.uri().query().and_then(|query| {
        form_urlencoded::parse(query.as_bytes())
            .find(|(key, value)| key.contains('\0') || value.contains('\0'))
            .map(|(key, _)| key.replace('\0', "\u{fffd}"))
    });
    match nul {
        Some(parameter) => ApiError::invalid_field(&parameter, NUL_REFUSED).into_response(),
        None => next.run(request).await,
    }
}

#[cfg(test)]
mod tests {
    use super::first_nul;
    use serde_json::json;

    #[test]
    fn names_the_field_that_holds_nul() {
        assert_eq!(first_nul(&json!({"name": "ok", "n": 1})), None);
        assert_eq!(
            first_nul(&json!({"name": "a\u{0}"})).as_deref(),
            Some("name")
        );
        assert_eq!(
            first_nul(&json!({"items": [{"a": "x"}, {"b": "\u{0}"}]})).as_deref(),
            Some("items[1].b")
        );
        assert_eq!(
            first_nul(&json!({"specifications": {"deep": ["\u{0}"]}})).as_deref(),
            Some("specifications.deep[0]")
        );
        assert_eq!(first_nul(&json!("\u{0}")).as_deref(), Some("body"));
    }
}
