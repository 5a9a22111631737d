-- Times are Unix microseconds (UTC); NULL means "never".
CREATE TABLE users (
	id             TEXT PRIMARY KEY,
	name           TEXT NOT NULL,
	phone_number   TEXT NOT NULL,
	picture_url    TEXT NOT NULL DEFAULT '',
	disabled       INTEGER NOT NULL DEFAULT 0,
	revoked_before INTEGER,
	created_at     INTEGER NOT NULL,
	updated_at     INTEGER NOT NULL
) STRICT;

CREATE TABLE action_packages (
	id             TEXT PRIMARY KEY,
	display_name   TEXT NOT NULL,
	disabled       INTEGER NOT NULL DEFAULT 0,
	revoked_before INTEGER,
	created_at     INTEGER NOT NULL,
	updated_at     INTEGER NOT NULL
) STRICT;

CREATE TABLE clients (
	id         TEXT PRIMARY KEY,
	name       TEXT NOT NULL,
	role       TEXT NOT NULL,
	key_hash   BLOB NOT NULL UNIQUE,
	created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE signing_keys (
	id                 TEXT PRIMARY KEY,
	public_key         BLOB NOT NULL,
	sealed_private_key BLOB NOT NULL,
	created_at         INTEGER NOT NULL,
	retired_at         INTEGER
) STRICT;

CREATE TABLE revocations (
	seq     INTEGER PRIMARY KEY AUTOINCREMENT,
	kind    TEXT NOT NULL,
	subject TEXT NOT NULL,
	at      INTEGER NOT NULL,
	expires INTEGER
) STRICT;

CREATE INDEX revocations_kind_subject ON revocations (kind, subject);
