//! A stored file becomes a track's audio: proved to be audio we can decode, with its tags and cover art
//! read. Uploads and downloads both come through here, so they refuse the same files in the same words.

use crate::{
    Error, Result,
    storage::{Storage, StorageKey},
};

/// What the file says about itself.
#[derive(Debug, Clone)]
pub struct Intake {
    pub title: Option<String>,
    pub artist: Option<String>,
    pub album: Option<String>,
    pub duration_seconds: i32,
    /// The embedded picture, stored.
    pub art: Option<StorageKey>,
}

/// Decodes the file at `key` to check it, then stores its cover art. A file that is not audio we can
/// read is deleted and refused in words that name it (`name`) and say what it is.
pub async fn check(storage: &Storage, key: &StorageKey, max_bytes: u64, name: &str) -> Result<Intake> {
    let limits = sfa_audio::Limits {
        max_bytes,
        ..sfa_audio::Limits::default()
    };
    let path = storage.path(key);
    let opened = path.clone();
    let checked = tokio::task::spawn_blocking(move || {
        let file = std::fs::File::open(&opened)?;
        Ok::<_, std::io::Error>(sfa_audio::decode(file, &limits))
    })
    .await
    .map_err(|err| Error::Internal(format!("decode task: {err}")))?
    .map_err(Error::io(path))?;
    let decoded = match checked {
        Ok(decoded) => decoded,
        Err(err) => {
            storage.delete(key).await?;
            return Err(Error::Invalid(format!("{name}: {err}.")));
        }
    };
    let tags = decoded.tags;
    let art = match &tags.picture {
        Some(picture) => {
            let art = StorageKey::generate("art", picture_extension(picture.media_type.as_deref()))?;
            storage.write(&art, &mut picture.data.as_slice()).await?;
            Some(art)
        }
        None => None,
    };
    let present = |text: Option<String>| text.filter(|t| !t.trim().is_empty());
    Ok(Intake {
        title: present(tags.title),
        artist: present(tags.artist),
        album: present(tags.album),
        duration_seconds: decoded.audio.duration_seconds().round() as i32,
        art,
    })
}

/// A short, safe extension for a stored file, from a name we were given; the content, not this, decides
/// how it is read.
pub fn extension(name: &str) -> String {
    std::path::Path::new(name)
        .extension()
        .and_then(|ext| ext.to_str())
        .filter(|ext| ext.len() <= 5 && ext.chars().all(|c| c.is_ascii_alphanumeric()))
        .map_or_else(|| "bin".to_owned(), str::to_ascii_lowercase)
}

/// The last segment of `url`'s path, percent-decoded: the name of the file a link points at, if it names one.
pub fn name_in_url(url: &url::Url) -> Option<String> {
    url.path_segments()
        .and_then(|mut segments| segments.next_back())
        .map(|last| {
            percent_encoding::percent_decode_str(last)
                .decode_utf8_lossy()
                .into_owned()
        })
        .filter(|name| !name.trim().is_empty())
}

/// A file name without its extension, as a title of last resort.
pub fn title_from_name(name: &str) -> String {
    let title = std::path::Path::new(name)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or(name)
        .trim();
    if title.is_empty() {
        "Untitled".to_owned()
    } else {
        title.to_owned()
    }
}

fn picture_extension(media_type: Option<&str>) -> &'static str {
    match media_type {
        Some("image/png") => "png",
        Some("image/webp") => "webp",
        Some("image/gif") => "gif",
        _ => "jpg",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_give_safe_extensions_and_titles() {
        assert_eq!(extension("Song.FLAC"), "flac");
        assert_eq!(extension("noext"), "bin");
        assert_eq!(extension("evil.p/h/p"), "bin");
        assert_eq!(extension("a.toolongext"), "bin");
        assert_eq!(title_from_name("My Song.mp3"), "My Song");
        assert_eq!(title_from_name(".mp3"), ".mp3");
        assert_eq!(title_from_name("   "), "Untitled");
    }
}
