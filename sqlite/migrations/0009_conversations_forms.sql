-- Conversations (Kaizala's groups), their members, the forms sent to them
-- and the responses. Questions, properties and answers are JSON text, read
-- and written whole. A conversation, form or response is never deleted;
-- a member is, when removed, and their responses stay.
CREATE TABLE conversations (
	id         TEXT PRIMARY KEY,
	title      TEXT NOT NULL,
	created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE conversation_members (
	conversation_id TEXT NOT NULL REFERENCES conversations (id),
	user_id         TEXT NOT NULL REFERENCES users (id),
	role            TEXT NOT NULL,
	added_at        INTEGER NOT NULL,
	PRIMARY KEY (conversation_id, user_id)
) STRICT;

CREATE TABLE forms (
	id                 TEXT PRIMARY KEY,
	conversation_id    TEXT NOT NULL REFERENCES conversations (id),
	package_id         TEXT NOT NULL REFERENCES action_packages (id),
	creator_id         TEXT NOT NULL REFERENCES users (id),
	title              TEXT NOT NULL,
	app_model          BLOB,
	questions          TEXT NOT NULL,
	properties         TEXT NOT NULL,
	expiry             INTEGER,
	visibility         TEXT NOT NULL,
	anonymous          INTEGER NOT NULL,
	several_per_user   INTEGER NOT NULL,
	responses_editable INTEGER NOT NULL,
	location_requested INTEGER NOT NULL,
	created_at         INTEGER NOT NULL
) STRICT;

CREATE INDEX forms_conversation ON forms (conversation_id, created_at);

-- only_one copies the form's "one response per user" when the response is
-- stored, so that the unique index below keeps that rule however many
-- responses arrive at once.
CREATE TABLE form_responses (
	id         TEXT PRIMARY KEY,
	form_id    TEXT NOT NULL REFERENCES forms (id),
	user_id    TEXT NOT NULL REFERENCES users (id),
	answers    TEXT NOT NULL,
	anonymous  INTEGER NOT NULL,
	only_one   INTEGER NOT NULL,
	edits      INTEGER NOT NULL DEFAULT 0,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
) STRICT;

CREATE INDEX form_responses_form ON form_responses (form_id, created_at);
CREATE INDEX form_responses_user ON form_responses (form_id, user_id, created_at);
CREATE UNIQUE INDEX form_responses_one_per_user ON form_responses (form_id, user_id) WHERE only_one = 1;
