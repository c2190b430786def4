create table analysis_jobs (
    id uuid primary key,
    track_id uuid not null references tracks (id) on delete cascade,
    user_id uuid not null references users (id) on delete cascade,
    status text not null default 'queued'
        check (status in ('queued', 'downloading', 'processing', 'completed', 'failed', 'cancelled')),
    progress integer not null default 0 check (progress between 0 and 100),
    results jsonb,
    error text,
    inserted_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

create index analysis_jobs_track_id_idx on analysis_jobs (track_id);
create index analysis_jobs_user_id_idx on analysis_jobs (user_id);

create trigger analysis_jobs_set_updated_at before update on analysis_jobs
    for each row execute function set_updated_at();
