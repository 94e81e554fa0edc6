//! Password hashing: argon2id (v19) with the crate's defaults (m = 19 MiB, t = 2, p = 1, the
//! OWASP baseline), stored as PHC strings. Hashing is CPU-bound: callers run it on a blocking
//! thread ([`hash_blocking`], [`verify_blocking`]).

use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier};
use std::sync::OnceLock;

/// Longest password accepted (bounds the work an attacker can ask for).
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// The argon2id PHC string of `password`, with a fresh random salt.
pub fn hash(password: &str) -> Result<String, String> {
    if password.is_empty() || password.len() > MAX_PASSWORD_BYTES {
        return Err(format!("a password is 1 to {MAX_PASSWORD_BYTES} bytes"));
    }
    let h: PasswordHash = Argon2::default().hash_password(password.as_bytes()).map_err(|e| e.to_string())?;
    Ok(h.to_string())
}

/// True when `password` matches the PHC string (which must be argon2id).
pub fn verify(password: &str, phc: &str) -> bool {
    phc.starts_with("$argon2id$")
        && password.len() <= MAX_PASSWORD_BYTES
        && Argon2::default().verify_password(password.as_bytes(), phc).is_ok()
}

/// Spends the same work as a real verification, for unknown users (no timing oracle on
/// which usernames exist).
pub fn verify_dummy(password: &str) {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let phc = DUMMY.get_or_init(|| hash(&crate::secrets::random_token(24)).unwrap_or_default());
    let _ = verify(password, phc);
}

pub async fn hash_blocking(password: String) -> Result<String, String> {
    tokio::task::spawn_blocking(move || hash(&password)).await.map_err(|e| e.to_string())?
}

/// Verifies against `phc`, or against a dummy hash when there is no user.
pub async fn verify_blocking(password: String, phc: Option<String>) -> bool {
    tokio::task::spawn_blocking(move || match phc {
        Some(phc) => verify(&password, &phc),
        None => {
            verify_dummy(&password);
            false
        }
    })
    .await
    .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argon2id_round_trip() {
        let phc = hash("correct horse battery staple").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify("correct horse battery staple", &phc));
        assert!(!verify("correct horse battery stapl", &phc));
        assert_ne!(phc, hash("correct horse battery staple").unwrap(), "salted");
        assert!(hash("").is_err());
        assert!(hash(&"x".repeat(MAX_PASSWORD_BYTES + 1)).is_err());
        let argon2i = phc.replacen("$argon2id$", "$argon2i$", 1);
        assert!(!verify("correct horse battery staple", &argon2i), "only argon2id hashes are accepted");
    }
}
