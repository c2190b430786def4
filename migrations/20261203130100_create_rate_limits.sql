-- Fixed-window counters behind the rate limits on log in, registration and password reset. In the
-- database so every server process counts together and a restart forgets nothing.
create table rate_limits (
    id uuid primary key default gen_random_uuid(),
    bucket text not null check (length(bucket) between 1 and 400),
    window_start timestamptz not null,
    hits integer not null check (hits > 0),
    inserted_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

create unique index rate_limits_bucket_window_key on rate_limits (bucket, window_start);
create index rate_limits_window_start_idx on rate_limits (window_start);

create trigger rate_limits_set_updated_at before update on rate_limits
    for each row execute function set_updated_at();
