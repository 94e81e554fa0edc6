//! Process configuration from the environment, read once at start-up. A malformed value is
//! an error naming the variable, never a silent default.

use exomaps_domain::coords::Scope;
use exomaps_store::PoolSettings;
use std::time::Duration;

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
}

impl Default for Config {
    fn default() -> Self {
        Config {
            database_url: None,
            pool: PoolSettings::default(),
            scope: Scope::default(),
            build: "dev".into(),
            sources_dir: None,
        }
    }
}

fn parse<T: std::str::FromStr>(get: &impl Fn(&str) -> Option<String>, key: &str) -> Result<Option<T>, String> {
    match get(key) {
        None => Ok(None),
        Some(v) if v.trim().is_empty() => Ok(None),
        Some(v) => v.trim().parse().map(Some).map_err(|_| format!("environment variable {key}={v:?} is not valid")),
    }
}

impl Config {
    pub fn from_env() -> Result<Config, String> {
        Config::from_lookup(|k| std::env::var(k).ok())
    }

    /// Same as `from_env`, over any lookup (tests pass a map).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Config, String> {
        let mut c = Config { database_url: get("DATABASE_URL").filter(|v| !v.trim().is_empty()), ..Config::default() };
        if let Some(ms) = parse::<u64>(&get, "EXOMAPS_DB_ACQUIRE_TIMEOUT_MS")? {
            c.pool.acquire_timeout = Duration::from_millis(ms);
        }
        if let Some(n) = parse::<u32>(&get, "EXOMAPS_DB_MAX_CONNECTIONS")? {
            c.pool.max_connections = n.max(1);
        }
        if let Some(v) = parse::<f64>(&get, "EXOMAPS_SCOPE_LY")? {
            if !(v > 0.0 && v.is_finite()) {
                return Err("EXOMAPS_SCOPE_LY must be a positive number".into());
            }
            c.scope.scope_ly = v;
        }
        if let Some(v) = parse::<f64>(&get, "EXOMAPS_MARGIN_LY")? {
            if !(v >= 0.0 && v.is_finite()) {
                return Err("EXOMAPS_MARGIN_LY must be a non-negative number".into());
            }
            c.scope.margin_ly = v;
        }
        c.sources_dir = get("EXOMAPS_SOURCES").filter(|v| !v.trim().is_empty()).map(std::path::PathBuf::from);
        if let Some(b) = get("EXOMAPS_BUILD").filter(|v| !v.trim().is_empty()) {
            c.build = b;
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
    }
}
