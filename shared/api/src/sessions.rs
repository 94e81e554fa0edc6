//! The sessions (refresh-token families) this process has heard of: live or revoked, and when
//! that was learnt. `AppState::session_live` asks the database at most every
//! `session_check_ttl` per session; a revocation made here is known at once.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// Most sessions remembered before the old entries are dropped.
const MAX_SESSIONS: usize = 50_000;

#[derive(Default)]
pub struct Sessions {
    known: Mutex<HashMap<Uuid, (bool, Instant)>>,
}

impl Sessions {
    /// What is known of `sid`: live or not, and when that was learnt.
    pub fn get(&self, sid: Uuid) -> Option<(bool, Instant)> {
        self.known.lock().expect("sessions").get(&sid).copied()
    }

    /// Records what the database said of `sid`; past `MAX_SESSIONS`, entries older than `keep`
    /// are dropped first.
    pub fn record(&self, sid: Uuid, live: bool, keep: Duration) {
        let mut known = self.known.lock().expect("sessions");
        if known.len() > MAX_SESSIONS {
            known.retain(|_, (_, at)| at.elapsed() < keep);
        }
        known.insert(sid, (live, Instant::now()));
    }

    /// Remembers a session this process ended.
    pub fn forget(&self, sid: Uuid) {
        self.known.lock().expect("sessions").insert(sid, (false, Instant::now()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_forgotten_session_is_known_revoked() {
        let s = Sessions::default();
        let sid = Uuid::new_v4();
        assert_eq!(s.get(sid), None);
        s.record(sid, true, Duration::from_secs(60));
        assert_eq!(s.get(sid).map(|(live, _)| live), Some(true));
        s.forget(sid);
        assert_eq!(s.get(sid).map(|(live, _)| live), Some(false));
    }
}
