//! Runs that outlive a socket: each run's frames are buffered with their `seq`, so a client
//! that reconnects can `resume` from the last seq it saw and lose nothing.

use super::sink::{send_text, Sink};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A fresh run id when the client names none.
pub fn new_run_id() -> String {
    format!("run-{:08x}", rand::random::<u32>())
}

/// One run's delivery state.
pub struct RunSlot {
    pub user_id: String,
    sink: Mutex<Option<Sink>>,
    buffer: Mutex<Vec<(u64, String)>>,
    attached: tokio::sync::Notify,
}

/// What became of a frame.
#[derive(Debug, PartialEq, Eq)]
pub enum Delivery {
    Sent,
    /// No socket took it; it waits in the buffer for a resume.
    Buffered,
}

impl RunSlot {
    pub fn new(user_id: &str, sink: Sink) -> Arc<RunSlot> {
        Arc::new(RunSlot {
            user_id: user_id.to_string(),
            sink: Mutex::new(Some(sink)),
            buffer: Mutex::new(Vec::new()),
            attached: tokio::sync::Notify::new(),
        })
    }

    fn current(&self) -> Option<Sink> {
        self.sink.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn has_socket(&self) -> bool {
        self.current().is_some()
    }

    /// Buffers the frame and sends it on the run's socket, if it has one. The frame is
    /// buffered and the socket read under the buffer's lock, as `attach` replays and attaches:
    /// a frame is either replayed by a resume or sent on the socket it attached.
    pub async fn deliver(&self, seq: u64, frame: String) -> Delivery {
        let sink = {
            let mut buffer = self.buffer.lock().unwrap_or_else(|p| p.into_inner());
            buffer.push((seq, frame.clone()));
            self.current()
        };
        let Some(sink) = sink else {
            return Delivery::Buffered;
        };
        if send_text(&sink, frame).await {
            Delivery::Sent
        } else {
            self.detach(&sink);
            Delivery::Buffered
        }
    }

    /// Sends a frame that is no agent event on the run's socket, if it has one; never buffered
    /// for a resume.
    pub async fn send_aside(&self, frame: String) {
        if let Some(sink) = self.current() {
            send_text(&sink, frame).await;
        }
    }

    /// The socket `sink` is gone: the run keeps going without it.
    pub fn detach(&self, sink: &Sink) {
        let mut current = self.sink.lock().unwrap_or_else(|p| p.into_inner());
        if current.as_ref().is_some_and(|s| Arc::ptr_eq(s, sink)) {
            *current = None;
        }
    }

    /// A resumed socket: replays every buffered frame after `after_seq`, then carries on.
    /// Frames the run delivers while the replay is sent are replayed too: the socket is
    /// attached only once the buffer holds none it has not replayed (a frame buffered between
    /// a snapshot and the attach was once lost: "events 4..4 never arrived").
    pub async fn attach(&self, sink: Sink, after_seq: u64) -> u64 {
        let mut replayed = 0;
        let mut after = after_seq;
        loop {
            let replay = {
                let buffer = self.buffer.lock().unwrap_or_else(|p| p.into_inner());
                let replay: Vec<(u64, String)> = buffer
                    .iter()
                    .filter(|(seq, _)| *seq > after)
                    .cloned()
                    .collect();
                if replay.is_empty() {
                    *self.sink.lock().unwrap_or_else(|p| p.into_inner()) = Some(sink);
                    break;
                }
                replay
            };
            for (seq, frame) in replay {
                after = after.max(seq);
                if send_text(&sink, frame).await {
                    replayed += 1;
                }
            }
        }
        self.attached.notify_waiters();
        replayed
    }

    /// Waits up to `window` for a resume; true when a socket is back.
    pub async fn wait_for_socket(&self, window: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + window;
        while !self.has_socket() {
            let notified = self.attached.notified();
            if self.has_socket() {
                break;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return self.has_socket();
            }
        }
        true
    }
}

/// Runs in flight, by run id.
#[derive(Default)]
pub struct Runs {
    live: Mutex<HashMap<String, Arc<RunSlot>>>,
}

impl Runs {
    pub fn insert(&self, run_id: &str, slot: Arc<RunSlot>) {
        self.lock().insert(run_id.to_string(), slot);
    }

    pub fn get(&self, run_id: &str) -> Option<Arc<RunSlot>> {
        self.lock().get(run_id).cloned()
    }

    pub fn remove(&self, run_id: &str) {
        self.lock().remove(run_id);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<RunSlot>>> {
        self.live.lock().unwrap_or_else(|p| p.into_inner())
    }
}
