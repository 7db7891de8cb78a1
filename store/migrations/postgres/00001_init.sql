-- +goose Up
-- Ringback's first schema. Every timestamp is written by the application's
-- clock (injectable in tests), never by a database default.

CREATE TABLE contacts (
    id         BIGSERIAL PRIMARY KEY,
    name       TEXT NOT NULL,
    kind       TEXT NOT NULL DEFAULT '',     -- tenant, owner, vendor, prospect
    property   TEXT NOT NULL DEFAULT '',
    unit       TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE contact_numbers (
    number     TEXT PRIMARY KEY,             -- E.164
    contact_id BIGINT NOT NULL REFERENCES contacts(id) ON DELETE CASCADE
);
CREATE INDEX contact_numbers_contact ON contact_numbers (contact_id);

CREATE TABLE cases (
    id               BIGSERIAL PRIMARY KEY,  -- shown to people as #id
    line_number      TEXT NOT NULL,
    caller_number    TEXT NOT NULL,          -- E.164; '' when the number was withheld
    state            TEXT NOT NULL CHECK (state IN ('open', 'claimed', 'closed')),
    origin           TEXT NOT NULL,          -- call | sms
    category         TEXT NOT NULL DEFAULT '',
    categorized_at   TIMESTAMPTZ,
    urgent           BOOLEAN NOT NULL DEFAULT FALSE,
    spam             BOOLEAN NOT NULL DEFAULT FALSE,
    after_hours      BOOLEAN NOT NULL DEFAULT FALSE,
    contact_id       BIGINT REFERENCES contacts(id) ON DELETE SET NULL,
    owner            TEXT NOT NULL DEFAULT '',
    assigned_by      TEXT NOT NULL DEFAULT '',
    claimed_at       TIMESTAMPTZ,
    first_contact_at TIMESTAMPTZ,
    contact_attempts INTEGER NOT NULL DEFAULT 0,
    due_at           TIMESTAMPTZ,
    call_count       INTEGER NOT NULL DEFAULT 0,
    last_call_at     TIMESTAMPTZ,
    textback_status  TEXT NOT NULL DEFAULT '',
    escalation_level INTEGER NOT NULL DEFAULT 0,
    voicemail_url    TEXT NOT NULL DEFAULT '',
    transcript       TEXT NOT NULL DEFAULT '',
    outcome          TEXT NOT NULL DEFAULT '',
    close_note       TEXT NOT NULL DEFAULT '',
    closed_by        TEXT NOT NULL DEFAULT '',
    closed_at        TIMESTAMPTZ,
    previous_case_id BIGINT REFERENCES cases(id),
    created_at       TIMESTAMPTZ NOT NULL,   -- the first missed call (or first text)
    updated_at       TIMESTAMPTZ NOT NULL
);
-- One open case per (caller, line); withheld callers each get their own.
CREATE UNIQUE INDEX cases_one_open ON cases (caller_number, line_number)
    WHERE state <> 'closed' AND caller_number <> '';
CREATE INDEX cases_queue ON cases (created_at, id) WHERE state <> 'closed';
CREATE INDEX cases_created ON cases (created_at);
CREATE INDEX cases_caller ON cases (caller_number, created_at);
CREATE INDEX cases_owner ON cases (owner) WHERE state <> 'closed';

CREATE TABLE calls (
    id            BIGSERIAL PRIMARY KEY,
    sid           TEXT NOT NULL UNIQUE,      -- provider's id: Twilio CallSid, generic id, import key
    provider      TEXT NOT NULL,             -- twilio | generic | import
    line_number   TEXT NOT NULL,             -- the number called, configured or not
    routed        BOOLEAN NOT NULL,          -- false: no configured line has that number
    caller_number TEXT NOT NULL,             -- E.164; '' when withheld
    status        TEXT NOT NULL,             -- the provider's last status
    missed        BOOLEAN NOT NULL,
    after_hours   BOOLEAN NOT NULL,
    started_at    TIMESTAMPTZ NOT NULL,
    duration_s    INTEGER NOT NULL DEFAULT 0,
    voicemail_url TEXT NOT NULL DEFAULT '',
    transcript    TEXT NOT NULL DEFAULT '',
    case_id       BIGINT REFERENCES cases(id),
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX calls_started ON calls (started_at);
CREATE INDEX calls_case ON calls (case_id);
CREATE INDEX calls_caller ON calls (caller_number, started_at);

CREATE TABLE messages (
    id            BIGSERIAL PRIMARY KEY,
    sid           TEXT UNIQUE,               -- Twilio MessageSid; NULL until Twilio accepted it
    case_id       BIGINT REFERENCES cases(id),
    direction     TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    kind          TEXT NOT NULL,             -- in: reply, keyword; out: textback, template, safety, help, optout_confirm
    line_number   TEXT NOT NULL,
    caller_number TEXT NOT NULL,
    body          TEXT NOT NULL,
    media_urls    TEXT NOT NULL DEFAULT '',  -- one URL a line
    template_key  TEXT NOT NULL DEFAULT '',
    sent_by       TEXT NOT NULL DEFAULT '',  -- staff user for template replies
    status        TEXT NOT NULL,             -- received | pending | queued | sent | delivered | undelivered | failed | canceled
    error_code    TEXT NOT NULL DEFAULT '',
    accepted_at   TIMESTAMPTZ,               -- when Twilio accepted an outgoing message
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX messages_case ON messages (case_id, created_at);
CREATE INDEX messages_caller ON messages (caller_number, kind, created_at);

CREATE TABLE events (
    id      BIGSERIAL PRIMARY KEY,
    case_id BIGINT NOT NULL REFERENCES cases(id),
    at      TIMESTAMPTZ NOT NULL,
    kind    TEXT NOT NULL,
    actor   TEXT NOT NULL DEFAULT '',        -- '' for the system, else a user id
    data    TEXT NOT NULL DEFAULT '{}'       -- JSON
);
CREATE INDEX events_case ON events (case_id, id);
CREATE INDEX events_at ON events (at);

CREATE TABLE cards (
    case_id    BIGINT NOT NULL REFERENCES cases(id),
    platform   TEXT NOT NULL,                -- slack | discord
    channel    TEXT NOT NULL,
    message_id TEXT NOT NULL,                -- Slack ts, Discord message id
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (case_id, platform)
);

CREATE TABLE opt_outs (
    number     TEXT PRIMARY KEY,
    source     TEXT NOT NULL,                -- keyword, plain_language, twilio_21610, manual
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE spam_numbers (
    number     TEXT PRIMARY KEY,
    added_by   TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE untextable_numbers (
    number     TEXT PRIMARY KEY,
    reason     TEXT NOT NULL,                -- e.g. twilio 21614: not a mobile number
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE templates (
    id          BIGSERIAL PRIMARY KEY,
    key         TEXT NOT NULL,
    version     INTEGER NOT NULL,
    text        TEXT NOT NULL,
    categories  TEXT NOT NULL DEFAULT '',    -- comma-separated; '' = any
    created_by  TEXT NOT NULL DEFAULT '',
    approved_by TEXT NOT NULL DEFAULT '',
    approved_at TIMESTAMPTZ,
    created_at  TIMESTAMPTZ NOT NULL,
    UNIQUE (key, version)
);

CREATE TABLE outbox (
    id           BIGSERIAL PRIMARY KEY,
    kind         TEXT NOT NULL,
    dedupe_key   TEXT NOT NULL UNIQUE,
    payload      TEXT NOT NULL,              -- JSON
    case_id      BIGINT,
    state        TEXT NOT NULL CHECK (state IN ('pending', 'running', 'done', 'dead')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    run_at       TIMESTAMPTZ NOT NULL,       -- pending: when due; running: when the claim expires
    locked_by    TEXT NOT NULL DEFAULT '',
    last_error   TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX outbox_due ON outbox (run_at) WHERE state IN ('pending', 'running');
CREATE INDEX outbox_dead ON outbox (updated_at) WHERE state = 'dead';

CREATE TABLE leases (
    name       TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);

-- +goose Down
DROP TABLE leases;
DROP TABLE outbox;
DROP TABLE templates;
DROP TABLE untextable_numbers;
DROP TABLE spam_numbers;
DROP TABLE opt_outs;
DROP TABLE cards;
DROP TABLE events;
DROP TABLE messages;
DROP TABLE calls;
DROP TABLE cases;
DROP TABLE contact_numbers;
DROP TABLE contacts;
