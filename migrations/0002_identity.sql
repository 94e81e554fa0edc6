-- Identity and access (issue 4): users with their allowed personas, refresh-token families
-- (rotation with reuse detection), and the login attempt limiter shared by every Lambda.
-- Passwords are argon2id PHC strings; refresh tokens are stored only as SHA-256 digests.

CREATE SCHEMA IF NOT EXISTS auth;

CREATE TABLE auth.users (
    user_id          UUID PRIMARY KEY,
    username         TEXT NOT NULL CHECK (length(username) BETWEEN 1 AND 128),
    password_hash    TEXT NOT NULL CHECK (password_hash LIKE '$argon2id$%'),
    default_persona  TEXT NOT NULL,
    disabled         BOOLEAN NOT NULL DEFAULT false,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT now()
);
-- Usernames are matched case-insensitively.
CREATE UNIQUE INDEX users_username_key ON auth.users (lower(username));

-- The personas a user may switch between (DOMAIN.md §1.1 keys).
CREATE TABLE auth.user_personas (
    user_id  UUID NOT NULL REFERENCES auth.users (user_id) ON DELETE CASCADE,
    persona  TEXT NOT NULL CHECK (persona IN ('admin', 'sim_owner', 'general_user', 'data_curator',
                                              'science_analyst', 'ops_engineer', 'narrative_designer',
                                              'observer_guest')),
    PRIMARY KEY (user_id, persona)
);

-- One family per login: every refresh token issued by rotation from that login belongs to it.
-- Reuse of a rotated token revokes the whole family.
CREATE TABLE auth.refresh_families (
    family_id       UUID PRIMARY KEY,
    user_id         UUID NOT NULL REFERENCES auth.users (user_id) ON DELETE CASCADE,
    -- The active persona of the session, kept across refreshes.
    persona         TEXT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    revoked_at      TIMESTAMPTZ,
    revoked_reason  TEXT CHECK (revoked_reason IN ('logout', 'reuse', 'disabled'))
);
CREATE INDEX refresh_families_user ON auth.refresh_families (user_id);

CREATE TABLE auth.refresh_tokens (
    token_hash  BYTEA PRIMARY KEY CHECK (length(token_hash) = 32),
    family_id   UUID NOT NULL REFERENCES auth.refresh_families (family_id) ON DELETE CASCADE,
    issued_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at  TIMESTAMPTZ NOT NULL,
    -- Set when the token was exchanged for a new one; presenting it again is reuse.
    used_at     TIMESTAMPTZ
);
CREATE INDEX refresh_tokens_family ON auth.refresh_tokens (family_id);

-- Fixed-window login attempt counters, keyed 'user:<lower(username)>' and 'source:<address>'.
CREATE TABLE auth.login_attempts (
    key           TEXT PRIMARY KEY,
    window_start  TIMESTAMPTZ NOT NULL,
    attempts      INTEGER NOT NULL CHECK (attempts >= 0)
);
