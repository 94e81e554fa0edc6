//! Source catalogue rows, their ingest contracts and gates (DOMAIN.md §4).
pub mod contract;
pub mod exoplanets;
pub mod hipparcos;
#[cfg(test)]
pub(crate) mod robustness;
pub(crate) mod rows;
pub mod shard;
pub mod simbad;
pub mod starnames;
