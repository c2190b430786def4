//! Spotify's Web API, for metadata: a client-credentials token kept until it expires, tracks, and albums
//! and playlists paged through to the end. Rate limits (429 with `Retry-After`) are waited out when the
//! wait is short, server errors retried a few times; a rejected token is renewed once.
//!
//! Spotify gives no audio. A song found here becomes a track that waits for its audio: from the audio
//! resolver command when one is configured, or a file the user attaches.

use std::time::{Duration, Instant};

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::spotify_link::{Kind, SpotifyLink};
use crate::{Error, Result};

/// Longest `Retry-After` we wait out inside a request; a longer one is the user's to wait.
const MAX_RATE_LIMIT_WAIT: Duration = Duration::from_secs(30);
/// Tries for one request when Spotify answers 5xx or cannot be reached.
const TRIES: u32 = 3;
/// A token is renewed this long before Spotify says it expires.
const TOKEN_MARGIN: Duration = Duration::from_secs(60);
/// Pages followed for one album or playlist: 10,000 songs at 100 a page (Spotify's own playlist limit).
const MAX_PAGES: usize = 100;

/// The server's Spotify app.
pub struct Spotify {
    http: reqwest::Client,
    api: String,
    accounts: String,
    client_id: String,
    client_secret: SecretString,
    token: tokio::sync::Mutex<Option<Token>>,
}

struct Token {
    value: SecretString,
    renew_at: Instant,
}

/// One song, as a track needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct Song {
    pub id: String,
    pub title: String,
    pub artists: Vec<String>,
    pub album: Option<String>,
    pub art_url: Option<String>,
    pub duration_ms: i64,
    pub isrc: Option<String>,
    pub url: Option<String>,
}

/// The songs a link holds: one for a track, all of an album's or playlist's.
#[derive(Debug, Clone)]
pub struct Songs {
    /// The album's or playlist's name; the song's for a track.
    pub name: String,
    pub songs: Vec<Song>,
    /// Entries with nothing to import: podcast episodes, local files, songs no longer available.
    pub unplayable: usize,
}

impl Spotify {
    pub fn new(
        http: reqwest::Client,
        api: &str,
        accounts: &str,
        client_id: String,
        client_secret: SecretString,
    ) -> Self {
        Self {
            http,
            api: api.trim_end_matches('/').to_owned(),
            accounts: accounts.trim_end_matches('/').to_owned(),
            client_id,
            client_secret,
            token: tokio::sync::Mutex::new(None),
        }
    }

    /// Every song behind `link`.
    pub async fn songs(&self, link: &SpotifyLink) -> Result<Songs> {
        let id = &link.id;
        match link.kind {
            Kind::Track => {
                let track: TrackObject = self.get(&format!("{}/tracks/{id}", self.api), link.kind).await?;
                let song = track
                    .song(None)
                    .ok_or_else(|| Error::Invalid("That Spotify track is not available to import.".into()))?;
                Ok(Songs {
                    name: song.title.clone(),
                    songs: vec![song],
                    unplayable: 0,
                })
            }
            Kind::Album => {
                let album: AlbumObject = self.get(&format!("{}/albums/{id}", self.api), link.kind).await?;
                let context = AlbumRef {
                    name: album.name.clone(),
                    images: album.images,
                };
                let mut songs = Songs {
                    name: album.name,
                    songs: Vec::new(),
                    unplayable: 0,
                };
                self.pages(album.tracks, link.kind, |track: Option<TrackObject>| match track
                    .and_then(|track| track.song(Some(&context)))
                {
                    Some(song) => songs.songs.push(song),
                    None => songs.unplayable += 1,
                })
                .await?;
                Ok(songs)
            }
            Kind::Playlist => {
                let playlist: PlaylistObject = self
                    .get(&format!("{}/playlists/{id}", self.api), link.kind)
                    .await?;
                let mut songs = Songs {
                    name: playlist.name,
                    songs: Vec::new(),
                    unplayable: 0,
                };
                self.pages(playlist.tracks, link.kind, |item: Option<PlaylistItem>| {
                    let song = item
                        .filter(|item| !item.is_local)
                        .and_then(|item| item.track)
                        .filter(|track| track.kind.as_deref().is_none_or(|kind| kind == "track"))
                        .and_then(|track| track.song(None));
                    match song {
                        Some(song) => songs.songs.push(song),
                        None => songs.unplayable += 1,
                    }
                })
                .await?;
                Ok(songs)
            }
        }
    }

    /// Hands every item of `first` and the pages after it to `each`.
    async fn pages<T: serde::de::DeserializeOwned>(
        &self,
        first: Page<T>,
        kind: Kind,
        mut each: impl FnMut(Option<T>),
    ) -> Result<()> {
        let mut page = first;
        for _ in 0..MAX_PAGES {
            page.items.into_iter().for_each(&mut each);
            let Some(next) = page.next else {
                return Ok(());
            };
            // Only ever follow links back to the API we were configured with.
            if !next.starts_with(&format!("{}/", self.api)) {
                return Err(Error::Internal(format!("Spotify paged off its API: {next}")));
            }
            page = self.get(&next, kind).await?;
        }
        Err(Error::Invalid(format!(
            "That {} is too long to import in one go.",
            kind.noun()
        )))
    }

    /// A GET of the API with our token, waiting out short rate limits and retrying what may pass.
    async fn get<T: serde::de::DeserializeOwned>(&self, url: &str, kind: Kind) -> Result<T> {
        let mut renewed = false;
        let mut tries = 0;
        loop {
            tries += 1;
            let token = self.token(renewed).await?;
            let sent = self.http.get(url).bearer_auth(token.expose_secret()).send().await;
            let response = match sent {
                Ok(response) => response,
                Err(err) if tries < TRIES => {
                    tracing::warn!(error = %err, "Spotify did not answer; retrying");
                    tokio::time::sleep(backoff(tries)).await;
                    continue;
                }
                Err(err) => {
                    tracing::warn!(error = %err, "Spotify did not answer");
                    return Err(unreachable());
                }
            };
            let status = response.status().as_u16();
            match status {
                200..300 => {
                    return response.json().await.map_err(|err| {
                        Error::Internal(format!("Spotify's answer to {url} did not parse: {err}"))
                    });
                }
                401 if !renewed => renewed = true,
                404 | 400 => {
                    return Err(Error::Invalid(format!(
                        "Spotify has no {} with that id. Check the link.",
                        kind.noun()
                    )));
                }
                403 => {
                    return Err(Error::Invalid(format!(
                        "Spotify does not let us read that {}: it may be private.",
                        kind.noun()
                    )));
                }
                429 => {
                    let wait = retry_after(&response);
                    if wait > MAX_RATE_LIMIT_WAIT || tries >= TRIES {
                        return Err(Error::Unavailable(format!(
                            "Spotify is limiting our requests; try again in {} seconds.",
                            wait.as_secs().max(1)
                        )));
                    }
                    tokio::time::sleep(wait).await;
                }
                500.. if tries < TRIES => tokio::time::sleep(backoff(tries)).await,
                _ => {
                    tracing::warn!(status, url, "Spotify refused a request");
                    return Err(unreachable());
                }
            }
        }
    }

    /// The cached token, or a new one when it is about to expire or `renew` says it was rejected.
    async fn token(&self, renew: bool) -> Result<SecretString> {
        let mut cached = self.token.lock().await;
        if let Some(token) = cached.as_ref()
            && !renew
            && Instant::now() < token.renew_at
        {
            return Ok(token.value.clone());
        }
        let mut tries = 0;
        let response = loop {
            tries += 1;
            let sent = self
                .http
                .post(format!("{}/api/token", self.accounts))
                .basic_auth(&self.client_id, Some(self.client_secret.expose_secret()))
                .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body("grant_type=client_credentials")
                .send()
                .await;
            match sent {
                Ok(response) if response.status().is_server_error() && tries < TRIES => {}
                Ok(response) => break response,
                Err(err) if tries < TRIES => tracing::warn!(error = %err, "Spotify's accounts service"),
                Err(err) => {
                    tracing::warn!(error = %err, "Spotify's accounts service did not answer");
                    return Err(unreachable());
                }
            }
            tokio::time::sleep(backoff(tries)).await;
        };
        match response.status().as_u16() {
            200..300 => {}
            400 | 401 | 403 => {
                tracing::error!(status = %response.status(), "Spotify rejected the client id and secret");
                return Err(Error::Invalid(
                    "Spotify rejected this server's Spotify credentials. An administrator must check \
                     SFA_SPOTIFY_CLIENT_ID and SFA_SPOTIFY_CLIENT_SECRET."
                        .into(),
                ));
            }
            _ => return Err(unreachable()),
        }
        let granted: TokenGrant = response
            .json()
            .await
            .map_err(|err| Error::Internal(format!("Spotify's token did not parse: {err}")))?;
        let lifetime = Duration::from_secs(granted.expires_in).saturating_sub(TOKEN_MARGIN);
        let value = SecretString::from(granted.access_token);
        *cached = Some(Token {
            value: value.clone(),
            renew_at: Instant::now() + lifetime,
        });
        Ok(value)
    }
}

fn unreachable() -> Error {
    Error::Unavailable("Spotify is not answering right now; try again in a minute.".into())
}

fn backoff(tries: u32) -> Duration {
    Duration::from_millis(500 * 2u64.pow(tries.min(5)))
}

/// `Retry-After` in seconds, as Spotify sends it; a second when it is missing or unreadable.
fn retry_after(response: &reqwest::Response) -> Duration {
    let seconds = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<u64>().ok())
        .unwrap_or(1);
    Duration::from_secs(seconds)
}

#[derive(Deserialize)]
struct TokenGrant {
    access_token: String,
    expires_in: u64,
}

#[derive(Deserialize)]
struct Page<T> {
    items: Vec<Option<T>>,
    next: Option<String>,
}

#[derive(Deserialize)]
struct Named {
    name: String,
}

#[derive(Deserialize)]
struct Image {
    url: String,
}

#[derive(Deserialize)]
struct AlbumRef {
    name: String,
    #[serde(default)]
    images: Vec<Image>,
}

#[derive(Deserialize)]
struct ExternalIds {
    isrc: Option<String>,
}

#[derive(Deserialize)]
struct ExternalUrls {
    spotify: Option<String>,
}

#[derive(Deserialize)]
struct TrackObject {
    id: Option<String>,
    // Lenient, so one odd entry (an episode in a playlist) cannot spoil a page.
    #[serde(default)]
    name: String,
    #[serde(default)]
    artists: Vec<Named>,
    album: Option<AlbumRef>,
    #[serde(default)]
    duration_ms: i64,
    external_ids: Option<ExternalIds>,
    external_urls: Option<ExternalUrls>,
    #[serde(rename = "type")]
    kind: Option<String>,
    is_playable: Option<bool>,
}

impl TrackObject {
    /// The song, unless it has no id (a local file) or Spotify says it cannot be played. An album's
    /// tracks come without their album, which `album` then supplies.
    fn song(self, album: Option<&AlbumRef>) -> Option<Song> {
        if self.is_playable == Some(false) || self.name.trim().is_empty() {
            return None;
        }
        let album = self.album.as_ref().or(album);
        Some(Song {
            id: self.id?,
            title: self.name,
            artists: self.artists.into_iter().map(|a| a.name).collect(),
            album: album.map(|a| a.name.clone()),
            // Spotify lists images widest first.
            art_url: album.and_then(|a| a.images.first()).map(|i| i.url.clone()),
            duration_ms: self.duration_ms,
            isrc: self.external_ids.and_then(|ids| ids.isrc),
            url: self.external_urls.and_then(|urls| urls.spotify),
        })
    }
}

#[derive(Deserialize)]
struct AlbumObject {
    name: String,
    #[serde(default)]
    images: Vec<Image>,
    tracks: Page<TrackObject>,
}

#[derive(Deserialize)]
struct PlaylistObject {
    name: String,
    tracks: Page<PlaylistItem>,
}

#[derive(Deserialize)]
struct PlaylistItem {
    #[serde(default)]
    is_local: bool,
    track: Option<TrackObject>,
}
