//! A window of completed runs in slices: how it is cut (`Slicing`), and the run times of the
//! log and the folded tallies in each slice.

use super::folded::Folded;
use super::record::RunRecord;

/// How a window is cut into equal time slices: at most `max` of them, none shorter than
/// `MIN_SLICE_SECS`, nor than a folded tally the window reaches (a tally counts whole, in the
/// slice where it starts).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Slicing {
    pub from: f64,
    pub width: f64,
    pub count: usize,
}

/// The shortest slice of a window: the width the capacity intervals were validated on (see
/// `capacity::interval`).
pub const MIN_SLICE_SECS: f64 = 0.5;

impl Slicing {
    /// `[from, to)` in at most `max` slices, each at least `floor` seconds wide.
    pub fn new(from: f64, to: f64, max: usize, floor: f64) -> Slicing {
        let secs = (to - from).max(1e-9);
        let width = (secs / max.max(1) as f64).max(floor).max(MIN_SLICE_SECS);
        let count = ((secs / width).floor() as usize).max(1);
        Slicing {
            from,
            width: secs / count as f64,
            count,
        }
    }

    /// The slice `at` falls in (the last for the window's end).
    pub fn index(&self, at: f64) -> usize {
        (((at - self.from) / self.width).max(0.0) as usize).min(self.count - 1)
    }

    pub fn end(&self) -> f64 {
        self.from + self.width * self.count as f64
    }
}

/// Completed run times (ms) of `log` and `folded` that ended in `[from, to)`, by slice (at
/// most `max`).
pub(super) fn sliced<'a>(
    logs: impl Iterator<Item = &'a RunRecord>,
    folded: &Folded,
    from: f64,
    to: f64,
    max: usize,
) -> (Slicing, Vec<Vec<f64>>) {
    let reaches_tallies = folded.starting_in(from, to).next().is_some();
    let floor = match reaches_tallies {
        true => f64::from(folded.width),
        false => 0.0,
    };
    let slicing = Slicing::new(from, to, max, floor);
    let mut slices = vec![Vec::new(); slicing.count];
    for r in logs.filter(|r| r.ok && (from..to).contains(&f64::from(r.ended_secs))) {
        slices[slicing.index(f64::from(r.ended_secs))].push(f64::from(r.elapsed_ms));
    }
    for (start, t) in folded.starting_in(from, to) {
        t.push_ms(&mut slices[slicing.index(start)]);
    }
    (slicing, slices)
}
