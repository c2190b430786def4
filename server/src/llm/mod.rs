//! Users' LLM providers: their rows and sealed keys (`providers`), whether each answers (`health`), asking
//! one (`chat`, streamed), which one is asked (`router`, with fallback), and about what (`ask`: a track).

pub mod ask;
pub mod chat;
pub mod health;
pub mod providers;
pub mod router;
