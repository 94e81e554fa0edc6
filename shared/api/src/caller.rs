//! Who is calling: the persona a request acts as, resolved by `crate::auth::authenticate`
//! before the handler runs (anonymous callers act as `observer_guest`).

use exomaps_domain::persona::Persona;
use uuid::Uuid;

/// How a caller's credential arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    Bearer,
    Cookie,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The active persona.
    pub persona: Persona,
    /// Every persona this caller may switch to.
    pub allowed: Vec<Persona>,
    /// The username of an authenticated caller.
    pub user: Option<String>,
    pub user_id: Option<Uuid>,
    /// The session (refresh-token family) of the access token.
    pub session: Option<Uuid>,
    pub via: Option<Via>,
}

impl Caller {
    pub fn anonymous() -> Caller {
        Caller {
            persona: Persona::ObserverGuest,
            allowed: vec![Persona::ObserverGuest],
            user: None,
            user_id: None,
            session: None,
            via: None,
        }
    }

    pub fn is_authenticated(&self) -> bool {
        self.user_id.is_some()
    }
}
