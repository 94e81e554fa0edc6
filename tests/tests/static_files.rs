//! The local gateway's static side (issue 6): the built SPA at `/` with the `index.html`
//! fallback for client-side routes, year-long caching for hashed assets, the object store at
//! `/data/*`, no path escapes, and `/api` never answered by the SPA. Also: the OpenAPI route.

use axum::body::Body;
use exomaps_api::AppState;
use exomaps_api::config::Config;
use exomaps_local::gateway::{Statics, router_with};
use http::{Request, StatusCode};
use tower::ServiceExt;

async fn get(router: &axum::Router, uri: &str) -> (StatusCode, http::HeaderMap, Vec<u8>) {
    let res = router.clone().oneshot(Request::get(uri).body(Body::empty()).unwrap()).await.unwrap();
    let (parts, body) = res.into_parts();
    (parts.status, parts.headers, axum::body::to_bytes(body, usize::MAX).await.unwrap().to_vec())
}

async fn setup() -> (tempdir::Dir, axum::Router) {
    let root = tempdir::Dir::new();
    let spa = root.path.join("dist");
    let objects = root.path.join("objects");
    std::fs::create_dir_all(spa.join("assets")).unwrap();
    std::fs::create_dir_all(objects.join("data/world")).unwrap();
    std::fs::write(spa.join("index.html"), "<!doctype html><title>ExoMaps</title>").unwrap();
    std::fs::write(spa.join("assets/index-abc123.js"), "console.log(1)").unwrap();
    std::fs::write(objects.join("data/world/latest.json"), r#"{"world_build_id":3}"#).unwrap();
    std::fs::write(objects.join("data/world/3.exmp"), b"EXMP").unwrap();
    std::fs::write(root.path.join("secret.txt"), "TOPSECRET").unwrap();
    let statics = Statics { spa_dir: Some(spa), objects_dir: Some(objects) };
    let router = router_with(AppState::load(Config::default()).await.unwrap(), statics);
    (root, router)
}

mod tempdir {
    pub struct Dir {
        pub path: std::path::PathBuf,
    }
    impl Dir {
        pub fn new() -> Dir {
            let path = std::env::temp_dir().join(format!("exomaps-static-{}", uuid::Uuid::new_v4().simple()));
            std::fs::create_dir_all(&path).unwrap();
            Dir { path }
        }
    }
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

#[tokio::test]
async fn spa_files_fallback_and_caching() {
    let (_dir, router) = setup().await;
    let (status, headers, body) = get(&router, "/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(String::from_utf8(body).unwrap().contains("<title>ExoMaps</title>"));
    assert_eq!(headers["content-type"], "text/html; charset=utf-8");
    assert_eq!(headers["cache-control"], "no-cache");
    assert!(headers["content-security-policy"].to_str().unwrap().contains("script-src 'self'"));
    // Client-side routes get index.html.
    let (status, _, body) = get(&router, "/pipeline").await;
    assert_eq!(status, StatusCode::OK);
    assert!(String::from_utf8(body).unwrap().contains("ExoMaps"));
    let (status, headers, body) = get(&router, "/assets/index-abc123.js").await;
    assert_eq!((status, body.as_slice()), (StatusCode::OK, b"console.log(1)".as_slice()));
    assert_eq!(headers["cache-control"], "public, max-age=31536000, immutable");
    assert_eq!(headers["content-type"], "text/javascript; charset=utf-8");
    // A missing file is a 404, not the SPA.
    assert_eq!(get(&router, "/assets/missing-1.js").await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn object_store_under_data() {
    let (_dir, router) = setup().await;
    let (status, headers, body) = get(&router, "/data/world/latest.json").await;
    assert_eq!((status, body.as_slice()), (StatusCode::OK, br#"{"world_build_id":3}"#.as_slice()));
    assert_eq!(headers["cache-control"], "no-cache");
    let (status, headers, body) = get(&router, "/data/world/3.exmp").await;
    assert_eq!((status, body.as_slice()), (StatusCode::OK, b"EXMP".as_slice()));
    assert_eq!(headers["content-type"], "application/octet-stream");
    let (status, _, body) = get(&router, "/data/world/4.exmp").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(String::from_utf8(body).unwrap().contains("\"error\":\"not_found\""));
}

#[tokio::test]
async fn no_escapes_and_api_paths_stay_json() {
    let (_dir, router) = setup().await;
    for uri in ["/data/../secret.txt", "/data/%2e%2e/secret.txt", "/%2e%2e/secret.txt", "/data/world/.hidden"] {
        let (status, _, body) = get(&router, uri).await;
        assert!(!String::from_utf8_lossy(&body).contains("TOPSECRET"), "{uri} leaked");
        assert!(status == StatusCode::NOT_FOUND || status == StatusCode::OK, "{uri}: {status}");
    }
    let (status, headers, body) = get(&router, "/api/nope").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(headers["content-type"], "application/json");
    assert!(String::from_utf8(body).unwrap().contains("no such route"));
    let res = router.clone().oneshot(Request::post("/pipeline").body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND, "only GET/HEAD reach the SPA");
}

#[tokio::test]
async fn openapi_document_is_served_to_everyone() {
    let (_dir, router) = setup().await;
    let (status, headers, body) = get(&router, "/api/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "application/json");
    let doc: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(
        doc["paths"]["/api/runs"]["post"]["x-personas"],
        serde_json::json!(["admin", "data_curator", "ops_engineer"])
    );
    assert_eq!(String::from_utf8(body).unwrap(), exomaps_api::openapi::document_json(exomaps_api::ROUTES));
}

/// Static files worth compressing (text, JSON, the map asset's parts) are gzipped for a client
/// that accepts it, with `Vary: Accept-Encoding`; a replaced file is compressed again; tiny
/// files, images and clients without gzip get the bytes.
#[tokio::test]
async fn compressible_files_are_gzipped_when_accepted() {
    use std::io::Read;
    let (dir, router) = setup().await;
    let get_gz = |uri: &'static str| {
        let router = router.clone();
        async move {
            let req = Request::get(uri).header("accept-encoding", "br;q=1, gzip;q=0.8").body(Body::empty()).unwrap();
            let res = router.oneshot(req).await.unwrap();
            let (parts, body) = res.into_parts();
            (parts.status, parts.headers, axum::body::to_bytes(body, usize::MAX).await.unwrap().to_vec())
        }
    };
    let gunzip = |b: &[u8]| {
        let mut out = Vec::new();
        exomaps_api::cache::gunzip_reader(b).read_to_end(&mut out).unwrap();
        out
    };
    // An asset part: a repetitive 20 KB body.
    let asset: Vec<u8> = (0..20_000u32).map(|i| (i % 7) as u8).collect();
    let path = dir.path.join("objects/data/world/5.exmp");
    std::fs::write(&path, &asset).unwrap();
    let (status, headers, body) = get_gz("/data/world/5.exmp").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-encoding"], "gzip");
    assert_eq!(headers["vary"], "Accept-Encoding");
    assert!(body.len() < asset.len() / 4, "{} bytes gzip", body.len());
    assert_eq!(gunzip(&body), asset);
    let (_, headers, body) = get(&router, "/data/world/5.exmp").await;
    assert!(headers.get("content-encoding").is_none());
    assert_eq!(headers["vary"], "Accept-Encoding");
    assert_eq!(body, asset);
    // The file is replaced (a new length): the new bytes, not the cached gzip of the old ones.
    let js = "console.log('the map');\n".repeat(200);
    std::fs::write(&path, js.as_bytes()).unwrap();
    let (_, _, body) = get_gz("/data/world/5.exmp").await;
    assert_eq!(gunzip(&body), js.as_bytes());
    // The SPA's scripts too; a tiny file and an image are sent as they are.
    std::fs::write(dir.path.join("dist/assets/index-big.js"), &js).unwrap();
    let (_, headers, body) = get_gz("/assets/index-big.js").await;
    assert_eq!(headers["content-encoding"], "gzip");
    assert_eq!(gunzip(&body), js.as_bytes());
    let (_, headers, body) = get_gz("/assets/index-abc123.js").await;
    assert!(headers.get("content-encoding").is_none(), "14 bytes are not worth compressing");
    assert_eq!(body, b"console.log(1)");
    std::fs::write(dir.path.join("dist/assets/logo.png"), vec![0u8; 4096]).unwrap();
    let (_, headers, _) = get_gz("/assets/logo.png").await;
    assert!(headers.get("content-encoding").is_none() && headers.get("vary").is_none());
}
