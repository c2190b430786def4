//! Summaries of sequences of numbers that several analyses share.

pub(crate) fn mean(values: impl Iterator<Item = f64>) -> f64 {
    let (sum, n) = values.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    if n == 0 { 0.0 } else { sum / n as f64 }
}

/// Population variance (numpy's default, as librosa's summaries use).
pub(crate) fn variance(values: impl Iterator<Item = f64> + Clone) -> f64 {
    let m = mean(values.clone());
    mean(values.map(|v| (v - m).powi(2)))
}

/// The median, as numpy computes it (the mean of the middle two for an even count); reorders `values`
/// (a selection, not a sort). `values` must not be empty.
pub(crate) fn median(values: &mut [f64]) -> f64 {
    let n = values.len();
    let (below, &mut upper, _) = values.select_nth_unstable_by(n / 2, f64::total_cmp);
    if n.is_multiple_of(2) {
        let lower = below.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        0.5 * (lower + upper)
    } else {
        upper
    }
}

/// The largest magnitude among `samples`. Compared as integers: the bits of a non-negative float order as
/// the float does, and an integer maximum vectorises where `f32::max` (with its NaN rule) does not.
pub(crate) fn peak_magnitude(samples: &[f32]) -> f32 {
    f32::from_bits(
        samples
            .iter()
            .map(|x| x.to_bits() & 0x7fff_ffff)
            .fold(0, u32::max),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_match_numpy() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&mut [4.0, 1.0, 3.0, 2.0]), 2.5);
        // Onset rises: mostly zeros, which the selection must count as the sort would.
        for n in [1, 2, 7, 128] {
            let mut values: Vec<f64> = (0..n).map(|i| f64::from((i * 37 % 11) as u8 % 4)).collect();
            let mut sorted = values.clone();
            sorted.sort_by(f64::total_cmp);
            let want = if n % 2 == 0 {
                0.5 * (sorted[n / 2 - 1] + sorted[n / 2])
            } else {
                sorted[n / 2]
            };
            assert_eq!(median(&mut values), want, "{n}");
        }
        assert_eq!(mean([1.0, 2.0, 6.0].into_iter()), 3.0);
        assert_eq!(mean(std::iter::empty()), 0.0);
        assert_eq!(variance([1.0, 3.0].into_iter()), 1.0);
        assert_eq!(peak_magnitude(&[0.25, -0.75, 0.5, 0.0]), 0.75);
        assert_eq!(peak_magnitude(&[]), 0.0);
    }
}
