//! Token renewal on an open socket: a fresh token, handed to the server with the profile's
//! refresh message before the old one lapses.

use super::ws::WsStream;
use crate::client::auth::{Identity, Token, TokenSource};
use crate::client::outcome::Failure;
use crate::client::protocol::message::fill;
use futures_util::SinkExt;
use std::time::{Duration, SystemTime};
use tokio_tungstenite::tungstenite::Message;

/// Renews a user's token before it expires and hands it to the open socket.
pub struct Refresher<'a> {
    pub tokens: &'a TokenSource,
    pub identity: &'a Identity,
    pub token: &'a mut Token,
    pub before: Duration,
    pub message: &'a serde_json::Value,
}

impl Refresher<'_> {
    /// When the next renewal is due.
    pub fn due(&self) -> tokio::time::Instant {
        let left = self
            .token
            .expires_at
            .duration_since(SystemTime::now())
            .unwrap_or_default();
        tokio::time::Instant::now() + left.saturating_sub(self.before)
    }

    /// Gets a new token and sends it on the socket.
    pub async fn renew(&mut self, ws: &mut WsStream) -> Result<(), Failure> {
        let token = self
            .tokens
            .renew(self.identity, self.token)
            .await
            .map_err(|e| Failure::new("auth.refresh_failed", e.to_string()))?;
        let message = fill(self.message, &[("token", &token.jwt)]);
        *self.token = token;
        ws.send(Message::text(message.to_string()))
            .await
            .map_err(|e| Failure::new("transport.error", e.to_string()))
    }
}
