//! Loudness per EBU R128 (ITU-R BS.1770-4): integrated loudness, loudness range, sample and true peak,
//! measured by the `ebur128` crate (a port of libebur128, the meter behind ffmpeg's).
//!
//! Channels are weighted as BS.1770 says: a mono file counts once, so a mono tone reads 3 LU lower than
//! the same tone on both channels of a stereo file.

use ebur128::{EbuR128, Mode};

use crate::{Audio, Error};

/// What a loudness meter reads. `None` where the audio is silent (the value would be −∞).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Loudness {
    /// Gated integrated loudness, LUFS.
    pub integrated_lufs: Option<f64>,
    /// Loudness range (LRA), LU.
    pub range_lu: f64,
    /// Highest sample on any channel, dBFS.
    pub sample_peak_dbfs: Option<f64>,
    /// Highest inter-sample peak on any channel (4× oversampled), dBTP.
    pub true_peak_dbtp: Option<f64>,
}

pub fn measure_loudness(audio: &Audio) -> Result<Loudness, Error> {
    let meter_error = |err: ebur128::Error| Error::Loudness(err.to_string());
    let channels = u32::from(audio.channels());
    let mut meter = EbuR128::new(
        channels,
        audio.sample_rate(),
        Mode::I | Mode::LRA | Mode::TRUE_PEAK,
    )
    .map_err(meter_error)?;
    meter.add_frames_f32(audio.samples()).map_err(meter_error)?;
    let peak = |read: fn(&EbuR128, u32) -> Result<f64, ebur128::Error>| -> Result<Option<f64>, Error> {
        let mut highest = 0.0f64;
        for channel in 0..channels {
            highest = highest.max(read(&meter, channel).map_err(meter_error)?);
        }
        Ok(finite(20.0 * highest.log10()))
    };
    Ok(Loudness {
        integrated_lufs: finite(meter.loudness_global().map_err(meter_error)?),
        range_lu: finite(meter.loudness_range().map_err(meter_error)?).unwrap_or(0.0),
        sample_peak_dbfs: peak(EbuR128::sample_peak)?,
        true_peak_dbtp: peak(EbuR128::true_peak)?,
    })
}

fn finite(value: f64) -> Option<f64> {
    value.is_finite().then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 1 kHz sine at `dbfs` (peak) on every channel, for `seconds`, at 48 kHz.
    fn sine(dbfs: f64, seconds: f64, channels: u16) -> Vec<f32> {
        let amplitude = 10f64.powf(dbfs / 20.0);
        let frames = (48_000.0 * seconds) as usize;
        (0..frames)
            .flat_map(|i| {
                let x =
                    (amplitude * (2.0 * std::f64::consts::PI * 1000.0 * i as f64 / 48_000.0).sin()) as f32;
                std::iter::repeat_n(x, usize::from(channels))
            })
            .collect()
    }

    fn measure(samples: Vec<f32>, channels: u16) -> Loudness {
        measure_loudness(&Audio::from_interleaved(samples, 48_000, channels).expect("valid"))
            .expect("measures")
    }

    fn assert_close(what: &str, got: Option<f64>, want: f64, tolerance: f64) {
        let got = got.unwrap_or_else(|| panic!("{what}: no value"));
        assert!(
            (got - want).abs() <= tolerance,
            "{what}: {got}, want {want} ± {tolerance}"
        );
    }

    #[test]
    fn ebu_tech_3341_case_1_reads_minus_23_lufs() {
        // Stereo 1 kHz at −23 dBFS: −23.0 ± 0.1 LUFS.
        let loudness = measure(sine(-23.0, 20.0, 2), 2);
        assert_close("integrated", loudness.integrated_lufs, -23.0, 0.1);
        assert_close("sample peak", loudness.sample_peak_dbfs, -23.0, 0.01);
        assert_close("true peak", loudness.true_peak_dbtp, -23.0, 0.2);
        assert!(
            loudness.range_lu < 0.5,
            "a steady tone has no range: {}",
            loudness.range_lu
        );
    }

    #[test]
    fn ebu_tech_3342_case_1_has_a_range_of_10_lu() {
        // 20 s at −20 dBFS then 20 s at −30 dBFS: LRA 10 ± 1 LU.
        let mut samples = sine(-20.0, 20.0, 2);
        samples.extend(sine(-30.0, 20.0, 2));
        let loudness = measure(samples, 2);
        assert!(
            (loudness.range_lu - 10.0).abs() <= 1.0,
            "range {}",
            loudness.range_lu
        );
    }

    #[test]
    fn mono_counts_one_channel_and_silence_has_no_loudness() {
        assert_close(
            "mono",
            measure(sine(-23.0, 10.0, 1), 1).integrated_lufs,
            -26.0,
            0.1,
        );
        let silent = measure(vec![0.0; 48_000 * 4], 2);
        assert_eq!(
            silent,
            Loudness {
                integrated_lufs: None,
                range_lu: 0.0,
                sample_peak_dbfs: None,
                true_peak_dbtp: None
            }
        );
    }
}
