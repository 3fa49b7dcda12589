//! A user's socket: connect (with a fresh token when needed), probe with bad tokens, settle
//! what waits on it between runs, drop it.

use super::context::{record, record_leaks, Context, Session};
use crate::client::outcome::Failure;
use crate::client::{idle, security, ws};
use goose::prelude::*;
use std::time::{Duration, Instant};

/// Opens the user's socket if it has none, renewing its token when needed; records the
/// connect as `WS connect`.
pub(super) async fn ensure_connected(
    ctx: &Context,
    user: &mut GooseUser,
    s: &mut Session,
) -> TransactionResult {
    if s.socket.is_some() {
        return Ok(());
    }
    // A connect's future (handshakes, TLS) is some 12 KB: boxed, so the future of every run,
    // which Goose moves onto the heap, stays small.
    Box::pin(connect(ctx, user, s)).await
}

async fn connect(ctx: &Context, user: &mut GooseUser, s: &mut Session) -> TransactionResult {
    // After a failed connect or a cut, wait before dialing again: a platform coming back up
    // is not met by every user at once.
    if let Some(wait) = s.backoff.next_wait() {
        if !ctx.stop.pause(wait).await {
            // The test is ending (its plan is over, or it was stopped): no dial is owed.
            return Ok(());
        }
    }
    let started = Instant::now();
    let result = async {
        let margin = ctx.refresh_before.unwrap_or_default() + ctx.think.mean();
        if s.token.as_ref().is_none_or(|t| t.expires_within(margin)) {
            let token = ctx.tokens.token(&s.identity).await.map_err(login_failure)?;
            s.token = Some(token);
        }
        let jwt = &s.token.as_ref().expect("token set above").jwt;
        ctx.connector.connect(jwt).await
    }
    .await;
    let elapsed = started.elapsed();
    match result {
        Ok(connected) => {
            if let Some(id) = &connected.user_id {
                let expected = s.token.as_ref().and_then(|t| t.subject.as_deref());
                ctx.isolation.welcomed(!s.welcomed, id, expected);
                s.welcomed = true;
            }
            s.socket = Some(connected.ws);
            s.backoff.reset();
            s.server_user_id = connected.user_id;
            s.server_thread_id = connected.thread_id;
            s.clock_offset = connected.clock_offset;
            ctx.collector
                .connect_attempted(user.weighted_users_index, elapsed, None);
            record(ctx, user, "connect", elapsed, None).await
        }
        Err(failure) => {
            s.backoff.failed();
            if let Some(wait) = failure.retry_after {
                // The platform said how long: the next dial waits at least that.
                s.backoff.at_least(wait);
            }
            ctx.collector
                .connect_attempted(user.weighted_users_index, elapsed, Some(&failure));
            record(ctx, user, "connect", elapsed, Some(&failure)).await
        }
    }
}

/// A token the user could not get: a throttled login (429, or 503 with `Retry-After`) is shed
/// load, anything else `auth.token`.
fn login_failure(e: crate::client::auth::AuthError) -> Failure {
    use crate::client::auth::AuthError::LoginRefused;
    match e {
        LoginRefused {
            status,
            retry_after,
            ..
        } if status == 429 || (status == 503 && retry_after.is_some()) => Failure::throttled(
            format!("login HTTP {status}"),
            e.to_string(),
            retry_after.map(Duration::from_secs),
        ),
        e => Failure::new("auth.token", e.to_string()),
    }
}

/// Presents a bad token; the target must refuse it. Recorded as `WS bad_token`: a success when
/// refused, a critical failure when accepted.
pub(super) async fn probe_bad_token(
    ctx: &Context,
    user: &mut GooseUser,
    s: &Session,
    kind: security::BadToken,
) -> TransactionResult {
    // Boxed for the same reason as a connect: a share of runs probe, every run would carry it.
    Box::pin(probe(ctx, user, s, kind)).await
}

async fn probe(
    ctx: &Context,
    user: &mut GooseUser,
    s: &Session,
    kind: security::BadToken,
) -> TransactionResult {
    use security::BadToken;
    let secret = ctx.tokens.mint_secret();
    let jwt = match kind {
        BadToken::Missing => None,
        BadToken::Expired => crate::client::auth::forge(&ctx.auth, secret, &s.identity, true),
        BadToken::BadSignature => crate::client::auth::forge(&ctx.auth, secret, &s.identity, false),
    };
    if jwt.is_none() && kind != BadToken::Missing {
        return Ok(()); // Login mode can not forge an expired token.
    }
    let started = Instant::now();
    let outcome = ctx.connector.connect_with(jwt.as_deref()).await;
    let elapsed = started.elapsed();
    let refused = match outcome {
        Err(f) => f.kind == "auth.refused",
        Ok(connected) => {
            let _ = ws::close(connected.ws).await;
            false
        }
    };
    ctx.security.record(kind, refused);
    if refused {
        return record(ctx, user, "bad_token", elapsed, None).await;
    }
    let failure = Failure::new(
        format!("security.bad_token_accepted.{}", kind.name()),
        format!("the target accepted a {} token", kind.name()),
    );
    ctx.collector
        .note_failure(user.weighted_users_index, &failure);
    record(ctx, user, "bad_token", elapsed, Some(&failure)).await
}

/// Before a run: sets aside late frames of earlier runs waiting on the socket, and notices a
/// socket the server cut while the user was idle (counted when it is an auth failure, e.g. a
/// lapsed token), so no start message goes to a closed socket.
pub(super) async fn settle_idle_socket(
    ctx: &Context,
    user: &mut GooseUser,
    s: &mut Session,
) -> TransactionResult {
    let Some(socket) = s.socket.as_mut() else {
        return Ok(());
    };
    let idle = idle::drain_idle(
        socket,
        &ctx.connector.profile,
        &ctx.isolation,
        s.number,
        s.token.as_ref().map(|t| t.expires_at),
    );
    take_idle(ctx, user, s, idle).await
}

/// How close to its token's expiry a socket is taken to be closing (the server cuts it then).
const LAPSE_MARGIN: Duration = Duration::from_secs(1);
/// How long past the expiry the server's cut may take to arrive.
const LAPSE_GRACE: Duration = Duration::from_secs(2);

/// A start message is never sent on a socket the server is about to cut: when its token
/// lapses within `LAPSE_MARGIN`, waits for the cut (counted once, as any idle cut) until
/// `LAPSE_GRACE` past the expiry. A server that does not cut keeps the socket, asked once.
pub(super) async fn await_lapse(
    ctx: &Context,
    user: &mut GooseUser,
    s: &mut Session,
) -> TransactionResult {
    let (Some(socket), Some(token)) = (s.socket.as_mut(), s.token.as_ref()) else {
        return Ok(());
    };
    let expires_at = token.expires_at;
    if !token.expires_within(LAPSE_MARGIN) || s.lapse_awaited == Some(expires_at) {
        return Ok(());
    }
    s.lapse_awaited = Some(expires_at);
    let left = expires_at
        .duration_since(std::time::SystemTime::now())
        .unwrap_or_default();
    let until = tokio::time::Instant::now() + left + LAPSE_GRACE;
    let idle = idle::await_cut(
        socket,
        &ctx.connector.profile,
        &ctx.isolation,
        s.number,
        Some(expires_at),
        until,
    )
    .await;
    take_idle(ctx, user, s, idle).await
}

/// Counts what waited on an idle socket; drops the socket when the server cut it.
async fn take_idle(
    ctx: &Context,
    user: &mut GooseUser,
    s: &mut Session,
    idle: idle::Idle,
) -> TransactionResult {
    let index = user.weighted_users_index;
    ctx.collector.stale_frames(index, idle.stale_frames);
    record_leaks(ctx, user, &idle.leaks).await?;
    if let Some(cut) = idle.cut {
        drop_socket(ctx, s);
        s.backoff.cut();
        if let Some(wait) = cut.as_ref().and_then(|f| f.retry_after) {
            s.backoff.at_least(wait);
        }
        if let Some(failure) = cut {
            ctx.collector.note_failure(index, &failure);
            record(ctx, user, "idle", Duration::ZERO, Some(&failure)).await?;
        }
    }
    Ok(())
}

pub(super) fn drop_socket(ctx: &Context, s: &mut Session) {
    if s.socket.take().is_some() {
        ctx.collector.socket_gone();
    }
}
