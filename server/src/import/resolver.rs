//! The audio resolver: an operator-configured command (yt-dlp, spotdl…) that finds a Spotify song's audio
//! and writes it to a file we name. It runs without a shell: the template is split into words once, and
//! each placeholder is replaced inside its word, so a song title can never become an argument or a
//! command of its own.

use std::path::{Path, PathBuf};

use tokio::io::{AsyncBufReadExt, BufReader};

use crate::{Error, Result};

const PLACEHOLDERS: [&str; 6] = [
    "{title}",
    "{artist}",
    "{album}",
    "{duration}",
    "{isrc}",
    "{output}",
];
/// Lines of the command's output kept for the log when it fails.
const TAIL_LINES: usize = 20;

#[derive(Debug, Clone)]
pub struct Resolver {
    words: Vec<String>,
}

/// What the resolver searches by.
#[derive(Debug, Clone, Default)]
pub struct Query {
    pub title: String,
    pub artist: String,
    pub album: String,
    pub duration_seconds: Option<i32>,
    pub isrc: String,
}

impl Resolver {
    /// Checks a template from the configuration: words a shell would see, a program first, `{output}`
    /// somewhere, and no placeholder we do not know.
    pub fn parse(template: &str) -> Result<Self> {
        let config = |why: &str| Error::Config(format!("SFA_AUDIO_RESOLVER {template:?}: {why}"));
        let words = shlex::split(template).ok_or_else(|| config("unbalanced quotes"))?;
        if words.is_empty() {
            return Err(config("empty"));
        }
        if !words.iter().any(|w| w.contains("{output}")) {
            return Err(config("it must write to {output}"));
        }
        for word in &words {
            let mut rest = word.as_str();
            while let Some(open) = rest.find('{') {
                let after = &rest[open..];
                let known = PLACEHOLDERS.iter().find(|p| after.starts_with(**p));
                match known {
                    Some(p) => rest = &after[p.len()..],
                    // yt-dlp's own output templates (`%(ext)s`) use other braces; leave lone ones alone.
                    None if after.starts_with("{}") || !after[1..].starts_with(char::is_alphabetic) => {
                        rest = &after[1..];
                    }
                    None => return Err(config(&format!("unknown placeholder in {word:?}"))),
                }
            }
        }
        Ok(Self { words })
    }

    /// The program and its arguments for `query`, writing to `output`.
    pub fn command(&self, query: &Query, output: &Path) -> Vec<String> {
        let duration = query.duration_seconds.map(|s| s.to_string()).unwrap_or_default();
        let output = output.to_string_lossy();
        self.words
            .iter()
            .map(|word| {
                // One pass, left to right, so a value that contains a placeholder's name stays as it is.
                let mut out = String::with_capacity(word.len());
                let mut rest = word.as_str();
                while let Some(open) = rest.find('{') {
                    out.push_str(&rest[..open]);
                    let after = &rest[open..];
                    let value = [
                        ("{title}", query.title.as_str()),
                        ("{artist}", query.artist.as_str()),
                        ("{album}", query.album.as_str()),
                        ("{duration}", duration.as_str()),
                        ("{isrc}", query.isrc.as_str()),
                        ("{output}", output.as_ref()),
                    ]
                    .into_iter()
                    .find(|(name, _)| after.starts_with(name));
                    match value {
                        Some((name, value)) => {
                            out.push_str(value);
                            rest = &after[name.len()..];
                        }
                        None => {
                            out.push('{');
                            rest = &after[1..];
                        }
                    }
                }
                out.push_str(rest);
                out
            })
            .collect()
    }

    /// Runs the command for `query` in `dir` and returns the file it wrote. Each line it prints is
    /// progress (`percent` reads the last percentage in it, as yt-dlp prints them), so a command that
    /// keeps talking is never taken for stalled. Dropping the future kills the command.
    pub async fn run(
        &self,
        query: &Query,
        dir: &Path,
        mut progress: impl FnMut(Option<f32>),
    ) -> Result<PathBuf> {
        let output = dir.join("audio");
        let words = self.command(query, &output);
        let program = &words[0];
        let mut child = tokio::process::Command::new(program)
            .args(&words[1..])
            .current_dir(dir)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|err| {
                tracing::error!(error = %err, program, "the audio resolver did not start");
                Error::Invalid(
                    "The audio resolver on this server could not start; an administrator must fix \
                     SFA_AUDIO_RESOLVER. Attach a file to this track instead."
                        .into(),
                )
            })?;
        let (Some(stdout), Some(stderr)) = (child.stdout.take(), child.stderr.take()) else {
            return Err(Error::Internal("the resolver's output pipes".into()));
        };
        let (mut out, mut err) = (BufReader::new(stdout).lines(), BufReader::new(stderr).lines());
        let mut tail = std::collections::VecDeque::with_capacity(TAIL_LINES);
        let (mut out_open, mut err_open) = (true, true);
        while out_open || err_open {
            let line = tokio::select! {
                line = out.next_line(), if out_open => {
                    let line = line.map_err(Error::io(program))?;
                    out_open = line.is_some();
                    line
                }
                line = err.next_line(), if err_open => {
                    let line = line.map_err(Error::io(program))?;
                    err_open = line.is_some();
                    line
                }
            };
            if let Some(line) = line {
                progress(percent(&line));
                if tail.len() == TAIL_LINES {
                    tail.pop_front();
                }
                tail.push_back(line);
            }
        }
        let status = child.wait().await.map_err(Error::io(program))?;
        if !status.success() {
            let said = Vec::from(tail).join("\n");
            tracing::warn!(%status, output = said, "the audio resolver failed");
            return Err(Error::Unavailable(format!(
                "The audio resolver found no audio for “{}” ({status}).",
                query.title
            )));
        }
        written(dir, &output).await
    }
}

/// The file the command wrote: `output` itself, or the one file beside it whose name starts with it
/// (tools that add their own extension).
async fn written(dir: &Path, output: &Path) -> Result<PathBuf> {
    if tokio::fs::metadata(output).await.is_ok_and(|m| m.is_file()) {
        return Ok(output.to_owned());
    }
    let mut entries = tokio::fs::read_dir(dir).await.map_err(Error::io(dir))?;
    let mut found = Vec::new();
    while let Some(entry) = entries.next_entry().await.map_err(Error::io(dir))? {
        let name = entry.file_name();
        if name.to_string_lossy().starts_with("audio.") && entry.metadata().await.is_ok_and(|m| m.is_file()) {
            found.push(entry.path());
        }
    }
    match <[PathBuf; 1]>::try_from(found) {
        Ok([file]) => Ok(file),
        Err(_) => Err(Error::Invalid(
            "The audio resolver finished without writing one audio file. Attach a file to this track instead."
                .into(),
        )),
    }
}

/// The last percentage in a line of output (`[download]  42.3% of 3.1MiB`), as a fraction.
fn percent(line: &str) -> Option<f32> {
    let end = line.rfind('%')?;
    let digits = line[..end]
        .rsplit(|c: char| !(c.is_ascii_digit() || c == '.'))
        .next()?;
    let value: f32 = digits.parse().ok()?;
    (0.0..=100.0).contains(&value).then_some(value / 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query() -> Query {
        Query {
            title: "Song {output}; rm -rf /".into(),
            artist: "Artist \"Q\"".into(),
            album: "Album".into(),
            duration_seconds: Some(215),
            isrc: "USRC17607839".into(),
        }
    }

    #[test]
    fn placeholders_fill_words_and_never_split_them() {
        let resolver =
            Resolver::parse(r#"yt-dlp -x -o {output}.%(ext)s "ytsearch1:{artist} - {title}" --match-filter "duration<{duration}""#)
                .expect("a valid template");
        let words = resolver.command(&query(), Path::new("/tmp/job/audio"));
        assert_eq!(
            words,
            [
                "yt-dlp",
                "-x",
                "-o",
                "/tmp/job/audio.%(ext)s",
                "ytsearch1:Artist \"Q\" - Song {output}; rm -rf /",
                "--match-filter",
                "duration<215",
            ]
        );
    }

    #[test]
    fn bad_templates_are_refused_at_start() {
        assert!(Resolver::parse("").is_err());
        assert!(Resolver::parse("spotdl {title}").is_err(), "no {{output}}");
        assert!(Resolver::parse("tool \"{output}").is_err(), "unbalanced quotes");
        assert!(
            Resolver::parse("tool {output} {year}").is_err(),
            "unknown placeholder"
        );
        assert!(Resolver::parse("tool --isrc {isrc} -o {output} {}").is_ok());
    }

    #[test]
    fn percentages_are_read_from_progress_lines() {
        assert_eq!(percent("[download]  42.5% of 3.10MiB at 1.2MiB/s"), Some(0.425));
        assert_eq!(percent("100%"), Some(1.0));
        assert_eq!(percent("[download] Destination: audio.webm"), None);
        assert_eq!(percent("250% done"), None);
    }
}
