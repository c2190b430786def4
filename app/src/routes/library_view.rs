//! Which of the user's tracks the library shows, and in what order: a search over title, artist and album, a
//! filter by stage, and a sort. The list is the user's whole library, so this runs in the page, as they type.

use crate::api::tracks::TrackCard;

/// How many rows show before "Show more".
pub const PAGE: usize = 50;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Stage {
    #[default]
    All,
    /// A job is queued or running.
    Working,
    /// Stems and analysis both done.
    Ready,
    /// A job failed or was cancelled.
    Stopped,
    /// No audio yet (a Spotify track waiting for a file).
    NoAudio,
}

impl Stage {
    pub const ALL: [(Stage, &'static str, &'static str); 5] = [
        (Stage::All, "all", "Every track"),
        (Stage::Working, "working", "Working"),
        (Stage::Ready, "ready", "Ready"),
        (Stage::Stopped, "stopped", "Failed or cancelled"),
        (Stage::NoAudio, "no-audio", "Waiting for audio"),
    ];

    pub fn parse(value: &str) -> Self {
        named(&Self::ALL, value)
    }

    fn admits(self, track: &TrackCard) -> bool {
        let done = |status: &Option<String>| status.as_deref() == Some("completed");
        match self {
            Stage::All => true,
            Stage::Working => track.busy(),
            Stage::Ready => done(&track.separation_status) && done(&track.analysis_status),
            Stage::Stopped => track.retryable(),
            Stage::NoAudio => !track.has_audio,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sort {
    #[default]
    Newest,
    Oldest,
    Title,
    Artist,
    Tempo,
    Key,
}

impl Sort {
    pub const ALL: [(Sort, &'static str, &'static str); 6] = [
        (Sort::Newest, "newest", "Newest first"),
        (Sort::Oldest, "oldest", "Oldest first"),
        (Sort::Title, "title", "Title"),
        (Sort::Artist, "artist", "Artist"),
        (Sort::Tempo, "tempo", "BPM"),
        (Sort::Key, "key", "Key"),
    ];

    pub fn parse(value: &str) -> Self {
        named(&Self::ALL, value)
    }
}

/// The choice a `<select>` value names in a table of (choice, value, label); the default for anything else.
fn named<T: Copy + Default>(table: &[(T, &str, &str)], value: &str) -> T {
    table
        .iter()
        .find(|(_, name, _)| *name == value)
        .map_or_else(T::default, |(choice, _, _)| *choice)
}

/// The tracks that match, in order. `tracks` comes newest first, as the server lists them; tracks without
/// the value sorted by (no artist, no BPM yet) go last, newest first among themselves.
pub fn select(tracks: &[TrackCard], search: &str, stage: Stage, sort: Sort) -> Vec<TrackCard> {
    let words: Vec<String> = search.split_whitespace().map(str::to_lowercase).collect();
    let matches = |track: &TrackCard| {
        let text = [Some(&track.title), track.artist.as_ref(), track.album.as_ref()]
            .into_iter()
            .flatten()
            .map(|field| field.to_lowercase())
            .collect::<Vec<_>>()
            .join(" ");
        words.iter().all(|word| text.contains(word.as_str()))
    };
    let mut chosen: Vec<TrackCard> = tracks
        .iter()
        .filter(|track| stage.admits(track) && matches(track))
        .cloned()
        .collect();
    let text = |value: &Option<String>| value.as_ref().map(|v| v.to_lowercase());
    // Stable sorts keep the server's newest-first order among equals.
    match sort {
        Sort::Newest => {}
        Sort::Oldest => chosen.reverse(),
        Sort::Title => chosen.sort_by_key(|track| track.title.to_lowercase()),
        Sort::Artist => chosen.sort_by_key(|track| (track.artist.is_none(), text(&track.artist))),
        Sort::Key => chosen.sort_by_key(|track| {
            let wheel = track.camelot.as_deref().and_then(wheel_position);
            (wheel.is_none(), wheel)
        }),
        Sort::Tempo => chosen.sort_by(|a, b| match (a.tempo, b.tempo) {
            (Some(a), Some(b)) => a.total_cmp(&b),
            (a, b) => a.is_none().cmp(&b.is_none()),
        }),
    }
    chosen
}

/// Where a Camelot key sits on the wheel, `1A` first and `12B` last: neighbours there mix well, so the
/// key sort walks round it rather than through the alphabet (where 10A comes before 2A).
fn wheel_position(camelot: &str) -> Option<(u8, char)> {
    let letter = camelot.chars().last().filter(|c| matches!(c, 'A' | 'B'))?;
    let number: u8 = camelot[..camelot.len() - 1].parse().ok()?;
    (1..=12).contains(&number).then_some((number, letter))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn track(title: &str, artist: Option<&str>, tempo: Option<f64>, analysis: Option<&str>) -> TrackCard {
        TrackCard {
            id: title.to_owned(),
            title: title.to_owned(),
            artist: artist.map(str::to_owned),
            album: Some("Night Drive".to_owned()),
            art_url: None,
            duration_seconds: Some(200),
            has_audio: true,
            source: "upload".to_owned(),
            download_status: None,
            download_progress: 0,
            download_error: None,
            bytes: None,
            analysis_status: analysis.map(str::to_owned),
            analysis_progress: 0,
            analysis_error: None,
            tempo,
            key: None,
            camelot: None,
            separation_status: Some("completed".to_owned()),
            separation_progress: 100,
            separation_error: None,
            chunks: None,
            stems: Vec::new(),
        }
    }

    fn titles(tracks: &[TrackCard]) -> Vec<&str> {
        tracks.iter().map(|t| t.title.as_str()).collect()
    }

    #[test]
    fn every_word_must_match_title_artist_or_album_in_any_case() {
        let library = [
            track("Blue Monday", Some("New Order"), Some(130.0), Some("completed")),
            track("Ceremony", Some("New Order"), None, Some("processing")),
            track(
                "Strings of Life",
                Some("Rhythim Is Rhythim"),
                Some(124.0),
                Some("failed"),
            ),
        ];
        assert_eq!(
            titles(&select(&library, "new order", Stage::All, Sort::Newest)),
            ["Blue Monday", "Ceremony"]
        );
        assert_eq!(
            titles(&select(&library, "ORDER blue", Stage::All, Sort::Newest)),
            ["Blue Monday"]
        );
        assert_eq!(
            titles(&select(&library, "night", Stage::All, Sort::Newest)).len(),
            3,
            "albums count"
        );
        assert!(select(&library, "kraftwerk", Stage::All, Sort::Newest).is_empty());
        assert_eq!(
            titles(&select(&library, "", Stage::Working, Sort::Newest)),
            ["Ceremony"]
        );
        assert_eq!(
            titles(&select(&library, "", Stage::Ready, Sort::Newest)),
            ["Blue Monday"]
        );
        assert_eq!(
            titles(&select(&library, "", Stage::Stopped, Sort::Newest)),
            ["Strings of Life"]
        );
    }

    #[test]
    fn sorts_put_missing_values_last() {
        let library = [
            track("b", None, Some(124.0), None),
            track("C", Some("Zed"), None, None),
            track("a", Some("Abba"), Some(90.5), None),
        ];
        assert_eq!(
            titles(&select(&library, "", Stage::All, Sort::Oldest)),
            ["a", "C", "b"]
        );
        assert_eq!(
            titles(&select(&library, "", Stage::All, Sort::Title)),
            ["a", "b", "C"]
        );
        assert_eq!(
            titles(&select(&library, "", Stage::All, Sort::Artist)),
            ["a", "C", "b"]
        );
        assert_eq!(
            titles(&select(&library, "", Stage::All, Sort::Tempo)),
            ["a", "b", "C"]
        );
        assert_eq!(Sort::parse("tempo"), Sort::Tempo);
        let mut keyed = library.clone();
        for (track, camelot) in keyed.iter_mut().zip([Some("10A"), None, Some("2B")]) {
            track.camelot = camelot.map(str::to_owned);
        }
        assert_eq!(
            titles(&select(&keyed, "", Stage::All, Sort::Key)),
            ["a", "b", "C"],
            "2B before 10A, no key last"
        );
        assert_eq!(wheel_position("12B"), Some((12, 'B')));
        assert_eq!(wheel_position("13A"), None);
        assert_eq!(wheel_position("C"), None);
        assert_eq!(Stage::parse("nonsense"), Stage::All);
    }
}
