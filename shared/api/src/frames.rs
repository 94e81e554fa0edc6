//! The WebSocket server frames, defined once in `exomaps_wire::frames` (the pipeline's pushes
//! and the API's replies are built from the same types).

pub use exomaps_wire::frames::*;
