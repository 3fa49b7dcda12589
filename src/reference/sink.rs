//! A socket's sending half, shared by whoever sends on it (its connection, its runs, a leak
//! fault sending to another user), and one frame sent.

use axum::extract::ws::{Message, WebSocket};
use futures_util::stream::SplitSink;
use futures_util::SinkExt;
use serde_json::Value;
use std::sync::Arc;
use tokio::sync::Mutex;

pub type Sink = Arc<Mutex<SplitSink<WebSocket, Message>>>;

/// Sends one frame; false when the socket is gone.
pub async fn send(sink: &Sink, frame: Value) -> bool {
    send_text(sink, frame.to_string()).await
}

pub async fn send_text(sink: &Sink, frame: String) -> bool {
    sink.lock()
        .await
        .send(Message::Text(frame.into()))
        .await
        .is_ok()
}
