//! One plan over N processes: `--shard I/N` runs shard I's share of every stage's users.
//! Shares differ by at most one and add up to the plan's figure; user numbers interleave
//! (shard I's local user k is user `k·N + I` of the whole test), so identities never collide
//! across shards and cover 0..users with no gap.

use std::fmt;

/// Shard `index` of `count` (indexes start at 0, as a Kubernetes Indexed Job's
/// `JOB_COMPLETION_INDEX` does).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl Shard {
    /// The whole test in one process.
    pub const WHOLE: Shard = Shard { index: 0, count: 1 };

    pub fn new(index: usize, count: usize) -> Result<Shard, String> {
        if count == 0 {
            return Err("a test has at least 1 shard".into());
        }
        if index >= count {
            return Err(format!(
                "shard index {index} is out of range for {count} shards (indexes start at 0, \
                 as JOB_COMPLETION_INDEX does: 0..{})",
                count - 1
            ));
        }
        Ok(Shard { index, count })
    }

    /// `I/N`, e.g. `0/3`.
    pub fn parse(text: &str) -> Result<Shard, String> {
        let bad = || format!("`{text}` is not a shard: write I/N, e.g. 0/3 (the first of 3)");
        let (i, n) = text.trim().split_once('/').ok_or_else(bad)?;
        let i: usize = i.trim().parse().map_err(|_| bad())?;
        let n: usize = n.trim().parse().map_err(|_| bad())?;
        Shard::new(i, n)
    }

    /// This shard's share of `users`: `users / N`, plus one for the first `users % N` shards.
    pub fn share(&self, users: usize) -> usize {
        users / self.count + usize::from(self.index < users % self.count)
    }

    /// The test-wide number of this shard's local user `local`.
    pub fn global_user(&self, local: usize) -> usize {
        local * self.count + self.index
    }

    pub fn is_whole(&self) -> bool {
        self.count == 1
    }
}

impl Default for Shard {
    fn default() -> Self {
        Shard::WHOLE
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_add_up_and_differ_by_at_most_one() {
        for users in [0, 1, 2, 7, 10, 999, 10_000] {
            for count in 1..=7 {
                let shares: Vec<usize> = (0..count)
                    .map(|i| Shard::new(i, count).unwrap().share(users))
                    .collect();
                assert_eq!(shares.iter().sum::<usize>(), users, "{users} over {count}");
                let (lo, hi) = (shares.iter().min().unwrap(), shares.iter().max().unwrap());
                assert!(hi - lo <= 1, "{shares:?}");
            }
        }
    }

    #[test]
    fn user_numbers_never_collide_and_leave_no_gap() {
        let users = 10;
        let mut seen: Vec<usize> = (0..3)
            .flat_map(|i| {
                let s = Shard::new(i, 3).unwrap();
                (0..s.share(users)).map(move |k| s.global_user(k))
            })
            .collect();
        seen.sort();
        assert_eq!(seen, (0..users).collect::<Vec<_>>());
    }

    #[test]
    fn parse_names_the_problem() {
        assert_eq!(Shard::parse("2/3").unwrap(), Shard { index: 2, count: 3 });
        assert!(Shard::parse("3/3").unwrap_err().contains("out of range"));
        assert!(Shard::parse("1-3").unwrap_err().contains("write I/N"));
        assert!(Shard::parse("0/0").unwrap_err().contains("at least 1"));
        assert_eq!(Shard::WHOLE.global_user(5), 5);
    }
}
