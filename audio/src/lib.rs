//! The audio engine of Sound Forge Alchemy.
//!
//! Everything here is pure computation over samples held in memory or read from a `std::io::Read`: no
//! network, no database, no async runtime. That keeps it testable and benchmarkable on its own, and lets a
//! CLI drive it exactly as the server's jobs do.

pub mod analysis;
pub mod beats;
mod buffer;
pub mod chroma;
pub mod decode;
pub mod downbeats;
pub mod ending;
mod error;
pub mod key;
pub mod loudness;
pub mod mel;
pub mod mixdown;
mod mp4_edits;
pub mod onset;
pub mod overview;
mod pcm;
pub mod resample;
pub mod separate;
pub mod sniff;
pub mod spectral;
mod stats;
pub mod stft;
pub mod tempo;

pub use analysis::{Analysis, analyze};
pub use buffer::Audio;
pub use decode::{Decoded, Limits, decode};
pub use error::Error;
pub use loudness::{Loudness, measure_loudness};
