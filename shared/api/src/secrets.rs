//! Where secrets come from: the JWT signing key set and the database credentials.
//!
//! Handlers and the token code only ever see a [`SecretSource`]. It is asked on every use
//! (each token issued or verified), so an implementation that refreshes its cached value —
//! after a TTL, or on a rotation — is picked up without a restart. Implementations here:
//!
//! * [`FileSource`]: a local JSON file named by `EXOMAPS_SECRETS_FILE`, re-read when it changes
//!   (checked at most once per `EXOMAPS_SECRETS_TTL_SECS`). `exomaps-local up` and the tests
//!   generate it at run time with random keys; no key is ever in the source tree.
//! * [`MemorySource`]: a value held in memory and replaced with [`MemorySource::set_keys`]
//!   (tests; an adapter can also wrap it).
//!
//! **Integration point for Secrets Manager:** [`from_config`] is the one place that picks the
//! source for a process (Lambda `main` and the local gateway). A Secrets Manager source
//! implements [`SecretSource`] by fetching the secret string through its TTL cache and parsing
//! it with [`KeySet::from_json`] (and `exomaps_platform::secrets::database_url_with_host` for the
//! credentials secret);
//! it is selected in `from_config` when its configuration is present.
//!
//! Signing keys are HMAC-SHA256 secrets of at least 32 random bytes, each with a key id
//! (`kid`). The *current* key signs new tokens; tokens carrying the kid of a *previous* key
//! still verify until they expire, as long as that key is listed. Dropping a key from the set
//! invalidates every token signed with it.

use crate::config::Config;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime};

/// Shortest signing secret accepted (RFC 7518 §3.2: at least the hash size, 256 bits).
pub const MIN_KEY_BYTES: usize = 32;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretError(pub String);

impl fmt::Display for SecretError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SecretError {}

/// One HMAC-SHA256 signing key with its id.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningKey {
    pub kid: String,
    secret: Vec<u8>,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey").field("kid", &self.kid).field("secret", &"<redacted>").finish()
    }
}

impl SigningKey {
    pub fn new(kid: impl Into<String>, secret: Vec<u8>) -> Result<SigningKey, SecretError> {
        let kid = kid.into();
        if kid.is_empty() || kid.len() > 64 || !kid.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)) {
            return Err(SecretError(format!("signing key id {kid:?} must be 1-64 characters of [A-Za-z0-9._-]")));
        }
        if secret.len() < MIN_KEY_BYTES {
            return Err(SecretError(format!("signing key {kid} is shorter than {MIN_KEY_BYTES} bytes")));
        }
        Ok(SigningKey { kid, secret })
    }

    /// A fresh random key (32 bytes from the OS) with a random kid.
    pub fn generate() -> SigningKey {
        SigningKey { kid: format!("k-{}", random_token(9)), secret: random_bytes(32) }
    }

    pub fn secret(&self) -> &[u8] {
        &self.secret
    }
}

/// The signing keys in force: the current one signs, all of them verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeySet {
    pub current: SigningKey,
    pub previous: Vec<SigningKey>,
}

#[derive(Serialize, Deserialize)]
struct KeyJson {
    kid: String,
    /// base64url (no padding) of the secret bytes.
    secret: String,
}

#[derive(Serialize, Deserialize)]
struct KeySetJson {
    current: KeyJson,
    #[serde(default)]
    previous: Vec<KeyJson>,
}

impl KeySet {
    pub fn new(current: SigningKey, previous: Vec<SigningKey>) -> Result<KeySet, SecretError> {
        let mut kids = std::collections::HashSet::new();
        for k in std::iter::once(&current).chain(&previous) {
            if !kids.insert(k.kid.as_str()) {
                return Err(SecretError(format!("signing key id {} appears twice", k.kid)));
            }
        }
        Ok(KeySet { current, previous })
    }

    /// A set of one fresh random key.
    pub fn generate() -> KeySet {
        KeySet { current: SigningKey::generate(), previous: Vec::new() }
    }

    /// The set after a rotation: `next` signs from now on, the old current key still
    /// verifies (it becomes the first previous key); at most `keep` previous keys are kept.
    pub fn rotated(&self, next: SigningKey, keep: usize) -> KeySet {
        let mut previous = vec![self.current.clone()];
        previous.extend(self.previous.iter().cloned());
        previous.retain(|k| k.kid != next.kid);
        previous.truncate(keep);
        KeySet { current: next, previous }
    }

    /// The key with this id, current or previous.
    pub fn find(&self, kid: &str) -> Option<&SigningKey> {
        std::iter::once(&self.current).chain(&self.previous).find(|k| k.kid == kid)
    }

    /// Parses the secret's JSON: `{"current": {"kid": "...", "secret": "<base64url>"},
    /// "previous": [{"kid": ..., "secret": ...}, ...]}`, or a single key `{"kid", "secret"}`
    /// (what Secrets Manager's `GenerateSecretString` makes for infra/template.yaml: a set of one
    /// current key).
    pub fn from_json(text: &str) -> Result<KeySet, SecretError> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Shape {
            Set(KeySetJson),
            Single(KeyJson),
        }
        let json = match serde_json::from_str(text) {
            Ok(Shape::Set(set)) => set,
            Ok(Shape::Single(key)) => KeySetJson { current: key, previous: Vec::new() },
            Err(e) => return Err(SecretError(format!("signing key set is not valid JSON: {e}"))),
        };
        KeySet::from_parsed(json)
    }

    fn from_parsed(json: KeySetJson) -> Result<KeySet, SecretError> {
        let key = |k: KeyJson| {
            let secret = URL_SAFE_NO_PAD
                .decode(k.secret.trim_end_matches('='))
                .map_err(|_| SecretError(format!("signing key {} is not base64url", k.kid)))?;
            SigningKey::new(k.kid, secret)
        };
        let current = key(json.current)?;
        let previous = json.previous.into_iter().map(key).collect::<Result<Vec<_>, _>>()?;
        KeySet::new(current, previous)
    }

    fn to_parsed(&self) -> KeySetJson {
        let key = |k: &SigningKey| KeyJson { kid: k.kid.clone(), secret: URL_SAFE_NO_PAD.encode(&k.secret) };
        KeySetJson { current: key(&self.current), previous: self.previous.iter().map(key).collect() }
    }

    /// The JSON [`KeySet::from_json`] reads.
    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.to_parsed()).expect("plain JSON")
    }
}

pub type SecretFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, SecretError>> + Send + 'a>>;

/// A source of secrets. Called on every use; implementations cache (and decide for how long).
pub trait SecretSource: Send + Sync + fmt::Debug {
    /// The signing keys in force now.
    fn signing_keys(&self) -> SecretFuture<'_, Arc<KeySet>>;
    /// The database URL with its credentials, when this source holds them.
    fn database_url(&self) -> SecretFuture<'_, Option<String>>;
}

/// Secrets held in memory; replace them at any time.
#[derive(Debug)]
pub struct MemorySource {
    keys: RwLock<Arc<KeySet>>,
    database_url: RwLock<Option<String>>,
}

impl MemorySource {
    pub fn new(keys: KeySet) -> MemorySource {
        MemorySource { keys: RwLock::new(Arc::new(keys)), database_url: RwLock::new(None) }
    }

    pub fn with_database_url(self, url: impl Into<String>) -> MemorySource {
        *self.database_url.write().expect("lock") = Some(url.into());
        self
    }

    pub fn keys(&self) -> Arc<KeySet> {
        self.keys.read().expect("lock").clone()
    }

    pub fn set_keys(&self, keys: KeySet) {
        *self.keys.write().expect("lock") = Arc::new(keys);
    }
}

impl SecretSource for MemorySource {
    fn signing_keys(&self) -> SecretFuture<'_, Arc<KeySet>> {
        let keys = self.keys();
        Box::pin(async move { Ok(keys) })
    }

    fn database_url(&self) -> SecretFuture<'_, Option<String>> {
        let url = self.database_url.read().expect("lock").clone();
        Box::pin(async move { Ok(url) })
    }
}

/// The local secrets file: `{"jwt_keys": <key set JSON>, "database_url": "postgres://…"?}`.
#[derive(Serialize, Deserialize)]
struct SecretsFile {
    jwt_keys: KeySetJson,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    database_url: Option<String>,
}

/// What identifies a version of the file: modification time, size, inode (a rename changes it).
type Stamp = (SystemTime, u64, u64);

#[derive(Debug)]
struct Loaded {
    checked: Instant,
    stamp: Option<Stamp>,
    keys: Arc<KeySet>,
    database_url: Option<String>,
}

/// Secrets from a local JSON file, re-read when its modification time or size changes (looked
/// at no more often than every `ttl`).
#[derive(Debug)]
pub struct FileSource {
    path: PathBuf,
    ttl: Duration,
    cache: Mutex<Option<Loaded>>,
}

impl FileSource {
    /// Opens and parses the file now, so a bad file fails at start-up, not on first use.
    pub fn open(path: impl Into<PathBuf>, ttl: Duration) -> Result<FileSource, SecretError> {
        let source = FileSource { path: path.into(), ttl, cache: Mutex::new(None) };
        source.load()?;
        Ok(source)
    }

    fn stamp(&self) -> Option<Stamp> {
        let m = std::fs::metadata(&self.path).ok()?;
        #[cfg(unix)]
        let ino = std::os::unix::fs::MetadataExt::ino(&m);
        #[cfg(not(unix))]
        let ino = 0;
        Some((m.modified().ok()?, m.len(), ino))
    }

    fn load(&self) -> Result<(Arc<KeySet>, Option<String>), SecretError> {
        let mut cache = self.cache.lock().expect("lock");
        if let Some(c) = cache.as_mut() {
            if c.checked.elapsed() < self.ttl {
                return Ok((c.keys.clone(), c.database_url.clone()));
            }
            c.checked = Instant::now();
            if self.stamp() == c.stamp {
                return Ok((c.keys.clone(), c.database_url.clone()));
            }
        }
        let stamp = self.stamp();
        let parsed = std::fs::read_to_string(&self.path)
            .map_err(|e| SecretError(format!("cannot read secrets file {}: {e}", self.path.display())))
            .and_then(|text| {
                let file: SecretsFile = serde_json::from_str(&text)
                    .map_err(|e| SecretError(format!("secrets file {} is not valid: {e}", self.path.display())))?;
                Ok((KeySet::from_parsed(file.jwt_keys)?, file.database_url))
            });
        let (keys, database_url) = match (parsed, cache.as_ref()) {
            (Ok(p), _) => p,
            // A file that turns bad after a good read: keep serving the last good secrets.
            (Err(e), Some(c)) => {
                tracing::warn!(error = %e, "secrets file unreadable; keeping the last good secrets");
                return Ok((c.keys.clone(), c.database_url.clone()));
            }
            (Err(e), None) => return Err(e),
        };
        let keys = Arc::new(keys);
        if cache.as_ref().is_some_and(|c| c.keys.current != keys.current) {
            tracing::info!(kid = %keys.current.kid, "signing key rotated");
        }
        *cache = Some(Loaded { checked: Instant::now(), stamp, keys: keys.clone(), database_url });
        Ok((keys, cache.as_ref().and_then(|c| c.database_url.clone())))
    }
}

impl SecretSource for FileSource {
    fn signing_keys(&self) -> SecretFuture<'_, Arc<KeySet>> {
        let r = self.load().map(|(k, _)| k);
        Box::pin(async move { r })
    }

    fn database_url(&self) -> SecretFuture<'_, Option<String>> {
        let r = self.load().map(|(_, u)| u);
        Box::pin(async move { r })
    }
}

/// Writes a secrets file (mode 0600) holding `keys` and, optionally, a database URL.
pub fn write_secrets_file(path: &Path, keys: &KeySet, database_url: Option<&str>) -> std::io::Result<()> {
    let file = SecretsFile { jwt_keys: keys.to_parsed(), database_url: database_url.map(str::to_string) };
    let text = serde_json::to_string_pretty(&file).expect("plain JSON");
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("tmp");
    {
        use std::io::Write;
        #[cfg(unix)]
        use std::os::unix::fs::OpenOptionsExt;
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        opts.mode(0o600);
        let mut f = opts.open(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
    }
    std::fs::rename(tmp, path)
}

/// The secret source of this process, from its configuration: `EXOMAPS_SECRETS_FILE` names a
/// local file. `None` when nothing is configured: then no token verifies (every presented
/// token is a 401) and login answers 503, while anonymous routes keep working.
///
/// **Secrets Manager plugs in here**: when its configuration is present (secret ids in the
/// environment), return its source instead of the file.
pub fn from_config(config: &Config) -> Result<Option<Arc<dyn SecretSource>>, String> {
    match (&config.auth.secrets_file, &config.auth.jwt_secret_id) {
        (Some(path), _) => {
            let source =
                FileSource::open(path, config.auth.secrets_ttl).map_err(|e| format!("EXOMAPS_SECRETS_FILE: {e}"))?;
            Ok(Some(Arc::new(source)))
        }
        (None, Some(jwt)) => Ok(Some(Arc::new(
            SecretsManagerSource::new(jwt.clone(), config.auth.db_secret_id.clone(), config.auth.secrets_ttl)
                .with_db_host(config.auth.db_host.clone()),
        ))),
        (None, None) => Ok(None),
    }
}

/// Secrets from AWS Secrets Manager (the emulator when `AWS_ENDPOINT_URL` is set), cached for
/// the configured TTL: a rotated signing key is picked up after at most one TTL, without a
/// restart. The SDK client is built once, on first use.
pub struct SecretsManagerSource {
    jwt_id: String,
    db_id: Option<String>,
    db_host: Option<String>,
    ttl: std::time::Duration,
    cache: tokio::sync::OnceCell<exomaps_platform::secrets::SecretCache>,
    /// The last key set parsed, with the text it came from (parsing is skipped when unchanged).
    parsed: std::sync::Mutex<Option<(String, Arc<KeySet>)>>,
}

impl fmt::Debug for SecretsManagerSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretsManagerSource").field("jwt_id", &self.jwt_id).field("db_id", &self.db_id).finish()
    }
}

impl SecretsManagerSource {
    pub fn new(jwt_id: String, db_id: Option<String>, ttl: std::time::Duration) -> SecretsManagerSource {
        SecretsManagerSource {
            jwt_id,
            db_id,
            db_host: None,
            ttl,
            cache: tokio::sync::OnceCell::new(),
            parsed: Default::default(),
        }
    }

    /// Connect to `host` instead of the RDS secret's own `host` (the RDS Proxy in front of the
    /// stack's Aurora cluster; `EXOMAPS_DB_HOST`).
    pub fn with_db_host(mut self, host: Option<String>) -> SecretsManagerSource {
        self.db_host = host;
        self
    }

    async fn cache(&self) -> &exomaps_platform::secrets::SecretCache {
        self.cache
            .get_or_init(|| async {
                exomaps_platform::secrets::SecretCache::new(exomaps_platform::aws::config().await, self.ttl)
            })
            .await
    }
}

impl SecretSource for SecretsManagerSource {
    fn signing_keys(&self) -> SecretFuture<'_, Arc<KeySet>> {
        Box::pin(async move {
            let text = self.cache().await.get_string(&self.jwt_id).await.map_err(|e| SecretError(e.to_string()))?;
            let mut parsed = self.parsed.lock().expect("key set lock");
            if let Some((t, keys)) = parsed.as_ref()
                && *t == text
            {
                return Ok(keys.clone());
            }
            let keys = Arc::new(KeySet::from_json(&text)?);
            *parsed = Some((text, keys.clone()));
            Ok(keys)
        })
    }

    fn database_url(&self) -> SecretFuture<'_, Option<String>> {
        Box::pin(async move {
            let Some(id) = &self.db_id else { return Ok(None) };
            self.cache().await.database_url(id, self.db_host.as_deref()).await.map(Some).map_err(SecretError)
        })
    }
}

/// `n` random bytes from the operating system.
pub fn random_bytes(n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    getrandom::fill(&mut buf).expect("the operating system's random number generator");
    buf
}

/// `n` random bytes as base64url without padding.
pub fn random_token(n: usize) -> String {
    URL_SAFE_NO_PAD.encode(random_bytes(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_sets_round_trip_and_reject_weak_or_duplicate_keys() {
        let set = KeySet::generate().rotated(SigningKey::generate(), 3);
        assert_eq!(set.previous.len(), 1);
        let back = KeySet::from_json(&set.to_json()).unwrap();
        assert_eq!(back, set);
        assert!(back.find(&set.previous[0].kid).is_some());
        assert!(back.find("nope").is_none());
        let short = r#"{"current": {"kid": "a", "secret": "c2hvcnQ"}}"#;
        assert!(KeySet::from_json(short).unwrap_err().0.contains("shorter"));
        let k = URL_SAFE_NO_PAD.encode([7u8; 32]);
        let dup =
            format!(r#"{{"current": {{"kid": "a", "secret": "{k}"}}, "previous": [{{"kid": "a", "secret": "{k}"}}]}}"#);
        assert!(KeySet::from_json(&dup).unwrap_err().0.contains("twice"));
        let bad_kid = format!(r#"{{"current": {{"kid": "a b", "secret": "{k}"}}}}"#);
        assert!(KeySet::from_json(&bad_kid).is_err());
        assert!(!format!("{set:?}").contains(&URL_SAFE_NO_PAD.encode(set.current.secret())), "Debug hides secrets");
    }

    #[test]
    fn a_single_generated_key_is_a_set_of_one() {
        // What Secrets Manager's GenerateSecretString makes for infra/template.yaml: 64
        // alphanumerics (48 bytes as base64url) beside the template's kid.
        let generated =
            r#"{"kid":"k-initial","secret":"q0xVcPZ7h2kR9dLm4TnY8wEa3GfJ6sUb1NiKoHyQ5rMvXzWtC8pD2lSgAe7jB4uF"}"#;
        let set = KeySet::from_json(generated).unwrap();
        assert_eq!(set.current.kid, "k-initial");
        assert_eq!(set.current.secret().len(), 48);
        assert!(set.previous.is_empty());
        assert!(KeySet::from_json(r#"{"kid":"k","secret":"c2hvcnQ"}"#).unwrap_err().0.contains("shorter"));
        assert!(KeySet::from_json(r#"{"kid":"k"}"#).is_err());
        assert!(KeySet::from_json("not json").is_err());
    }

    #[test]
    fn rotation_keeps_a_bounded_number_of_previous_keys() {
        let mut set = KeySet::generate();
        let first = set.current.kid.clone();
        for _ in 0..4 {
            set = set.rotated(SigningKey::generate(), 2);
        }
        assert_eq!(set.previous.len(), 2);
        assert!(set.find(&first).is_none());
    }

    #[tokio::test]
    async fn the_file_source_picks_up_a_rewritten_file() {
        let path = std::env::temp_dir().join(format!("exomaps-secrets-{}.json", random_token(6)));
        let first = KeySet::generate();
        write_secrets_file(&path, &first, Some("postgres://x@y/z")).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        let source = FileSource::open(&path, Duration::ZERO).unwrap();
        assert_eq!(*source.signing_keys().await.unwrap(), first);
        assert_eq!(source.database_url().await.unwrap().as_deref(), Some("postgres://x@y/z"));
        let second = first.rotated(SigningKey::generate(), 1);
        write_secrets_file(&path, &second, None).unwrap();
        assert_eq!(*source.signing_keys().await.unwrap(), second, "re-read without a restart");
        std::fs::write(&path, "not json").unwrap();
        assert_eq!(*source.signing_keys().await.unwrap(), second, "a broken file keeps the last good keys");
        let other = std::env::temp_dir().join(format!("exomaps-secrets-{}.json", random_token(6)));
        std::fs::write(&other, "{}").unwrap();
        assert!(FileSource::open(&other, Duration::ZERO).is_err(), "a bad file fails at start-up");
        std::fs::remove_file(&other).ok();
        std::fs::remove_file(&path).ok();
    }

    #[tokio::test]
    async fn a_cached_file_is_not_re_read_before_its_ttl() {
        let path = std::env::temp_dir().join(format!("exomaps-secrets-{}.json", random_token(6)));
        let first = KeySet::generate();
        write_secrets_file(&path, &first, None).unwrap();
        let source = FileSource::open(&path, Duration::from_secs(3600)).unwrap();
        write_secrets_file(&path, &KeySet::generate(), None).unwrap();
        assert_eq!(*source.signing_keys().await.unwrap(), first);
        std::fs::remove_file(&path).ok();
    }
}
