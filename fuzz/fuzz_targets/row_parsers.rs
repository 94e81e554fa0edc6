//! Fuzz the catalogue row parsers (and the other byte-level decoders of the domain):
//! arbitrary bytes must never panic, and an accepted file must account for every row once.
//!
//! Run: `cargo +nightly fuzz run row_parsers` (from the repository root).
#![no_main]

use exomaps_domain::asset;
use exomaps_domain::catalogue::{exoplanets, simbad};
use exomaps_domain::spectral;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(b) = simbad::parse(data) {
        assert_eq!(b.total_rows, b.accepted.len() + b.quarantined.len());
        assert!(b.quarantined.iter().all(|q| !q.issues.is_empty()));
        assert!(b.duplicate_rows <= b.quarantined.len());
    }
    if let Ok(b) = exoplanets::parse(data) {
        assert_eq!(b.total_rows, b.accepted.len() + b.quarantined.len());
        assert!(b.quarantined.iter().all(|q| !q.issues.is_empty()));
        assert!(b.duplicate_rows <= b.quarantined.len());
    }
    // Behind a valid header every record reaches the row checks.
    let mut with_header = b"star_name,ra,dec,star_alternate_names,planet_name,mass,star_sp_type\n".to_vec();
    with_header.extend_from_slice(data);
    let b = exoplanets::parse(&with_header).expect("valid header");
    assert_eq!(b.total_rows, b.accepted.len() + b.quarantined.len());
    for r in &b.accepted {
        if let Some(t) = r.star_sp_type.as_deref() {
            let _ = spectral::parse(t);
        }
    }
    let _ = spectral::parse(&String::from_utf8_lossy(data));
    let _ = asset::decode_bundle(data);
    let _ = asset::decode_map(data);
});
