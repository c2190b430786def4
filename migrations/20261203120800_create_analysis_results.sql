create table analysis_results (
    id uuid primary key,
    track_id uuid not null references tracks (id) on delete cascade,
    analysis_job_id uuid not null references analysis_jobs (id) on delete cascade,
    tempo double precision check (tempo > 0),
    key text,
    energy double precision check (energy between 0 and 1),
    spectral_centroid double precision check (spectral_centroid >= 0),
    spectral_rolloff double precision check (spectral_rolloff >= 0),
    zero_crossing_rate double precision check (zero_crossing_rate between 0 and 1),
    features jsonb not null default '{}'::jsonb,
    inserted_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    -- One result per analysis job.
    constraint analysis_results_analysis_job_id_key unique (analysis_job_id)
);

create index analysis_results_track_id_idx on analysis_results (track_id);

create trigger analysis_results_set_updated_at before update on analysis_results
    for each row execute function set_updated_at();
