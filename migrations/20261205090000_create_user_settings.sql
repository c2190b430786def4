-- What a user chose for their new tracks. No row means the defaults: the server's model, 24-bit stems,
-- and both separation and analysis as soon as the audio is in.
create table user_settings (
    user_id uuid primary key references users (id) on delete cascade,
    -- A model folder's name; null is the server's default. A model removed later falls back to it too.
    separation_model text check (length(separation_model) between 1 and 100),
    stem_format text not null default 'wav24' check (stem_format in ('wav16', 'wav24', 'f32')),
    separate_on_import boolean not null default true,
    analyse_on_import boolean not null default true,
    inserted_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

create trigger user_settings_set_updated_at before update on user_settings
    for each row execute function set_updated_at();

-- An account an administrator switched off: it cannot log in, and its sessions end at their next request.
alter table users add column disabled_at timestamptz;
