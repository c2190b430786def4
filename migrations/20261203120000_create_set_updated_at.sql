-- Every table keeps `updated_at` true without each query having to remember it.
create function set_updated_at() returns trigger
language plpgsql as $$
begin
    new.updated_at = now();
    return new;
end;
$$;
