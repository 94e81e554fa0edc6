//! The world and persona routes through the gateway on the sample sources: shapes, paging,
//! validation of query parameters, caching headers.

use exomaps_domain::coords::Scope;
use exomaps_domain::persona::Persona;
use exomaps_pipeline::{Family, SourceSpec, run_pipeline};
use exomaps_tests::{fresh_store, gateway, get, sample_sources};

async fn sample_router() -> axum::Router {
    let (store, _) = fresh_store().await;
    let spec = SourceSpec::file(Family::Simbad, sample_sources().join("SIMBAD_sample.csv"));
    let report = run_pipeline(&store, "sample", &[spec], Scope::default()).await.unwrap();
    assert_eq!(report.status, "pass", "{report:?}");
    gateway(store)
}

#[tokio::test]
async fn persona_lists_the_caller_and_what_it_may_switch_to() {
    let router = sample_router().await;
    let (status, _, body) = get(&router, "/api/persona").await;
    assert_eq!(status, 200);
    assert_eq!(body["current_persona_key"], "observer_guest");
    assert_eq!(body["current_persona"]["label"], "Observer Guest");
    assert_eq!(body["current_persona"]["menus"][0], "Public Overview");
    assert!(body["current_persona"].get("key").is_none());
    assert_eq!(body["available_personas"], serde_json::json!([{"key": "observer_guest", "label": "Observer Guest"}]));
    assert_eq!(Persona::ALL.len(), 8);
}

#[tokio::test]
async fn systems_are_paged_nearest_first_with_true_totals() {
    let router = sample_router().await;
    let (status, _, all) = get(&router, "/api/world/systems").await;
    assert_eq!(status, 200);
    let total = all["total_count"].as_i64().unwrap();
    assert!(total >= 10, "{all}");
    let d: Vec<f64> = all["systems"].as_array().unwrap().iter().map(|s| s["distance_ly"].as_f64().unwrap()).collect();
    assert!(d.windows(2).all(|w| w[0] <= w[1]), "sorted by distance: {d:?}");
    assert_eq!(all["systems"][0]["main_id"], "Sol");
    assert_eq!(all["systems"][0]["source"], "curated");

    let (_, _, page) = get(&router, "/api/world/systems?limit=3&offset=2").await;
    assert_eq!(page["total_count"], total);
    assert_eq!(page["returned"], 3);
    assert_eq!(page["systems"][0], all["systems"][2]);
    let (_, _, clamped) = get(&router, "/api/world/systems?limit=0").await;
    assert_eq!(clamped["limit"], 1);

    for bad in ["/api/world/systems?limit=ten", "/api/world/systems/xyz?offset=-1", "/api/world/systems/full?limit=1.5"]
    {
        let (status, _, body) = get(&router, bad).await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert_eq!(body["error"], "bad_request");
        assert!(body["message"].as_str().unwrap().contains("query parameter"), "{body}");
    }
}

#[tokio::test]
async fn full_payload_has_the_map_fields_and_an_etag() {
    let router = sample_router().await;
    let (status, headers, body) = get(&router, "/api/world/systems/full").await;
    assert_eq!(status, 200);
    let sirius_b = body["systems"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["main_id"] == "Sirius B")
        .expect("Sirius B (SIMBAD `* alf CMa B` merged into the curated component)");
    for key in
        ["x", "y", "z", "distance_ly", "spectral_class", "multiplicity", "planet_count", "companions", "confidence"]
    {
        assert!(sirius_b.get(key).is_some(), "{key} missing: {sirius_b}");
    }
    assert_eq!(sirius_b["spectral_class"], "D", "a white dwarf, class D (DOMAIN.md §11.23)");
    assert!(
        body["systems"].as_array().unwrap().iter().any(|s| s["spectral_class"].is_null()),
        "unknown class is null, not K"
    );
    let etag = headers["etag"].to_str().unwrap().to_string();
    let req = http::Request::get("/api/world/systems/full")
        .header("if-none-match", &etag)
        .body(axum::body::Body::empty())
        .unwrap();
    let (status, headers, body) = exomaps_tests::request(&router, req).await;
    assert_eq!(status, 304);
    assert_eq!(headers["etag"].to_str().unwrap(), etag);
    assert!(body.is_null());
}

#[tokio::test]
async fn listings_say_where_their_systems_came_from_and_answer_their_documented_types() {
    // Before any build: nothing, and the envelope says so.
    let (empty, _) = fresh_store().await;
    let router = gateway(empty);
    for path in ["/api/world/systems", "/api/world/systems/xyz", "/api/world/systems/full"] {
        let (status, _, body) = get(&router, path).await;
        assert_eq!(status, 200, "{path}: {body}");
        assert_eq!(body["source"], "none", "{path}: {body}");
        assert_eq!(body["total_count"], 0);
        assert_eq!(body["world_build_id"], serde_json::Value::Null);
    }
    // With a build: the database, and every field the document requires is there.
    let router = sample_router().await;
    let doc: serde_json::Value =
        serde_json::from_str(&exomaps_api::openapi::document_json(exomaps_api::ROUTES)).unwrap();
    let schemas = &doc["components"]["schemas"];
    for (path, schema, item) in [
        ("/api/world/systems", "SystemsPage", "SystemSummary"),
        ("/api/world/systems/xyz", "SystemsXyzPage", "SystemXyz"),
        ("/api/world/systems/full", "SystemsFullPage", "SystemFull"),
    ] {
        let (status, _, body) = get(&router, path).await;
        assert_eq!(status, 200, "{path}: {body}");
        assert_eq!(body["source"], "database", "{path}");
        let op_schema = &doc["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"];
        assert_eq!(op_schema, &format!("#/components/schemas/{schema}"), "{path}");
        for key in schemas[schema]["required"].as_array().unwrap() {
            assert!(body.get(key.as_str().unwrap()).is_some(), "{path}: {key} missing");
        }
        for key in schemas[item]["required"].as_array().unwrap() {
            assert!(body["systems"][0].get(key.as_str().unwrap()).is_some(), "{path}: systems[0].{key} missing");
        }
    }
    let (status, _, health) = get(&router, "/api/health").await;
    assert_eq!(status, 200, "{health}");
    assert_eq!(health["routes_count"], exomaps_api::ROUTES.len());
    for key in schemas["Health"]["required"].as_array().unwrap() {
        assert!(health.get(key.as_str().unwrap()).is_some(), "health: {key} missing");
    }
}
