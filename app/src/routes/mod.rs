pub mod library;
pub mod not_found;
