//! `GET /events`: a server-sent event stream of the signed-in user's job changes. Each event names a track
//! whose jobs moved (`track`), or asks the page to reload everything (`resync`); the page then fetches
//! through the usual owner-checked functions, so nothing but ids travels here.

use std::{convert::Infallible, time::Duration};

use axum::{
    extract::State,
    http::StatusCode,
    response::{
        IntoResponse, Response,
        sse::{Event, KeepAlive, Sse},
    },
    routing::get,
};
use futures_util::stream;
use tokio::sync::broadcast::error::RecvError;

use crate::{AppState, auth::AuthSession, jobs::events::Change};

/// Often enough that proxies do not close an idle stream.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new().route("/events", get(events))
}

async fn events(State(state): State<AppState>, session: AuthSession) -> Response {
    let Some(user) = session.user else {
        return StatusCode::UNAUTHORIZED.into_response();
    };
    let changes = state.events.subscribe();
    let stream = stream::unfold(changes, move |mut changes| async move {
        loop {
            let event = match changes.recv().await {
                Ok(Change::Track { user_id, track_id }) if user_id == user.id => {
                    Event::default().event("track").data(track_id.to_string())
                }
                Ok(Change::Track { .. }) => continue,
                Ok(Change::Resync) | Err(RecvError::Lagged(_)) => Event::default().event("resync").data(""),
                Err(RecvError::Closed) => return None,
            };
            return Some((Ok::<_, Infallible>(event), changes));
        }
    });
    Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
        .into_response()
}
