/// Everything the audio engine can refuse. Messages are written for the person who brought the audio.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum Error {
    #[error("the audio has no channels")]
    NoChannels,
    #[error("the sample rate must be positive")]
    ZeroSampleRate,
    #[error("{samples} samples do not divide into whole frames of {channels} channels")]
    PartialFrame { samples: usize, channels: u16 },
    #[error("the file is empty")]
    Empty,
    /// `looks_like` names what the file is instead, when its first bytes tell (see `sniff`).
    #[error("{}", unknown_format(*.looks_like))]
    UnknownFormat { looks_like: Option<&'static str> },
    #[error("the file holds no audio track")]
    NoAudioTrack,
    #[error(
        "this file is {codec} audio (in its {container} container), which we cannot decode; convert it to \
         FLAC, WAV or MP3 first"
    )]
    UnsupportedCodec { codec: String, container: String },
    #[error("the file ends early: it looks truncated (an interrupted download or copy?)")]
    Truncated,
    #[error("the audio data is damaged: {0}")]
    Corrupt(String),
    #[error("the audio is {seconds:.0} s long; the limit is {max_seconds:.0} s")]
    TooLong { seconds: f64, max_seconds: f64 },
    #[error(
        "the audio is too large to work on: {seconds:.0} s of {channels} channels at {rate} Hz is more \
         samples than {max_seconds:.0} s of stereo at 48 kHz, the limit"
    )]
    TooManySamples {
        seconds: f64,
        channels: u16,
        rate: u32,
        max_seconds: f64,
    },
    #[error("a sample rate of {rate} Hz is not one audio is recorded at; we read 1 kHz to 768 kHz")]
    UnsupportedRate { rate: u32 },
    #[error("the audio cannot be resampled: {0}")]
    Resample(String),
    #[error("loudness cannot be measured: {0}")]
    Loudness(String),
    #[error("the file is {bytes} bytes; the limit is {max_bytes} bytes")]
    TooLarge { bytes: u64, max_bytes: u64 },
    #[error("the separation model cannot be used: {0}")]
    Model(String),
    #[error("the stems cannot be written: {0}")]
    Output(String),
    #[error("the separation was cancelled")]
    Cancelled,
}

fn unknown_format(looks_like: Option<&str>) -> String {
    const READ: &str = "we read WAV, AIFF, FLAC, MP3, Ogg Vorbis, and AAC or ALAC in MP4/M4A";
    match looks_like {
        Some(what) => format!("this is {what}, not audio; {READ}"),
        None => format!("this is not an audio file we can read; {READ}"),
    }
}
