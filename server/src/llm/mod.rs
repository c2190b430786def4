//! Users' LLM providers: their rows and sealed keys (`providers`), and whether each answers (`health`).
//! Asking them, and the routing between them, build on these.

pub mod health;
pub mod providers;
