create table tracks (
    id uuid primary key,
    user_id uuid not null references users (id) on delete cascade,
    spotify_id text,
    spotify_url text,
    title text not null check (length(title) > 0),
    artist text,
    album text,
    album_art_url text,
    duration integer check (duration >= 0),
    source text not null check (source in ('spotify', 'upload', 'url')),
    audio_path text,
    inserted_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    -- Unique per user, not globally: a second user may import a song the first already has.
    constraint tracks_user_id_spotify_id_key unique (user_id, spotify_id)
);

create index tracks_user_id_inserted_at_idx on tracks (user_id, inserted_at desc);

create trigger tracks_set_updated_at before update on tracks
    for each row execute function set_updated_at();
