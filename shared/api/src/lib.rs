//! ExoMaps HTTP API: every route handler as a plain async function over
//! `(AppState, ApiRequest) -> Result<ApiResponse, ApiError>`, the one route table, the one
//! error envelope. HTTP-agnostic: the Lambda adapter and every function's `main` are the
//! `exomaps-lambda` crate, the local adapter `exomaps-local`.
//!
//! Invariants: handlers never see a framework type (no axum, no lambda_http request) — the
//! adapters (`exomaps-lambda` for Lambda, `exomaps-local` for the gateway) translate at the edge, so a
//! handler behaves identically in both. Handlers build no pools or clients: `AppState` is
//! built once per process. No SQL here (the store owns it).

pub mod access;
pub mod auth;
pub mod cache;
pub mod caller;
pub mod config;
pub mod cors;
pub mod error;
pub mod frames;
pub mod handlers;
pub mod migrate;
pub mod openapi;
pub mod request;
pub mod response;
pub mod route;
pub mod routes;
pub mod secrets;
pub mod sessions;
pub mod state;
pub mod telemetry;
pub mod text;
pub mod ws;

pub use error::ApiError;
pub use request::{ApiRequest, ApiResponse};
pub use routes::{ROUTES, Route, dispatch};
pub use state::AppState;
