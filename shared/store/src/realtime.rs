//! WebSocket connections and channel subscriptions.

use crate::{Result, Store};

impl Store {
    pub async fn ws_connect(&self, connection_id: &str, persona: &str, user_id: Option<&str>) -> Result<()> {
        sqlx::query!(
            "INSERT INTO app_realtime.ws_connections (connection_id, persona, user_id) VALUES ($1, $2, $3)
             ON CONFLICT (connection_id) DO UPDATE SET persona = EXCLUDED.persona, user_id = EXCLUDED.user_id,
                 last_seen_at = now()",
            connection_id,
            persona,
            user_id,
        )
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Removes a connection and its subscriptions (idempotent).
    pub async fn ws_disconnect(&self, connection_id: &str) -> Result<bool> {
        let n = sqlx::query!("DELETE FROM app_realtime.ws_connections WHERE connection_id = $1", connection_id)
            .execute(self.pool())
            .await?
            .rows_affected();
        Ok(n > 0)
    }

    /// The persona a connection was opened with, or None for an unknown connection.
    pub async fn ws_persona(&self, connection_id: &str) -> Result<Option<String>> {
        Ok(sqlx::query_scalar!(
            "UPDATE app_realtime.ws_connections SET last_seen_at = now() WHERE connection_id = $1 RETURNING persona",
            connection_id,
        )
        .fetch_optional(self.pool())
        .await?)
    }

    pub async fn ws_subscribe(&self, connection_id: &str, channel: &str) -> Result<()> {
        sqlx::query!(
            "INSERT INTO app_realtime.ws_subscriptions (connection_id, channel) VALUES ($1, $2)
             ON CONFLICT DO NOTHING",
            connection_id,
            channel,
        )
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Unsubscribes from one channel, or from all when `channel` is None.
    pub async fn ws_unsubscribe(&self, connection_id: &str, channel: Option<&str>) -> Result<u64> {
        Ok(sqlx::query!(
            "DELETE FROM app_realtime.ws_subscriptions WHERE connection_id = $1 AND ($2::text IS NULL OR channel = $2)",
            connection_id,
            channel,
        )
        .execute(self.pool())
        .await?
        .rows_affected())
    }

    /// Connections subscribed to a channel.
    pub async fn ws_subscribers(&self, channel: &str) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar!(
            "SELECT connection_id FROM app_realtime.ws_subscriptions WHERE channel = $1 ORDER BY connection_id",
            channel,
        )
        .fetch_all(self.pool())
        .await?)
    }

    pub async fn ws_connection_count(&self) -> Result<i64> {
        Ok(sqlx::query_scalar!(r#"SELECT count(*) AS "count!" FROM app_realtime.ws_connections"#)
            .fetch_one(self.pool())
            .await?)
    }
}
