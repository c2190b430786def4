-- The order stems are listed in everywhere (the library, the mixer, the ZIP): the four of every model,
-- then the six-stem model's two; any other after them, by name.
create function stem_rank(stem text) returns integer
    language sql immutable parallel safe
    return coalesce(array_position(array['vocals', 'drums', 'bass', 'other', 'guitar', 'piano'], stem), 7);
