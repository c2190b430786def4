pub mod charts;
pub mod form;
pub mod header;
pub mod mixer;
pub mod track_jobs;
