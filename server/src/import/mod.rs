//! Bringing music in by link: a Spotify track, album or playlist (metadata from the Web API, audio from
//! the resolver or an attached file), or a direct link to an audio file (fetched by a `download` job).
//! Uploads are `crate::upload`.

pub mod resolver;
pub mod spotify;
pub mod spotify_link;

use std::{collections::HashSet, sync::Arc};

use uuid::Uuid;

use crate::{
    AppState, Error, Result,
    auth::User,
    config::Config,
    http_client::HttpClients,
    intake,
    jobs::download,
    tracks::{self, NewTrack, Source},
};

/// What the server can import, from its configuration.
#[derive(Clone)]
pub struct Importer {
    spotify: Option<Arc<spotify::Spotify>>,
    http: HttpClients,
}

/// What one import did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    /// The album's or playlist's name, the song's or the file's.
    pub name: String,
    pub added: Vec<Uuid>,
    /// Songs skipped because the user has them already.
    pub already: usize,
    /// Entries with nothing to import (podcast episodes, local files, songs no longer available).
    pub unplayable: usize,
    pub audio: AudioFrom,
}

/// Where the new tracks' audio will come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AudioFrom {
    /// A download job fetches the link.
    Link,
    /// The audio resolver looks for each song.
    Resolver,
    /// Nothing here can find it: the user attaches a file.
    Attach,
}

impl Importer {
    pub fn new(config: &Config, http: &HttpClients) -> Self {
        let spotify = match (&config.spotify_client_id, &config.spotify_client_secret) {
            (Some(id), Some(secret)) if !id.trim().is_empty() => Some(Arc::new(spotify::Spotify::new(
                http.services.clone(),
                &config.spotify_api_url,
                &config.spotify_accounts_url,
                id.trim().to_owned(),
                secret.clone(),
            ))),
            _ => None,
        };
        Self {
            spotify,
            http: http.clone(),
        }
    }
}

/// Imports what `text` links to for `user`: its tracks and their download jobs, in one transaction.
pub async fn import_link(state: &AppState, user: &User, text: &str) -> Result<Imported> {
    let text = text.trim();
    if text.is_empty() {
        return Err(Error::Invalid("Paste a link first.".into()));
    }
    if let Some(link) = spotify_link::parse(text)? {
        return import_spotify(state, user, &link).await;
    }
    match reqwest::Url::parse(text) {
        Ok(url) if matches!(url.scheme(), "http" | "https") => import_audio_link(state, user, url).await,
        _ => Err(Error::Invalid(
            "That is not a link we can import. Paste a Spotify track, album or playlist link, or a direct \
             http(s) link to an audio file."
                .into(),
        )),
    }
}

async fn import_audio_link(state: &AppState, user: &User, url: reqwest::Url) -> Result<Imported> {
    let importer = &state.importer;
    importer.http.check_link(&url)?;
    let name = intake::name_in_url(&url).unwrap_or_else(|| url.host_str().unwrap_or("download").to_owned());
    let new = NewTrack {
        title: intake::title_from_name(&name),
        source: Source::Url,
        ..NewTrack::default()
    };
    let mut tx = state.pool.begin().await?;
    let track_id = tracks::insert(&mut *tx, user.id, &new).await?;
    download::enqueue(
        &state.jobs.download,
        &mut tx,
        track_id,
        user.id,
        Some(url.as_str()),
    )
    .await?;
    tx.commit().await?;
    tracing::info!(%track_id, user.id = %user.id, "audio link imported");
    Ok(Imported {
        name: new.title,
        added: vec![track_id],
        already: 0,
        unplayable: 0,
        audio: AudioFrom::Link,
    })
}

async fn import_spotify(state: &AppState, user: &User, link: &spotify_link::SpotifyLink) -> Result<Imported> {
    let Some(spotify) = &state.importer.spotify else {
        return Err(Error::Invalid(
            "Spotify import is not configured on this server. Upload the file, or paste a direct link to \
             the audio."
                .into(),
        ));
    };
    let found = spotify.songs(link).await?;
    let ids: Vec<String> = found.songs.iter().map(|song| song.id.clone()).collect();
    let mut seen: HashSet<String> = tracks::spotify_ids_present(&state.pool, user.id, &ids)
        .await?
        .into_iter()
        .collect();
    let audio = if state.jobs.download.work().has_resolver() {
        AudioFrom::Resolver
    } else {
        AudioFrom::Attach
    };
    let mut added = Vec::new();
    let mut already = 0;
    let mut tx = state.pool.begin().await?;
    for song in found.songs {
        // Also a song a playlist lists twice.
        if !seen.insert(song.id.clone()) {
            already += 1;
            continue;
        }
        let artist = (!song.artists.is_empty()).then(|| song.artists.join(", "));
        let new = NewTrack {
            title: song.title,
            artist,
            album: song.album,
            duration_seconds: i32::try_from((song.duration_ms + 500) / 1000).ok(),
            source: Source::Spotify,
            art_url: song.art_url,
            spotify_url: song.url,
            spotify_id: Some(song.id),
            isrc: song.isrc,
            ..NewTrack::default()
        };
        let track_id = tracks::insert(&mut *tx, user.id, &new).await?;
        if audio == AudioFrom::Resolver {
            download::enqueue(&state.jobs.download, &mut tx, track_id, user.id, None).await?;
        }
        added.push(track_id);
    }
    tx.commit().await?;
    tracing::info!(user.id = %user.id, added = added.len(), already, kind = link.kind.noun(), "Spotify import");
    Ok(Imported {
        name: found.name,
        added,
        already,
        unplayable: found.unplayable,
        audio,
    })
}
