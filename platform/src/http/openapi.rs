//! What the OpenAPI documents of both APIs share.

use utoipa::openapi::content::{Content, ContentBuilder};
use utoipa::openapi::extensions::Extensions;
use utoipa::openapi::link::LinkBuilder;
use utoipa::openapi::path::{Operation, ParameterIn, PathItem};
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Ref, RefOr};
use utoipa::Modify;

/// Declares the `bearer` security scheme (the session token) that the
/// operations of both APIs refer to.
pub struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// Every operation of a path item, in a fixed order.
fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.patch,
    ]
    .into_iter()
    .flatten()
}

/// Names every operation `<tag>_<handler>` (`products_create`,
/// `sellers_create`): unique in its document, so that links and generated
/// clients can name each one.
pub struct OperationIds;

impl Modify for OperationIds {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            for operation in operations(item) {
                let tag = operation.tags.as_ref().and_then(|tags| tags.first());
                if let (Some(tag), Some(id)) = (tag, operation.operation_id.as_ref()) {
                    operation.operation_id = Some(format!("{tag}_{id}"));
                }
            }
        }
    }
}

/// A link from one operation's answer to an operation that takes what the
/// answer names (OpenAPI's `links`): the `id` path parameter of `to` is the
/// runtime expression `id`, e.g. `$response.body#/id`.
pub struct Link {
    /// The operation whose answer is linked from, by its operation id.
    pub from: &'static str,
    /// The answer's status.
    pub status: &'static str,
    /// The operation the link leads to.
    pub to: &'static str,
    /// Where `to`'s `id` parameter comes from.
    pub id: &'static str,
}

impl Link {
    /// The link from `from`'s `status` answer to `to`, whose `id` is `id`.
    pub const fn new(
        from: &'static str,
        status: &'static str,
        to: &'static str,
        id: &'static str,
    ) -> Self {
        Link {
            from,
            status,
            to,
            id,
        }
    }
}

/// Adds links between operations so that a generic client can chain them: a
/// product created to its update, an order placed to its cancel. Runs after
/// [`OperationIds`], whose names it uses.
pub struct Links(pub &'static [Link]);

impl Modify for Links {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            for operation in operations(item) {
                let Some(name) = operation.operation_id.clone() else {
                    continue;
                };
                for link in self.0.iter().filter(|link| link.from == name) {
                    let Some(RefOr::T(response)) =
                        operation.responses.responses.get_mut(link.status)
                    else {
                        continue;
                    };
                    // utoipa 5.5 writes `LinkBuilder::operation_id` under the
                    // key `operation_id`; OpenAPI's `operationId` goes in as
                    // a field of its own through the extensions map.
                    let operation_id: Extensions =
                        [("operationId".to_string(), serde_json::Value::from(link.to))]
                            .into_iter()
                            .collect();
                    response.links.insert(
                        link.to.to_string(),
                        RefOr::T(
                            LinkBuilder::new()
                                .parameter("id", link.id)
                                .extensions(Some(operation_id))
                                .build(),
                        ),
                    );
                }
            }
        }
    }
}

/// Documents the problem+json answers every operation can give, so that a
/// generic client knows each status it may meet: 400, 413, 415 and 422 where
/// there is a body, 401 and 403 where a session is needed, 404 where the path
/// names a resource, 422 for a query string, 500 everywhere; and gives every
/// problem its media type, `application/problem+json`.
pub struct ProblemResponses;

/// The media type of every error answer.
const PROBLEM_JSON: &str = "application/problem+json";

fn is_problem(content: &Content) -> bool {
    matches!(&content.schema, Some(RefOr::Ref(r)) if r.ref_location.ends_with("/Problem"))
}

fn problem(description: &str) -> RefOr<Response> {
    RefOr::T(
        ResponseBuilder::new()
            .description(description)
            .content(
                PROBLEM_JSON,
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("Problem")))
                    .build(),
            )
            .build(),
    )
}

impl Modify for ProblemResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            for operation in operations(item) {
                let parameters = operation.parameters.as_deref().unwrap_or_default();
                let in_path = parameters
                    .iter()
                    .any(|p| p.parameter_in == ParameterIn::Path);
                let in_query = parameters
                    .iter()
                    .any(|p| p.parameter_in == ParameterIn::Query);
                let mut statuses = vec![("500", "something went wrong on our side")];
                if operation.request_body.is_some() {
                    statuses.extend([
                        ("400", "the body is not JSON"),
                        ("413", "the body is over 1 MiB"),
                        ("415", "the body is not sent as application/json"),
                        ("422", "a value is missing, unknown or out of bounds"),
                    ]);
                }
                if operation.security.is_some() {
                    statuses.extend([
                        ("401", "no valid session"),
                        ("403", "the session may not do this"),
                    ]);
                }
                if in_path {
                    statuses.push(("404", "no such resource"));
                }
                if in_query {
                    statuses.push(("422", "a parameter is out of bounds"));
                }
                for response in operation.responses.responses.values_mut() {
                    if let RefOr::T(response) = response {
                        if let Some(content) = response.content.shift_remove("application/json") {
                            let media = if is_problem(&content) {
                                PROBLEM_JSON
                            } else {
                                "application/json"
                            };
                            response.content.insert(media.to_string(), content);
                        }
                    }
                }
                for (status, description) in statuses {
                    operation
                        .responses
                        .responses
                        .entry(status.to_string())
                        .or_insert_with(|| problem(description));
                }
            }
        }
    }
}
