create table llm_providers (
    id uuid primary key,
    user_id uuid not null references users (id) on delete cascade,
    provider_type text not null
        check (provider_type in ('anthropic', 'openai', 'google_gemini', 'ollama', 'azure_openai')),
    name text not null check (length(name) > 0),
    -- AES-256-GCM: key version, nonce and ciphertext; never plain text.
    api_key bytea,
    base_url text,
    model text,
    enabled boolean not null default true,
    priority integer not null default 0,
    health_status text not null default 'unknown' check (health_status in ('healthy', 'unreachable', 'unknown')),
    last_health_check_at timestamptz,
    inserted_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

create index llm_providers_user_id_priority_idx on llm_providers (user_id, priority);

create trigger llm_providers_set_updated_at before update on llm_providers
    for each row execute function set_updated_at();
