//! What the library's tools can ask for: a stage to show and an order, by the names the server knows them
//! by (`server::tracks::LibraryQuery`), with the words the page shows; the server searches, filters, sorts
//! and counts, so a large library costs the browser only the rows it shows.

/// How many rows show before "Show more", and how many more each press adds.
pub const PAGE: i64 = 50;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Stage {
    #[default]
    All,
    Working,
    Ready,
    Stopped,
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

    pub fn name(self) -> &'static str {
        name_of(&Self::ALL, self)
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
        (Sort::Key, "key", "Key (Camelot)"),
    ];

    pub fn parse(value: &str) -> Self {
        named(&Self::ALL, value)
    }

    pub fn name(self) -> &'static str {
        name_of(&Self::ALL, self)
    }
}

/// The choice a `<select>` value names in a table of (choice, value, label); the default for anything else.
fn named<T: Copy + Default>(table: &[(T, &str, &str)], value: &str) -> T {
    table
        .iter()
        .find(|(_, name, _)| *name == value)
        .map_or_else(T::default, |(choice, _, _)| *choice)
}

fn name_of<T: Copy + PartialEq>(table: &[(T, &'static str, &str)], choice: T) -> &'static str {
    table
        .iter()
        .find(|(each, _, _)| *each == choice)
        .map_or("", |(_, name, _)| name)
}

/// `1 track`, `3 tracks`.
pub fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_go_both_ways_and_unknown_ones_are_the_default() {
        for (stage, name, _) in Stage::ALL {
            assert_eq!(Stage::parse(name), stage);
            assert_eq!(stage.name(), name);
        }
        for (sort, name, _) in Sort::ALL {
            assert_eq!(Sort::parse(name), sort);
            assert_eq!(sort.name(), name);
        }
        assert_eq!(Stage::parse("nonsense"), Stage::All);
        assert_eq!(Sort::parse(""), Sort::Newest);
        assert_eq!(count(1, "track"), "1 track");
        assert_eq!(count(0, "track"), "0 tracks");
    }
}
