//! Fuzz the pipeline message decoder (`exomaps_wire::pipeline::decode` and `run_id_of`, which
//! `exomaps_pipeline::chain` uses): any body on any
//! phase's queue is decoded or refused as poison, never a panic; what is accepted is valid,
//! round-trips, and names the run `run_id_of` (the dead-letter path) finds.
//!
//! Run: `cargo +nightly fuzz run pipeline_messages` (from the repository root).
#![no_main]

use exomaps_wire::pipeline::{Decoded, KickMessage, Phase, decode, run_id_of};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(body) = std::str::from_utf8(data) else { return };
    let run = run_id_of(body);
    for phase in Phase::ALL {
        match decode(phase, body) {
            Ok(Decoded::Kick(kick)) => {
                assert_eq!(phase, Phase::Ingest);
                kick.validate().expect("a decoded kick is valid");
                assert!(!kick.run_name.contains('\0') && kick.sources.iter().all(|s| !s.uri.contains('\0')));
                let again = KickMessage::parse(&serde_json::to_string(&kick).unwrap()).expect("round trip");
                assert_eq!(again, kick);
                if let Some(id) = kick.run_id {
                    assert_eq!(run, Some(id));
                }
            }
            Ok(Decoded::Phase(msg)) => {
                assert_eq!(msg.phase, phase);
                assert_eq!(run, Some(msg.run_id));
            }
            Ok(Decoded::Shard(msg)) => {
                assert_eq!((phase, msg.phase), (Phase::Ingest, Phase::Ingest));
                assert_eq!(run, Some(msg.run_id));
                assert!(!msg.shard.source.is_empty() && !msg.shard.source.contains('\0'));
            }
            Err(_) => {}
        }
    }
});
