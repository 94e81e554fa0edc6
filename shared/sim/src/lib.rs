//! The World Engine model: a deterministic, event-sourced slower-than-light (SFTL) expansion over
//! real star systems. Pure computation: no IO, no clocks, no async, no global state. (The
//! engine reuses per-thread working tables sized to the world between steps; each is reset to
//! neutral after every use, so no result depends on them: `tests/scratch.rs`.)
//!
//! INTERFACE CONTRACT (the service layer codes against these public items; the model behind them
//! may change freely):
//! * [`World::build`] turns observed systems (`SystemInput`, positions in parsecs as served by the
//!   world API) into the engine's fixed-point world, sorted by id; a system is addressed by its
//!   index ([`SysIdx`]) into `World::systems`.
//! * [`Params`] (serde) are the rules; [`Params::scenario`] gives the named presets
//!   ([`SCENARIOS`]).
//! * [`SimState`] (serde) is the whole state; [`SimState::hash`] its canonical SHA-256 (hex).
//! * [`init`] founds the first settlement; [`step`] advances exactly one tick and returns that
//!   tick's events (already applied to the state); [`apply`] applies one event (replay);
//!   [`replay`] folds events onto a snapshot. `step` = decide (the only place randomness is
//!   drawn) + `apply` of each decided event, so replaying the events reproduces the state.
//! * [`observer_view`] answers what an observer at one system can know at a tick.
//!
//! THE MODEL (version [`MODEL_VERSION`]; see `engine` for the order of a tick): settlements grow
//! logistically toward their system's capacity, produce by technology and richness against
//! consumption (DOMAIN.md §7.5 with the §11.6 fixes), trade surplus along routes between
//! settlements that have heard of each other, launch colony ships (DOMAIN.md §7.1 classes) toward
//! targets chosen by distance, habitability and competition among the systems they do not know
//! to be settled or targeted (news travels at c), found colonies on arrival or lose the ship;
//! cohesion falls with distance from the faction's capital until a settlement secedes
//! (`faction.split`, named after its star). Discoveries, breakthroughs, disasters and conflicts
//! come from per-tick rates. Settlements may die (lifetime) and their systems be settled again.
//! Randomness comes only from [`rng::Stream`]s keyed by (seed, tick, entity, stream); the state
//! is integers in ordered maps, so a platform, a batching or a replay cannot change a hash.
//!
//! Also public: [`World::neighbours`], [`lag_ticks`], [`travel_ticks`], [`settleable`],
//! [`Params::from_json`] (scenario files), `SimState::{site_seed, ruins, wakes}`.
//! Changes from the first interface: `SimState::routes` values are [`Route`]s (serialised as a
//! list of `[a, b, route]`, since JSON map keys cannot be pairs); `World` has a private cache,
//! so build it with [`World::build`] (or `Default`); `ObservedSystem` gained `tech_level`.

pub mod engine;
pub mod event;
pub mod params;
pub mod rng;
pub mod state;
pub mod world;

pub use engine::{ObservedSystem, ObserverView, apply, init, observer_view, replay, run, settleable, step};
pub use event::{Event, EventBody};
pub use params::{Params, SCENARIOS};
pub use state::{Faction, Route, Ruin, Settlement, Ship, SimState, Summary};
pub use world::{Neighbours, SysIdx, SystemInput, World, WorldSystem, lag_ticks, travel_ticks};

/// The version of the rules; stored with every simulation and every snapshot.
pub const MODEL_VERSION: &str = "1.0.0";

/// Simulated years per tick (one quarter).
pub const YEARS_PER_TICK: f64 = 0.25;
