//! A platform before any load: the probe (a new platform's start messages, carriers and
//! protocol profile, proposed from its transcripts) and the preflight checks of a deployment.

pub mod preflight;
pub mod probe;
