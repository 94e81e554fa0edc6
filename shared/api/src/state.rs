//! Process-wide state, built once (in a Lambda's `main`, or once by the local gateway) and
//! shared by every request.

use crate::config::Config;
use crate::error::ApiError;
use exomaps_pipeline::queue::Queues;
use exomaps_store::Store;
use std::sync::Arc;

#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    config: Config,
    store: Option<Store>,
    /// Where `POST /api/runs` sends kick messages (SQS in AWS, in-process locally).
    queues: Option<Arc<dyn Queues>>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").field("config", &self.inner.config).finish_non_exhaustive()
    }
}

impl AppState {
    /// Builds the state: a lazy pool (no connection is made until a request needs one).
    pub fn new(config: Config) -> Result<AppState, String> {
        let store = match &config.database_url {
            Some(url) => Some(Store::connect_lazy(url, &config.pool).map_err(|e| format!("DATABASE_URL: {e}"))?),
            None => None,
        };
        Ok(AppState { inner: Arc::new(Inner { config, store, queues: None }) })
    }

    pub fn with_store(config: Config, store: Store) -> AppState {
        AppState { inner: Arc::new(Inner { config, store: Some(store), queues: None }) }
    }

    /// The same state with a queue for pipeline kicks (set once, at start-up).
    pub fn with_queues(self, queues: Arc<dyn Queues>) -> AppState {
        let inner = Arc::try_unwrap(self.inner).unwrap_or_else(|_| panic!("with_queues is called before sharing"));
        AppState { inner: Arc::new(Inner { queues: Some(queues), ..inner }) }
    }

    /// The pipeline queues, or a 503 when none is configured.
    pub fn queues(&self) -> Result<&dyn Queues, ApiError> {
        self.inner.queues.as_deref().ok_or_else(|| {
            ApiError::new(http::StatusCode::SERVICE_UNAVAILABLE, "queue_unavailable", "no pipeline queue is configured")
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
}
