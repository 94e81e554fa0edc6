//! The pure wire decoders of ExoMaps (issue 9): what arrives from a queue or a WebSocket client
//! is decoded here, without IO, so the fuzz targets in `fuzz/` link only this crate and
//! `exomaps-domain`. `exomaps-pipeline` and `exomaps-api` re-export these types and wrap the
//! errors into their own.

#![forbid(unsafe_code)]

pub mod frames;
pub mod pipeline;
pub mod text;
pub mod ws;
