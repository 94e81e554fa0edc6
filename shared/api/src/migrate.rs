//! The `migrate` function: a CloudFormation custom resource (`Custom::Migrations` in
//! infra/template.yaml) that applies the embedded migrations (`exomaps_store::MIGRATOR`,
//! forward-only, idempotent) to the stack's database on every create and update, and answers
//! CloudFormation through the request's pre-signed `ResponseURL`: SUCCESS, or FAILED with the
//! migration error as the reason (shown in the stack events; the deploy fails and rolls back).
//! Delete does nothing: the database outlives the resource (migrations are never undone).
//!
//! After the migrations it creates or updates the first administrator from the stack's generated
//! `AdminCredentials` secret (`EXOMAPS_ADMIN_SECRET_ID`, `{"username","password"}`; every persona),
//! so a stack whose database is reachable only inside its VPC still has someone who can sign in.
//!
//! Not an HTTP route: it has its own binary (`functions/src/bin/migrate.rs`, whose `main` is
//! `exomaps_lambda::run_migrate`) and template function.

use crate::auth::seed::{self, SeedUser};
use exomaps_platform::cfn::{self, RequestIds, Status};
use serde_json::Value;

/// The binary and function name.
pub const FUNCTION: &str = "migrate";
/// The resource's physical id (one per stack; updates keep it, so CloudFormation never replaces it).
pub const PHYSICAL_ID: &str = "exomaps-migrations";

/// What the function answered (and PUT to the `ResponseURL`).
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub status: Status,
    pub reason: String,
    pub body: Value,
}

/// The administrator of an `AdminCredentials` secret's JSON (`{"username","password"}`): every
/// persona, `admin` by default.
pub fn admin_from_secret(text: &str) -> Result<SeedUser, String> {
    #[derive(serde::Deserialize)]
    struct Creds {
        username: String,
        password: String,
    }
    let c: Creds =
        serde_json::from_str(text).map_err(|e| format!("admin secret is not {{\"username\",\"password\"}}: {e}"))?;
    let user = SeedUser {
        username: c.username,
        password: c.password,
        personas: exomaps_domain::persona::Persona::ALL.iter().map(|p| p.key().to_string()).collect(),
        default_persona: exomaps_domain::persona::Persona::Admin.key().to_string(),
    };
    seed::check(std::slice::from_ref(&user)).map_err(|e| format!("admin secret: {e}"))?;
    Ok(user)
}

/// The custom resource's `Data` (`Fn::GetAtt`): empty unless the migrations ran.
#[derive(Debug, Default, serde::Serialize)]
struct Data {
    #[serde(rename = "LatestVersion", skip_serializing_if = "Option::is_none")]
    latest_version: Option<i64>,
    /// The administrator created or updated (null: none configured).
    #[serde(rename = "AdminUser", skip_serializing_if = "Option::is_none")]
    admin_user: Option<Option<String>>,
}

/// Runs one custom-resource request. `store` is the database (or why there is none), `admin` the
/// administrator to create or update after the migrations (or why it could not be read); the
/// response is PUT to `ResponseURL` before returning. An event without a `ResponseURL` is an
/// error (nobody could be told).
pub async fn handle(
    store: Result<&exomaps_store::Store, String>,
    admin: Result<Option<SeedUser>, String>,
    event: &Value,
) -> Result<Outcome, String> {
    let url = event["ResponseURL"].as_str().ok_or("not a CloudFormation custom resource request: no ResponseURL")?;
    let ids = RequestIds {
        stack_id: event["StackId"].as_str().unwrap_or_default().to_string(),
        request_id: event["RequestId"].as_str().unwrap_or_default().to_string(),
        logical_resource_id: event["LogicalResourceId"].as_str().unwrap_or_default().to_string(),
    };
    let physical = event["PhysicalResourceId"].as_str().unwrap_or(PHYSICAL_ID).to_string();
    let request_type = event["RequestType"].as_str().unwrap_or_default();
    let (status, reason, data) = match request_type {
        "Delete" => (Status::Success, "the database and its schema are kept".to_string(), Data::default()),
        "Create" | "Update" => match store {
            Err(e) => (Status::Failed, format!("migrations not applied: {e}"), Data::default()),
            Ok(store) => match store.migrate().await {
                Ok(()) => {
                    let latest = exomaps_store::MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0);
                    tracing::info!(latest, "migrations applied");
                    let seeded = match &admin {
                        Ok(Some(user)) => seed::apply(store, std::slice::from_ref(user)).await.map(|()| Some(user)),
                        Ok(None) => Ok(None),
                        Err(e) => Err(e.clone()),
                    };
                    match seeded {
                        Ok(user) => (
                            Status::Success,
                            format!("migrations applied up to {latest}"),
                            Data { latest_version: Some(latest), admin_user: Some(user.map(|u| u.username.clone())) },
                        ),
                        Err(e) => (
                            Status::Failed,
                            format!("migrations applied up to {latest}; admin user: {e}"),
                            Data::default(),
                        ),
                    }
                }
                Err(e) => {
                    tracing::error!(error = %e, "a migration failed");
                    let reason = match e {
                        exomaps_store::StoreError::Migrate(_) => e.to_string(), // "migration failed: …"
                        other => format!("migrations not applied: {other}"),
                    };
                    (Status::Failed, reason, Data::default())
                }
            },
        },
        other => (Status::Failed, format!("unknown RequestType {other:?}"), Data::default()),
    };
    let data = serde_json::to_value(data).map_err(|e| e.to_string())?;
    let body = cfn::response_body(&ids, status, &physical, &reason, data);
    cfn::respond(url, &body).await.map_err(|e| e.to_string())?;
    Ok(Outcome { status, reason, body })
}
