-- Stem separation jobs, on the CPU (`local`) or at lalal.ai (`lalalai`).
create table processing_jobs (
    id uuid primary key,
    track_id uuid not null references tracks (id) on delete cascade,
    user_id uuid not null references users (id) on delete cascade,
    model text not null,
    engine text not null default 'local' check (engine in ('local', 'lalalai')),
    status text not null default 'queued'
        check (status in ('queued', 'downloading', 'processing', 'completed', 'failed', 'cancelled')),
    progress integer not null default 0 check (progress between 0 and 100),
    output_path text,
    options jsonb not null default '{}'::jsonb,
    error text,
    inserted_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

create index processing_jobs_track_id_idx on processing_jobs (track_id);
create index processing_jobs_user_id_idx on processing_jobs (user_id);

create trigger processing_jobs_set_updated_at before update on processing_jobs
    for each row execute function set_updated_at();
