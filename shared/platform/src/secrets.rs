//! A Secrets Manager cache: each secret is fetched once, served from memory for a TTL, then
//! fetched again (so a rotated value is picked up within one TTL, without a restart).
//!
//! Concurrency: readers of a fresh value take a short read lock and never wait on the network.
//! When a value is missing or expired, one caller per secret fetches it while the others wait
//! for that fetch (no stampede on Secrets Manager). If a refresh fails with a transient error
//! (timeout, connection, 5xx, throttling) and an older value exists, the older value is served
//! and the refresh is retried after `min(ttl, 30 s)`; other errors (unknown secret, access
//! denied) are returned.
//!
//! Why not `aws_secretsmanager_caching` (the maintained AWS crate, 2.1): it depends on
//! aws-config and aws-sdk-secretsmanager with their default features, which brings back the
//! second HTTP stack (hyper 0.14, h2 0.3, rustls 0.21) that this workspace avoids, and its
//! errors are `Box<dyn Error>` (not `Send`). This cache is the part of it we need.

use crate::error::{PlatformError, aws};
use serde::de::DeserializeOwned;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

/// The TTL when none is configured.
pub const DEFAULT_TTL: Duration = Duration::from_secs(60);
/// Environment variable for the TTL in seconds (read by [`SecretCache::from_env`]).
pub const TTL_ENV: &str = "EXOMAPS_SECRETS_TTL_SECS";
/// Longest time a stale value is served after a transient refresh failure before trying again.
const STALE_RETRY: Duration = Duration::from_secs(30);

pub struct SecretCache {
    client: aws_sdk_secretsmanager::Client,
    ttl: Duration,
    slots: Mutex<HashMap<String, Arc<Slot>>>,
    fetches: AtomicU64,
}

#[derive(Default)]
struct Slot {
    current: RwLock<Option<Cached>>,
    /// Held by the one caller fetching this secret.
    refresh: tokio::sync::Mutex<()>,
}

#[derive(Clone)]
struct Cached {
    value: Arc<str>,
    valid_until: Instant,
}

impl Slot {
    fn fresh(&self, now: Instant) -> Option<Arc<str>> {
        let guard = self.current.read().unwrap_or_else(|p| p.into_inner());
        guard.as_ref().filter(|c| now < c.valid_until).map(|c| c.value.clone())
    }

    fn any(&self) -> Option<Arc<str>> {
        self.current.read().unwrap_or_else(|p| p.into_inner()).as_ref().map(|c| c.value.clone())
    }

    fn set(&self, value: Arc<str>, valid_until: Instant) {
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = Some(Cached { value, valid_until });
    }

    fn expire(&self) {
        if let Some(c) = self.current.write().unwrap_or_else(|p| p.into_inner()).as_mut() {
            c.valid_until = Instant::now();
        }
    }
}

impl std::fmt::Debug for SecretCache {
    // Never prints values.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretCache").field("ttl", &self.ttl).field("fetches", &self.fetch_count()).finish()
    }
}

impl SecretCache {
    pub fn new(config: &crate::aws::Config, ttl: Duration) -> Self {
        Self::from_client(crate::aws::secrets_client(config), ttl)
    }

    pub fn from_client(client: aws_sdk_secretsmanager::Client, ttl: Duration) -> Self {
        SecretCache { client, ttl, slots: Mutex::new(HashMap::new()), fetches: AtomicU64::new(0) }
    }

    /// A cache whose TTL comes from `EXOMAPS_SECRETS_TTL_SECS` (default 60 s, as the identity configuration).
    pub fn from_env(config: &crate::aws::Config) -> crate::Result<Self> {
        let ttl = match std::env::var(TTL_ENV) {
            Ok(v) if !v.trim().is_empty() => v
                .trim()
                .parse::<u64>()
                .map(Duration::from_secs)
                .map_err(|_| PlatformError::invalid(TTL_ENV, format!("{v:?} is not a number of seconds")))?,
            _ => DEFAULT_TTL,
        };
        Ok(Self::new(config, ttl))
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// How many times the cache has called GetSecretValue (for logs and tests).
    pub fn fetch_count(&self) -> u64 {
        self.fetches.load(Ordering::Relaxed)
    }

    /// The secret's current `SecretString`, from memory when fetched less than a TTL ago.
    pub async fn get_string(&self, id: &str) -> crate::Result<String> {
        self.get(id).await.map(|v| v.to_string())
    }

    /// The secret's `SecretString` parsed as JSON (e.g. `{"username":..,"password":..}`).
    pub async fn get_json<T: DeserializeOwned>(&self, id: &str) -> crate::Result<T> {
        let value = self.get(id).await?;
        serde_json::from_str(&value)
            .map_err(|e| PlatformError::invalid(format!("secret {id}"), format!("not the expected JSON: {e}")))
    }

    /// Forget the freshness of `id`: the next read fetches it again (e.g. after the database
    /// rejected credentials that may have been rotated). The old value stays as the fallback.
    pub fn invalidate(&self, id: &str) {
        let slot = self.slots.lock().unwrap_or_else(|p| p.into_inner()).get(id).cloned();
        if let Some(slot) = slot {
            slot.expire();
        }
    }

    fn slot(&self, id: &str) -> Arc<Slot> {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        slots.entry(id.to_owned()).or_default().clone()
    }

    async fn get(&self, id: &str) -> crate::Result<Arc<str>> {
        let slot = self.slot(id);
        if let Some(v) = slot.fresh(Instant::now()) {
            return Ok(v);
        }
        let _refreshing = slot.refresh.lock().await;
        // Another caller may have refreshed it while this one waited.
        if let Some(v) = slot.fresh(Instant::now()) {
            return Ok(v);
        }
        match self.fetch(id).await {
            Ok(value) => {
                slot.set(value.clone(), Instant::now() + self.ttl);
                Ok(value)
            }
            Err(e) if e.is_transient() => match slot.any() {
                Some(stale) => {
                    let retry = self.ttl.min(STALE_RETRY);
                    tracing::warn!(secret = id, error = %e, retry_in_s = retry.as_secs_f64(),
                        "secret refresh failed; serving the previous value");
                    slot.set(stale.clone(), Instant::now() + retry);
                    Ok(stale)
                }
                None => Err(e),
            },
            Err(e) => Err(e),
        }
    }

    async fn fetch(&self, id: &str) -> crate::Result<Arc<str>> {
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let out = self
            .client
            .get_secret_value()
            .secret_id(id)
            .send()
            .await
            .map_err(|e| aws("GetSecretValue", format!("secret {id}"), e))?;
        match out.secret_string {
            Some(s) => Ok(Arc::from(s)),
            None => Err(PlatformError::invalid(
                format!("secret {id}"),
                "has no SecretString (binary secrets are not supported)",
            )),
        }
    }
}

impl SecretCache {
    /// The database URL in the credentials secret `id` (see [`database_url_with_host`]): the one
    /// code path that reads it, for the HTTP functions' secret source and the pipeline functions.
    pub async fn database_url(&self, id: &str, host: Option<&str>) -> Result<String, String> {
        let text = self.get_string(id).await.map_err(|e| e.to_string())?;
        database_url_with_host(&text, host)
    }
}

/// Reads the database URL from a credentials secret: either `{"database_url": "postgres://…"}`
/// or the RDS shape `{"username", "password", "host", "port", "dbname"}`.
pub fn database_url_from_json(text: &str) -> Result<String, String> {
    database_url_with_host(text, None)
}

/// [`database_url_from_json`], with the RDS shape's `host` replaced by `host` when given: the
/// stack's own Aurora secret names the cluster, and the functions connect through the RDS Proxy
/// (`EXOMAPS_DB_HOST`, the proxy endpoint). A `database_url` secret is used as it is.
pub fn database_url_with_host(text: &str, host: Option<&str>) -> Result<String, String> {
    #[derive(serde::Deserialize)]
    struct Creds {
        database_url: Option<String>,
        username: Option<String>,
        password: Option<String>,
        host: Option<String>,
        port: Option<serde_json::Value>,
        dbname: Option<String>,
    }
    let c: Creds = serde_json::from_str(text).map_err(|e| format!("database secret is not valid JSON: {e}"))?;
    if let Some(url) = c.database_url {
        return Ok(url);
    }
    let host = host.filter(|h| !h.is_empty()).map(str::to_string).or(c.host);
    match (c.username, c.password, host) {
        (Some(u), Some(p), Some(h)) => {
            let port = match c.port {
                Some(serde_json::Value::Number(n)) => n.to_string(),
                Some(serde_json::Value::String(s)) => s,
                _ => "5432".into(),
            };
            let db = c.dbname.unwrap_or_else(|| "postgres".into());
            Ok(format!("postgres://{}:{}@{h}:{port}/{}", enc(&u), enc(&p), enc(&db)))
        }
        _ => Err("database secret has neither database_url nor username/password/host".into()),
    }
}

/// Percent-encodes a URL userinfo or path component.
fn enc(s: &str) -> String {
    crate::percent::encode_component(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_credentials_in_both_shapes() {
        assert_eq!(database_url_from_json(r#"{"database_url": "postgres://a@h/db"}"#).unwrap(), "postgres://a@h/db");
        let rds =
            r#"{"username": "api", "password": "p@ss:/w", "host": "db.local", "port": 5433, "dbname": "exomaps"}"#;
        assert_eq!(database_url_from_json(rds).unwrap(), "postgres://api:p%40ss%3A%2Fw@db.local:5433/exomaps");
        assert!(database_url_from_json(r#"{"username": "x"}"#).is_err());
        assert!(database_url_from_json("not json").unwrap_err().contains("not valid JSON"));
        // The stack's Aurora secret names the cluster; the functions go through the proxy.
        assert_eq!(
            database_url_with_host(rds, Some("proxy.local")).unwrap(),
            "postgres://api:p%40ss%3A%2Fw@proxy.local:5433/exomaps"
        );
        let url = r#"{"database_url": "postgres://a@h/db"}"#;
        assert_eq!(database_url_with_host(url, Some("proxy.local")).unwrap(), "postgres://a@h/db");
        let no_port = r#"{"username": "u", "password": "p", "host": "h"}"#;
        assert_eq!(database_url_from_json(no_port).unwrap(), "postgres://u:p@h:5432/postgres");
    }
}
