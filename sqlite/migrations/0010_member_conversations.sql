-- A user's conversations are listed by user: the members' primary key
-- starts with the conversation.
CREATE INDEX conversation_members_user ON conversation_members (user_id);
