//! Rooms on the map (issue 16, schema `app_rooms`, migration 0008): rooms, their annotations,
//! the annotation write counter, the latest cursor of each connection in a room and the
//! per-room cursor flush window (claimed with one conditional upsert, so at most one `cursors`
//! frame per room per window however many Lambdas handle cursor messages at once).

use crate::{Result, Store};
use chrono::{DateTime, Utc};
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RoomRow {
    pub room_id: Uuid,
    pub name: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AnnotationRow {
    pub annotation_id: Uuid,
    pub room_id: Uuid,
    pub system_id: Option<String>,
    pub system_name: Option<String>,
    pub x_ly: Option<f64>,
    pub y_ly: Option<f64>,
    pub z_ly: Option<f64>,
    pub text: String,
    pub link: Option<String>,
    pub author: String,
    pub author_id: Option<Uuid>,
    pub author_persona: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A new annotation (exactly one of `system_id` / `point`; checked by the handler and the table).
pub struct NewAnnotation<'a> {
    pub room_id: Uuid,
    pub system_id: Option<&'a str>,
    pub system_name: Option<&'a str>,
    pub point: Option<[f64; 3]>,
    pub text: &'a str,
    pub link: Option<&'a str>,
    pub author: &'a str,
    pub author_id: Option<Uuid>,
    pub author_persona: &'a str,
}

/// A member present in a room (one per user and persona, however many connections).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct MemberRow {
    pub user_name: String,
    pub persona: String,
}

/// The latest cursor of a user in a room.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CursorRow {
    pub user_name: String,
    pub persona: String,
    pub target: Option<sqlx::types::Json<serde_json::Value>>,
    pub selection: Option<String>,
    pub at: DateTime<Utc>,
}

/// A connection as recorded at `$connect`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ConnectionRow {
    pub connection_id: String,
    pub persona: String,
    pub user_id: Option<String>,
}

/// Where a system id stands in the active world build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SystemLookup {
    /// No world build is active: the id cannot be checked.
    NoActiveBuild,
    Unknown,
    /// Found, with the name to show (display name, else the main_id).
    Found(String),
}

impl Store {
    pub async fn create_room(&self, name: &str, created_by: &str, created_by_id: Option<Uuid>) -> Result<RoomRow> {
        Ok(sqlx::query_as!(
            RoomRow,
            "INSERT INTO app_rooms.rooms (room_id, name, created_by, created_by_id) VALUES ($1, $2, $3, $4)
             RETURNING room_id, name, created_by, created_at",
            Uuid::new_v4(),
            name,
            created_by,
            created_by_id,
        )
        .fetch_one(self.pool())
        .await?)
    }

    pub async fn room(&self, room_id: Uuid) -> Result<Option<RoomRow>> {
        Ok(sqlx::query_as!(
            RoomRow,
            "SELECT room_id, name, created_by, created_at FROM app_rooms.rooms WHERE room_id = $1",
            room_id,
        )
        .fetch_optional(self.pool())
        .await?)
    }

    /// The members present on a channel (connections subscribed to it), one per (user, persona).
    /// Anonymous connections are `guest`.
    pub async fn channel_members(&self, channel: &str) -> Result<Vec<MemberRow>> {
        Ok(sqlx::query_as!(
            MemberRow,
            r#"SELECT DISTINCT coalesce(c.user_id, 'guest') AS "user_name!", c.persona
             FROM app_realtime.ws_subscriptions s JOIN app_realtime.ws_connections c USING (connection_id)
             WHERE s.channel = $1 ORDER BY 1, 2"#,
            channel,
        )
        .fetch_all(self.pool())
        .await?)
    }

    /// Is this (user, persona) present on the channel through a connection other than `except`?
    pub async fn member_present_elsewhere(
        &self,
        channel: &str,
        member: &MemberRow,
        except_connection: &str,
    ) -> Result<bool> {
        Ok(sqlx::query_scalar!(
            r#"SELECT EXISTS (SELECT 1 FROM app_realtime.ws_subscriptions s
                            JOIN app_realtime.ws_connections c USING (connection_id)
                            WHERE s.channel = $1 AND coalesce(c.user_id, 'guest') = $2 AND c.persona = $3
                              AND c.connection_id <> $4) AS "present!""#,
            channel,
            &member.user_name,
            &member.persona,
            except_connection,
        )
        .fetch_one(self.pool())
        .await?)
    }

    /// A connection's persona and user, or None for an unknown connection.
    pub async fn ws_connection(&self, connection_id: &str) -> Result<Option<ConnectionRow>> {
        Ok(sqlx::query_as!(
            ConnectionRow,
            "SELECT connection_id, persona, user_id FROM app_realtime.ws_connections WHERE connection_id = $1",
            connection_id,
        )
        .fetch_optional(self.pool())
        .await?)
    }

    /// Every open connection (the admin broadcast reaches all of them).
    pub async fn ws_all_connections(&self) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar!("SELECT connection_id FROM app_realtime.ws_connections ORDER BY connection_id")
            .fetch_all(self.pool())
            .await?)
    }

    /// The channels of a connection that start with `prefix` (e.g. its `room:` channels).
    pub async fn ws_channels_of(&self, connection_id: &str, prefix: &str) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar!(
            "SELECT channel FROM app_realtime.ws_subscriptions WHERE connection_id = $1 AND starts_with(channel, $2)
             ORDER BY channel",
            connection_id,
            prefix,
        )
        .fetch_all(self.pool())
        .await?)
    }

    /// A room's annotations, oldest first.
    pub async fn annotations(&self, room_id: Uuid) -> Result<Vec<AnnotationRow>> {
        Ok(sqlx::query_as!(
            AnnotationRow,
            "SELECT annotation_id, room_id, system_id, system_name, x_ly, y_ly, z_ly, text, link, author, author_id,
                 author_persona, created_at, updated_at
             FROM app_rooms.annotations WHERE room_id = $1
             ORDER BY created_at, annotation_id",
            room_id,
        )
        .fetch_all(self.pool())
        .await?)
    }

    pub async fn annotation(&self, room_id: Uuid, annotation_id: Uuid) -> Result<Option<AnnotationRow>> {
        Ok(sqlx::query_as!(
            AnnotationRow,
            "SELECT annotation_id, room_id, system_id, system_name, x_ly, y_ly, z_ly, text, link, author, author_id,
                 author_persona, created_at, updated_at
             FROM app_rooms.annotations WHERE room_id = $1 AND annotation_id = $2",
            room_id,
            annotation_id,
        )
        .fetch_optional(self.pool())
        .await?)
    }

    pub async fn insert_annotation(&self, a: &NewAnnotation<'_>) -> Result<AnnotationRow> {
        let [x, y, z] = a.point.map_or([None; 3], |p| p.map(Some));
        Ok(sqlx::query_as!(
            AnnotationRow,
            "INSERT INTO app_rooms.annotations (annotation_id, room_id, system_id, system_name, x_ly, y_ly, z_ly,
                 text, link, author, author_id, author_persona)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
             RETURNING annotation_id, room_id, system_id, system_name, x_ly, y_ly, z_ly, text, link, author, author_id,
                 author_persona, created_at, updated_at",
            Uuid::new_v4(),
            a.room_id,
            a.system_id,
            a.system_name,
            x,
            y,
            z,
            a.text,
            a.link,
            a.author,
            a.author_id,
            a.author_persona,
        )
        .fetch_one(self.pool())
        .await?)
    }

    /// Changes the text and/or the link (`Some(None)` clears it); None when there is no such
    /// annotation.
    pub async fn update_annotation(
        &self,
        room_id: Uuid,
        annotation_id: Uuid,
        text: Option<&str>,
        link: Option<Option<&str>>,
    ) -> Result<Option<AnnotationRow>> {
        Ok(sqlx::query_as!(
            AnnotationRow,
            "UPDATE app_rooms.annotations
             SET text = coalesce($3, text),
                 link = CASE WHEN $4 THEN $5 ELSE link END,
                 updated_at = now()
             WHERE room_id = $1 AND annotation_id = $2
             RETURNING annotation_id, room_id, system_id, system_name, x_ly, y_ly, z_ly, text, link, author, author_id,
                 author_persona, created_at, updated_at",
            room_id,
            annotation_id,
            text,
            link.is_some(),
            link.flatten(),
        )
        .fetch_optional(self.pool())
        .await?)
    }

    /// Deletes an annotation; returns its last state, None when there was none.
    pub async fn delete_annotation(&self, room_id: Uuid, annotation_id: Uuid) -> Result<Option<AnnotationRow>> {
        Ok(sqlx::query_as!(
            AnnotationRow,
            "DELETE FROM app_rooms.annotations WHERE room_id = $1 AND annotation_id = $2
             RETURNING annotation_id, room_id, system_id, system_name, x_ly, y_ly, z_ly, text, link, author, author_id,
                 author_persona, created_at, updated_at",
            room_id,
            annotation_id,
        )
        .fetch_optional(self.pool())
        .await?)
    }

    /// Counts one annotation write of `author_key` in a fixed window of `window_secs`
    /// (atomically, shared by every Lambda): (writes in the window so far, seconds until it ends).
    pub async fn count_annotation_write(&self, author_key: &str, window_secs: i64) -> Result<(i32, i64)> {
        let row = sqlx::query!(
            r#"INSERT INTO app_rooms.write_counts AS w (author_key, window_start, writes) VALUES ($1, now(), 1)
             ON CONFLICT (author_key) DO UPDATE SET
               writes = CASE WHEN w.window_start <= now() - make_interval(secs => $2) THEN 1 ELSE w.writes + 1 END,
               window_start = CASE WHEN w.window_start <= now() - make_interval(secs => $2) THEN now()
                                   ELSE w.window_start END
             RETURNING writes,
                       greatest(1, ceil(extract(epoch FROM w.window_start + make_interval(secs => $2) - now())))::bigint
                         AS "retry_after_secs!""#,
            author_key,
            window_secs as f64,
        )
        .fetch_one(self.pool())
        .await?;
        Ok((row.writes, row.retry_after_secs))
    }

    /// Is `main_id` a system of the active world build, and what is its name?
    pub async fn system_in_active_build(&self, main_id: &str) -> Result<SystemLookup> {
        let row = sqlx::query!(
            r#"WITH b AS (SELECT world_build_id FROM dm_galaxy.world_builds WHERE status = 'active'),
                  n AS (SELECT coalesce(n.display_name, n.main_id) AS name FROM dm_galaxy.search_names n
                        JOIN b USING (world_build_id) WHERE n.main_id = $1
                        ORDER BY n.display_name IS NULL, n.kind LIMIT 1)
             SELECT EXISTS (SELECT 1 FROM b) AS "has_build!", EXISTS (SELECT 1 FROM n) AS "found!",
                    (SELECT name FROM n) AS "name?""#,
            main_id,
        )
        .fetch_one(self.pool())
        .await?;
        Ok(match (row.has_build, row.found, row.name) {
            (false, _, _) => SystemLookup::NoActiveBuild,
            (true, true, Some(name)) => SystemLookup::Found(name),
            _ => SystemLookup::Unknown,
        })
    }

    /// Records a connection's latest cursor in a room (one row per connection and room), if
    /// the connection is subscribed to the room's channel, and in the same statement claims the
    /// room's next `cursors` frame: claimed is true for exactly one message per window (the
    /// room's `flushed_at` moves only when the last frame is at least that old, one conditional
    /// upsert, so it holds across Lambdas). The window is `min_window_ms`, or longer for a large
    /// room: `members × 1000 / posts_per_sec` ms, so its frames cost at most `posts_per_sec`
    /// posts a second. Returns (recorded, claimed); nothing is recorded or claimed for a
    /// connection that is not a member.
    pub async fn set_cursor(
        &self,
        connection_id: &str,
        room_id: Uuid,
        target: Option<&serde_json::Value>,
        selection: Option<&str>,
        min_window_ms: i64,
        posts_per_sec: i64,
    ) -> Result<(bool, bool)> {
        let row = sqlx::query!(
            r#"WITH c AS (
                 INSERT INTO app_rooms.cursors (connection_id, room_id, user_name, persona, target, selection, at)
                 SELECT c.connection_id, $2, coalesce(c.user_id, 'guest'), c.persona, $3, $4, clock_timestamp()
                 FROM app_realtime.ws_connections c
                 JOIN app_realtime.ws_subscriptions s ON s.connection_id = c.connection_id AND s.channel = $5
                 WHERE c.connection_id = $1
                 ON CONFLICT (connection_id, room_id) DO UPDATE SET
                   target = EXCLUDED.target, selection = EXCLUDED.selection, at = EXCLUDED.at
                 RETURNING room_id),
             f AS (
                 INSERT INTO app_rooms.cursor_flush AS f (room_id, flushed_at)
                 SELECT room_id, clock_timestamp() FROM c
                 ON CONFLICT (room_id) DO UPDATE SET flushed_at = clock_timestamp()
                   WHERE f.flushed_at <= clock_timestamp() - make_interval(secs => greatest($6,
                       (SELECT count(*) FROM app_realtime.ws_subscriptions WHERE channel = $5)::float8 / $7))
                 RETURNING room_id)
             SELECT EXISTS (SELECT 1 FROM c) AS "recorded!", EXISTS (SELECT 1 FROM f) AS "claimed!""#,
            connection_id,
            room_id,
            target,
            selection,
            format!("room:{room_id}"),
            min_window_ms as f64 / 1000.0,
            posts_per_sec.max(1) as f64,
        )
        .fetch_one(self.pool())
        .await?;
        Ok((row.recorded, row.claimed))
    }

    /// The latest cursor of each user present in the room (newest connection's per user and
    /// persona), ordered by user.
    pub async fn room_cursors(&self, room_id: Uuid) -> Result<Vec<CursorRow>> {
        Ok(sqlx::query_as!(
            CursorRow,
            r#"SELECT DISTINCT ON (user_name, persona) user_name, persona,
                    target AS "target: sqlx::types::Json<serde_json::Value>", selection, at
             FROM app_rooms.cursors WHERE room_id = $1
             ORDER BY user_name, persona, at DESC"#,
            room_id,
        )
        .fetch_all(self.pool())
        .await?)
    }

    /// Forgets a connection's cursor in a room (it left the room).
    pub async fn clear_cursor(&self, connection_id: &str, room_id: Uuid) -> Result<()> {
        sqlx::query!("DELETE FROM app_rooms.cursors WHERE connection_id = $1 AND room_id = $2", connection_id, room_id)
            .execute(self.pool())
            .await?;
        Ok(())
    }
}
