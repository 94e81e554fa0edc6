//! What a pipeline process needs of its configuration: the database (a URL, or the credentials
//! secret with an optional host override), the pool settings and the scope — read once at
//! start-up. The SQS-triggered Lambdas build their context from this alone (no HTTP state);
//! `exomaps_api::config::Config` reads the same variables through [`PipelineConfig::from_lookup`],
//! so both agree. A malformed value is an error naming the variable, never a silent default.

use exomaps_domain::coords::Scope;
use exomaps_store::{PoolSettings, Store};
use std::time::Duration;

/// The database, pool and scope settings of a process.
#[derive(Debug, Clone)]
pub struct PipelineConfig {
    /// `DATABASE_URL`; when unset, the credentials secret is read.
    pub database_url: Option<String>,
    /// `EXOMAPS_DB_SECRET_ID`: the Secrets Manager secret with the database credentials
    /// (`{"database_url"}` or the RDS shape; see `exomaps_platform::secrets::database_url_with_host`).
    pub db_secret_id: Option<String>,
    /// `EXOMAPS_DB_HOST`: connect to this host instead of the RDS secret's own (the RDS Proxy).
    pub db_host: Option<String>,
    /// `EXOMAPS_SECRETS_TTL_SECS` (default 60): how long a fetched secret is used.
    pub secrets_ttl: Duration,
    /// `EXOMAPS_DB_ACQUIRE_TIMEOUT_MS`, `EXOMAPS_DB_MAX_CONNECTIONS`.
    pub pool: PoolSettings,
    /// `EXOMAPS_SCOPE_LY` (default 100) and `EXOMAPS_MARGIN_LY` (default 10).
    pub scope: Scope,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        PipelineConfig {
            database_url: None,
            db_secret_id: None,
            db_host: None,
            secrets_ttl: Duration::from_secs(60),
            pool: PoolSettings::default(),
            scope: Scope::default(),
        }
    }
}

/// A variable's value, `None` when unset, empty or blank.
pub fn text(get: &impl Fn(&str) -> Option<String>, key: &str) -> Option<String> {
    get(key).filter(|v| !v.trim().is_empty())
}

/// A variable parsed as `T` (surrounding blanks ignored); `None` when unset or blank, an error
/// naming the variable when malformed.
pub fn parse<T: std::str::FromStr>(get: &impl Fn(&str) -> Option<String>, key: &str) -> Result<Option<T>, String> {
    match get(key) {
        None => Ok(None),
        Some(v) if v.trim().is_empty() => Ok(None),
        Some(v) => v.trim().parse().map(Some).map_err(|_| format!("environment variable {key}={v:?} is not valid")),
    }
}

impl PipelineConfig {
    pub fn from_env() -> Result<PipelineConfig, String> {
        PipelineConfig::from_lookup(&|k: &str| std::env::var(k).ok())
    }

    /// Same as [`PipelineConfig::from_env`], over any lookup (tests pass a map).
    pub fn from_lookup(get: &impl Fn(&str) -> Option<String>) -> Result<PipelineConfig, String> {
        let mut c = PipelineConfig {
            database_url: text(get, "DATABASE_URL"),
            db_secret_id: text(get, "EXOMAPS_DB_SECRET_ID"),
            db_host: text(get, "EXOMAPS_DB_HOST").map(|h| h.trim().to_string()),
            ..PipelineConfig::default()
        };
        if let Some(s) = parse::<u64>(get, "EXOMAPS_SECRETS_TTL_SECS")? {
            c.secrets_ttl = Duration::from_secs(s);
        }
        if let Some(ms) = parse::<u64>(get, "EXOMAPS_DB_ACQUIRE_TIMEOUT_MS")? {
            c.pool.acquire_timeout = Duration::from_millis(ms);
        }
        if let Some(n) = parse::<u32>(get, "EXOMAPS_DB_MAX_CONNECTIONS")? {
            c.pool.max_connections = n.max(1);
        }
        if let Some(v) = parse::<f64>(get, "EXOMAPS_SCOPE_LY")? {
            if !(v > 0.0 && v.is_finite()) {
                return Err("EXOMAPS_SCOPE_LY must be a positive number".into());
            }
            c.scope.scope_ly = v;
        }
        if let Some(v) = parse::<f64>(get, "EXOMAPS_MARGIN_LY")? {
            if !(v >= 0.0 && v.is_finite()) {
                return Err("EXOMAPS_MARGIN_LY must be a non-negative number".into());
            }
            c.scope.margin_ly = v;
        }
        Ok(c)
    }

    /// The database URL: `DATABASE_URL`, else the one in the credentials secret (read through
    /// `exomaps_platform::secrets::SecretCache::database_url`, the one code path for it), else
    /// `None` (no database configured).
    pub async fn database_url(&self) -> Result<Option<String>, String> {
        if let Some(url) = &self.database_url {
            return Ok(Some(url.clone()));
        }
        let Some(id) = &self.db_secret_id else { return Ok(None) };
        let secrets = exomaps_platform::SecretCache::new(exomaps_platform::aws::config().await, self.secrets_ttl);
        let url = secrets.database_url(id, self.db_host.as_deref()).await;
        url.map(Some).map_err(|e| format!("database credentials: {e}"))
    }

    /// A lazily connecting store over [`PipelineConfig::database_url`] (no connection is made
    /// until a query needs one); `None` when no database is configured.
    pub async fn store(&self) -> Result<Option<Store>, String> {
        match self.database_url().await? {
            Some(url) => Store::connect_lazy(&url, &self.pool).map(Some).map_err(|e| format!("database URL: {e}")),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn cfg(pairs: &[(&str, &str)]) -> Result<PipelineConfig, String> {
        let m: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        PipelineConfig::from_lookup(&|k: &str| m.get(k).cloned())
    }

    #[test]
    fn defaults_and_overrides() {
        let d = cfg(&[]).unwrap();
        assert_eq!((d.database_url, d.db_secret_id, d.db_host), (None, None, None));
        assert_eq!(d.secrets_ttl, Duration::from_secs(60));
        assert_eq!(d.pool.max_connections, PoolSettings::default().max_connections);
        assert_eq!((d.scope.scope_ly, d.scope.margin_ly), (100.0, 10.0));
        let c = cfg(&[
            ("DATABASE_URL", "postgres://a@h/db"),
            ("EXOMAPS_DB_SECRET_ID", "db-secret"),
            ("EXOMAPS_DB_HOST", " proxy.local "),
            ("EXOMAPS_SECRETS_TTL_SECS", "5"),
            ("EXOMAPS_DB_ACQUIRE_TIMEOUT_MS", "250"),
            ("EXOMAPS_DB_MAX_CONNECTIONS", "0"),
            ("EXOMAPS_SCOPE_LY", "50"),
            ("EXOMAPS_MARGIN_LY", "0"),
        ])
        .unwrap();
        assert_eq!(c.database_url.as_deref(), Some("postgres://a@h/db"));
        assert_eq!(c.db_secret_id.as_deref(), Some("db-secret"));
        assert_eq!(c.db_host.as_deref(), Some("proxy.local"));
        assert_eq!(c.secrets_ttl, Duration::from_secs(5));
        assert_eq!(c.pool.acquire_timeout, Duration::from_millis(250));
        assert_eq!(c.pool.max_connections, 1, "at least one connection");
        assert_eq!((c.scope.scope_ly, c.scope.margin_ly), (50.0, 0.0));
        assert_eq!(cfg(&[("DATABASE_URL", "  ")]).unwrap().database_url, None, "blank is unset");
    }

    #[test]
    fn malformed_values_name_the_variable() {
        for (key, bad) in [
            ("EXOMAPS_SCOPE_LY", "far"),
            ("EXOMAPS_SCOPE_LY", "-1"),
            ("EXOMAPS_MARGIN_LY", "-0.5"),
            ("EXOMAPS_DB_MAX_CONNECTIONS", "x"),
            ("EXOMAPS_DB_ACQUIRE_TIMEOUT_MS", "soon"),
            ("EXOMAPS_SECRETS_TTL_SECS", "1m"),
        ] {
            let e = cfg(&[(key, bad)]).unwrap_err();
            assert!(e.contains(key), "{key}={bad}: {e}");
        }
    }

    #[tokio::test]
    async fn the_url_comes_first_and_nothing_configured_is_no_store() {
        let c = cfg(&[("DATABASE_URL", "postgres://u@localhost:1/none"), ("EXOMAPS_DB_SECRET_ID", "unused")]).unwrap();
        assert_eq!(c.database_url().await.unwrap().as_deref(), Some("postgres://u@localhost:1/none"));
        assert!(c.store().await.unwrap().is_some(), "a lazy pool: no connection is made");
        assert!(cfg(&[]).unwrap().store().await.unwrap().is_none());
        let bad = cfg(&[("DATABASE_URL", "not a url")]).unwrap();
        assert!(bad.store().await.unwrap_err().contains("database URL"));
    }
}
