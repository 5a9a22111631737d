-- Sign-in stores a code for every number asked for, with an account or
-- without (user_id NULL), so that its answers and its work do not tell who
-- has an account. SQLite cannot drop NOT NULL in place: the table is made
-- anew and its rows copied.
CREATE TABLE login_codes_new (
	phone_number TEXT PRIMARY KEY,
	code_hash    BLOB NOT NULL,
	user_id      TEXT REFERENCES users (id),
	expires_at   INTEGER NOT NULL,
	attempts     INTEGER NOT NULL DEFAULT 0,
	created_at   INTEGER NOT NULL
) STRICT;
INSERT INTO login_codes_new SELECT phone_number, code_hash, user_id, expires_at, attempts, created_at FROM login_codes;
DROP TABLE login_codes;
ALTER TABLE login_codes_new RENAME TO login_codes;
