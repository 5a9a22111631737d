-- A phone number names one person: sign-in finds the user by it, and a
-- number two users share signs neither in. From this version no two users
-- get the same number. Users who already shared one when this migration ran
-- keep it, marked phone_shared, so that upgrading never fails nor drops
-- anyone: their number still signs no one in (UserByPhone answers
-- ECONFLICT, and the issuer logs a warning) and no new user can take it.
ALTER TABLE users ADD COLUMN phone_shared BOOLEAN NOT NULL DEFAULT false;
UPDATE users SET phone_shared = true WHERE phone_number IN
	(SELECT phone_number FROM users GROUP BY phone_number HAVING COUNT(*) > 1);
CREATE UNIQUE INDEX users_phone_number_unique ON users (phone_number) WHERE NOT phone_shared;
