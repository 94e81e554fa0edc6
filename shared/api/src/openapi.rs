//! The OpenAPI 3.1 document of the HTTP API, built from the route table (every route, its
//! function name as `operationId`, its summary and its permission row as `x-personas`) and the
//! `ToSchema` derives of the request and response types. Served at `GET /api/openapi.json`;
//! the SPA generates its TypeScript types from it (`spa/scripts/gen-api.mjs`), so no server
//! type is written twice.
//!
//! Besides the routes, the components carry the shapes the SPA reads outside the route table:
//! the WebSocket messages (`ServerMessage`, `ClientMessage`, DOMAIN.md §8.4) and the published
//! map pointer `/data/world/latest.json` (`WorldPointer`).

use crate::error::{ApiError, ErrorEnvelope};
use crate::frames::{self, ServerMessage};
use crate::request::ApiRequest;
use crate::response::ApiResponse;
use crate::route::{Answer, Query, Route, Schemas};
use crate::state::AppState;
use exomaps_wire::ws::ClientMessage;
use http::Method;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::openapi::extensions::ExtensionsBuilder;
use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn, PathItem};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{ComponentsBuilder, Schema};
use utoipa::openapi::{
    ContentBuilder, InfoBuilder, OpenApi, OpenApiBuilder, PathsBuilder, Ref, RefOr, ResponseBuilder,
};
use utoipa::{PartialSchema, ToSchema};

/// `/data/world/latest.json` in the object store: the active world build's map asset.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WorldPointer {
    pub world_build_id: i64,
    /// Path of the EXMP asset (`/data/world/<id>.exmp`), docs/map-asset.md: the map part,
    /// all the first paint needs.
    pub asset: String,
    /// Path of the asset's names part (`/data/world/<id>.names`, EXMN): main_ids and display
    /// names, fetched alongside the map part (issue 12).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub names: Option<String>,
    pub systems: i64,
    /// ISO 8601 UTC.
    pub generated_at: String,
}

fn query_schema(q: Query) -> RefOr<Schema> {
    use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
    let int64 =
        || ObjectBuilder::new().schema_type(Type::Integer).format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)));
    let schema = match q {
        Query::Limit => int64(),
        Query::Offset => int64().minimum(Some(0)),
        Query::Range(min, max) => int64().minimum(Some(min)).maximum(Some(max)),
        Query::Time => ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime))),
        Query::Text => ObjectBuilder::new().schema_type(Type::String),
        Query::Name(max) => ObjectBuilder::new()
            .schema_type(Type::String)
            .min_length(Some(1))
            .max_length(Some(max as usize))
            .pattern(Some(r"\S")),
    };
    RefOr::T(Schema::Object(schema.build()))
}

/// A path parameter's schema: a UUID when the route's doc says so, else non-empty text.
fn path_schema(route: &Route, name: &str) -> RefOr<Schema> {
    use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
    let b = ObjectBuilder::new().schema_type(Type::String);
    let b = if route.doc.uuids.contains(&name) {
        b.format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid)))
    } else {
        b.min_length(Some(1))
    };
    RefOr::T(Schema::Object(b.build()))
}

fn named<T: ToSchema>() -> String {
    T::name().into_owned()
}

fn http_method(m: &Method) -> HttpMethod {
    match *m {
        Method::POST => HttpMethod::Post,
        Method::PUT => HttpMethod::Put,
        Method::DELETE => HttpMethod::Delete,
        Method::PATCH => HttpMethod::Patch,
        _ => HttpMethod::Get,
    }
}

/// The document of a route table (`crate::routes::ROUTES`).
pub fn document(routes: &[Route]) -> OpenApi {
    let mut schemas: Schemas = Vec::new();
    for extra in [
        (named::<ErrorEnvelope>(), ErrorEnvelope::schema()),
        (named::<WorldPointer>(), WorldPointer::schema()),
        (named::<ClientMessage>(), ClientMessage::schema()),
        (named::<ServerMessage>(), ServerMessage::schema()),
    ] {
        schemas.push(extra);
    }
    // The simulation types the WebSocket messages refer to.
    schemas.push((named::<frames::SimSummary>(), frames::SimSummary::schema()));
    schemas.push((named::<frames::SimEventEnvelope>(), frames::SimEventEnvelope::schema()));
    frames::SimEventEnvelope::schemas(&mut schemas);
    // The room types the WebSocket messages refer to.
    schemas.push((named::<frames::Member>(), frames::Member::schema()));
    schemas.push((named::<frames::Cursor>(), frames::Cursor::schema()));
    frames::Cursor::schemas(&mut schemas);
    schemas.push((named::<frames::Annotation>(), frames::Annotation::schema()));
    frames::Annotation::schemas(&mut schemas);
    schemas.push((named::<frames::BroadcastLevel>(), frames::BroadcastLevel::schema()));
    let mut by_path: BTreeMap<&str, Vec<(HttpMethod, utoipa::openapi::path::Operation)>> = BTreeMap::new();
    for route in routes {
        let doc = &route.doc;
        let personas: Vec<&str> = route.access.allowed().iter().map(|p| p.key()).collect();
        let mut op = OperationBuilder::new()
            .operation_id(Some(route.name.replace('-', "_")))
            .summary(Some(route.summary))
            .extensions(Some(ExtensionsBuilder::new().add("x-personas", personas).build()));
        for segment in route.path.split('/').filter(|s| s.starts_with('{') && s.ends_with('}')) {
            let name = &segment[1..segment.len() - 1];
            op = op.parameter(
                ParameterBuilder::new()
                    .name(name)
                    .parameter_in(ParameterIn::Path)
                    .required(utoipa::openapi::Required::True)
                    .schema(Some(path_schema(route, name))),
            );
        }
        for (name, kind) in doc.query {
            op = op.parameter(
                ParameterBuilder::new()
                    .name(*name)
                    .parameter_in(ParameterIn::Query)
                    .required(if matches!(kind, Query::Name(_)) {
                        utoipa::openapi::Required::True
                    } else {
                        utoipa::openapi::Required::False
                    })
                    .schema(Some(query_schema(*kind))),
            );
        }
        if let Some(body) = doc.body {
            let name = body(&mut schemas);
            let schema = RefOr::Ref(Ref::from_schema_name(name));
            op = op.request_body(Some(
                RequestBodyBuilder::new()
                    .content("application/json", ContentBuilder::new().schema(Some(schema)).build())
                    .build(),
            ));
        }
        let (status, ok) = match doc.answer {
            Answer::Empty(status) => (status, ResponseBuilder::new().description("no content").build()),
            Answer::Json(status, answer) => (status, {
                let name = answer(&mut schemas);
                let mut ok = ResponseBuilder::new().description("success").content(
                    "application/json",
                    ContentBuilder::new().schema(Some(RefOr::Ref(Ref::from_schema_name(name)))).build(),
                );
                // OpenAPI links: a started run is followed by id (schemathesis' stateful phase).
                for link in doc.links {
                    ok = ok.link(
                        link.name,
                        utoipa::openapi::link::LinkBuilder::new()
                            .operation_id(link.operation)
                            .parameter(link.parameter, link.value)
                            .build(),
                    );
                }
                ok.build()
            }),
            Answer::AnyJson => (
                "200",
                ResponseBuilder::new()
                    .description("success (JSON)")
                    .content("application/json", ContentBuilder::new().build())
                    .build(),
            ),
        };
        let error = ResponseBuilder::new()
            .description("the error envelope")
            .content(
                "application/json",
                ContentBuilder::new().schema(Some(RefOr::Ref(Ref::from_schema_name(named::<ErrorEnvelope>())))).build(),
            )
            .build();
        op = op.response(status, ok).response("default", error);
        by_path.entry(route.path).or_default().push((http_method(&route.method), op.build()));
    }
    let mut paths = PathsBuilder::new();
    for (path, ops) in by_path {
        let mut item: Option<PathItem> = None;
        for (method, op) in ops {
            match &mut item {
                None => item = Some(PathItem::new(method, op)),
                Some(i) => i.merge_operations(PathItem::new(method, op)),
            }
        }
        if let Some(item) = item {
            paths = paths.path(path, item);
        }
    }
    let components = ComponentsBuilder::new().schemas_from_iter(schemas).build();
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("ExoMaps API")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some("Generated from exomaps_api::routes::ROUTES (x-personas: the permission row)."))
                .build(),
        )
        .paths(paths.build())
        .components(Some(components))
        .build()
}

/// The document as pretty JSON (what the route serves and `spa/openapi.json` holds).
pub fn document_json(routes: &[Route]) -> String {
    // utoipa 5 writes a Link's `operationId` in snake case; OpenAPI (and schemathesis) read camel case.
    document(routes)
        .to_pretty_json()
        .expect("the OpenAPI document serialises")
        .replace("\"operation_id\": ", "\"operationId\": ")
        + "\n"
}

/// `GET /api/openapi.json`: the document of `routes`.
pub async fn serve(_state: AppState, _req: ApiRequest, routes: &[Route]) -> Result<ApiResponse, ApiError> {
    let mut res = http::Response::new(bytes::Bytes::from(document_json(routes)));
    let h = res.headers_mut();
    h.insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/json"));
    h.insert(http::header::CACHE_CONTROL, http::HeaderValue::from_static("public, max-age=300"));
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routes::ROUTES;
    use uuid::Uuid;

    #[test]
    fn every_route_is_documented_with_its_personas() {
        let doc: serde_json::Value = serde_json::from_str(&document_json(ROUTES)).unwrap();
        for r in ROUTES {
            let method = r.method.as_str().to_lowercase();
            let op = &doc["paths"][r.path][&method];
            assert_eq!(op["operationId"], r.name.replace('-', "_"), "{} {}", r.method, r.path);
            let personas: Vec<&str> = r.access.allowed().iter().map(|p| p.key()).collect();
            assert_eq!(op["x-personas"], serde_json::json!(personas), "{}", r.name);
        }
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        for name in [
            "RunDetail",
            "RunRow",
            "PhaseRow",
            "Validation",
            "QuarantineRow",
            "PersonaView",
            "TokenBody",
            "ServerMessage",
            "WorldPointer",
        ] {
            assert!(schemas.contains_key(name), "schema {name} missing");
        }
        // Every $ref resolves.
        let text = document_json(ROUTES);
        for part in text.split("\"#/components/schemas/").skip(1) {
            let name = &part[..part.find('"').unwrap()];
            assert!(schemas.contains_key(name), "dangling $ref {name}");
        }
    }

    #[test]
    fn server_messages_match_the_pipeline_pushes() {
        let progress = serde_json::json!({"type": "run.progress", "run_id": Uuid::nil(), "phase": "ingest", "status": "done", "counts": {"rows": 3}});
        assert!(matches!(serde_json::from_value(progress).unwrap(), ServerMessage::RunProgress { .. }));
        let bad = serde_json::json!({"type": "run.completed", "run_id": Uuid::nil(), "status": "pass", "extra": 1});
        assert!(serde_json::from_value::<ServerMessage>(bad).is_err(), "unknown fields are refused");
    }
}
