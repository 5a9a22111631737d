CREATE TABLE users (
	id             TEXT PRIMARY KEY,
	name           TEXT NOT NULL,
	phone_number   TEXT NOT NULL,
	picture_url    TEXT NOT NULL DEFAULT '',
	disabled       BOOLEAN NOT NULL DEFAULT FALSE,
	revoked_before TIMESTAMPTZ,
	created_at     TIMESTAMPTZ NOT NULL,
	updated_at     TIMESTAMPTZ NOT NULL
);

CREATE TABLE action_packages (
	id             TEXT PRIMARY KEY,
	display_name   TEXT NOT NULL,
	disabled       BOOLEAN NOT NULL DEFAULT FALSE,
	revoked_before TIMESTAMPTZ,
	created_at     TIMESTAMPTZ NOT NULL,
	updated_at     TIMESTAMPTZ NOT NULL
);

CREATE TABLE clients (
	id         TEXT PRIMARY KEY,
	name       TEXT NOT NULL,
	role       TEXT NOT NULL,
	key_hash   BYTEA NOT NULL UNIQUE,
	created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE signing_keys (
	id                 TEXT PRIMARY KEY,
	public_key         BYTEA NOT NULL,
	sealed_private_key BYTEA NOT NULL,
	created_at         TIMESTAMPTZ NOT NULL,
	retired_at         TIMESTAMPTZ
);

CREATE TABLE revocations (
	seq     BIGSERIAL PRIMARY KEY,
	kind    TEXT NOT NULL,
	subject TEXT NOT NULL,
	at      TIMESTAMPTZ NOT NULL,
	expires TIMESTAMPTZ
);

CREATE INDEX revocations_kind_subject ON revocations (kind, subject);
