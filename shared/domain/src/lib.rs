//! The ExoMaps domain: pure, deterministic computation.
//!
//! Invariants (stated as absences): no IO, no async, no SQL, no HTTP, no clocks, no global
//! state. Every function here is a function of its arguments. Callers (pipeline, api) bring
//! the bytes in and take the results out.

pub mod asset;
pub mod build_input;
pub mod canon;
pub mod catalogue;
pub mod coords;
pub mod hex;
pub mod inference;
pub mod names;
pub mod persona;
pub mod reference;
pub mod spectral;
pub mod units;
