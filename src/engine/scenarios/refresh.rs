//! Token renewal on an open socket: a fresh token, handed to the server with the profile's
//! refresh message before the old one lapses.

use super::ws::WsStream;
use super::{Context, Session};
use crate::engine::auth::{Identity, Token, TokenSource};
use crate::engine::outcome::Failure;
use crate::engine::protocol::message::fill;
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

/// A user's refresher, when the plan renews tokens on open sockets.
pub(super) fn refresher<'a>(
    ctx: &'a Context,
    identity: &'a Identity,
    token: Option<&'a mut Token>,
) -> Option<Refresher<'a>> {
    Some(Refresher {
        tokens: &ctx.tokens,
        identity,
        token: token?,
        before: ctx.refresh_before?,
        message: &ctx.connector.profile.refresh_message,
    })
}

/// Renews the token on the open socket when it would lapse before the next run ends idling.
pub(super) async fn renew_if_lapsing(ctx: &Context, s: &mut Session) -> Option<Failure> {
    let socket = s.socket.as_mut()?;
    let mut r = refresher(ctx, &s.identity, s.token.as_mut())?;
    if r.token.expires_within(r.before + ctx.think.mean()) {
        return r.renew(socket).await.err();
    }
    None
}
