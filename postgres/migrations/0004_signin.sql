-- Card host sign-in: users are found by phone number, one-time codes wait
-- to be entered, and signed-in browsers hold sessions. Codes and session
-- IDs are stored only as hashes.
CREATE INDEX users_phone_number ON users (phone_number);

CREATE TABLE login_codes (
	phone_number TEXT PRIMARY KEY,
	code_hash    BYTEA NOT NULL,
	user_id      TEXT NOT NULL REFERENCES users (id),
	expires_at   TIMESTAMPTZ NOT NULL,
	attempts     INTEGER NOT NULL DEFAULT 0,
	created_at   TIMESTAMPTZ NOT NULL
);

CREATE TABLE sessions (
	id_hash    BYTEA PRIMARY KEY,
	user_id    TEXT NOT NULL REFERENCES users (id),
	created_at TIMESTAMPTZ NOT NULL,
	expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX sessions_expires_at ON sessions (expires_at);
