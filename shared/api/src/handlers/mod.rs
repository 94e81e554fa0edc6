//! Route handlers: `async fn(AppState, ApiRequest) -> Result<ApiResponse, ApiError>`.
pub mod health;
pub mod persona;
pub mod runs;
pub mod world;
