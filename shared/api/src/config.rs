//! Process configuration from the environment, read once at start-up. A malformed value is
//! an error naming the variable, never a silent default.

use exomaps_domain::coords::Scope;
// One parser for every variable (malformed: an error naming it), shared with the pipeline's.
use exomaps_pipeline::config::{PipelineConfig, parse};
use exomaps_store::PoolSettings;
use exomaps_store::runs::RunLimits;
use std::path::PathBuf;
use std::time::Duration;

/// Identity and access settings (issue 4).
#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// `EXOMAPS_SECRETS_FILE`: the local secrets file (signing keys, optional database URL).
    pub secrets_file: Option<PathBuf>,
    /// `EXOMAPS_JWT_SECRET_ID`: the Secrets Manager secret holding the signing key set (JSON
    /// `{"current": {"kid", "secret"}, "previous": [...]}`); used when no secrets file is set.
    pub jwt_secret_id: Option<String>,
    /// `EXOMAPS_DB_SECRET_ID`: the Secrets Manager secret with the database credentials.
    pub db_secret_id: Option<String>,
    /// `EXOMAPS_DB_HOST`: the database host to use instead of the one the secret names (a proxy).
    pub db_host: Option<String>,
    /// `EXOMAPS_ADMIN_SECRET_ID` (the `migrate` function): the administrator to create.
    pub admin_secret_id: Option<String>,
    /// `EXOMAPS_SECRETS_TTL_SECS` (default 60): how long cached secrets are used before the
    /// source is looked at again.
    pub secrets_ttl: Duration,
    /// `EXOMAPS_JWT_ISSUER` (default `exomaps`) and `EXOMAPS_JWT_AUDIENCE` (default `exomaps-api`).
    pub issuer: String,
    pub audience: String,
    /// `EXOMAPS_ACCESS_TTL_SECS` (default 900) and `EXOMAPS_REFRESH_TTL_SECS` (default 14 days).
    pub access_ttl_secs: i64,
    pub refresh_ttl_secs: i64,
    /// `EXOMAPS_CORS_ORIGINS`: comma-separated exact origins allowed to call with credentials.
    pub cors_origins: Vec<String>,
    /// `EXOMAPS_LOGIN_MAX_PER_USER` (default 5) and `EXOMAPS_LOGIN_MAX_PER_SOURCE` (default 30)
    /// attempts per `EXOMAPS_LOGIN_WINDOW_SECS` (default 900).
    pub login_max_per_user: i32,
    pub login_max_per_source: i32,
    pub login_window_secs: i64,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            secrets_file: None,
            jwt_secret_id: None,
            db_secret_id: None,
            db_host: None,
            admin_secret_id: None,
            secrets_ttl: Duration::from_secs(60),
            issuer: "exomaps".into(),
            audience: "exomaps-api".into(),
            access_ttl_secs: 900,
            refresh_ttl_secs: 14 * 24 * 3600,
            cors_origins: Vec::new(),
            login_max_per_user: 5,
            login_max_per_source: 30,
            login_window_secs: 900,
        }
    }
}

/// An origin as browsers send it: `scheme://host[:port]`, nothing else.
fn valid_origin(o: &str) -> bool {
    let Some((scheme, rest)) = o.split_once("://") else { return false };
    matches!(scheme, "http" | "https") && !rest.is_empty() && !rest.contains(['/', '*', '?', '#', ' ', '@'])
}

#[derive(Debug, Clone)]
pub struct Config {
    /// `DATABASE_URL`; `None` when unset (health then reports `configured: false`).
    pub database_url: Option<String>,
    pub pool: PoolSettings,
    /// `EXOMAPS_SCOPE_LY` (default 100) and `EXOMAPS_MARGIN_LY` (default 10).
    pub scope: Scope,
    /// `EXOMAPS_BUILD`: a build label reported by health (default "dev").
    pub build: String,
    /// `EXOMAPS_SOURCES`: the folder `file://` sources of `POST /api/runs` must live in (and
    /// where the default sources come from). Unset: no `file://` source is accepted.
    pub sources_dir: Option<std::path::PathBuf>,
    /// `EXOMAPS_OBJECTS_DIR`: the local stand-in for the SPA bucket (published map assets),
    /// served by the local gateway under `/data/`.
    pub objects_dir: Option<std::path::PathBuf>,
    pub auth: AuthConfig,
    /// `EXOMAPS_RUNS_MAX_PER_USER` (default 2) and `EXOMAPS_RUNS_MAX_GLOBAL` (default 4): queued +
    /// running pipeline runs allowed per user and in all (then 429 with `Retry-After`);
    /// `EXOMAPS_RUNS_STALE_SECS` (default 3600): older active runs no longer count.
    pub run_limits: RunLimits,
    /// `EXOMAPS_RUNS_RETRY_AFTER_SECS` (default 30): the `Retry-After` of a refused start.
    pub run_retry_after_secs: u64,
    /// `EXOMAPS_DB_PROBE_MS` (default 500): while the database is known to be down, requests
    /// fail at once (503) and a background probe pings it at this interval.
    pub db_probe_interval: Duration,
    /// `EXOMAPS_SESSION_CHECK_SECS` (default 5): how long a session found live is trusted before
    /// an access token naming it is checked against the database again (logout revokes at
    /// once in the process that handled it, within this time everywhere else).
    pub session_check_ttl: Duration,
    /// `EXOMAPS_WORLD_CACHE_CHECK_MS` (default 2000): how often the world read cache asks the
    /// database which build is active (0: on every request).
    pub world_cache_check: Duration,
    /// `EXOMAPS_COMPRESS` (default off; the local gateway turns it on): gzip cached JSON for
    /// clients that accept it. On AWS, API Gateway and CloudFront compress instead.
    pub compress: bool,
    /// `EXOMAPS_ROOM_POSTS_PER_SEC` (default 250, ≥ 10): the budget of WebSocket posts a room's
    /// `cursors` frames may cost a second; a room of n members gets a frame at most every
    /// max(100 ms, n / budget s) (50 members: 200 ms).
    pub room_posts_per_sec: u32,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            database_url: None,
            pool: PoolSettings::default(),
            scope: Scope::default(),
            build: "dev".into(),
            sources_dir: None,
            objects_dir: None,
            auth: AuthConfig::default(),
            run_limits: RunLimits::default(),
            run_retry_after_secs: 30,
            db_probe_interval: Duration::from_millis(500),
            session_check_ttl: Duration::from_secs(5),
            world_cache_check: Duration::from_millis(2000),
            compress: false,
            room_posts_per_sec: 250,
        }
    }
}

impl Config {
    pub fn from_env() -> Result<Config, String> {
        Config::from_lookup(|k| std::env::var(k).ok())
    }

    /// Same as `from_env`, over any lookup (tests pass a map).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Config, String> {
        // The database, pool, scope and secret TTL: read as the pipeline functions read them.
        let p = PipelineConfig::from_lookup(&get)?;
        let mut c = Config { database_url: p.database_url, pool: p.pool, scope: p.scope, ..Config::default() };
        c.objects_dir = get("EXOMAPS_OBJECTS_DIR").filter(|v| !v.trim().is_empty()).map(std::path::PathBuf::from);
        c.sources_dir = get("EXOMAPS_SOURCES").filter(|v| !v.trim().is_empty()).map(std::path::PathBuf::from);
        if let Some(b) = get("EXOMAPS_BUILD").filter(|v| !v.trim().is_empty()) {
            c.build = b;
        }
        for (key, slot) in [
            ("EXOMAPS_RUNS_MAX_PER_USER", &mut c.run_limits.per_user),
            ("EXOMAPS_RUNS_MAX_GLOBAL", &mut c.run_limits.global),
        ] {
            if let Some(n) = parse::<u32>(&get, key)? {
                if n == 0 {
                    return Err(format!("{key} must be a positive integer"));
                }
                *slot = n;
            }
        }
        if let Some(n) = parse::<u64>(&get, "EXOMAPS_RUNS_STALE_SECS")? {
            c.run_limits.stale_secs = n.max(1);
        }
        if let Some(n) = parse::<u64>(&get, "EXOMAPS_RUNS_RETRY_AFTER_SECS")? {
            c.run_retry_after_secs = n.max(1);
        }
        if let Some(ms) = parse::<u64>(&get, "EXOMAPS_DB_PROBE_MS")? {
            c.db_probe_interval = Duration::from_millis(ms.max(10));
        }
        if let Some(s) = parse::<u64>(&get, "EXOMAPS_SESSION_CHECK_SECS")? {
            c.session_check_ttl = Duration::from_secs(s);
        }
        if let Some(ms) = parse::<u64>(&get, "EXOMAPS_WORLD_CACHE_CHECK_MS")? {
            c.world_cache_check = Duration::from_millis(ms);
        }
        if let Some(v) = get("EXOMAPS_COMPRESS").filter(|v| !v.trim().is_empty()) {
            c.compress = match v.trim().to_ascii_lowercase().as_str() {
                "1" | "true" | "yes" | "on" => true,
                "0" | "false" | "no" | "off" => false,
                _ => return Err(format!("environment variable EXOMAPS_COMPRESS={v:?} is not valid (true/false)")),
            };
        }
        if let Some(n) = parse::<u32>(&get, "EXOMAPS_ROOM_POSTS_PER_SEC")? {
            if n < 10 {
                return Err("EXOMAPS_ROOM_POSTS_PER_SEC must be at least 10".into());
            }
            c.room_posts_per_sec = n;
        }
        let a = &mut c.auth;
        a.secrets_file = get("EXOMAPS_SECRETS_FILE").filter(|v| !v.trim().is_empty()).map(PathBuf::from);
        a.jwt_secret_id = get("EXOMAPS_JWT_SECRET_ID").filter(|v| !v.trim().is_empty());
        a.db_secret_id = p.db_secret_id;
        a.db_host = p.db_host;
        a.admin_secret_id = get("EXOMAPS_ADMIN_SECRET_ID").filter(|v| !v.trim().is_empty());
        a.secrets_ttl = p.secrets_ttl;
        if let Some(v) = get("EXOMAPS_JWT_ISSUER").filter(|v| !v.trim().is_empty()) {
            a.issuer = v.trim().to_string();
        }
        if let Some(v) = get("EXOMAPS_JWT_AUDIENCE").filter(|v| !v.trim().is_empty()) {
            a.audience = v.trim().to_string();
        }
        let positive = |key: &str, v: Option<i64>| match v {
            Some(n) if n <= 0 => Err(format!("{key} must be a positive integer")),
            other => Ok(other),
        };
        if let Some(n) = positive("EXOMAPS_ACCESS_TTL_SECS", parse(&get, "EXOMAPS_ACCESS_TTL_SECS")?)? {
            a.access_ttl_secs = n;
        }
        if let Some(n) = positive("EXOMAPS_REFRESH_TTL_SECS", parse(&get, "EXOMAPS_REFRESH_TTL_SECS")?)? {
            a.refresh_ttl_secs = n;
        }
        if let Some(n) = positive("EXOMAPS_LOGIN_WINDOW_SECS", parse(&get, "EXOMAPS_LOGIN_WINDOW_SECS")?)? {
            a.login_window_secs = n;
        }
        for (key, slot) in [
            ("EXOMAPS_LOGIN_MAX_PER_USER", &mut a.login_max_per_user),
            ("EXOMAPS_LOGIN_MAX_PER_SOURCE", &mut a.login_max_per_source),
        ] {
            if let Some(n) = positive(key, parse::<i64>(&get, key)?)? {
                *slot = i32::try_from(n).map_err(|_| format!("{key} is too large"))?;
            }
        }
        if let Some(v) = get("EXOMAPS_CORS_ORIGINS") {
            for o in v.split(',').map(str::trim).filter(|o| !o.is_empty()) {
                if o == "*" || o == "null" {
                    return Err(format!(
                        "EXOMAPS_CORS_ORIGINS may not contain {o:?}: credentials are allowed, so origins must be listed"
                    ));
                }
                if !valid_origin(o) {
                    return Err(format!("EXOMAPS_CORS_ORIGINS: {o:?} is not an origin (scheme://host[:port])"));
                }
                a.cors_origins.push(o.trim_end_matches('/').to_string());
            }
        }
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn cfg(pairs: &[(&str, &str)]) -> Result<Config, String> {
        let m: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(|k| m.get(k).cloned())
    }

    #[test]
    fn defaults_and_overrides() {
        let c = cfg(&[]).unwrap();
        assert!(c.database_url.is_none());
        assert_eq!(c.scope.scope_ly, 100.0);
        let c = cfg(&[("EXOMAPS_SCOPE_LY", "50"), ("EXOMAPS_DB_ACQUIRE_TIMEOUT_MS", "250")]).unwrap();
        assert_eq!(c.scope.scope_ly, 50.0);
        assert_eq!(c.pool.acquire_timeout, Duration::from_millis(250));
    }

    #[test]
    fn malformed_values_name_the_variable() {
        let e = cfg(&[("EXOMAPS_SCOPE_LY", "far")]).unwrap_err();
        assert!(e.contains("EXOMAPS_SCOPE_LY"), "{e}");
        assert!(cfg(&[("EXOMAPS_SCOPE_LY", "-1")]).is_err());
        assert!(cfg(&[("EXOMAPS_DB_MAX_CONNECTIONS", "x")]).unwrap_err().contains("EXOMAPS_DB_MAX_CONNECTIONS"));
        assert!(cfg(&[("EXOMAPS_ACCESS_TTL_SECS", "0")]).unwrap_err().contains("EXOMAPS_ACCESS_TTL_SECS"));
        assert!(cfg(&[("EXOMAPS_LOGIN_MAX_PER_USER", "many")]).unwrap_err().contains("EXOMAPS_LOGIN_MAX_PER_USER"));
    }

    #[test]
    fn cors_allow_list_refuses_wildcards() {
        let c = cfg(&[("EXOMAPS_CORS_ORIGINS", "http://localhost:3000, https://exomaps.local")]).unwrap();
        assert_eq!(c.auth.cors_origins, ["http://localhost:3000", "https://exomaps.local"]);
        for bad in ["*", "http://a.com,*", "null", "https://*.exomaps.org", "localhost:3000", "https://a.com/path"] {
            let e = cfg(&[("EXOMAPS_CORS_ORIGINS", bad)]).unwrap_err();
            assert!(e.contains("EXOMAPS_CORS_ORIGINS"), "{bad}: {e}");
        }
    }
}
