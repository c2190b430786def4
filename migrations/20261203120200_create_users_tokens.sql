-- One-time tokens; only their SHA-256 is stored, the raw token goes to the user once.
create table users_tokens (
    id uuid primary key,
    user_id uuid not null references users (id) on delete cascade,
    token bytea not null check (length(token) = 32),
    context text not null check (context in ('session', 'confirm', 'reset_password')),
    sent_to text,
    inserted_at timestamptz not null default now()
);

create unique index users_tokens_context_token_key on users_tokens (context, token);
create index users_tokens_user_id_idx on users_tokens (user_id);
