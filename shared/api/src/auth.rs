//! Who is calling. Until the identity capability lands (JWT access tokens), every caller is
//! anonymous, and anonymous callers act as `observer_guest`.

use exomaps_domain::persona::Persona;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub persona: Persona,
    pub allowed: Vec<Persona>,
    pub user: Option<String>,
}

impl Caller {
    pub fn anonymous() -> Caller {
        Caller { persona: Persona::ObserverGuest, allowed: vec![Persona::ObserverGuest], user: None }
    }
}

/// Resolves the caller of a request.
pub fn resolve(_headers: &http::HeaderMap) -> Caller {
    Caller::anonymous()
}
