-- A session remembers the stamp its user had at log in. A new stamp (password changed or reset, "log out
-- everywhere") ends every session of that user at its next request.
alter table users add column security_stamp uuid not null default gen_random_uuid();
