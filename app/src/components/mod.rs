pub mod charts;
pub mod form;
pub mod header;
pub mod mixer;
pub mod toasts;
pub mod track_facts;
pub mod track_jobs;
