//! The `migrate` function's `main` (the `Custom::Migrations` resource of infra/template.yaml;
//! the custom-resource handling itself is `exomaps_api::migrate::handle`). Like the phases, it
//! needs the database only: its store comes from
//! [`PipelineConfig`](exomaps_pipeline::config::PipelineConfig), not from the API's state.

use crate::{Error, Wiring, init_tracing, runtime};
use exomaps_pipeline::config::PipelineConfig;
use lambda_http::lambda_runtime::{self, LambdaEvent};
use lambda_http::service_fn;
use serde_json::Value;

/// The whole `main` of the `migrate` function.
pub fn run_migrate() -> Result<(), Error> {
    init_tracing(true);
    let wiring = Wiring::from_env();
    runtime()?.block_on(async move {
        // A configuration or secret problem is reported to CloudFormation (FAILED with the
        // reason) rather than crashing: a function that never answers holds the stack for an hour.
        let store = match PipelineConfig::from_env() {
            Ok(config) => config.store().await,
            Err(e) => Err(e),
        };
        let store = &store;
        let admin_secret = &wiring.admin_secret_id;
        lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
            let store = match store {
                Ok(Some(s)) => Ok(s),
                Ok(None) => Err("no database configured (EXOMAPS_DB_SECRET_ID)".to_string()),
                Err(e) => Err(e.clone()),
            };
            let admin = match admin_secret {
                None => Ok(None),
                Some(id) => {
                    let secrets = exomaps_platform::secrets::SecretCache::new(
                        exomaps_platform::aws::config().await,
                        std::time::Duration::ZERO,
                    );
                    match secrets.get_string(id).await {
                        Ok(text) => exomaps_api::migrate::admin_from_secret(&text).map(Some),
                        Err(e) => Err(format!("reading {id}: {e}")),
                    }
                }
            };
            let outcome = exomaps_api::migrate::handle(store, admin, &event.payload).await?;
            Ok::<_, Error>(outcome.body)
        }))
        .await
    })
}
