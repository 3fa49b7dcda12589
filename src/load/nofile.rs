//! Open files: every simulated user holds a socket, and this process may hold only so many.
//! The soft limit is raised to the hard one at start-up (children, the embedded target among
//! them, inherit it); a plan that needs more than the hard limit is refused before any load.

/// File descriptors beyond one per user: Goose, the sampler, TLS roots, reconnects and
/// bad-token probes in flight, the embedded target's pipes.
pub const MARGIN: u64 = 256;

/// Raises this process's open-file soft limit to its hard limit; returns the limit in force.
pub fn raise_to_hard_limit() -> u64 {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit only read and write the struct passed to them.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return 1024;
        }
        if limit.rlim_cur < limit.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: limit.rlim_max,
                rlim_max: limit.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                limit.rlim_cur = limit.rlim_max;
            }
        }
    }
    limit.rlim_cur
}

/// `Err` with one line naming both figures and the way out when `users` sockets, plus the
/// margin, do not fit under `limit`.
pub fn check(users: usize, limit: u64) -> Result<(), String> {
    let need = users as u64 + MARGIN;
    if need <= limit {
        return Ok(());
    }
    Err(format!(
        "{users} users need about {need} open files ({users} sockets + {MARGIN} spare), but this \
         process may open {limit} (ulimit -Hn): split the load over several generator processes \
         or machines, each with fewer users, or raise the hard limit"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_beyond_the_limit_are_refused_with_both_figures() {
        assert!(check(1000, 20_000).is_ok());
        let err = check(19_900, 20_000).unwrap_err();
        assert!(
            err.contains("19900 users") && err.contains("20000"),
            "{err}"
        );
        assert!(raise_to_hard_limit() >= 256);
    }
}
