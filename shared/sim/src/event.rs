//! Events: the append-only truth of a simulation. Each carries its tick and its position in the
//! tick (`seq`), and a typed body whose serde form is the envelope's `event` + `payload`.

use serde::{Deserialize, Serialize};

use crate::world::SysIdx;

/// One event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// The tick it belongs to (1-based: the first step emits tick 1).
    pub tick: u64,
    /// Position within the tick.
    pub seq: u32,
    pub body: EventBody,
}

/// What happened. `#[serde(tag = "event", content = "payload")]`: `{"event":"colony.founded","payload":{…}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", content = "payload")]
pub enum EventBody {
    /// The tick's deterministic evolution (growth): applied before the tick's other events.
    #[serde(rename = "tick.advanced")]
    TickAdvanced,
    #[serde(rename = "sim.started")]
    Started { system: SysIdx, population: u64, faction: u32, faction_name: String },
    #[serde(rename = "ship.launched")]
    ShipLaunched { ship: u64, from: SysIdx, to: SysIdx, colonists: u64, arrive_tick: u64 },
    #[serde(rename = "colony.founded")]
    ColonyFounded { system: SysIdx, parent: SysIdx, ship: u64, population: u64, faction: u32 },
    #[serde(rename = "ship.lost")]
    ShipLost { ship: u64, to: SysIdx },
}

impl Event {
    /// The envelope's `event` name.
    pub fn kind(&self) -> &'static str {
        match self.body {
            EventBody::TickAdvanced => "tick.advanced",
            EventBody::Started { .. } => "sim.started",
            EventBody::ShipLaunched { .. } => "ship.launched",
            EventBody::ColonyFounded { .. } => "colony.founded",
            EventBody::ShipLost { .. } => "ship.lost",
        }
    }

    /// The system the event happened at, when it has one (the envelope's `location`).
    pub fn location(&self) -> Option<SysIdx> {
        match &self.body {
            EventBody::TickAdvanced => None,
            EventBody::Started { system, .. } => Some(*system),
            EventBody::ShipLaunched { from, .. } => Some(*from),
            EventBody::ColonyFounded { system, .. } => Some(*system),
            EventBody::ShipLost { to, .. } => Some(*to),
        }
    }
}
