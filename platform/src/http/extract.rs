//! Extractors: JSON bodies and path ids that fail as problem+json, the request
//! id, and the signed-in user.

use super::error::ApiError;
use super::storable;
use crate::sessions::{Session, SessionStore};
use atlantic_domain::actor::check_role;
use atlantic_domain::text::NUL_REFUSED;
use atlantic_domain::{Actor, Role};
use axum::body::Bytes;
use axum::extract::FromRef;
use axum::extract::Request;
use axum::extract::{FromRequest, FromRequestParts};
use axum::http::header;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::Value;
use uuid::Uuid;

/// A JSON body whose rejections are problem+json: not JSON 415, over the body
/// limit 413, malformed 400, and 422 naming the field for a value of the
/// wrong type, out of its bounds, or holding text PostgreSQL cannot store
/// (NUL, in any string or key of any body).
#[derive(Debug)]
pub struct Body<T>(pub T);

impl<T, S> FromRequest<S> for Body<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(request.headers()) {
            return Err(ApiError::UnsupportedMediaType(
                "send JSON with `Content-Type: application/json`".into(),
            ));
        }
        let bytes =
            Bytes::from_request(request, state)
                .await
                .map_err(|rejection| match rejection.status() {
                    StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge,
                    _ => ApiError::BadRequest(rejection.body_text()),
                })?;
        let mut value: Value = serde_json::from_slice(&bytes)
            .map_err(|error| ApiError::BadRequest(format!("malformed JSON: {error}")))?;
        integers_as_integers(&mut value);
        if let Some(field) = storable::first_nul(&value) {
            return Err(ApiError::invalid_field(&field, NUL_REFUSED));
        }
        serde_path_to_error::deserialize(value)
            .map(Body)
            .map_err(|error| {
                let field = match error.path().to_string() {
                    path if path == "." => "body".to_string(),
                    path => path,
                };
                ApiError::invalid_field(&field, error.into_inner().to_string())
            })
    }
}

/// Writes every number without a fraction (`3.0`) as the integer it is: JSON
/// (and the OpenAPI documents) count it as an integer, and so does the API.
fn integers_as_integers(value: &mut Value) {
    match value {
        Value::Number(number) if number.is_f64() => {
            if let Some(whole) = number
                .as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
            {
                *value = Value::from(whole as i64);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(integers_as_integers),
        Value::Object(fields) => fields.values_mut().for_each(integers_as_integers),
        _ => {}
    }
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<mime::Mime>().ok())
        .is_some_and(|mime| {
            mime.type_() == "application"
                && (mime.subtype() == "json" || mime.suffix().is_some_and(|s| s == "json"))
        })
}

/// A path parameter whose rejection (not a UUID, say) is a 404.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct IdPath<T>(pub T);

/// The id of the current HTTP request (`X-Request-Id`), set by the request-id
/// middleware.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestId(pub Uuid);

impl<S: Send + Sync> FromRequestParts<S> for RequestId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<RequestId>()
            .copied()
            .unwrap_or_else(|| RequestId(Uuid::now_v7())))
    }
}

/// The signed-in user, from `Authorization: Bearer <token>`. Without a live
/// session the request is answered 401.
#[derive(Debug, Clone)]
pub struct AuthUser {
    /// The session.
    pub session: Session,
    /// The bearer token (to revoke or update the session).
    pub token: String,
    /// The request id.
    pub request_id: Uuid,
}

impl AuthUser {
    /// The actor commands run as.
    pub fn actor(&self) -> Actor {
        self.session.actor()
    }

    /// 403 unless the user has one of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<(), ApiError> {
        check_role(self.session.role, roles).map_err(ApiError::Forbidden)
    }
}

impl<S> FromRequestParts<S> for AuthUser
where
    S: Send + Sync,
    SessionStore: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let sessions = SessionStore::from_ref(state);
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|token| !token.is_empty() && token.len() <= 256)
            .map(str::to_string)
            .ok_or_else(|| {
                ApiError::Unauthorized("sign in: `Authorization: Bearer <token>`".into())
            })?;
        let session = sessions
            .get(&token)
            .await?
            .ok_or_else(|| ApiError::Unauthorized("the session is not valid".into()))?;
        let RequestId(request_id) = RequestId::from_request_parts(parts, state).await?;
        Ok(AuthUser {
            session,
            token,
            request_id,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::integers_as_integers;
    use serde_json::json;

    #[test]
    fn a_number_without_a_fraction_is_read_as_an_integer() {
        let mut body =
            json!({"quantity": 3.0, "price": 19.99, "lines": [{"n": 2.0}], "big": 1e300});
        integers_as_integers(&mut body);
        assert_eq!(body["quantity"].as_u64(), Some(3));
        assert_eq!(body["lines"][0]["n"].as_u64(), Some(2));
        assert_eq!(body["price"].as_f64(), Some(19.99));
        assert!(
            body["big"].is_f64(),
            "out of the integers' range it stays as it is"
        );
    }
}
