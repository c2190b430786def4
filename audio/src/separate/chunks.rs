//! How a track is cut into the model's fixed-length chunks and put back together, as demucs' `apply_model`
//! does: chunks start every 75% of a segment, each weighted by a triangle, and the weighted sum divided by
//! the sum of the weights. The overlap-add hands back each region as soon as no later chunk can touch it,
//! so only one segment is ever held, whatever the track's length.

/// The share of a segment that consecutive chunks have in common.
const OVERLAP: f64 = 0.25;

/// Where the chunks of a track of `total` frames lie.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    pub segment: usize,
    pub stride: usize,
    pub total: usize,
}

impl Layout {
    pub fn new(segment: usize, total: usize) -> Self {
        let stride = ((1.0 - OVERLAP) * segment as f64) as usize;
        Self {
            segment,
            stride,
            total,
        }
    }

    pub fn count(&self) -> usize {
        self.total.div_ceil(self.stride)
    }

    pub fn offset(&self, chunk: usize) -> usize {
        chunk * self.stride
    }

    /// The frames of the track that chunk `chunk` stands for; only the last can be shorter than a segment.
    pub fn length(&self, chunk: usize) -> usize {
        self.segment.min(self.total - self.offset(chunk))
    }

    /// Frames of the output that are final once chunk `chunk` has been added: up to the next chunk's start.
    pub fn finished(&self, chunk: usize) -> usize {
        if chunk + 1 == self.count() {
            self.length(chunk)
        } else {
            self.stride
        }
    }

    /// Where a chunk's `length` frames sit inside the segment the model sees: a short chunk is centred, its
    /// neighbours' audio (or silence) around it.
    pub fn margin(&self, chunk: usize) -> usize {
        (self.segment - self.length(chunk)) / 2
    }

    /// Chunk `chunk` of `channels` interleaved channels as the model takes it: channels one after another, a
    /// full segment each, `map` applied to every sample and zeros beyond the track.
    pub fn extract(
        &self,
        chunk: usize,
        samples: &[f32],
        channels: usize,
        map: impl Fn(f32) -> f32,
    ) -> Vec<f32> {
        let start = self.offset(chunk) as isize - self.margin(chunk) as isize;
        let mut out = vec![0.0; channels * self.segment];
        for (c, row) in out.chunks_exact_mut(self.segment).enumerate() {
            for (i, value) in row.iter_mut().enumerate() {
                let frame = start + i as isize;
                if (0..self.total as isize).contains(&frame) {
                    *value = map(samples[frame as usize * channels + c]);
                }
            }
        }
        out
    }
}

/// demucs' triangular chunk weights, 1 at the centre of the segment, 1/(segment/2 + 1) at its ends.
pub fn weights(segment: usize) -> Vec<f64> {
    let peak = (segment / 2 + 1) as f64;
    (0..segment)
        .map(|i| {
            let rising = i + 1;
            let falling = segment - i;
            (if i <= segment / 2 { rising } else { falling }) as f64 / peak
        })
        .collect()
}

/// The weighted sum of the chunks that overlap the frames not yet handed back, for `rows` rows (sources ×
/// channels), each starting at the current chunk's offset.
#[derive(Debug, Clone, PartialEq)]
pub struct OverlapAdd {
    segment: usize,
    rows: usize,
    weights: Vec<f64>,
    sum: Vec<f64>,
    weight_sum: Vec<f64>,
}

impl OverlapAdd {
    pub fn new(segment: usize, rows: usize) -> Self {
        Self {
            segment,
            rows,
            weights: weights(segment),
            sum: vec![0.0; rows * segment],
            weight_sum: vec![0.0; segment],
        }
    }

    /// Adds `length` frames of each row of `chunk` (rows of a full segment each), from `margin` on.
    pub fn add(&mut self, chunk: &[f64], margin: usize, length: usize) {
        for (sum, row) in self
            .sum
            .chunks_exact_mut(self.segment)
            .zip(chunk.chunks_exact(self.segment))
        {
            for ((s, x), w) in sum
                .iter_mut()
                .zip(&row[margin..margin + length])
                .zip(&self.weights)
            {
                *s += x * w;
            }
        }
        for (s, w) in self.weight_sum.iter_mut().zip(&self.weights[..length]) {
            *s += w;
        }
    }

    /// The first `frames` frames of each row, finished, and the sums moved on by `frames`.
    pub fn take(&mut self, frames: usize) -> Vec<Vec<f64>> {
        let done = self
            .sum
            .chunks_exact(self.segment)
            .map(|row| {
                row[..frames]
                    .iter()
                    .zip(&self.weight_sum)
                    .map(|(s, w)| s / w)
                    .collect()
            })
            .collect();
        for row in self.sum.chunks_exact_mut(self.segment) {
            row.copy_within(frames.., 0);
            row[self.segment - frames..].fill(0.0);
        }
        self.weight_sum.copy_within(frames.., 0);
        self.weight_sum[self.segment - frames..].fill(0.0);
        done
    }

    /// What the next chunks still need of the ones before: the first `frames` of every row and of the
    /// weights. Everything after is zero between chunks.
    pub fn tail(&self, frames: usize) -> Vec<f64> {
        let mut tail: Vec<f64> = self
            .sum
            .chunks_exact(self.segment)
            .flat_map(|row| &row[..frames])
            .copied()
            .collect();
        tail.extend_from_slice(&self.weight_sum[..frames]);
        tail
    }

    /// Puts back a `tail` saved after a chunk.
    pub fn restore(&mut self, tail: &[f64]) {
        if tail.is_empty() {
            return;
        }
        let frames = tail.len() / (self.rows + 1);
        for (row, saved) in self
            .sum
            .chunks_exact_mut(self.segment)
            .zip(tail.chunks_exact(frames))
        {
            row[..frames].copy_from_slice(saved);
        }
        self.weight_sum[..frames].copy_from_slice(&tail[self.rows * frames..]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_cover_the_track_once_finished() {
        for total in [1, 99, 100, 101, 400, 1000] {
            let layout = Layout::new(100, total);
            assert_eq!(layout.stride, 75);
            let finished: usize = (0..layout.count()).map(|k| layout.finished(k)).sum();
            assert_eq!(finished, total, "total {total}");
        }
    }

    #[test]
    fn a_short_last_chunk_is_centred_with_its_neighbours_audio() {
        let layout = Layout::new(8, 10);
        assert_eq!((layout.count(), layout.length(1), layout.margin(1)), (2, 4, 2));
        let samples: Vec<f32> = (0..10).map(|i| i as f32).collect();
        assert_eq!(
            layout.extract(1, &samples, 1, |x| x * 2.0),
            [8.0, 10.0, 12.0, 14.0, 16.0, 18.0, 0.0, 0.0]
        );
    }

    #[test]
    fn overlap_add_of_a_constant_is_that_constant_across_a_checkpoint() {
        let layout = Layout::new(100, 420);
        let mut ola = OverlapAdd::new(100, 2);
        let mut out = [Vec::new(), Vec::new()];
        for k in 0..layout.count() {
            ola.add(&[3.0; 200], layout.margin(k), layout.length(k));
            for (row, done) in out.iter_mut().zip(ola.take(layout.finished(k))) {
                row.extend(done);
            }
            let mut restored = OverlapAdd::new(100, 2);
            restored.restore(&ola.tail(layout.segment - layout.stride));
            assert_eq!(restored, ola);
        }
        for row in out {
            assert_eq!(row.len(), 420);
            assert!(row.iter().all(|x| (x - 3.0).abs() < 1e-12));
        }
    }
}
