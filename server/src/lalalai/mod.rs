//! The cloud engine: separation at lalal.ai with the user's own license key, beside the local model. `api`
//! speaks its HTTP API, `stems` says which stems it makes and how we name them, `license` keeps the key
//! (sealed in `user_settings`, as the LLM keys are). The job that drives a split is
//! `jobs::processing::cloud`.

pub mod api;
pub mod license;
pub mod stems;
