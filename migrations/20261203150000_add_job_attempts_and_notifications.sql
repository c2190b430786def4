-- The pipeline's bookkeeping on the job rows, what a download fetches (a link, or a song an audio resolver
-- finds by its ISRC), and a notification whenever a job row changes.
--
-- `attempts` counts the runs a job has started, so that the run that would exceed the limit fails the row
-- instead of leaving it queued for ever. Separation also records its chunks (the progress a user reads as
-- "chunk 7 of 31", and where a resumed run started) and what it measured (`results`: each stem's peak and
-- the residual of the stems against the mix).
alter table download_jobs
    add column attempts integer not null default 0 check (attempts >= 0),
    -- The link an audio-URL import fetches.
    add column url text;
-- A Spotify song's ISRC, which an audio resolver can search by.
alter table tracks add column isrc text;
alter table analysis_jobs add column attempts integer not null default 0 check (attempts >= 0);
alter table processing_jobs
    add column attempts integer not null default 0 check (attempts >= 0),
    add column chunks_done integer not null default 0 check (chunks_done >= 0),
    add column chunks_total integer check (chunks_total >= 0),
    add column resumed_at_chunk integer check (resumed_at_chunk >= 0),
    add column results jsonb;

-- Live updates: every change to a job row tells listeners (the web servers' event streams) whose track
-- moved. Only ids travel; a listener reads the rows itself, through the owner's checks.
create function notify_job_change() returns trigger
language plpgsql as $$
begin
    perform pg_notify('sfa_job_changes', new.user_id::text || ' ' || new.track_id::text);
    return null;
end;
$$;

create trigger download_jobs_notify after insert or update on download_jobs
    for each row execute function notify_job_change();
create trigger processing_jobs_notify after insert or update on processing_jobs
    for each row execute function notify_job_change();
create trigger analysis_jobs_notify after insert or update on analysis_jobs
    for each row execute function notify_job_change();
