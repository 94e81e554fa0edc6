//! `spa/openapi.json` is the document the SPA's TypeScript types are generated from
//! (`npm run gen:api` → `spa/packages/sdk/src/gen/schema.ts`). This test keeps it equal to what the route
//! table and the schemas produce now; `EXOMAPS_UPDATE_OPENAPI=1` rewrites it.

#[test]
fn spa_openapi_json_is_current() {
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../spa/openapi.json");
    let now = exomaps_api::openapi::document_json(exomaps_api::ROUTES);
    if std::env::var("EXOMAPS_UPDATE_OPENAPI").is_ok_and(|v| v == "1") {
        std::fs::write(&path, &now).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == now,
        "{} is stale: run `EXOMAPS_UPDATE_OPENAPI=1 cargo test -p exomaps-api --test openapi_current` \
         then `cd spa && npm run gen:api`, and commit both",
        path.display()
    );
}
