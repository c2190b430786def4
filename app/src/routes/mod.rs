pub mod account;
pub mod confirm_email;
pub mod forgot_password;
pub mod library;
pub mod login;
pub mod not_found;
pub mod register;
pub mod reset_password;
mod upload_box;
