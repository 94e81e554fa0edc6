//! The `migrate` custom-resource function (exomaps_api::migrate) against a real PostgreSQL, with
//! a local HTTP listener standing in for CloudFormation's pre-signed ResponseURL: Create and
//! Update apply the migrations (idempotently) and answer SUCCESS; a failing migration answers
//! FAILED with the migration's error as the Reason; Delete answers SUCCESS and touches nothing;
//! the administrator of the stack's `AdminCredentials` secret is created, then updated.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::put;
use exomaps_api::migrate;
use exomaps_platform::cfn::Status;
use exomaps_store::Store;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

/// What CloudFormation's ResponseURL received: (path and query, content-type, body).
type Received = Arc<Mutex<Vec<(String, Option<String>, Value)>>>;

async fn response_url() -> (String, Received) {
    let received: Received = Arc::default();
    async fn take(State(r): State<Received>, uri: axum::http::Uri, headers: HeaderMap, body: Bytes) -> StatusCode {
        let ctype = headers.get("content-type").and_then(|v| v.to_str().ok()).map(str::to_string);
        let json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        r.lock().unwrap().push((uri.to_string(), ctype, json));
        StatusCode::OK
    }
    let app = Router::new().route("/cfn-response/{token}", put(take)).with_state(received.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.ok() });
    (format!("http://{addr}/cfn-response/t-{}?X-Amz-Signature=abc", uuid::Uuid::new_v4()), received)
}

fn event(request_type: &str, url: &str) -> Value {
    let mut e = json!({
        "RequestType": request_type,
        "ResponseURL": url,
        "StackId": "arn:aws:cloudformation:us-east-1:000000000000:stack/exomaps/1",
        "RequestId": uuid::Uuid::new_v4().to_string(),
        "ResourceType": "Custom::Migrations",
        "LogicalResourceId": "Migrations",
        "ResourceProperties": {"ServiceToken": "arn:aws:lambda:us-east-1:000000000000:function:migrate:3"},
    });
    if request_type != "Create" {
        e["PhysicalResourceId"] = json!(migrate::PHYSICAL_ID);
    }
    e
}

/// A new, empty (unmigrated) database.
async fn empty_database() -> Store {
    let admin = exomaps_tests::admin_url();
    let name = format!("exomaps_t_{}", uuid::Uuid::new_v4().simple());
    let pool = sqlx::PgPool::connect(&admin).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&pool).await.unwrap();
    pool.close().await;
    let (base, _) = admin.rsplit_once('/').unwrap();
    Store::connect_lazy(&format!("{base}/{name}"), &Default::default()).unwrap()
}

async fn applied(store: &Store) -> Vec<i64> {
    sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
        .fetch_all(store.pool())
        .await
        .unwrap_or_default()
}

#[tokio::test]
async fn create_and_update_migrate_and_answer_success_delete_keeps_the_database() {
    let store = empty_database().await;
    let (url, received) = response_url().await;
    let all: Vec<i64> = exomaps_store::MIGRATOR.iter().map(|m| m.version).collect();
    assert!(applied(&store).await.is_empty());

    let create = event("Create", &url);
    let out = migrate::handle(Ok(&store), Ok(None), &create).await.unwrap();
    assert_eq!(out.status, Status::Success, "{out:?}");
    assert_eq!(applied(&store).await, all, "every migration applied");
    {
        let got = received.lock().unwrap();
        assert_eq!(got.len(), 1);
        let (path, ctype, body) = &got[0];
        assert!(path.ends_with("?X-Amz-Signature=abc"), "the pre-signed query is kept: {path}");
        assert_eq!(ctype, &None, "no content type (the pre-signed URL's signature has none)");
        assert_eq!(body["Status"], "SUCCESS");
        assert_eq!(body["PhysicalResourceId"], migrate::PHYSICAL_ID);
        assert_eq!(body["RequestId"], create["RequestId"]);
        assert_eq!(body["StackId"], create["StackId"]);
        assert_eq!(body["LogicalResourceId"], "Migrations");
        assert_eq!(body["Data"]["LatestVersion"], json!(all.iter().max().unwrap()));
    }

    // An update (a new function version on a later deploy) runs them again: nothing to do, SUCCESS.
    let out = migrate::handle(Ok(&store), Ok(None), &event("Update", &url)).await.unwrap();
    assert_eq!(out.status, Status::Success, "{out:?}");
    assert_eq!(applied(&store).await, all);

    // Delete answers SUCCESS without touching the database.
    let out = migrate::handle(Ok(&store), Ok(None), &event("Delete", &url)).await.unwrap();
    assert_eq!(out.status, Status::Success);
    assert_eq!(applied(&store).await, all);
    let got = received.lock().unwrap();
    assert_eq!(got.iter().map(|(_, _, b)| b["Status"].as_str().unwrap()).collect::<Vec<_>>(), ["SUCCESS"; 3]);
}

#[tokio::test]
async fn a_failing_migration_answers_failed_with_the_error_as_the_reason() {
    let store = empty_database().await;
    // Something in the way of the first migration: it cannot create its table.
    sqlx::raw_sql("CREATE SCHEMA stg_data; CREATE TABLE stg_data.ingest_runs (squatter INT)")
        .execute(store.pool())
        .await
        .unwrap();
    let (url, received) = response_url().await;
    let out = migrate::handle(Ok(&store), Ok(None), &event("Create", &url)).await.unwrap();
    assert_eq!(out.status, Status::Failed, "{out:?}");
    let body = received.lock().unwrap().last().unwrap().2.clone();
    assert_eq!(body["Status"], "FAILED");
    let reason = body["Reason"].as_str().unwrap();
    assert!(reason.starts_with("migration failed"), "{reason}");
    assert!(reason.contains("already exists"), "the database's own error is in the reason: {reason}");
    assert!(applied(&store).await.is_empty(), "nothing recorded as applied");
}

#[tokio::test]
async fn no_database_answers_failed_and_a_request_without_response_url_is_an_error() {
    let (url, received) = response_url().await;
    let out = migrate::handle(Err("database credentials: secret not found".into()), Ok(None), &event("Update", &url))
        .await
        .unwrap();
    assert_eq!(out.status, Status::Failed);
    assert_eq!(
        received.lock().unwrap()[0].2["Reason"],
        "migrations not applied: database credentials: secret not found"
    );
    let err = migrate::handle(Err("x".into()), Ok(None), &json!({"RequestType": "Create"})).await.unwrap_err();
    assert!(err.contains("no ResponseURL"), "{err}");
    // A ResponseURL that refuses the answer is an error of the function (it is logged).
    let refused =
        migrate::handle(Err("x".into()), Ok(None), &event("Create", "http://127.0.0.1:9/none")).await.unwrap_err();
    assert!(refused.contains("custom resource response not accepted"), "{refused}");
}

#[tokio::test]
async fn the_admin_of_the_generated_secret_is_created_then_updated() {
    let store = empty_database().await;
    let (url, received) = response_url().await;
    let admin =
        migrate::admin_from_secret(r#"{"username": "admin", "password": "Generated0123456789abcdef"}"#).unwrap();
    let out = migrate::handle(Ok(&store), Ok(Some(admin.clone())), &event("Create", &url)).await.unwrap();
    assert_eq!(out.status, Status::Success, "{out:?}");
    assert_eq!(received.lock().unwrap()[0].2["Data"]["AdminUser"], "admin");
    let user = store.user_by_username("admin").await.unwrap().expect("the admin exists");
    assert_eq!(user.default_persona, "admin");
    let mut personas = store.user_personas(user.user_id).await.unwrap();
    personas.sort();
    let mut all: Vec<String> = exomaps_domain::persona::Persona::ALL.iter().map(|p| p.key().to_string()).collect();
    all.sort();
    assert_eq!(personas, all, "every persona");
    assert!(exomaps_api::auth::password::verify("Generated0123456789abcdef", &user.password_hash));

    // A rotated secret: the next deploy's update sets the new password.
    let rotated =
        migrate::admin_from_secret(r#"{"username": "admin", "password": "Rotated0123456789abcdef!"}"#).unwrap();
    let out = migrate::handle(Ok(&store), Ok(Some(rotated)), &event("Update", &url)).await.unwrap();
    assert_eq!(out.status, Status::Success);
    let user = store.user_by_username("admin").await.unwrap().unwrap();
    assert!(exomaps_api::auth::password::verify("Rotated0123456789abcdef!", &user.password_hash));

    // An unreadable secret fails the resource (after the migrations) with the reason.
    let out = migrate::handle(Ok(&store), Err("reading exomaps/admin: AccessDenied".into()), &event("Update", &url))
        .await
        .unwrap();
    assert_eq!(out.status, Status::Failed);
    assert!(out.reason.contains("admin user: reading exomaps/admin: AccessDenied"), "{}", out.reason);
    for bad in [r#"{"username": "admin"}"#, r#"{"username": "admin", "password": "short"}"#] {
        assert!(migrate::admin_from_secret(bad).is_err(), "{bad}");
    }
}
