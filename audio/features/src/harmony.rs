//! Which tracks mix with which: keys that sit together on the Camelot wheel, and tempos that meet, directly
//! or at half or double time. What DJs check before they try a blend.

/// A Camelot key as (number 1–12, `A` minor or `B` major).
pub fn camelot(key: &str) -> Option<(u8, char)> {
    let letter = key.chars().last().filter(|c| matches!(c, 'A' | 'B'))?;
    let number: u8 = key[..key.len() - 1].parse().ok()?;
    (1..=12).contains(&number).then_some((number, letter))
}

/// Steps between two keys for mixing: 0 for the same key, 1 for a neighbour on the wheel (one number up or
/// down, same letter) or the relative major or minor (same number, other letter); `None` beyond that.
pub fn key_distance(a: &str, b: &str) -> Option<u8> {
    let ((na, la), (nb, lb)) = (camelot(a)?, camelot(b)?);
    let around = (i16::from(na) - i16::from(nb)).rem_euclid(12);
    let steps = around.min(12 - around);
    match (steps, la == lb) {
        (0, true) => Some(0),
        (1, true) | (0, false) => Some(1),
        _ => None,
    }
}

/// How `other` meets `bpm`: played as it is (1), at double time (2) or at half time (0.5), whichever lands
/// within `tolerance` (a fraction, 0.06 for 6%) of `bpm`, nearest first.
pub fn tempo_factor(bpm: f64, other: f64, tolerance: f64) -> Option<f64> {
    if bpm <= 0.0 || other <= 0.0 {
        return None;
    }
    [1.0, 2.0, 0.5]
        .into_iter()
        .map(|factor| (factor, (other * factor / bpm - 1.0).abs()))
        .filter(|&(_, off)| off <= tolerance)
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(factor, _)| factor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn neighbours_on_the_wheel_and_relatives_are_one_step() {
        assert_eq!(key_distance("8A", "8A"), Some(0));
        assert_eq!(key_distance("8A", "9A"), Some(1));
        assert_eq!(key_distance("8A", "7A"), Some(1));
        assert_eq!(key_distance("8A", "8B"), Some(1));
        assert_eq!(key_distance("12B", "1B"), Some(1), "the wheel wraps");
        assert_eq!(key_distance("8A", "9B"), None);
        assert_eq!(key_distance("8A", "10A"), None);
        assert_eq!(key_distance("8A", "C major"), None);
        assert_eq!(camelot("13A"), None);
    }

    #[test]
    fn tempos_meet_directly_or_at_half_and_double_time() {
        assert_eq!(tempo_factor(124.0, 126.0, 0.06), Some(1.0));
        assert_eq!(tempo_factor(124.0, 63.0, 0.06), Some(2.0));
        assert_eq!(tempo_factor(87.0, 174.0, 0.06), Some(0.5));
        assert_eq!(tempo_factor(124.0, 100.0, 0.06), None);
        assert_eq!(tempo_factor(124.0, 0.0, 0.06), None);
    }
}
