//! The World Engine model: a deterministic, event-sourced slower-than-light (SFTL) expansion over
//! real star systems. Pure computation: no IO, no clocks, no async, no global state.
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

pub mod engine;
pub mod event;
pub mod params;
pub mod rng;
pub mod state;
pub mod world;

pub use engine::{ObservedSystem, ObserverView, apply, init, observer_view, replay, run, step};
pub use event::{Event, EventBody};
pub use params::{Params, SCENARIOS};
pub use state::{Faction, Settlement, Ship, SimState, Summary};
pub use world::{SysIdx, SystemInput, World, WorldSystem};

/// The version of the rules; stored with every simulation and every snapshot.
pub const MODEL_VERSION: &str = "1.0.0";

/// Simulated years per tick (one quarter).
pub const YEARS_PER_TICK: f64 = 0.25;
