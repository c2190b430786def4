/// Everything the audio engine can refuse. Messages are written for the person who brought the audio.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Error {
    #[error("the audio has no channels")]
    NoChannels,
    #[error("the sample rate must be positive")]
    ZeroSampleRate,
    #[error("{samples} samples do not divide into whole frames of {channels} channels")]
    PartialFrame { samples: usize, channels: u16 },
}
