//! The WebSocket server frames (DOMAIN.md §8.4): every message the server sends a connection,
//! one [`ServerMessage`] tagged by `type`, and the payloads they carry. The replies and room
//! pushes (`crate::ws`, `crate::handlers::rooms`) are sent as these values; the pipeline's pushes
//! (`run.*`, `data.refreshed`, `sim.*`) are checked against them by the tests; the OpenAPI
//! document publishes them for the SPA's generated types.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What a cursor points at (the client messages' type, `exomaps_wire::ws`).
pub use crate::ws::CursorTarget;
use uuid::Uuid;

/// Server → client WebSocket message (replies and pushes), tagged by `type`.
#[derive(Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", deny_unknown_fields)]
pub enum ServerMessage {
    /// A phase of a run started (`running`), finished (`done`, with its counts) or failed.
    #[serde(rename = "run.progress")]
    RunProgress {
        run_id: Uuid,
        /// `ingest`, `transform`, `publish` (more phases as the pipeline grows).
        phase: String,
        /// `running`, `done` or `failed`.
        status: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        counts: Option<serde_json::Value>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// A new world build is active: clients reload the map.
    #[serde(rename = "data.refreshed")]
    DataRefreshed {
        world_build_id: i64,
        /// Path of the new map asset (`/data/world/<id>.exmp`), when one was published.
        #[serde(default)]
        asset: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        run_id: Option<Uuid>,
        #[serde(default)]
        tables: Vec<String>,
        #[serde(default)]
        row_counts: serde_json::Value,
    },
    /// The run ended: `pass`, `warn` or `fail` (on `runs:<run_id>` and `admin`), with its summary.
    #[serde(rename = "run.completed")]
    RunCompleted {
        run_id: Uuid,
        status: String,
        /// The world build the run published (a completed run).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        world_build_id: Option<i64>,
        /// Rows per table of the published build.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        row_counts: Option<serde_json::Value>,
        /// Why a failed run failed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// `room:<id>`: a member joined or left (`event`: `join` | `leave`).
    #[serde(rename = "presence")]
    Presence { channel: String, event: String, member: Member },
    /// `room:<id>`, to a new member: who is there and their latest cursors.
    #[serde(rename = "room_state")]
    RoomState {
        channel: String,
        members: Vec<Member>,
        cursors: Vec<Cursor>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        part: Option<i64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        parts: Option<i64>,
    },
    /// `room:<id>`: every member's latest cursor, at most one frame per room per 100 ms (in
    /// `parts` only when a frame would pass 32 KB).
    #[serde(rename = "cursors")]
    Cursors {
        channel: String,
        cursors: Vec<Cursor>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        part: Option<i64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        parts: Option<i64>,
    },
    /// `room:<id>`: an annotation was `created`, `updated` or `deleted` (its last state).
    #[serde(rename = "annotation")]
    Annotation { channel: String, event: String, annotation: Annotation },
    /// To every connection: an admin's message (a banner). Render `message` as text.
    #[serde(rename = "broadcast")]
    Broadcast { message: String, level: BroadcastLevel, from: String, at: chrono::DateTime<chrono::Utc> },
    #[serde(rename = "subscribed")]
    Subscribed {
        channel: String,
        /// `sim:<id>`: the replay covered ticks (after_tick, through_tick]; live batches follow.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        after_tick: Option<i64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        through_tick: Option<i64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        replayed_events: Option<i64>,
    },
    /// One committed batch of a simulation (ticks (from_tick, tick]) with its events, split in
    /// `parts` messages of ≤ 32 KB each (`part` 1..=parts; the summary repeats in each).
    #[serde(rename = "sim.tick")]
    SimTick {
        sim_id: Uuid,
        from_tick: i64,
        tick: i64,
        simulated_year: f64,
        state: String,
        summary: Option<SimSummary>,
        events: Vec<SimEventEnvelope>,
        part: i64,
        parts: i64,
    },
    /// The `after_tick` replay on subscribe: events of ticks (after_tick, through_tick].
    #[serde(rename = "sim.events")]
    SimEvents {
        sim_id: Uuid,
        replay: bool,
        after_tick: i64,
        through_tick: i64,
        events: Vec<SimEventEnvelope>,
        part: i64,
        parts: i64,
    },
    /// A simulation changed state (paused, running, completed, failed).
    #[serde(rename = "sim.state")]
    SimState { sim_id: Uuid, state: String, current_tick: i64 },
    #[serde(rename = "unsubscribed")]
    Unsubscribed { count: i64 },
    #[serde(rename = "pong")]
    Pong,
    #[serde(rename = "error")]
    Error { error: String, message: String },
}

impl std::fmt::Display for ServerMessage {
    /// The frame as sent: compact JSON.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&serde_json::to_string(self).map_err(|_| std::fmt::Error)?)
    }
}

/// A member of a room (anonymous visitors are `guest`).
#[derive(Serialize, Deserialize, Clone, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Member {
    pub user: String,
    pub persona: String,
}

/// A member's latest cursor in a room.
#[derive(Serialize, Deserialize, Clone, Debug)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Cursor {
    pub user: String,
    pub persona: String,
    pub target: Option<CursorTarget>,
    /// The member's selected system (main_id).
    pub selection: Option<String>,
    // Sent as RFC 3339 UTC with milliseconds (what the SPA has always read).
    #[serde(serialize_with = "millis")]
    pub at: DateTime<Utc>,
}

/// A time as RFC 3339 UTC with milliseconds (`2026-12-05T01:41:38.123Z`).
fn millis<S: serde::Serializer>(at: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
}

/// A point in the map's frame, in light-years (ICRS Cartesian).
#[derive(Serialize, Deserialize, Clone, Copy, Debug)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Point {
    pub x_ly: f64,
    pub y_ly: f64,
    pub z_ly: f64,
}

/// A note pinned to a system or a point of a room. `text` is stored verbatim: render it as text.
#[derive(Serialize, Deserialize, Clone, Debug)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Annotation {
    pub id: Uuid,
    pub room_id: Uuid,
    pub system_id: Option<String>,
    /// The system's display name in the active world build, when it has one.
    pub system_name: Option<String>,
    pub point: Option<Point>,
    pub text: String,
    pub link: Option<String>,
    pub author: String,
    pub author_persona: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A broadcast's level.
#[derive(Serialize, Deserialize, Clone, Copy, Default, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum BroadcastLevel {
    #[default]
    Info,
    Warning,
}

/// Counts of a state (`exomaps_sim::Summary`).
#[derive(Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SimSummary {
    pub tick: u64,
    pub systems_settled: u64,
    pub total_population: u64,
    pub ships_in_flight: u64,
    pub trade_routes: u64,
    pub factions: u64,
}

/// A system named in an event.
#[derive(Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SimLocation {
    /// Index into the simulation world (`SimSnapshot.systems`).
    pub system_index: i64,
    pub system_id: Option<String>,
    pub name: Option<String>,
}

/// An event in the §8.3 envelope (also inside `sim.tick` / `sim.events` WebSocket messages).
#[derive(Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SimEventEnvelope {
    /// `sim.started`, `tick.advanced`, `ship.launched`, `colony.founded`, `ship.lost`, … (the model's kinds).
    pub event: String,
    pub sim_id: Uuid,
    pub tick: i64,
    /// Position within the tick; (tick, seq) orders events.
    pub seq: i64,
    pub simulated_year: f64,
    pub location: Option<SimLocation>,
    /// The model's event payload (system references are indexes, see `location`).
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub payload: Value,
}
