-- Rooms on the map (issue 16): shared rooms, their annotations, the latest cursor of each
-- connection in a room and the per-room cursor flush window (the server-side coalescing of
-- cursor messages, which works when every WebSocket message is its own Lambda invocation).

CREATE SCHEMA IF NOT EXISTS app_rooms;

CREATE TABLE app_rooms.rooms (
    room_id        UUID PRIMARY KEY,
    name           TEXT NOT NULL CHECK (char_length(name) BETWEEN 1 AND 80),
    created_by     TEXT NOT NULL,
    created_by_id  UUID,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE app_rooms.annotations (
    annotation_id   UUID PRIMARY KEY,
    room_id         UUID NOT NULL REFERENCES app_rooms.rooms (room_id) ON DELETE CASCADE,
    system_id       TEXT,
    system_name     TEXT,
    x_ly            DOUBLE PRECISION,
    y_ly            DOUBLE PRECISION,
    z_ly            DOUBLE PRECISION,
    text            TEXT NOT NULL CHECK (char_length(text) BETWEEN 1 AND 500),
    link            TEXT CHECK (link IS NULL OR char_length(link) <= 500),
    author          TEXT NOT NULL,
    author_id       UUID,
    author_persona  TEXT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- Pinned to exactly one of: a system, a point.
    CHECK ((system_id IS NOT NULL) <> (x_ly IS NOT NULL AND y_ly IS NOT NULL AND z_ly IS NOT NULL)),
    CHECK ((x_ly IS NULL) = (y_ly IS NULL) AND (y_ly IS NULL) = (z_ly IS NULL))
);
CREATE INDEX annotations_room ON app_rooms.annotations (room_id, created_at, annotation_id);

-- Annotation writes per author and fixed one-minute window (one atomic upsert per write).
CREATE TABLE app_rooms.write_counts (
    author_key    TEXT PRIMARY KEY,
    window_start  TIMESTAMPTZ NOT NULL,
    writes        INTEGER NOT NULL
);

-- The latest cursor of each connection in a room (gone with the connection).
CREATE TABLE app_rooms.cursors (
    connection_id  TEXT NOT NULL REFERENCES app_realtime.ws_connections (connection_id) ON DELETE CASCADE,
    room_id        UUID NOT NULL,
    user_name      TEXT NOT NULL,
    persona        TEXT NOT NULL,
    target         JSONB,
    selection      TEXT,
    at             TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (connection_id, room_id)
);
CREATE INDEX cursors_room ON app_rooms.cursors (room_id);

-- One row per room with cursors: when its last `cursors` frame was claimed. A cursor message
-- claims the next frame with one conditional upsert (at most one frame per room per window).
CREATE TABLE app_rooms.cursor_flush (
    room_id     UUID PRIMARY KEY,
    flushed_at  TIMESTAMPTZ NOT NULL
);
