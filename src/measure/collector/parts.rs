//! What each part of the collector holds and does to itself: where the time goes, a mix's
//! scenarios, outages, the last reading, sessions, shed load. The collector's methods over
//! them are in the files beside this one.

pub(super) mod breakdown;
pub(super) mod mix;
pub(super) mod outages;
pub(super) mod reading;
pub(super) mod sessions;
pub(super) mod throttle;
