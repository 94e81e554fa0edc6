//! What one route is: its row of the route table (`crate::routes::ROUTES`) — function name,
//! method, path, permission row, handler — and its [`Doc`]: the query parameters, request body,
//! answer and links, built from the types themselves, which the OpenAPI document
//! (`crate::openapi`) reads. Nothing else describes a route, and nothing is keyed by its name.

use crate::access::Access;
use crate::error::ApiError;
use crate::request::ApiRequest;
use crate::response::ApiResponse;
use crate::state::AppState;
use http::Method;
use std::future::Future;
use std::pin::Pin;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::Schema;

pub type HandlerFuture = Pin<Box<dyn Future<Output = Result<ApiResponse, ApiError>> + Send>>;
pub type HandlerFn = fn(AppState, ApiRequest) -> HandlerFuture;

pub struct Route {
    /// The function (Lambda) name: `functions/src/bin/<name>.rs`, `infra/template.yaml`.
    pub name: &'static str,
    pub method: Method,
    /// Path with `{param}` segments (the syntax axum and API Gateway share).
    pub path: &'static str,
    /// The route's row of the permission matrix (DOMAIN.md §1.3). Every route states it.
    pub access: Access,
    pub summary: &'static str,
    pub handler: HandlerFn,
    /// What the route takes and answers, as the OpenAPI document states it.
    pub doc: Doc,
}

/// The named schemas of the document's components.
pub type Schemas = Vec<(String, RefOr<Schema>)>;

/// Adds a type's schema (and the schemas it refers to) to the components; returns its name.
pub type SchemaFn = fn(&mut Schemas) -> String;

/// The [`SchemaFn`] of `T`.
pub fn schema<T: utoipa::ToSchema>(schemas: &mut Schemas) -> String {
    let name = T::name().into_owned();
    schemas.push((name.clone(), T::schema()));
    T::schemas(schemas);
    name
}

/// What a query parameter holds; its schema says exactly what the server accepts (issue 9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Query {
    /// Any int64 (the server clamps it into the route's range).
    Limit,
    /// An int64 ≥ 0.
    Offset,
    /// An RFC 3339 time.
    Time,
    /// An int64 in `min..=max` (the server answers 400 outside it).
    Range(i64, i64),
    /// Required text with at least one non-space character and at most this many characters.
    Name(i64),
    Text,
}

/// The success answer of a route (failures are the error envelope).
#[derive(Clone, Copy)]
pub enum Answer {
    /// JSON of this type, with this status.
    Json(&'static str, SchemaFn),
    /// No content, with this status.
    Empty(&'static str),
    /// A JSON document of no fixed shape (the OpenAPI document itself).
    AnyJson,
}

/// An OpenAPI link of the success answer: the answer's `value` (a runtime expression) is the
/// `parameter` of `operation` (an operationId).
#[derive(Debug, Clone, Copy)]
pub struct Link {
    pub name: &'static str,
    pub operation: &'static str,
    pub parameter: &'static str,
    pub value: &'static str,
}

/// What a route takes and answers besides its path parameters.
#[derive(Clone, Copy)]
pub struct Doc {
    /// Query parameters (optional, unless [`Query::Name`]).
    pub query: &'static [(&'static str, Query)],
    /// The JSON request body.
    pub body: Option<SchemaFn>,
    pub answer: Answer,
    pub links: &'static [Link],
    /// The path parameters that are UUIDs (the others are non-empty text).
    pub uuids: &'static [&'static str],
}

impl Doc {
    /// Answers `T` as JSON with `status`.
    pub const fn json(status: &'static str, answer: SchemaFn) -> Doc {
        Doc { query: &[], body: None, answer: Answer::Json(status, answer), links: &[], uuids: &[] }
    }

    /// Answers no content with `status`.
    pub const fn empty(status: &'static str) -> Doc {
        Doc { query: &[], body: None, answer: Answer::Empty(status), links: &[], uuids: &[] }
    }

    /// Answers JSON of no fixed shape.
    pub const fn any_json() -> Doc {
        Doc { query: &[], body: None, answer: Answer::AnyJson, links: &[], uuids: &[] }
    }

    /// Takes this JSON body.
    pub const fn body(self, body: SchemaFn) -> Doc {
        Doc { body: Some(body), ..self }
    }

    /// Takes these query parameters.
    pub const fn query(self, query: &'static [(&'static str, Query)]) -> Doc {
        Doc { query, ..self }
    }

    /// These path parameters are UUIDs.
    pub const fn uuids(self, uuids: &'static [&'static str]) -> Doc {
        Doc { uuids, ..self }
    }

    /// The answer links to these operations.
    pub const fn links(self, links: &'static [Link]) -> Doc {
        Doc { links, ..self }
    }
}
