create table users (
    id uuid primary key,
    email text not null check (length(email) between 3 and 320),
    hashed_password text not null,
    role text not null default 'user' check (role in ('user', 'admin', 'platform_admin')),
    confirmed_at timestamptz,
    inserted_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

-- One account per address, whatever its case.
create unique index users_email_key on users (lower(email));

create trigger users_set_updated_at before update on users
    for each row execute function set_updated_at();
