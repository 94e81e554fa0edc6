//! The eight personas (DOMAIN.md §1.1), in their canonical order.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Persona {
    Admin,
    SimOwner,
    GeneralUser,
    DataCurator,
    ScienceAnalyst,
    OpsEngineer,
    NarrativeDesigner,
    ObserverGuest,
}

impl Persona {
    /// All personas in the order of DOMAIN.md §1.1.
    pub const ALL: [Persona; 8] = [
        Persona::Admin,
        Persona::SimOwner,
        Persona::GeneralUser,
        Persona::DataCurator,
        Persona::ScienceAnalyst,
        Persona::OpsEngineer,
        Persona::NarrativeDesigner,
        Persona::ObserverGuest,
    ];

    /// Position in [`Persona::ALL`] (the column of the permission matrix, DOMAIN.md §1.3).
    pub const fn index(self) -> usize {
        self as usize
    }

    pub fn key(self) -> &'static str {
        match self {
            Persona::Admin => "admin",
            Persona::SimOwner => "sim_owner",
            Persona::GeneralUser => "general_user",
            Persona::DataCurator => "data_curator",
            Persona::ScienceAnalyst => "science_analyst",
            Persona::OpsEngineer => "ops_engineer",
            Persona::NarrativeDesigner => "narrative_designer",
            Persona::ObserverGuest => "observer_guest",
        }
    }

    /// Parses a persona key exactly (no coercion of unknown keys).
    pub fn from_key(key: &str) -> Option<Persona> {
        Persona::ALL.into_iter().find(|p| p.key() == key)
    }

    pub fn label(self) -> &'static str {
        match self {
            Persona::Admin => "Admin",
            Persona::SimOwner => "Sim Owner",
            Persona::GeneralUser => "General User",
            Persona::DataCurator => "Data Curator",
            Persona::ScienceAnalyst => "Science Analyst",
            Persona::OpsEngineer => "Ops Engineer",
            Persona::NarrativeDesigner => "Narrative Designer",
            Persona::ObserverGuest => "Observer Guest",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            Persona::Admin => "Everything: data, simulation and operational settings.",
            Persona::SimOwner => "Owns scenarios, run controls and balancing.",
            Persona::GeneralUser => "Read-only exploration of systems, trends and maps.",
            Persona::DataCurator => "Source quality, quarantine review and provenance.",
            Persona::ScienceAnalyst => "Checks astrophysical assumptions, coordinates and inference plausibility.",
            Persona::OpsEngineer => "Jobs, infrastructure health, cost and deployments.",
            Persona::NarrativeDesigner => "Faction arcs, event framing and campaign presets.",
            Persona::ObserverGuest => "Minimal, public-safe demo view.",
        }
    }

    pub fn menus(self) -> &'static [&'static str] {
        match self {
            Persona::Admin => &["System Health", "Run Pipeline", "Reference Rules", "User Modes", "Audit Logs"],
            Persona::SimOwner => &["Scenario Config", "Simulation Controls", "Timeline", "KPI Dashboard"],
            Persona::GeneralUser => &["Overview", "Star Systems", "Reference Checks"],
            Persona::DataCurator => &["Source Manifest", "Quarantine Queue", "Validation Summary", "Provenance"],
            Persona::ScienceAnalyst => &["Distance Rules", "Coordinate QA", "Inference Diagnostics"],
            Persona::OpsEngineer => &["Run History", "Job Status", "Error Trends", "Cost Monitor"],
            Persona::NarrativeDesigner => &["Faction Context", "Event Seeds", "Campaign Presets"],
            Persona::ObserverGuest => &["Public Overview", "Latest Run Snapshot"],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_and_unknown_keys_are_refused() {
        for p in Persona::ALL {
            assert_eq!(Persona::from_key(p.key()), Some(p));
            assert_eq!(Persona::ALL[p.index()], p);
            assert!(!p.menus().is_empty());
        }
        assert_eq!(Persona::from_key("root"), None);
        assert_eq!(Persona::from_key("Admin"), None);
    }
}
