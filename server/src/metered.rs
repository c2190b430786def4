//! A reader that stops at a size limit and tells how far it has got: for uploads and downloads that
//! stream into storage, so an oversized file stops at the limit instead of filling the disk.

use std::{
    pin::Pin,
    task::{Context, Poll},
};

use tokio::io::{AsyncRead, ReadBuf};

/// Passes bytes through until `max`, then fails the read; calls `progress` with the total so far after
/// each read.
pub struct Metered<R, F> {
    inner: R,
    left: u64,
    read: u64,
    exceeded: bool,
    progress: F,
}

impl<R> Metered<R, fn(u64)> {
    pub fn new(inner: R, max: u64) -> Self {
        Self::with_progress(inner, max, |_| {})
    }
}

impl<R, F: FnMut(u64)> Metered<R, F> {
    pub fn with_progress(inner: R, max: u64, progress: F) -> Self {
        Self {
            inner,
            left: max,
            read: 0,
            exceeded: false,
            progress,
        }
    }

    /// Whether the stream went past the limit (and was stopped there).
    pub fn exceeded(&self) -> bool {
        self.exceeded
    }
}

impl<R: AsyncRead + Unpin, F: FnMut(u64) + Unpin> AsyncRead for Metered<R, F> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let poll = Pin::new(&mut self.inner).poll_read(cx, buf);
        let read = (buf.filled().len() - before) as u64;
        if read > self.left {
            self.exceeded = true;
            // A failed read hands over no bytes.
            buf.set_filled(before);
            return Poll::Ready(Err(std::io::Error::other("over the size limit")));
        }
        self.left -= read;
        if read > 0 {
            self.read += read;
            let total = self.read;
            (self.progress)(total);
        }
        poll
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::AsyncReadExt;

    use super::*;

    #[tokio::test]
    async fn stops_past_the_limit_and_counts_what_passed() {
        let mut seen = Vec::new();
        let mut reader = Metered::with_progress(&b"0123456789"[..], 10, |n| seen.push(n));
        let mut out = Vec::new();
        reader.read_to_end(&mut out).await.expect("within the limit");
        assert_eq!(out, b"0123456789");
        assert!(!reader.exceeded());
        assert_eq!(seen.last(), Some(&10));

        let mut over = Metered::new(&b"0123456789"[..], 9);
        assert!(over.read_to_end(&mut Vec::new()).await.is_err());
        assert!(over.exceeded());
    }
}
