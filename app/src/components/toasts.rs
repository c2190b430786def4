//! Short notes in a corner when a job finishes ("Stems ready: “Song”"), so a user who looks elsewhere on the
//! page still hears about it. Pages that follow their tracks live call [`watch`]; the app shows the notes.

use leptos::prelude::*;

use crate::api::tracks::TrackCard;

/// How long a note stays before it leaves by itself.
const SHOWN_FOR: std::time::Duration = std::time::Duration::from_secs(8);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Toast {
    pub text: String,
    pub failed: bool,
    /// The track page the note is about.
    pub href: String,
}

#[derive(Clone, Copy)]
struct Toasts {
    shown: RwSignal<Vec<(u64, Toast)>>,
    next: RwSignal<u64>,
}

pub fn provide_toasts() {
    provide_context(Toasts {
        shown: RwSignal::new(Vec::new()),
        next: RwSignal::new(0),
    });
}

impl Toasts {
    fn push(self, toast: Toast) {
        let id = self.next.get_untracked();
        self.next.set(id + 1);
        self.shown.update(|shown| shown.push((id, toast)));
        set_timeout(move || self.dismiss(id), SHOWN_FOR);
    }

    fn dismiss(self, id: u64) {
        self.shown.update(|shown| shown.retain(|(shown, _)| *shown != id));
    }
}

/// Announces the jobs that finish while the page shows `tracks`: each new look is compared with the last.
pub fn watch(tracks: impl Fn() -> Option<Vec<TrackCard>> + Send + Sync + 'static) {
    let toasts = expect_context::<Toasts>();
    Effect::new(move |last: Option<Option<Vec<TrackCard>>>| {
        let now = tracks();
        if let (Some(Some(before)), Some(after)) = (&last, &now) {
            finished(before, after)
                .into_iter()
                .for_each(|toast| toasts.push(toast));
        }
        // A look that failed keeps the last good one to compare the next with.
        now.or(last.flatten())
    });
}

/// The jobs that moved from running to done or failed between two looks at the same tracks. A cancel
/// is the user's own doing and goes unannounced.
pub fn finished(before: &[TrackCard], after: &[TrackCard]) -> Vec<Toast> {
    let running =
        |status: &Option<String>| matches!(status.as_deref(), Some("queued" | "processing" | "downloading"));
    let mut toasts = Vec::new();
    for track in after {
        let Some(earlier) = before.iter().find(|earlier| earlier.id == track.id) else {
            continue;
        };
        let stages = [
            (
                "Download",
                "Downloaded",
                &earlier.download_status,
                &track.download_status,
            ),
            (
                "Separation",
                "Stems ready",
                &earlier.separation_status,
                &track.separation_status,
            ),
            (
                "Analysis",
                "Analysis done",
                &earlier.analysis_status,
                &track.analysis_status,
            ),
        ];
        for (job, done, was, is) in stages {
            if !running(was) {
                continue;
            }
            let (text, failed) = match is.as_deref() {
                Some("completed") => (format!("{done}: “{}”", track.title), false),
                Some("failed") => (format!("{job} failed: “{}”", track.title), true),
                _ => continue,
            };
            toasts.push(Toast {
                text,
                failed,
                href: format!("/tracks/{}", track.id),
            });
        }
    }
    toasts
}

/// Where the notes appear; screen readers hear each as it comes (a live region, not a `status` role: the
/// forms' own status lines are what a page's status means).
#[component]
pub fn ToastHost() -> impl IntoView {
    let toasts = expect_context::<Toasts>();
    view! {
        <div class="toasts" aria-live="polite" aria-label="Notifications">
            <For each=move || toasts.shown.get() key=|(id, _)| *id let:((id, toast))>
                <div class="toast" class:failed=toast.failed>
                    <a href=toast.href.clone()>{toast.text.clone()}</a>
                    <button class="link-button" aria-label="Dismiss" on:click=move |_| toasts.dismiss(id)>
                        "×"
                    </button>
                </div>
            </For>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn track(id: &str, download: &str, separation: &str, analysis: &str) -> TrackCard {
        let status = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        TrackCard {
            id: id.to_owned(),
            title: format!("Song {id}"),
            artist: None,
            album: None,
            art_url: None,
            duration_seconds: None,
            has_audio: true,
            source: "url".to_owned(),
            download_status: status(download),
            download_progress: 0,
            download_error: None,
            bytes: None,
            analysis_status: status(analysis),
            analysis_progress: 0,
            analysis_error: None,
            tempo: None,
            key: None,
            camelot: None,
            separation_status: status(separation),
            separation_engine: None,
            separation_progress: 0,
            separation_error: None,
            chunks: None,
            stems: Vec::new(),
        }
    }

    #[test]
    fn only_jobs_that_were_running_and_ended_are_announced() {
        let before = [
            track("1", "downloading", "", ""),
            track("2", "completed", "processing", "processing"),
            track("3", "completed", "processing", "completed"),
            track("4", "completed", "completed", "completed"),
        ];
        let after = [
            track("1", "completed", "queued", "queued"),
            track("2", "completed", "completed", "failed"),
            track("3", "completed", "cancelled", "completed"),
            track("4", "completed", "completed", "completed"),
            track("5", "completed", "completed", "completed"),
        ];
        let texts: Vec<_> = finished(&before, &after)
            .into_iter()
            .map(|toast| (toast.text, toast.failed, toast.href))
            .collect();
        assert_eq!(
            texts,
            [
                ("Downloaded: “Song 1”".to_owned(), false, "/tracks/1".to_owned()),
                ("Stems ready: “Song 2”".to_owned(), false, "/tracks/2".to_owned()),
                (
                    "Analysis failed: “Song 2”".to_owned(),
                    true,
                    "/tracks/2".to_owned()
                ),
            ]
        );
        assert!(finished(&after, &after).is_empty(), "nothing moved, nothing said");
    }
}
