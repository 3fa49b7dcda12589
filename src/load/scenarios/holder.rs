//! Idle users: connection holders. Each connects, stays subscribed, answers the server's pings,
//! counts the frames the server sends on its own, and reconnects when the socket is cut: the
//! seed's "WebSocket connection scaling" (open sockets with no runs).

use super::connect::{drop_socket, ensure_connected};
use super::context::{record_leaks, Context, Shared};
use super::users;
use futures_util::{SinkExt, StreamExt};
use goose::prelude::*;
use std::sync::Arc;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

/// The idle-user scenario: connect on start, hold (one `think_time` per iteration), close on stop.
pub fn scenario(ctx: Arc<Context>, name: &str, weight: usize) -> Result<Scenario, GooseError> {
    let hold = {
        let ctx = ctx.clone();
        let f: TransactionFunction = Arc::new(move |user| {
            let ctx = ctx.clone();
            Box::pin(async move { hold(&ctx, user).await })
        });
        Transaction::new(f).set_name("hold")
    };
    // The hold itself paces the user: no wait between iterations.
    Ok(Scenario::new(name)
        .set_weight(weight)?
        .set_wait_time(Duration::ZERO, Duration::ZERO)?
        .register_transaction(users::connect_on_start(ctx.clone()))
        .register_transaction(hold)
        .register_transaction(users::disconnect_on_stop(ctx)))
}

/// Whether a frame is the server's application-level ping.
fn is_ping(text: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|v| v.get("type").and_then(|t| t.as_str()).map(|t| t == "ping"))
        .unwrap_or(false)
}

/// Holds the socket for `think_time` (at least 100 ms): reads what the server sends, answers
/// pings; a cut socket is dropped and the next iteration reconnects with a fresh token.
async fn hold(ctx: &Context, user: &mut GooseUser) -> TransactionResult {
    let session = user.get_session_data::<Shared>().expect("on_start").clone();
    let mut s = session.lock().await;
    if !users::seated(ctx, user, &mut s).await {
        return Ok(());
    }
    ensure_connected(ctx, user, &mut s).await?;
    let number = ctx.user_number(user);
    let Some(socket) = s.socket.as_mut() else {
        // The connect failed and was recorded; the next one backs off.
        return Ok(());
    };
    let until = tokio::time::Instant::now() + ctx.think.mean().max(Duration::from_millis(100));
    let (mut frames, mut pongs, mut cut, mut leaks) = (0, 0, false, Vec::new());
    loop {
        let text = match tokio::time::timeout_at(until, socket.next()).await {
            Err(_) => break,
            Ok(Some(Ok(Message::Text(text)))) => text,
            Ok(None | Some(Err(_)) | Some(Ok(Message::Close(_)))) => {
                cut = true;
                break;
            }
            Ok(Some(Ok(_))) => continue,
        };
        frames += 1;
        if let Some(owner) = ctx.isolation.check(number, &text) {
            leaks.push(owner);
        }
        if is_ping(&text) {
            let pong = Message::text(r#"{"type":"pong"}"#);
            match socket.send(pong).await {
                Ok(()) => pongs += 1,
                Err(_) => {
                    cut = true;
                    break;
                }
            }
        }
    }
    if cut {
        drop_socket(ctx, &mut s);
        s.backoff.cut();
        // The server may have cut a lapsed token: the reconnect takes a fresh one.
        s.token = None;
    }
    drop(s);
    ctx.collector
        .idle_seen(user.weighted_users_index, ctx.scenario, frames, pongs, cut);
    record_leaks(ctx, user, &leaks).await
}

#[cfg(test)]
mod tests {
    #[test]
    fn pings_are_told_from_other_frames() {
        assert!(super::is_ping(r#"{"type":"ping","seq":3}"#));
        assert!(!super::is_ping(r#"{"type":"pong"}"#));
        assert!(!super::is_ping("not json"));
    }
}
