//! The durable state of a separation in progress, in a `.partial` folder beside the stems: each stem's
//! finished frames so far (raw little-endian f32, stereo, at the model's rate) and a checkpoint written after
//! every chunk. A separation that stops (cancelled, killed, the machine gone) starts again at the chunk after
//! the last checkpoint, so at most one chunk's work is redone.
//!
//! The checkpoint is replaced atomically after the stems' frames are on disk, so the stems can only be
//! ahead of it, never behind: frames past the checkpoint are cut off when work resumes.

use std::{
    fs::{self, File, OpenOptions},
    io::{BufReader, BufWriter, Read, Write},
    path::{Path, PathBuf},
};

use crate::Error;

const MAGIC: &[u8; 8] = b"SFASEP01";
/// Bytes of one stereo f32 frame in a partial stem.
const FRAME_BYTES: u64 = 8;

/// Where a separation stands after a chunk.
#[derive(Debug, Clone, PartialEq)]
pub struct Checkpoint {
    pub next_chunk: usize,
    pub frames_done: usize,
    /// Σ (sum of stems − mix)² and Σ mix² over the frames done, for the residual the result reports.
    pub residual_energy: f64,
    pub mix_energy: f64,
    /// What the overlap-add still holds of the chunks done.
    pub tail: Vec<f64>,
}

/// What a checkpoint was made for: one resumes only the same input, normalised the same way.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Input {
    pub frames: usize,
    pub mean: f64,
    pub std: f64,
}

pub struct WorkDir {
    dir: PathBuf,
    parts: Vec<BufWriter<File>>,
}

fn io_error(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |err| Error::Output(format!("{}: {err}", path.display()))
}

impl WorkDir {
    /// Opens the work folder in `out_dir` for `stems`, resuming from its checkpoint when it was made for
    /// `input`, or starting afresh.
    pub fn open(out_dir: &Path, stems: &[String], input: Input) -> Result<(Self, Option<Checkpoint>), Error> {
        let dir = out_dir.join(".partial");
        fs::create_dir_all(&dir).map_err(io_error(&dir))?;
        let checkpoint = read_checkpoint(&dir.join("checkpoint"), input);
        let frames_done = checkpoint.as_ref().map_or(0, |c| c.frames_done);
        let parts = stems
            .iter()
            .map(|stem| {
                let path = part_path(&dir, stem);
                let mut file = OpenOptions::new()
                    .create(true)
                    .write(true)
                    .truncate(false)
                    .open(&path)
                    .map_err(io_error(&path))?;
                let keep = frames_done as u64 * FRAME_BYTES;
                let have = file.metadata().map_err(io_error(&path))?.len();
                if have < keep {
                    return Err(Error::Output(format!(
                        "{}: {have} bytes, fewer than the checkpoint's {keep}",
                        path.display()
                    )));
                }
                file.set_len(keep).map_err(io_error(&path))?;
                std::io::Seek::seek(&mut file, std::io::SeekFrom::End(0)).map_err(io_error(&path))?;
                Ok(BufWriter::new(file))
            })
            .collect::<Result<_, Error>>()?;
        Ok((Self { dir, parts }, checkpoint))
    }

    /// Appends finished stereo frames to each stem, in the order of `open`'s stems.
    pub fn append(&mut self, stems: &[Vec<f32>]) -> Result<(), Error> {
        for (part, frames) in self.parts.iter_mut().zip(stems) {
            for x in frames {
                part.write_all(&x.to_le_bytes()).map_err(io_error(&self.dir))?;
            }
        }
        Ok(())
    }

    /// Makes what was appended durable, then records `checkpoint`.
    pub fn commit(&mut self, checkpoint: &Checkpoint, input: Input) -> Result<(), Error> {
        for part in &mut self.parts {
            part.flush().map_err(io_error(&self.dir))?;
            part.get_ref().sync_data().map_err(io_error(&self.dir))?;
        }
        let mut bytes = Vec::with_capacity(80 + 8 * checkpoint.tail.len());
        bytes.extend_from_slice(MAGIC);
        for word in [
            input.frames as u64,
            input.mean.to_bits(),
            input.std.to_bits(),
            checkpoint.next_chunk as u64,
            checkpoint.frames_done as u64,
            checkpoint.residual_energy.to_bits(),
            checkpoint.mix_energy.to_bits(),
            checkpoint.tail.len() as u64,
        ]
        .into_iter()
        .chain(checkpoint.tail.iter().map(|x| x.to_bits()))
        {
            bytes.extend_from_slice(&word.to_le_bytes());
        }
        let path = self.dir.join("checkpoint");
        let staging = self.dir.join("checkpoint.new");
        let mut file = File::create(&staging).map_err(io_error(&staging))?;
        file.write_all(&bytes).map_err(io_error(&staging))?;
        file.sync_data().map_err(io_error(&staging))?;
        fs::rename(&staging, &path).map_err(io_error(&path))
    }

    /// Reads a stem's finished frames back, `block` stereo frames at a time.
    pub fn read_part(
        &self,
        stem: &str,
        block: usize,
        mut each: impl FnMut(&[f32]) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let path = part_path(&self.dir, stem);
        let mut reader = BufReader::new(File::open(&path).map_err(io_error(&path))?);
        let mut bytes = vec![0; block * FRAME_BYTES as usize];
        let mut samples = Vec::with_capacity(2 * block);
        loop {
            let read = read_full(&mut reader, &mut bytes).map_err(io_error(&path))?;
            if read == 0 {
                return Ok(());
            }
            samples.clear();
            samples.extend(
                bytes[..read]
                    .chunks_exact(4)
                    .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
            );
            each(&samples)?;
        }
    }

    /// The work is done and the stems written: the partial state goes.
    pub fn remove(self) -> Result<(), Error> {
        drop(self.parts);
        fs::remove_dir_all(&self.dir).map_err(io_error(&self.dir))
    }
}

fn part_path(dir: &Path, stem: &str) -> PathBuf {
    dir.join(format!("{stem}.f32"))
}

/// Fills `buf` unless the file ends first; the bytes read.
fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

/// The checkpoint at `path` if there is one and it was made for `input`; anything else means starting over.
fn read_checkpoint(path: &Path, input: Input) -> Option<Checkpoint> {
    let bytes = fs::read(path).ok()?;
    let words: Vec<u64> = bytes
        .strip_prefix(MAGIC)?
        .chunks_exact(8)
        .map(|b| u64::from_le_bytes(b.try_into().expect("chunks of 8")))
        .collect();
    let [
        frames,
        mean,
        std,
        next_chunk,
        frames_done,
        residual,
        mix,
        tail_len,
        tail @ ..,
    ] = words.as_slice()
    else {
        return None;
    };
    let made_for = Input {
        frames: *frames as usize,
        mean: f64::from_bits(*mean),
        std: f64::from_bits(*std),
    };
    if made_for != input || tail.len() as u64 != *tail_len {
        return None;
    }
    Some(Checkpoint {
        next_chunk: *next_chunk as usize,
        frames_done: *frames_done as usize,
        residual_energy: f64::from_bits(*residual),
        mix_energy: f64::from_bits(*mix),
        tail: tail.iter().map(|&w| f64::from_bits(w)).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const INPUT: Input = Input {
        frames: 10,
        mean: 0.25,
        std: 0.5,
    };

    #[test]
    fn a_checkpoint_is_read_back_only_for_its_input_and_cuts_the_stems_to_it() {
        let out = tempfile::tempdir().expect("a temporary folder");
        let stems = ["a".to_owned(), "b".to_owned()];
        let (mut work, none) = WorkDir::open(out.path(), &stems, INPUT).expect("opens");
        assert_eq!(none, None);
        work.append(&[vec![1.0, 2.0, 3.0, 4.0], vec![5.0, 6.0, 7.0, 8.0]])
            .expect("appends");
        let checkpoint = Checkpoint {
            next_chunk: 1,
            frames_done: 2,
            residual_energy: 1e-9,
            mix_energy: 3.0,
            tail: vec![0.5, -1.5, 2.0],
        };
        work.commit(&checkpoint, INPUT).expect("commits");
        // Frames of a chunk that never reached its checkpoint.
        work.append(&[vec![9.0, 9.0], vec![9.0, 9.0]]).expect("appends");
        work.commit(&checkpoint, INPUT).expect("flushes");
        drop(work);

        let (work, resumed) = WorkDir::open(out.path(), &stems, INPUT).expect("reopens");
        assert_eq!(resumed, Some(checkpoint));
        let mut read = Vec::new();
        work.read_part("b", 1, |frames| {
            read.extend_from_slice(frames);
            Ok(())
        })
        .expect("reads");
        assert_eq!(read, [5.0, 6.0, 7.0, 8.0]);
        drop(work);

        let other = Input { frames: 11, ..INPUT };
        let (work, fresh) = WorkDir::open(out.path(), &stems, other).expect("reopens");
        assert_eq!(fresh, None);
        work.remove().expect("removes");
        assert!(!out.path().join(".partial").exists());
    }
}
