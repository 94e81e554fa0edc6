//! Process-wide state, built once (in a Lambda's `main`, or once by the local gateway) and
//! shared by every request.

use crate::config::Config;
use crate::error::ApiError;
use crate::secrets::{self, KeySet, SecretSource};
use exomaps_pipeline::notify::Notifier;
use exomaps_pipeline::queue::Queues;
use exomaps_store::Store;
use http::StatusCode;
use std::sync::Arc;

#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    config: Config,
    store: Option<Store>,
    secrets: Option<Arc<dyn SecretSource>>,
    /// Where `POST /api/runs` sends kick messages (SQS in AWS, in-process locally).
    queues: Option<Arc<dyn Queues>>,
    /// Pushes to WebSocket connections (simulation routes and the `sim:<id>` replay).
    notifier: Option<Notifier>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").field("config", &self.inner.config).finish_non_exhaustive()
    }
}

impl AppState {
    /// Builds the state: the secret source of the configuration (see `secrets::from_config`)
    /// and a lazy pool (no connection is made until a request needs one). The database URL is
    /// `DATABASE_URL`, else the one the secret source holds.
    pub async fn load(config: Config) -> Result<AppState, String> {
        let secrets = secrets::from_config(&config)?;
        let url = match (&config.database_url, &secrets) {
            (Some(url), _) => Some(url.clone()),
            (None, Some(s)) => s.database_url().await.map_err(|e| format!("database credentials: {e}"))?,
            (None, None) => None,
        };
        let store = match &url {
            Some(url) => Some(Store::connect_lazy(url, &config.pool).map_err(|e| format!("database URL: {e}"))?),
            None => None,
        };
        Ok(AppState { inner: Arc::new(Inner { config, store, secrets, queues: None, notifier: None }) })
    }

    /// State over an existing store, with the configuration's secret source (none when the
    /// configuration names none; see [`AppState::with_secrets`]).
    pub fn with_store(config: Config, store: Store) -> AppState {
        let secrets = secrets::from_config(&config).unwrap_or_else(|e| {
            tracing::error!(error = %e, "secret source unavailable; tokens will be refused");
            None
        });
        AppState { inner: Arc::new(Inner { config, store: Some(store), secrets, queues: None, notifier: None }) }
    }

    /// The same state with another secret source.
    pub fn with_secrets(self, secrets: Arc<dyn SecretSource>) -> AppState {
        let inner = Inner {
            config: self.inner.config.clone(),
            store: self.inner.store.clone(),
            secrets: Some(secrets),
            queues: self.inner.queues.clone(),
            notifier: self.inner.notifier.clone(),
        };
        AppState { inner: Arc::new(inner) }
    }

    /// The same state with a queue for pipeline kicks.
    pub fn with_queues(self, queues: Arc<dyn Queues>) -> AppState {
        let inner = Inner {
            config: self.inner.config.clone(),
            store: self.inner.store.clone(),
            secrets: self.inner.secrets.clone(),
            queues: Some(queues),
            notifier: self.inner.notifier.clone(),
        };
        AppState { inner: Arc::new(inner) }
    }

    /// The same state with a notifier for WebSocket pushes.
    pub fn with_notifier(self, notifier: Notifier) -> AppState {
        let inner = Inner {
            config: self.inner.config.clone(),
            store: self.inner.store.clone(),
            secrets: self.inner.secrets.clone(),
            queues: self.inner.queues.clone(),
            notifier: Some(notifier),
        };
        AppState { inner: Arc::new(inner) }
    }

    /// The queues, if configured (no error: callers decide).
    pub fn queues_opt(&self) -> Option<&dyn Queues> {
        self.inner.queues.as_deref()
    }

    /// The pipeline context of this process's request handlers: the store and the notifier
    /// (silent when none is configured).
    pub fn pipeline_context(&self) -> Result<exomaps_pipeline::chain::PipelineContext, ApiError> {
        let store = self.store()?.clone();
        let notifier = self.inner.notifier.clone().unwrap_or_else(|| Notifier::silent(store.clone()));
        Ok(exomaps_pipeline::chain::PipelineContext { store, scope: self.config().scope, notifier, objects: None })
    }

    /// The pipeline queues, or a 503 when none is configured.
    pub fn queues(&self) -> Result<&dyn Queues, ApiError> {
        self.inner.queues.as_deref().ok_or_else(|| {
            ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "queue_unavailable", "no pipeline queue is configured")
        })
    }

    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The store, or a 503 when no database is configured.
    pub fn store(&self) -> Result<&Store, ApiError> {
        self.inner
            .store
            .as_ref()
            .ok_or_else(|| ApiError::db_unavailable().with("detail", "no database configured (DATABASE_URL is unset)"))
    }

    pub fn store_opt(&self) -> Option<&Store> {
        self.inner.store.as_ref()
    }

    /// The signing keys in force, asked of the secret source on every call (it caches).
    pub async fn signing_keys(&self) -> Result<Arc<KeySet>, ApiError> {
        let Some(source) = &self.inner.secrets else {
            return Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "auth_not_configured",
                "Sign-in is not configured on this server",
            ));
        };
        source.signing_keys().await.map_err(|e| {
            tracing::error!(error = %e, "signing keys unavailable");
            ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "secrets_unavailable", "Signing keys are unavailable")
        })
    }
}
