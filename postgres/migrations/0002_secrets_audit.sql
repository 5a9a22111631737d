-- Upstream credentials for the adapter, sealed with the master key.
CREATE TABLE secrets (
	name       TEXT PRIMARY KEY,
	sealed     BYTEA NOT NULL,
	updated_at TIMESTAMPTZ NOT NULL
);

-- One row per request through the adapter. No bodies, tokens or secrets.
CREATE TABLE audit (
	id              BIGSERIAL PRIMARY KEY,
	at              TIMESTAMPTZ NOT NULL,
	user_id         TEXT NOT NULL,
	package_id      TEXT NOT NULL,
	route           TEXT NOT NULL,
	method          TEXT NOT NULL,
	status          INTEGER NOT NULL,
	upstream_status INTEGER NOT NULL,
	error_code      TEXT NOT NULL,
	latency_ns      BIGINT NOT NULL,
	bytes_in        BIGINT NOT NULL,
	bytes_out       BIGINT NOT NULL,
	forward_auth    BOOLEAN NOT NULL
);

CREATE INDEX audit_user ON audit (user_id, id);
CREATE INDEX audit_package ON audit (package_id, id);
CREATE INDEX audit_at ON audit (at);
