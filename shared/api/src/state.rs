//! Process-wide state, built once (in a Lambda's `main`, or once by the local gateway) and
//! shared by every request.

use crate::config::Config;
use crate::error::ApiError;
use exomaps_store::Store;
use std::sync::Arc;

#[derive(Clone, Debug)]
pub struct AppState {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    config: Config,
    store: Option<Store>,
}

impl AppState {
    /// Builds the state: a lazy pool (no connection is made until a request needs one).
    pub fn new(config: Config) -> Result<AppState, String> {
        let store = match &config.database_url {
            Some(url) => Some(Store::connect_lazy(url, &config.pool).map_err(|e| format!("DATABASE_URL: {e}"))?),
            None => None,
        };
        Ok(AppState { inner: Arc::new(Inner { config, store }) })
    }

    pub fn with_store(config: Config, store: Store) -> AppState {
        AppState { inner: Arc::new(Inner { config, store: Some(store) }) }
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
