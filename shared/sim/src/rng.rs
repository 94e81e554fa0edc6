//! Counter-based randomness: every draw is a pure function of (seed, tick, entity, stream, n).
//!
//! The key is SplitMix64-mixed from the four coordinates (no shared generator state), so the
//! order in which entities are visited, how ticks are batched, a replay or a Lambda retry cannot
//! change any draw. Draws are integers only.

const GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// SplitMix64's finaliser (passes BigCrush as a counter-based generator).
#[inline]
pub fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// FNV-1a of a stream name (names are short constants).
pub(crate) const fn name_key(s: &str) -> u64 {
    let b = s.as_bytes();
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < b.len() {
        h ^= b[i] as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
        i += 1;
    }
    h
}

/// The part of a stream's key fixed by (seed, tick): computed once per tick by the engine's
/// per-settlement passes (`Stream::new` = `Stream::keyed(tick_key(seed, tick), entity, name_key(stream))`).
pub(crate) fn tick_key(seed: u64, tick: u64) -> u64 {
    let k = mix(seed ^ 0x5EED_0000_0000_0001);
    mix(k ^ tick.wrapping_mul(GAMMA))
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
        Stream::keyed(tick_key(seed, tick), entity, name_key(stream))
    }

    /// The stream for (a [`tick_key`], entity, a [`name_key`]): the same as [`Stream::new`].
    #[inline]
    pub(crate) fn keyed(tick_key: u64, entity: u64, name_key: u64) -> Stream {
        let k = mix(tick_key ^ entity.wrapping_add(0xE4_0000_0000).wrapping_mul(GAMMA));
        Stream { key: mix(k ^ name_key), n: 0 }
    }

    /// The next 64-bit draw.
    pub fn next_u64(&mut self) -> u64 {
        self.n += 1;
        mix(self.key.wrapping_add(self.n.wrapping_mul(GAMMA)))
    }

    /// Uniform in `0..n` (n > 0), without modulo bias worth speaking of (128-bit multiply).
    pub fn below(&mut self, n: u64) -> u64 {
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    /// True with probability `permille` / 1000.
    pub fn chance_permille(&mut self, permille: u32) -> bool {
        self.below(1000) < permille as u64
    }

    /// True with probability `ppm` / 1,000,000.
    pub fn chance_ppm(&mut self, ppm: u32) -> bool {
        self.below(1_000_000) < ppm as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_pure_functions_of_their_key() {
        let a: Vec<u64> = (0..4).map(|_| 0).scan(Stream::new(7, 3, 11, "launch"), |s, _| Some(s.next_u64())).collect();
        let b: Vec<u64> = (0..4).map(|_| 0).scan(Stream::new(7, 3, 11, "launch"), |s, _| Some(s.next_u64())).collect();
        assert_eq!(a, b);
        for other in [
            Stream::new(8, 3, 11, "launch"),
            Stream::new(7, 4, 11, "launch"),
            Stream::new(7, 3, 12, "launch"),
            Stream::new(7, 3, 11, "events"),
        ] {
            let mut o = other;
            assert_ne!(o.next_u64(), a[0]);
        }
    }

    #[test]
    fn keyed_streams_equal_new_streams() {
        for (seed, tick, entity, name) in [(0, 0, 0, "events"), (7, 3, 11, "split"), (u64::MAX, 99, 5, "launch")] {
            let mut a = Stream::new(seed, tick, entity, name);
            let mut b = Stream::keyed(tick_key(seed, tick), entity, name_key(name));
            for _ in 0..4 {
                assert_eq!(a.next_u64(), b.next_u64());
            }
        }
    }

    #[test]
    fn below_is_roughly_uniform() {
        let mut s = Stream::new(1, 2, 3, "u");
        let mut counts = [0u32; 10];
        for _ in 0..100_000 {
            counts[s.below(10) as usize] += 1;
        }
        for c in counts {
            assert!((9_500..10_500).contains(&c), "{counts:?}");
        }
        let hits = (0..100_000).filter(|_| s.chance_ppm(50_000)).count();
        assert!((4_500..5_500).contains(&hits), "{hits}");
    }
}
