//! `GET /api/persona` (DOMAIN.md §2.2).

use crate::request::{ApiRequest, ApiResponse, ok_json};
use crate::{ApiError, AppState};
use exomaps_domain::persona::Persona;
use serde::Serialize;

#[derive(Serialize)]
struct PersonaInfo {
    label: &'static str,
    description: &'static str,
    menus: &'static [&'static str],
}

#[derive(Serialize)]
struct PersonaRef {
    key: &'static str,
    label: &'static str,
}

#[derive(Serialize)]
struct PersonaView {
    current_persona_key: &'static str,
    current_persona: PersonaInfo,
    /// The personas this caller may switch to, in the order of DOMAIN.md §1.1.
    available_personas: Vec<PersonaRef>,
}

pub async fn get_persona(_state: AppState, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let p = req.caller.persona;
    let available = Persona::ALL
        .into_iter()
        .filter(|q| req.caller.allowed.contains(q))
        .map(|q| PersonaRef { key: q.key(), label: q.label() })
        .collect();
    Ok(ok_json(&PersonaView {
        current_persona_key: p.key(),
        current_persona: PersonaInfo { label: p.label(), description: p.description(), menus: p.menus() },
        available_personas: available,
    }))
}
