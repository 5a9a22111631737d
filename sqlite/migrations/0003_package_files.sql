-- An imported action package: its manifest (package.json as imported) and
-- its files, served from the cards origin.
ALTER TABLE action_packages ADD COLUMN manifest BLOB;

CREATE TABLE package_files (
	package_id TEXT NOT NULL REFERENCES action_packages (id),
	path       TEXT NOT NULL,
	content    BLOB NOT NULL,
	PRIMARY KEY (package_id, path)
) STRICT;
