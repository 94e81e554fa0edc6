//! The random-input robustness harness every CSV contract's tests share (test builds only):
//! random and CSV-shaped bytes alone and behind a valid header, and every truncation of a
//! valid file. The contract's tests supply their parser, header and the batch's tally.

use crate::catalogue::contract::{FileError, QuarantinedRow};

/// Deterministic pseudo-random bytes (64-bit LCG, Knuth's MMIX constants).
pub(crate) struct Lcg(pub(crate) u64);

impl Lcg {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    pub(crate) fn byte(&mut self) -> u8 {
        self.next() as u8
    }

    /// Biased toward CSV structure (`alphabet`: quotes, separators, line breaks, digits…) so
    /// the parser sees them often; one byte in four is any byte.
    pub(crate) fn csvish_byte(&mut self, alphabet: &[u8]) -> u8 {
        if self.next().is_multiple_of(4) { self.byte() } else { alphabet[(self.next() as usize) % alphabet.len()] }
    }
}

/// What the harness checks of a parsed batch.
pub(crate) struct Tally<'a> {
    pub(crate) total_rows: usize,
    pub(crate) accepted: usize,
    pub(crate) quarantined: &'a [QuarantinedRow],
    pub(crate) duplicate_rows: usize,
}

/// 300 rounds of up to 2 KiB of random bytes (odd rounds CSV-shaped from `alphabet`): `parse`
/// never panics, and behind `BOM + header` the file is always accepted with every record
/// accounted for exactly once, each quarantined row with a reason, duplicates among them.
pub(crate) fn never_panics_on_random_bytes<B, E>(
    seed: u64,
    alphabet: &[u8],
    header: &str,
    parse: impl Fn(&[u8]) -> Result<B, E>,
    tally: impl Fn(&B) -> Tally<'_>,
) where
    E: std::fmt::Debug,
{
    let mut rng = Lcg(seed);
    for round in 0..300 {
        let len = (rng.next() % 2048) as usize;
        let bytes: Vec<u8> =
            (0..len).map(|_| if round % 2 == 0 { rng.byte() } else { rng.csvish_byte(alphabet) }).collect();
        let _ = parse(&bytes);
        let mut with_header = format!("\u{FEFF}{header}").into_bytes();
        with_header.extend_from_slice(&bytes);
        let b = parse(&with_header).expect("a valid header is always accepted");
        let t = tally(&b);
        assert_eq!(t.total_rows, t.accepted + t.quarantined.len(), "round {round}");
        assert!(t.quarantined.iter().all(|q| !q.issues.is_empty()), "round {round}");
        assert!(t.duplicate_rows <= t.quarantined.len(), "round {round}");
    }
}

/// Every prefix of `full` (a valid file whose header, BOM included, is `header_len` bytes):
/// parsed with every record accounted for, or refused as empty / missing columns only while
/// the header is incomplete.
pub(crate) fn never_panics_on_any_truncation<B>(
    full: &[u8],
    header_len: usize,
    parse: impl Fn(&[u8]) -> Result<B, FileError>,
    tally: impl Fn(&B) -> Tally<'_>,
) {
    for end in 0..=full.len() {
        match parse(&full[..end]) {
            Ok(b) => {
                let t = tally(&b);
                assert_eq!(t.total_rows, t.accepted + t.quarantined.len(), "cut at {end}");
            }
            Err(FileError::Empty | FileError::MissingColumns(_)) => {
                assert!(end <= header_len, "header complete at {end} but refused");
            }
            Err(e) => panic!("unexpected error at {end}: {e}"),
        }
    }
}
