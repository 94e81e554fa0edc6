//! Events: the append-only truth of a simulation. Each carries its tick and its position in the
//! tick (`seq`), and a typed body whose serde form is the envelope's `event` + `payload`
//! (DOMAIN.md §8.3). A body carries everything `apply` needs: applying never draws randomness.

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
    /// The tick's deterministic evolution (economy, trade, growth, technology, cohesion):
    /// applied before the tick's other events.
    #[serde(rename = "tick.advanced")]
    TickAdvanced,
    #[serde(rename = "sim.started")]
    Started { system: SysIdx, population: u64, faction: u32, faction_name: String },
    /// A colony ship leaves `from` for `to`; it arrives at `arrive_tick` = launch tick +
    /// ceil(distance / speed).
    #[serde(rename = "ship.launched")]
    ShipLaunched { ship: u64, from: SysIdx, to: SysIdx, colonists: u64, arrive_tick: u64 },
    #[serde(rename = "colony.founded")]
    ColonyFounded {
        system: SysIdx,
        parent: SysIdx,
        ship: u64,
        population: u64,
        faction: u32,
        /// Whether the new colony will ever launch ships.
        #[serde(default = "yes")]
        colonizer: bool,
    },
    /// A ship that founded nothing: `reason` is `target_settled` (it arrived to find the system
    /// settled: the news had not reached its home before launch) or `lost_in_transit`.
    #[serde(rename = "ship.lost")]
    ShipLost {
        ship: u64,
        to: SysIdx,
        #[serde(default)]
        reason: String,
    },
    #[serde(rename = "trade.route.opened")]
    TradeRouteOpened { from: SysIdx, to: SysIdx },
    /// `reason`: `abandoned` (an end was abandoned) or `conflict`.
    #[serde(rename = "trade.route.closed")]
    TradeRouteClosed { from: SysIdx, to: SysIdx, reason: String },
    /// `systems` (ascending, including the new capital) leave `parent` for the new faction
    /// `child`, whose capital is `capital`.
    #[serde(rename = "faction.split")]
    FactionSplit { parent: u32, child: u32, name: String, capital: SysIdx, systems: Vec<SysIdx> },
    /// Technology + `tech_milli`.
    #[serde(rename = "settlement.discovery")]
    Discovery { system: SysIdx, tech_milli: u32 },
    #[serde(rename = "settlement.tech_breakthrough")]
    TechBreakthrough { system: SysIdx, tech_milli: u32 },
    /// `deaths` people die.
    #[serde(rename = "settlement.disaster")]
    Disaster { system: SysIdx, kind: String, deaths: u64 },
    /// A conflict between trade partners of different factions: `deaths` people die at
    /// `system`, both sides lose `cohesion_loss` per-mille of cohesion, and the route between
    /// them closes (its own `trade.route.closed` event follows).
    #[serde(rename = "settlement.conflict")]
    Conflict { system: SysIdx, other: SysIdx, deaths: u64, cohesion_loss: u16 },
    /// The settlement ends (`reason`: `lifetime` or `depopulated`); the system becomes a ruin.
    #[serde(rename = "settlement.abandoned")]
    Abandoned { system: SysIdx, reason: String },
}

fn yes() -> bool {
    true
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
            EventBody::TradeRouteOpened { .. } => "trade.route.opened",
            EventBody::TradeRouteClosed { .. } => "trade.route.closed",
            EventBody::FactionSplit { .. } => "faction.split",
            EventBody::Discovery { .. } => "settlement.discovery",
            EventBody::TechBreakthrough { .. } => "settlement.tech_breakthrough",
            EventBody::Disaster { .. } => "settlement.disaster",
            EventBody::Conflict { .. } => "settlement.conflict",
            EventBody::Abandoned { .. } => "settlement.abandoned",
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
            EventBody::TradeRouteOpened { from, .. } | EventBody::TradeRouteClosed { from, .. } => Some(*from),
            EventBody::FactionSplit { capital, .. } => Some(*capital),
            EventBody::Discovery { system, .. }
            | EventBody::TechBreakthrough { system, .. }
            | EventBody::Disaster { system, .. }
            | EventBody::Conflict { system, .. }
            | EventBody::Abandoned { system, .. } => Some(*system),
        }
    }
}
