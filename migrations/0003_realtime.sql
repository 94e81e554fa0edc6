-- Real-time channel (DOMAIN.md §8.4): WebSocket connections and their subscriptions, shared by
-- every Lambda (API Gateway WebSocket API) and by the local gateway.

CREATE SCHEMA IF NOT EXISTS app_realtime;

CREATE TABLE app_realtime.ws_connections (
    connection_id  TEXT PRIMARY KEY,
    persona        TEXT NOT NULL,
    user_id        TEXT,
    connected_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_seen_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Channels: `runs:<run_id>`, `data`, `admin`, later `sim:<id>`.
CREATE TABLE app_realtime.ws_subscriptions (
    connection_id  TEXT NOT NULL REFERENCES app_realtime.ws_connections (connection_id) ON DELETE CASCADE,
    channel        TEXT NOT NULL,
    subscribed_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (connection_id, channel)
);
CREATE INDEX ws_subscriptions_channel ON app_realtime.ws_subscriptions (channel);
