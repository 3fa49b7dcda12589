//! A pass held on for what it stands for: until its hold carries its rate
//! (`carried_short`), and near the knee while the sessions' slow swing takes more off it than
//! the search resolves (`swing_short`).

use super::tests::{hold, look, open_expect, steadiness};
use super::*;
use crate::model::hold::Steadiness;

#[test]
fn a_pass_whose_hold_carried_short_of_its_rate_is_held_on_until_it_carries_it() {
    // 4.27/s, steady, shown within; its hold carried 3.95/s (92.5%): a pass standing for
    // less than it asked. Over 30 s its arrivals swing ±~10%: 7.5% short is past half that.
    let h = hold((12.0, 12.0), (146.0, 148.0), 23.65, 23.6, (600.0, 640.0));
    let s = steadiness(&h, &open_expect(4.27, 5.5));
    let sd = s.offered_sd.unwrap();
    assert!(s.steady && sd > 0.02, "{s:?}");
    let carrying = |carried: f64, held: f64| Look {
        next: 10.0,
        min_pass: 30.0,
        carried: Some(carried),
        ..look(&s, &Shown::Within, held, 130.0)
    };
    let short = 1.0 - 1.5 * CARRIED_SIGMAS * sd;
    match decide(&carrying(short, 30.0)) {
        Decision::Extend(why) => assert!(why.contains("carried"), "{why}"),
        other => panic!("{other:?}"),
    }
    // Carrying its rate within the noise allowed, or more than it: passed at once.
    assert_eq!(
        decide(&carrying(1.0 - 0.5 * CARRIED_SIGMAS * sd, 30.0)),
        Decision::Judge
    );
    assert_eq!(decide(&carrying(1.04, 30.0)), Decision::Judge);
    // No room left: the pass stands, for what it carried.
    assert_eq!(decide(&carrying(short, 125.0)), Decision::Judge);
    // Nor when a rest of the hold carrying its full rate could not lift it enough: 60% after
    // 60 s of 130 ends at 82% at best.
    assert_eq!(decide(&carrying(0.6, 60.0)), Decision::Judge);
    // Falling to its level (a queue draining, its run times only falling): the same.
    let falling = Look {
        approach: Approach::Falling,
        ..carrying(short, 30.0)
    };
    assert!(matches!(decide(&falling), Decision::Extend(_)));
    // Only a pass is held on for its credit: a hold shown over the SLA fails as it did.
    let over = Shown::Over("agent run p95: 1,180–1,240 ms > 1,000 ms".into());
    let failing = Look {
        shown: &over,
        ..carrying(short, 30.0)
    };
    assert_eq!(decide(&failing), Decision::Judge);
}

#[test]
fn a_pass_near_the_knee_is_held_on_while_the_sessions_swing_takes_more_than_the_resolution() {
    // An open search at a few runs a second: 1.864/s, sessions of ~6.8 s, resolution 0.1/s
    // (5.4% of its rate, under `SWING_TOLERATED`), at most 180 s held. After 35 s the swing
    // takes 12.3% off.
    let at_rate = |rate: f64, held: f64, session: f64| Steadiness {
        steady: true,
        slow_sd: slow_swing(rate, session, held),
        session_secs: Some(session),
        ..Default::default()
    };
    let at = |held: f64, session: f64| at_rate(1.864, held, session);
    let resolution = 0.1 / 1.864;
    let knee = |st: &Steadiness, held: f64, knee: Option<f64>| {
        decide(&Look {
            next: 5.0,
            min_pass: 5.0,
            knee_resolution: knee,
            ..look(st, &Shown::Within, held, 180.0)
        })
    };
    let early = at(35.0, 6.8);
    assert!(MIXTURE_SIGMAS * early.slow_sd.unwrap() > 0.11, "{early:?}");
    match knee(&early, 35.0, Some(resolution)) {
        Decision::Extend(why) => assert!(why.contains("12.3% off"), "{why}"),
        other => panic!("{other:?}"),
    }
    // No failure above it yet (on the ladder): passed as it stands.
    assert_eq!(knee(&early, 35.0, None), Decision::Judge);
    // A coarser search: the swing's share is within its resolution.
    assert_eq!(knee(&early, 35.0, Some(0.13)), Decision::Judge);
    // A finer one (the short-think search: 32/s, sessions of 3.6 s, resolution 1/s): held on
    // while the swing takes more than `SWING_TOLERATED` off, not down to its resolution.
    let tolerated = at_rate(32.0, 15.0, 3.6);
    let off = MIXTURE_SIGMAS * tolerated.slow_sd.unwrap();
    assert!(off < SWING_TOLERATED && off > 1.0 / 32.0, "{off}");
    assert_eq!(knee(&tolerated, 15.0, Some(1.0 / 32.0)), Decision::Judge);
    let short = at_rate(32.0, 8.0, 3.6);
    assert!(matches!(
        knee(&short, 8.0, Some(1.0 / 32.0)),
        Decision::Extend(_)
    ));
    // Still over `SWING_TOLERATED` at 120 s, with room for a look: held on. With no room
    // left it stands; past 165 s the swing takes less than 6% off: it ends.
    let late = at(120.0, 6.8);
    assert!(MIXTURE_SIGMAS * late.slow_sd.unwrap() > SWING_TOLERATED);
    assert!(matches!(
        knee(&late, 120.0, Some(resolution)),
        Decision::Extend(_)
    ));
    let no_room = Look {
        next: 5.0,
        knee_resolution: Some(resolution),
        ..look(&late, &Shown::Within, 120.0, 122.0)
    };
    assert_eq!(decide(&no_room), Decision::Judge);
    assert_eq!(
        knee(&at(170.0, 6.8), 170.0, Some(resolution)),
        Decision::Judge
    );
    // Sessions of ~2 min: a hold to 180 s sees one state of them however long it is; holding
    // on would not shrink the swing.
    let long = at_rate(1.0, 35.0, 118.0);
    assert!(
        MIXTURE_SIGMAS * long.slow_sd.unwrap() > SWING_TOLERATED,
        "{long:?}"
    );
    assert_eq!(knee(&long, 35.0, Some(0.02)), Decision::Judge);
    // Only a pass is held on: a hold shown over the SLA fails as it did.
    let over = Shown::Over("agent run p95: 2.4–5.3 s > 2,000 ms".into());
    let failing = Look {
        knee_resolution: Some(resolution),
        ..look(&early, &over, 35.0, 180.0)
    };
    assert_eq!(decide(&failing), Decision::Judge);
}
