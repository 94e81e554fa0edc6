//! Seed users for local use, from configuration: a JSON file (`EXOMAPS_SEED_USERS`, or
//! `.exomaps/seed-users.json` written by `exomaps-local up` with random passwords on first
//! start). Passwords are never in the repository; the file is git-ignored and mode 0600.
//!
//! Format: `{"users": [{"username": "...", "password": "...", "personas": ["..."],
//! "default_persona": "..."}]}`.

use super::password;
use crate::secrets::random_token;
use exomaps_domain::persona::Persona;
use exomaps_store::Store;
use exomaps_store::identity::NewUser;
use serde::{Deserialize, Serialize};
use std::path::Path;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeedUser {
    pub username: String,
    pub password: String,
    pub personas: Vec<String>,
    pub default_persona: String,
}

#[derive(Serialize, Deserialize)]
struct SeedFile {
    users: Vec<SeedUser>,
}

/// One user per persona (`demo_<persona>`, allowed only that persona) and `admin`, allowed
/// every persona; each with a fresh random password.
pub fn generate() -> Vec<SeedUser> {
    let mut users: Vec<SeedUser> = Persona::ALL
        .iter()
        .map(|p| SeedUser {
            username: format!("demo_{}", p.key()),
            password: random_token(15),
            personas: vec![p.key().to_string()],
            default_persona: p.key().to_string(),
        })
        .collect();
    users.push(SeedUser {
        username: "admin".into(),
        password: random_token(15),
        personas: Persona::ALL.iter().map(|p| p.key().to_string()).collect(),
        default_persona: Persona::Admin.key().to_string(),
    });
    users
}

/// Parses and checks a seed file's text.
pub fn parse(text: &str) -> Result<Vec<SeedUser>, String> {
    let file: SeedFile = serde_json::from_str(text).map_err(|e| format!("seed users file is not valid: {e}"))?;
    check(&file.users)?;
    Ok(file.users)
}

/// The seed file's checks: name length, passwords of 12 or more characters, known personas,
/// the default persona among them.
pub fn check(users: &[SeedUser]) -> Result<(), String> {
    for u in users {
        if u.username.trim().is_empty() || u.username.len() > 128 {
            return Err(format!("seed user {:?}: a username is 1 to 128 characters", u.username));
        }
        if u.password.len() < 12 {
            return Err(format!("seed user {}: password shorter than 12 characters", u.username));
        }
        if let Some(bad) = u.personas.iter().find(|p| Persona::from_key(p).is_none()) {
            return Err(format!("seed user {}: unknown persona {bad:?}", u.username));
        }
        if !u.personas.contains(&u.default_persona) {
            return Err(format!("seed user {}: default persona is not among its personas", u.username));
        }
    }
    Ok(())
}

/// Reads the seed file, or creates it with [`generate`]d users when it does not exist.
/// Returns the users and whether the file was created now.
pub fn load_or_create(path: &Path) -> Result<(Vec<SeedUser>, bool), String> {
    if path.exists() {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        return Ok((parse(&text)?, false));
    }
    let users = generate();
    let text = serde_json::to_string_pretty(&SeedFile { users: users.clone() }).expect("plain JSON");
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts.open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    std::io::Write::write_all(&mut f, text.as_bytes()).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok((users, true))
}

/// Creates or updates every seed user (password, personas, default persona).
pub async fn apply(store: &Store, users: &[SeedUser]) -> Result<(), String> {
    for u in users {
        let phc = password::hash_blocking(u.password.clone()).await?;
        let personas: Vec<&str> = u.personas.iter().map(String::as_str).collect();
        store
            .upsert_user(&NewUser {
                username: &u.username,
                password_hash: &phc,
                personas: &personas,
                default_persona: &u.default_persona,
            })
            .await
            .map_err(|e| format!("seeding user {}: {e}", u.username))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_users_cover_every_persona_and_parse_back() {
        let users = generate();
        assert_eq!(users.len(), 9);
        for p in Persona::ALL {
            assert!(users.iter().any(|u| u.personas == [p.key()] && u.default_persona == p.key()), "{p:?}");
        }
        let admin = users.iter().find(|u| u.username == "admin").unwrap();
        assert_eq!(admin.personas.len(), 8);
        let text = serde_json::to_string(&SeedFile { users: users.clone() }).unwrap();
        assert_eq!(parse(&text).unwrap(), users);
        let passwords: std::collections::HashSet<_> = users.iter().map(|u| &u.password).collect();
        assert_eq!(passwords.len(), 9, "every password is its own random value");
    }

    #[test]
    fn bad_seed_files_are_refused() {
        let bad = r#"{"users": [{"username": "x", "password": "long enough pw", "personas": ["root"], "default_persona": "root"}]}"#;
        assert!(parse(bad).unwrap_err().contains("unknown persona"));
        let short =
            r#"{"users": [{"username": "x", "password": "short", "personas": ["admin"], "default_persona": "admin"}]}"#;
        assert!(parse(short).unwrap_err().contains("shorter"));
        let default = r#"{"users": [{"username": "x", "password": "long enough pw", "personas": ["admin"], "default_persona": "sim_owner"}]}"#;
        assert!(parse(default).unwrap_err().contains("default persona"));
    }
}
