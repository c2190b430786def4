create table stems (
    id uuid primary key,
    processing_job_id uuid not null references processing_jobs (id) on delete cascade,
    track_id uuid not null references tracks (id) on delete cascade,
    -- The cloud engine can make more kinds than the local models; names stay short lowercase words.
    stem_type text not null check (stem_type ~ '^[a-z][a-z_]{1,31}$'),
    file_path text not null,
    file_size bigint check (file_size >= 0),
    inserted_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint stems_processing_job_id_stem_type_key unique (processing_job_id, stem_type)
);

create index stems_track_id_stem_type_idx on stems (track_id, stem_type);

create trigger stems_set_updated_at before update on stems
    for each row execute function set_updated_at();
