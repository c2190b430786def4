//! Files under the data directory, addressed by keys the server makes.
//!
//! A key is never built from a name a user supplied, and every key read back from the database is parsed
//! again, so no path can leave the storage root. Writes go to a temporary file that is synced and then
//! renamed into place: a reader sees the whole file or none of it, even across a crash.

use std::{
    path::{Path, PathBuf},
    time::{Duration, SystemTime},
};

use tokio::io::{AsyncRead, AsyncWriteExt};
use uuid::Uuid;

use crate::{Error, Result};

/// Where half-written files wait for their rename; swept by the maintenance job.
const TEMP_DIR: &str = ".tmp";
const MAX_SEGMENTS: usize = 8;
const MAX_SEGMENT_LEN: usize = 100;

/// A relative path inside storage: `/`-separated segments of ASCII letters, digits, `-`, `_` and `.`,
/// none empty or starting with a dot.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StorageKey(String);

impl StorageKey {
    /// A fresh, unique key: `area/<uuid>.<extension>`.
    pub fn generate(area: &str, extension: &str) -> Result<Self> {
        Self::parse(&format!("{area}/{}.{extension}", Uuid::new_v4()))
    }

    /// Checks a key that came from outside this process (the database, a job's input).
    pub fn parse(key: &str) -> Result<Self> {
        let segments: Vec<&str> = key.split('/').collect();
        let valid_segment = |s: &&str| {
            !s.is_empty()
                && s.len() <= MAX_SEGMENT_LEN
                && !s.starts_with('.')
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        };
        if segments.len() > MAX_SEGMENTS || !segments.iter().all(valid_segment) {
            return Err(Error::StorageKey(key.to_owned()));
        }
        Ok(Self(key.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for StorageKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone)]
pub struct Storage {
    root: PathBuf,
}

impl Storage {
    pub async fn open(root: impl Into<PathBuf>) -> Result<Self> {
        let root = root.into();
        let temp = root.join(TEMP_DIR);
        tokio::fs::create_dir_all(&temp).await.map_err(Error::io(&temp))?;
        Ok(Self { root })
    }

    pub fn path(&self, key: &StorageKey) -> PathBuf {
        self.root.join(&key.0)
    }

    /// Streams `reader` into the file for `key` and returns the bytes written. The file appears whole at
    /// the end or not at all; one already there is replaced.
    pub async fn write(&self, key: &StorageKey, reader: &mut (impl AsyncRead + Unpin)) -> Result<u64> {
        let target = self.path(key);
        let dir = target.parent().unwrap_or(&self.root).to_owned();
        tokio::fs::create_dir_all(&dir).await.map_err(Error::io(&dir))?;
        let temp = self.root.join(TEMP_DIR).join(Uuid::new_v4().to_string());
        let written = async {
            let mut file = tokio::fs::File::create(&temp).await?;
            let written = tokio::io::copy(reader, &mut file).await?;
            file.flush().await?;
            file.sync_all().await?;
            Ok(written)
        }
        .await;
        let written = match written {
            Ok(written) => written,
            Err(err) => {
                remove_if_present(&temp).await;
                return Err(Error::io(&target)(err));
            }
        };
        tokio::fs::rename(&temp, &target)
            .await
            .map_err(Error::io(&target))?;
        sync_dir(&dir).await?;
        Ok(written)
    }

    pub async fn open_file(&self, key: &StorageKey) -> Result<tokio::fs::File> {
        let path = self.path(key);
        tokio::fs::File::open(&path).await.map_err(Error::io(path))
    }

    /// Removes the file for `key`; a file already gone is not an error.
    pub async fn delete(&self, key: &StorageKey) -> Result<()> {
        let path = self.path(key);
        match tokio::fs::remove_file(&path).await {
            Err(err) if err.kind() != std::io::ErrorKind::NotFound => Err(Error::io(path)(err)),
            _ => Ok(()),
        }
    }

    /// Removes the folder for `key` and everything in it; one already gone is not an error.
    pub async fn delete_folder(&self, key: &StorageKey) -> Result<()> {
        let path = self.path(key);
        match tokio::fs::remove_dir_all(&path).await {
            Err(err) if err.kind() != std::io::ErrorKind::NotFound => Err(Error::io(path)(err)),
            _ => Ok(()),
        }
    }

    /// Bytes on disk under `key`: the file's size, or everything in the folder; nothing there is 0.
    pub async fn usage(&self, key: &StorageKey) -> u64 {
        let path = self.path(key);
        tokio::task::spawn_blocking(move || disk_usage(&path))
            .await
            .unwrap_or(0)
    }

    /// Bytes on disk under the storage root, temporary files and orphans included.
    pub async fn total_usage(&self) -> u64 {
        let root = self.root.clone();
        tokio::task::spawn_blocking(move || disk_usage(&root))
            .await
            .unwrap_or(0)
    }

    /// The files and folders directly in `area` that were last changed before `age` ago, as keys.
    /// Names that are not valid keys are not ours and are left alone.
    pub async fn older_entries(&self, area: &str, age: Duration) -> Result<Vec<StorageKey>> {
        let dir = self.root.join(area);
        let cutoff = SystemTime::now() - age;
        let mut entries = match tokio::fs::read_dir(&dir).await {
            Ok(entries) => entries,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(err) => return Err(Error::io(dir)(err)),
        };
        let mut old = Vec::new();
        while let Some(entry) = entries.next_entry().await.map_err(Error::io(&dir))? {
            let modified = entry.metadata().await.and_then(|m| m.modified());
            let key = entry
                .file_name()
                .to_str()
                .and_then(|name| StorageKey::parse(&format!("{area}/{name}")).ok());
            if let (Ok(time), Some(key)) = (modified, key)
                && time < cutoff
            {
                old.push(key);
            }
        }
        Ok(old)
    }

    /// A fresh, empty folder among the temporary files, for work that writes files of its own (the
    /// audio resolver). Remove it when done; one a crash leaves behind goes with the temporary files.
    pub async fn scratch_folder(&self) -> Result<Scratch> {
        let path = self.root.join(TEMP_DIR).join(Uuid::new_v4().to_string());
        tokio::fs::create_dir(&path).await.map_err(Error::io(&path))?;
        Ok(Scratch { path })
    }

    /// Deletes temporary files and scratch folders older than `age`: what a write or a job that crashed
    /// halfway left behind. Returns how many went.
    pub async fn sweep_temp(&self, age: Duration) -> Result<usize> {
        let dir = self.root.join(TEMP_DIR);
        let cutoff = SystemTime::now() - age;
        let mut entries = tokio::fs::read_dir(&dir).await.map_err(Error::io(&dir))?;
        let mut removed = 0;
        while let Some(entry) = entries.next_entry().await.map_err(Error::io(&dir))? {
            let Ok(metadata) = entry.metadata().await else {
                continue;
            };
            if metadata.modified().is_ok_and(|time| time < cutoff) {
                if metadata.is_dir() {
                    Scratch { path: entry.path() }.remove().await;
                } else {
                    remove_if_present(&entry.path()).await;
                }
                removed += 1;
            }
        }
        Ok(removed)
    }
}

/// A scratch folder from [`Storage::scratch_folder`].
#[derive(Debug)]
pub struct Scratch {
    path: PathBuf,
}

impl Scratch {
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Removes the folder and what is in it.
    pub async fn remove(self) {
        if let Err(err) = tokio::fs::remove_dir_all(&self.path).await
            && err.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(path = %self.path.display(), error = %err, "could not remove a scratch folder");
        }
    }
}

async fn remove_if_present(path: &Path) {
    if let Err(err) = tokio::fs::remove_file(path).await
        && err.kind() != std::io::ErrorKind::NotFound
    {
        tracing::warn!(path = %path.display(), error = %err, "could not remove a temporary file");
    }
}

/// Makes a rename durable: the directory entry itself must reach the disk.
async fn sync_dir(dir: &Path) -> Result<()> {
    let file = tokio::fs::File::open(dir).await.map_err(Error::io(dir))?;
    file.sync_all().await.map_err(Error::io(dir))
}

/// The size of the file at `path`, or of everything under the folder, not following links.
fn disk_usage(path: &Path) -> u64 {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => std::fs::read_dir(path)
            .into_iter()
            .flatten()
            .flatten()
            .map(|entry| disk_usage(&entry.path()))
            .sum(),
        Ok(meta) if meta.is_file() => meta.len(),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::AsyncReadExt;

    use super::*;

    #[test]
    fn keys_cannot_leave_the_root() {
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "a/../../x",
            "a//b",
            ".tmp/x",
            "a/.hidden",
            "a\\b",
            "ü",
            "a b",
        ] {
            assert!(StorageKey::parse(bad).is_err(), "{bad:?} was accepted");
        }
        for good in ["uploads/3f2a.wav", "stems/abc-def/vocals.wav", "a_b.c"] {
            assert_eq!(StorageKey::parse(good).expect("valid").as_str(), good);
        }
        let made = StorageKey::generate("uploads", "flac").expect("valid");
        assert!(made.as_str().starts_with("uploads/") && made.as_str().ends_with(".flac"));
    }

    #[tokio::test]
    async fn write_replaces_whole_files_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().expect("tempdir");
        let storage = Storage::open(dir.path()).await.expect("opens");
        let key = StorageKey::parse("tracks/one.bin").expect("valid");
        assert_eq!(
            storage
                .write(&key, &mut &b"first version"[..])
                .await
                .expect("writes"),
            13
        );
        assert_eq!(storage.write(&key, &mut &b"second"[..]).await.expect("writes"), 6);
        let mut read = String::new();
        storage
            .open_file(&key)
            .await
            .expect("opens")
            .read_to_string(&mut read)
            .await
            .expect("reads");
        assert_eq!(read, "second");
        assert_eq!(
            std::fs::read_dir(dir.path().join(TEMP_DIR))
                .expect("lists")
                .count(),
            0
        );
        storage.delete(&key).await.expect("deletes");
        storage.delete(&key).await.expect("deleting twice is fine");
        assert!(storage.open_file(&key).await.is_err());
    }

    #[tokio::test]
    async fn a_failed_read_leaves_nothing_behind() {
        struct Broken;
        impl AsyncRead for Broken {
            fn poll_read(
                self: std::pin::Pin<&mut Self>,
                _: &mut std::task::Context<'_>,
                _: &mut tokio::io::ReadBuf<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::task::Poll::Ready(Err(std::io::Error::other("connection reset")))
            }
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let storage = Storage::open(dir.path()).await.expect("opens");
        let key = StorageKey::parse("uploads/x.wav").expect("valid");
        assert!(storage.write(&key, &mut Broken).await.is_err());
        assert!(!storage.path(&key).exists());
        assert_eq!(
            std::fs::read_dir(dir.path().join(TEMP_DIR))
                .expect("lists")
                .count(),
            0
        );
    }

    #[tokio::test]
    async fn sweep_removes_only_stale_temporaries() {
        let dir = tempfile::tempdir().expect("tempdir");
        let storage = Storage::open(dir.path()).await.expect("opens");
        let temp = dir.path().join(TEMP_DIR);
        let stale = std::fs::File::create(temp.join("stale")).expect("creates");
        stale
            .set_modified(SystemTime::now() - Duration::from_secs(7200))
            .expect("ages");
        std::fs::write(temp.join("fresh"), b"in flight").expect("creates");
        assert_eq!(
            storage
                .sweep_temp(Duration::from_secs(3600))
                .await
                .expect("sweeps"),
            1
        );
        assert!(!temp.join("stale").exists());
        assert!(temp.join("fresh").exists());
    }
}
