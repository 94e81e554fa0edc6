//! Counter-based randomness: every draw is a pure function of (seed, tick, entity, stream, n).

use sha2::{Digest, Sha256};

const GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// One stream of draws.
#[derive(Debug, Clone)]
pub struct Stream {
    key: u64,
    n: u64,
}

impl Stream {
    /// The stream for (seed, tick, entity, stream name).
    pub fn new(seed: u64, tick: u64, entity: u64, stream: &str) -> Stream {
        let mut h = Sha256::new();
        h.update(seed.to_le_bytes());
        h.update(tick.to_le_bytes());
        h.update(entity.to_le_bytes());
        h.update(stream.as_bytes());
        let d = h.finalize();
        let mut k = [0u8; 8];
        k.copy_from_slice(&d[..8]);
        Stream { key: u64::from_le_bytes(k), n: 0 }
    }

    /// The next 64-bit draw.
    pub fn next_u64(&mut self) -> u64 {
        self.n += 1;
        mix(self.key.wrapping_add(self.n.wrapping_mul(GAMMA)))
    }

    /// True with probability `permille` / 1000.
    pub fn chance_permille(&mut self, permille: u32) -> bool {
        (self.next_u64() % 1000) < permille as u64
    }
}
