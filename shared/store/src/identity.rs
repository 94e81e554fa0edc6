//! Users, their personas, refresh-token families and the login attempt limiter (schema `auth`,
//! migrations/0002_identity.sql). Password hashing and token handling live in the API crate;
//! this module stores what it is given: PHC strings and SHA-256 digests of refresh tokens.

use crate::{Result, Store, StoreError};
use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    pub user_id: Uuid,
    pub username: String,
    pub password_hash: String,
    pub default_persona: String,
    pub disabled: bool,
}

/// A user as an administrator sees it (no password hash).
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct UserSummary {
    pub user_id: Uuid,
    pub username: String,
    pub default_persona: String,
    pub personas: Vec<String>,
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
}

/// A user to create or update (seeding, tests).
#[derive(Debug, Clone)]
pub struct NewUser<'a> {
    pub username: &'a str,
    pub password_hash: &'a str,
    pub personas: &'a [&'a str],
    pub default_persona: &'a str,
}

/// What happened to a presented refresh token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshOutcome {
    /// The token was valid and has been exchanged: the new token is now the live one.
    Rotated {
        user_id: Uuid,
        family_id: Uuid,
        persona: String,
    },
    /// The token had already been exchanged: the family has now been revoked.
    Reused {
        family_id: Uuid,
    },
    /// The family was revoked earlier (logout, reuse, disabled user).
    Revoked,
    Expired,
    Unknown,
}

/// The limiter's verdict for one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttemptCount {
    /// Attempts in the current window, this one included.
    pub attempts: i32,
    /// Whole seconds until the window ends (at least 1).
    pub retry_after_secs: i64,
}

impl Store {
    /// Creates the user, or updates its password, personas and default persona when a user
    /// with that name (case-insensitive) exists. Returns the user id.
    pub async fn upsert_user(&self, user: &NewUser<'_>) -> Result<Uuid> {
        if !user.personas.contains(&user.default_persona) {
            return Err(StoreError::Conflict(format!(
                "default persona {} is not among the personas of {}",
                user.default_persona, user.username
            )));
        }
        let mut tx = self.pool().begin().await?;
        let user_id: Uuid = sqlx::query_scalar!(
            "INSERT INTO auth.users (user_id, username, password_hash, default_persona) VALUES ($1, $2, $3, $4)
             ON CONFLICT (lower(username)) DO UPDATE
               SET password_hash = EXCLUDED.password_hash, default_persona = EXCLUDED.default_persona,
                   updated_at = now()
             RETURNING user_id",
            Uuid::new_v4(),
            user.username,
            user.password_hash,
            user.default_persona,
        )
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query!("DELETE FROM auth.user_personas WHERE user_id = $1", user_id).execute(&mut *tx).await?;
        sqlx::query!(
            "INSERT INTO auth.user_personas (user_id, persona) SELECT $1, unnest($2::text[])",
            user_id,
            user.personas as _,
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(user_id)
    }

    pub async fn user_by_username(&self, username: &str) -> Result<Option<UserRow>> {
        Ok(sqlx::query_as!(
            UserRow,
            "SELECT user_id, username, password_hash, default_persona, disabled
             FROM auth.users WHERE lower(username) = lower($1)",
            username,
        )
        .fetch_optional(self.pool())
        .await?)
    }

    pub async fn user_by_id(&self, user_id: Uuid) -> Result<Option<UserRow>> {
        Ok(sqlx::query_as!(
            UserRow,
            "SELECT user_id, username, password_hash, default_persona, disabled FROM auth.users WHERE user_id = $1",
            user_id,
        )
        .fetch_optional(self.pool())
        .await?)
    }

    /// The persona keys a user may use (unordered).
    pub async fn user_personas(&self, user_id: Uuid) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar!("SELECT persona FROM auth.user_personas WHERE user_id = $1", user_id)
            .fetch_all(self.pool())
            .await?)
    }

    pub async fn set_user_disabled(&self, user_id: Uuid, disabled: bool) -> Result<()> {
        sqlx::query!("UPDATE auth.users SET disabled = $2, updated_at = now() WHERE user_id = $1", user_id, disabled)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Every user with its personas, by name.
    pub async fn list_users(&self) -> Result<Vec<UserSummary>> {
        Ok(sqlx::query_as!(
            UserSummary,
            r#"SELECT u.user_id, u.username, u.default_persona, u.disabled, u.created_at,
                    coalesce(array_agg(p.persona ORDER BY p.persona) FILTER (WHERE p.persona IS NOT NULL), '{}')
                      AS "personas!"
             FROM auth.users u LEFT JOIN auth.user_personas p USING (user_id)
             GROUP BY u.user_id ORDER BY lower(u.username)"#,
        )
        .fetch_all(self.pool())
        .await?)
    }

    /// Starts a session: a new refresh family with its first token.
    pub async fn create_refresh_family(
        &self,
        family_id: Uuid,
        user_id: Uuid,
        persona: &str,
        token_hash: &[u8],
        expires_at: DateTime<Utc>,
    ) -> Result<()> {
        let mut tx = self.pool().begin().await?;
        sqlx::query!(
            "INSERT INTO auth.refresh_families (family_id, user_id, persona) VALUES ($1, $2, $3)",
            family_id,
            user_id,
            persona,
        )
        .execute(&mut *tx)
        .await?;
        sqlx::query!(
            "INSERT INTO auth.refresh_tokens (token_hash, family_id, expires_at) VALUES ($1, $2, $3)",
            token_hash,
            family_id,
            expires_at,
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Exchanges a refresh token for a new one in one transaction. The presented token's row is
    /// locked, so two concurrent exchanges of the same token cannot both succeed: the second
    /// sees it used and revokes the family (reuse detection, as for a stolen token).
    pub async fn rotate_refresh_token(
        &self,
        token_hash: &[u8],
        new_hash: &[u8],
        new_expires_at: DateTime<Utc>,
    ) -> Result<RefreshOutcome> {
        let mut tx = self.pool().begin().await?;
        struct Presented {
            family_id: Uuid,
            used: bool,
            revoked: bool,
            expired: bool,
            user_id: Uuid,
            persona: String,
        }
        let row = sqlx::query_as!(
            Presented,
            r#"SELECT t.family_id, t.used_at IS NOT NULL AS "used!", f.revoked_at IS NOT NULL AS "revoked!",
                    t.expires_at <= now() AS "expired!", f.user_id, f.persona
             FROM auth.refresh_tokens t JOIN auth.refresh_families f USING (family_id)
             WHERE t.token_hash = $1
             FOR UPDATE OF t, f"#,
            token_hash,
        )
        .fetch_optional(&mut *tx)
        .await?;
        let Some(Presented { family_id, used, revoked, expired, user_id, persona }) = row else {
            return Ok(RefreshOutcome::Unknown);
        };
        if revoked {
            return Ok(RefreshOutcome::Revoked);
        }
        if used {
            sqlx::query!(
                "UPDATE auth.refresh_families SET revoked_at = now(), revoked_reason = 'reuse' WHERE family_id = $1",
                family_id,
            )
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            return Ok(RefreshOutcome::Reused { family_id });
        }
        if expired {
            return Ok(RefreshOutcome::Expired);
        }
        sqlx::query!("UPDATE auth.refresh_tokens SET used_at = now() WHERE token_hash = $1", token_hash)
            .execute(&mut *tx)
            .await?;
        sqlx::query!(
            "INSERT INTO auth.refresh_tokens (token_hash, family_id, expires_at) VALUES ($1, $2, $3)",
            new_hash,
            family_id,
            new_expires_at,
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(RefreshOutcome::Rotated { user_id, family_id, persona })
    }

    /// Revokes a family (idempotent: the first reason stays). Returns whether it was live.
    pub async fn revoke_refresh_family(&self, family_id: Uuid, reason: &str) -> Result<bool> {
        let n = sqlx::query!(
            "UPDATE auth.refresh_families SET revoked_at = now(), revoked_reason = $2
             WHERE family_id = $1 AND revoked_at IS NULL",
            family_id,
            reason,
        )
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(n > 0)
    }

    /// The family a refresh token belongs to, whatever its state.
    pub async fn refresh_family_of(&self, token_hash: &[u8]) -> Result<Option<Uuid>> {
        Ok(sqlx::query_scalar!("SELECT family_id FROM auth.refresh_tokens WHERE token_hash = $1", token_hash)
            .fetch_optional(self.pool())
            .await?)
    }

    /// True when the family exists and has not been revoked.
    pub async fn refresh_family_live(&self, family_id: Uuid) -> Result<bool> {
        Ok(sqlx::query_scalar!(
            r#"SELECT EXISTS (SELECT 1 FROM auth.refresh_families WHERE family_id = $1 AND revoked_at IS NULL)
                 AS "live!""#,
            family_id,
        )
        .fetch_one(self.pool())
        .await?)
    }

    /// Records the session's active persona so a refresh keeps it.
    pub async fn set_family_persona(&self, family_id: Uuid, user_id: Uuid, persona: &str) -> Result<()> {
        sqlx::query!(
            "UPDATE auth.refresh_families SET persona = $3
             WHERE family_id = $1 AND user_id = $2 AND revoked_at IS NULL",
            family_id,
            user_id,
            persona,
        )
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Counts one login attempt against `key` in a fixed window of `window_secs`, atomically
    /// (one statement), so concurrent Lambdas share the count.
    pub async fn count_login_attempt(&self, key: &str, window_secs: i64) -> Result<AttemptCount> {
        let row = sqlx::query!(
            r#"INSERT INTO auth.login_attempts AS a (key, window_start, attempts) VALUES ($1, now(), 1)
             ON CONFLICT (key) DO UPDATE SET
               attempts = CASE WHEN a.window_start <= now() - make_interval(secs => $2) THEN 1
                               ELSE a.attempts + 1 END,
               window_start = CASE WHEN a.window_start <= now() - make_interval(secs => $2) THEN now()
                                   ELSE a.window_start END
             RETURNING attempts,
                       greatest(1, ceil(extract(epoch FROM a.window_start + make_interval(secs => $2) - now())))::bigint
                         AS "retry_after_secs!""#,
            key,
            window_secs as f64,
        )
        .fetch_one(self.pool())
        .await?;
        Ok(AttemptCount { attempts: row.attempts, retry_after_secs: row.retry_after_secs })
    }

    /// Forgets the attempts of `key` (after a successful login for the user key).
    pub async fn reset_login_attempts(&self, key: &str) -> Result<()> {
        sqlx::query!("DELETE FROM auth.login_attempts WHERE key = $1", key).execute(self.pool()).await?;
        Ok(())
    }
}
