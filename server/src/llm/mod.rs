//! Users' LLM providers: their rows and sealed keys (`providers`). The adapters for each API, the health
//! checks and the routing between providers build on these.

pub mod providers;
