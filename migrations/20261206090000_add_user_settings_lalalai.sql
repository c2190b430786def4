-- The cloud engine: a user may separate with lalal.ai instead of this server's CPU, with their own license
-- key (sealed like the LLM keys, see server/src/vault.rs), the stems they pay for, and a 60-second preview.
alter table user_settings
    add column separation_engine text not null default 'local' check (separation_engine in ('local', 'lalalai')),
    add column lalalai_license_key bytea,
    -- lalal.ai's own stem names; one stem may be any it offers, several must be its multistem ones.
    add column lalalai_stems text[] not null default array['vocals', 'drum', 'bass']
        check (cardinality(lalalai_stems) between 1 and 6),
    add column lalalai_preview boolean not null default false;
