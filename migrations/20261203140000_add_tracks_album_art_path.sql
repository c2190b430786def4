-- Cover art taken from an uploaded file lives in our storage; `album_art_url` stays for remote art
-- (Spotify). A storage key, as `audio_path` is.
alter table tracks add column album_art_path text;
