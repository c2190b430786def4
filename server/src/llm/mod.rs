//! Users' LLM providers: their rows and sealed keys (`providers`), whether each answers (`health`), asking
//! one (`chat`, streamed), and which one is asked (`router`, with fallback).

pub mod chat;
pub mod health;
pub mod providers;
pub mod router;
