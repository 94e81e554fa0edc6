//! The local gateway: the "modular monolith" that mounts every route handler of
//! `exomaps_api::ROUTES` on one port — the same functions the Lambdas run — plus the private
//! PostgreSQL cluster and source discovery used by the one-command local start and the tests.
//!
//! Invariants: no handler logic here (only request/response translation); no route list
//! here (it comes from the route table).

pub mod gateway;
pub mod pg;
pub mod sources;
