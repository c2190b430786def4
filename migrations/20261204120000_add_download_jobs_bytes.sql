-- A download's progress in bytes ("3.1 of 8.4 MB"), and its total when the server said it
-- (Content-Length); the percentage alone cannot say how far a download of unknown size has got.
alter table download_jobs
    add column bytes_done bigint not null default 0 check (bytes_done >= 0),
    add column bytes_total bigint check (bytes_total >= 0);
