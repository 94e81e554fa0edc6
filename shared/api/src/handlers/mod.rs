//! Route handlers: `async fn(AppState, ApiRequest) -> Result<ApiResponse, ApiError>`.
pub mod admin;
pub mod auth;
pub mod health;
pub mod persona;
pub mod rooms;
pub mod runs;
pub mod search;
pub mod sim;
pub mod system;
pub mod world;
