//! Spotify links and URIs, in every form people paste them: `https://open.spotify.com/track/…`, without
//! the scheme, with an `intl-xx/` locale segment or a query string (`?si=…`), the older
//! `play.spotify.com` host, and `spotify:track:…` URIs. Artist, podcast and profile links are Spotify's
//! too, but hold no song to import; they are refused by name.

use crate::{Error, Result};

/// What a link points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Track,
    Album,
    Playlist,
}

impl Kind {
    pub fn noun(self) -> &'static str {
        match self {
            Self::Track => "track",
            Self::Album => "album",
            Self::Playlist => "playlist",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpotifyLink {
    pub kind: Kind,
    /// Spotify's base-62 id, 22 characters.
    pub id: String,
}

const HOSTS: [&str; 3] = ["open.spotify.com", "play.spotify.com", "spotify.com"];

/// `Ok(None)` when the text is not a Spotify link at all; an error when it is Spotify's but not
/// something we can import, saying why.
pub fn parse(text: &str) -> Result<Option<SpotifyLink>> {
    let text = text.trim();
    if let Some(uri) = strip_prefix_ignore_case(text, "spotify:") {
        let parts: Vec<&str> = uri.split(':').collect();
        return match parts.as_slice() {
            [kind, id] => link(kind, id).map(Some),
            // The old form of a user's playlist: spotify:user:NAME:playlist:ID.
            ["user", _, "playlist", id] => link("playlist", id).map(Some),
            _ => Err(not_importable()),
        };
    }
    let without_scheme = strip_prefix_ignore_case(text, "https://")
        .or_else(|| strip_prefix_ignore_case(text, "http://"))
        .unwrap_or(text);
    let (host, rest) = without_scheme.split_once('/').unwrap_or((without_scheme, ""));
    let host = host.to_ascii_lowercase();
    let host = host.strip_prefix("www.").unwrap_or(&host);
    if host == "spotify.link" || host == "spoti.fi" {
        return Err(Error::Invalid(
            "That is a Spotify short link. Open it, then copy the full link from the address bar or Share → \
             Copy link."
                .into(),
        ));
    }
    if !HOSTS.contains(&host) {
        return Ok(None);
    }
    let path = rest.split(['?', '#']).next().unwrap_or_default();
    let mut segments = path.split('/').filter(|s| !s.is_empty()).peekable();
    if segments.peek().is_some_and(|s| s.starts_with("intl-")) {
        segments.next();
    }
    let segments: Vec<&str> = segments.collect();
    match segments.as_slice() {
        [kind, id, ..] if !matches!(*kind, "user") => link(kind, id).map(Some),
        ["user", _, "playlist", id, ..] => link("playlist", id).map(Some),
        _ => Err(not_importable()),
    }
}

fn link(kind: &str, id: &str) -> Result<SpotifyLink> {
    let kind = match kind.to_ascii_lowercase().as_str() {
        "track" => Kind::Track,
        "album" => Kind::Album,
        "playlist" => Kind::Playlist,
        "artist" => return Err(refused("an artist")),
        "show" | "episode" => return Err(refused("a podcast")),
        "user" => return Err(refused("a profile")),
        "audiobook" | "chapter" => return Err(refused("an audiobook")),
        _ => return Err(not_importable()),
    };
    if id.len() != 22 || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(Error::Invalid(format!(
            "That Spotify {} link has no valid id: it may have been cut off. Copy it again.",
            kind.noun()
        )));
    }
    Ok(SpotifyLink {
        kind,
        id: id.to_owned(),
    })
}

fn refused(what: &str) -> Error {
    Error::Invalid(format!(
        "That Spotify link is for {what}, which has no single song to import. Paste a track, album or playlist \
         link."
    ))
}

fn not_importable() -> Error {
    Error::Invalid("That Spotify link is not a track, album or playlist.".into())
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix).then(|| &text[prefix.len()..])
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "4uLU6hMCjMI75M1A2tKUQC";

    fn parsed(text: &str) -> SpotifyLink {
        parse(text)
            .unwrap_or_else(|err| panic!("{text}: {err}"))
            .unwrap_or_else(|| panic!("{text}: not seen as Spotify"))
    }

    fn refusal(text: &str) -> String {
        match parse(text) {
            Err(Error::Invalid(why)) => why,
            other => panic!("{text}: {other:?}"),
        }
    }

    #[test]
    fn every_form_of_a_track_link() {
        for text in [
            format!("https://open.spotify.com/track/{ID}"),
            format!("http://open.spotify.com/track/{ID}"),
            format!("open.spotify.com/track/{ID}"),
            format!("https://open.spotify.com/track/{ID}?si=1a2b3c4d5e6f"),
            format!("https://open.spotify.com/track/{ID}/"),
            format!("https://open.spotify.com/track/{ID}#x"),
            format!("https://open.spotify.com/intl-de/track/{ID}"),
            format!("https://open.spotify.com/intl-pt/track/{ID}?si=abc&context=spotify%3Aalbum%3Ax"),
            format!("HTTPS://OPEN.SPOTIFY.COM/track/{ID}"),
            format!("https://www.open.spotify.com/track/{ID}"),
            format!("https://play.spotify.com/track/{ID}"),
            format!("  spotify:track:{ID}  "),
            format!("Spotify:Track:{ID}"),
        ] {
            assert_eq!(
                parsed(&text),
                SpotifyLink {
                    kind: Kind::Track,
                    id: ID.into()
                },
                "{text}"
            );
        }
    }

    #[test]
    fn albums_and_playlists() {
        assert_eq!(
            parsed(&format!("https://open.spotify.com/album/{ID}?si=x")).kind,
            Kind::Album
        );
        assert_eq!(parsed(&format!("spotify:album:{ID}")).kind, Kind::Album);
        assert_eq!(
            parsed(&format!("https://open.spotify.com/playlist/{ID}")).kind,
            Kind::Playlist
        );
        assert_eq!(
            parsed(&format!("open.spotify.com/intl-fr/playlist/{ID}")).kind,
            Kind::Playlist
        );
        assert_eq!(parsed(&format!("spotify:playlist:{ID}")).kind, Kind::Playlist);
        assert_eq!(
            parsed(&format!("spotify:user:someone:playlist:{ID}")).kind,
            Kind::Playlist
        );
        assert_eq!(
            parsed(&format!("https://open.spotify.com/user/someone/playlist/{ID}")).kind,
            Kind::Playlist
        );
    }

    #[test]
    fn spotify_links_without_songs_are_refused_by_name() {
        assert!(refusal(&format!("https://open.spotify.com/artist/{ID}")).contains("an artist"));
        assert!(refusal(&format!("spotify:artist:{ID}")).contains("an artist"));
        assert!(refusal(&format!("https://open.spotify.com/show/{ID}")).contains("a podcast"));
        assert!(refusal(&format!("https://open.spotify.com/episode/{ID}")).contains("a podcast"));
        assert!(refusal("https://open.spotify.com/user/someone").contains("not a track"));
        assert!(refusal("https://open.spotify.com/").contains("not a track"));
        assert!(refusal("https://open.spotify.com/genre/pop").contains("not a track"));
        assert!(refusal("spotify:track").contains("not a track"));
        assert!(refusal("https://spotify.link/AbCdEf").contains("short link"));
    }

    #[test]
    fn cut_off_or_forged_ids_are_refused() {
        for text in [
            "https://open.spotify.com/track/4uLU6hMCjMI75M1A2tKUQ",
            "https://open.spotify.com/track/4uLU6hMCjMI75M1A2tKUQCx",
            "spotify:track:4uLU6hMCjMI75M1A2tKU%2E",
            "https://open.spotify.com/track/..%2F..%2Fetc%2Fpasswd",
        ] {
            assert!(refusal(text).contains("no valid id"), "{text}");
        }
    }

    #[test]
    fn other_text_is_not_spotify() {
        for text in [
            "https://example.org/song.mp3",
            "https://open.spotify.com.evil.example/track/4uLU6hMCjMI75M1A2tKUQC",
            "https://notspotify.com/track/4uLU6hMCjMI75M1A2tKUQC",
            "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
            "garbage",
            "",
            "ünïcödé",
        ] {
            assert_eq!(parse(text).expect("not an error"), None, "{text}");
        }
    }
}
