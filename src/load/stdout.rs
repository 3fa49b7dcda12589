//! Goose prints "N users launched." with `println!` whatever its `quiet` says: while the
//! attack runs, agentload's stdout (where its verdict goes) is pointed at /dev/null unless
//! Goose's log was asked for (`-v`), and given back afterwards.

use std::io::Write;

/// Stdout pointed at /dev/null until this is dropped.
pub struct Muted {
    saved: libc::c_int,
}

impl Muted {
    /// Mutes stdout; `None` when it can not be (then Goose's lines show, nothing worse).
    pub fn stdout() -> Option<Muted> {
        let _ = std::io::stdout().flush();
        let null = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/null")
            .ok()?;
        use std::os::fd::AsRawFd;
        // SAFETY: dup/dup2 on the process's own stdout and a file it just opened.
        unsafe {
            let saved = libc::dup(libc::STDOUT_FILENO);
            if saved < 0 {
                return None;
            }
            if libc::dup2(null.as_raw_fd(), libc::STDOUT_FILENO) < 0 {
                libc::close(saved);
                return None;
            }
            Some(Muted { saved })
        }
    }
}

impl Drop for Muted {
    fn drop(&mut self) {
        let _ = std::io::stdout().flush();
        // SAFETY: puts back the descriptor `stdout` saved.
        unsafe {
            libc::dup2(self.saved, libc::STDOUT_FILENO);
            libc::close(self.saved);
        }
    }
}
