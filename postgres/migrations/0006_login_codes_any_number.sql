-- Sign-in stores a code for every number asked for, with an account or
-- without (user_id NULL), so that its answers and its work do not tell who
-- has an account.
ALTER TABLE login_codes ALTER COLUMN user_id DROP NOT NULL;
