//! PostgreSQL repositories for ExoMaps.
//!
//! Invariants: every SQL statement of the product lives in this crate; no handler or phase
//! writes SQL. Values are always bound, never formatted into statements. The schema comes
//! only from `migrations/` (embedded here), forward-only.

pub mod canon;
pub mod catalogues;
mod copy;
pub mod identity;
pub mod ingest;
pub mod realtime;
pub mod reports;
pub mod rooms;
pub mod runs;
pub mod search;
pub mod shards;
pub mod sim;
pub mod transform;
pub mod world;

use std::time::Duration;

pub use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

/// Errors from the store. `Unavailable` means the database could not be reached.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("{0}")]
    Conflict(String),
}

impl StoreError {
    /// True when the database could not be reached (connection refused, pool timeout, …).
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Unavailable(_) => true,
            StoreError::Db(e) => matches!(
                e,
                sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Tls(_)
            ),
            _ => false,
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The migrations of `migrations/`, embedded at compile time.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations");

/// A handle on the database: a connection pool, cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    pool: PgPool,
    /// Bumped by every world build this process activates (read caches drop their answers).
    generation: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

/// Pool settings; `acquire_timeout` bounds how long a request waits for a dead database.
#[derive(Clone, Debug)]
pub struct PoolSettings {
    pub max_connections: u32,
    pub acquire_timeout: Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        PoolSettings { max_connections: 8, acquire_timeout: Duration::from_secs(3) }
    }
}

impl Store {
    /// Builds a pool without connecting: no IO until the first query, so a Lambda cold start
    /// or a gateway started before its database both work, and a restarted database is
    /// picked up again by the next acquire.
    pub fn connect_lazy(url: &str, settings: &PoolSettings) -> Result<Store> {
        let options: PgConnectOptions = url.parse()?;
        let pool = PgPoolOptions::new()
            .max_connections(settings.max_connections)
            .acquire_timeout(settings.acquire_timeout)
            .test_before_acquire(true)
            .connect_lazy_with(options);
        Ok(Store::from_pool(pool))
    }

    pub fn from_pool(pool: PgPool) -> Store {
        Store { pool, generation: Default::default() }
    }

    /// How many world builds were activated through this store (and its clones) so far.
    pub fn activation_generation(&self) -> u64 {
        self.generation.load(std::sync::atomic::Ordering::Acquire)
    }

    pub(crate) fn bump_generation(&self) {
        self.generation.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Applies pending migrations.
    pub async fn migrate(&self) -> Result<()> {
        MIGRATOR.run(&self.pool).await?;
        Ok(())
    }

    /// `SELECT 1`: Ok when the database answers.
    pub async fn ping(&self) -> Result<()> {
        sqlx::query_scalar!("SELECT 1 AS one").fetch_one(&self.pool).await?;
        Ok(())
    }
}
