//! The inference RNG: a counter-based generator keyed per star and per domain.
//!
//! Key: the first 8 bytes (little-endian) of SHA-256(`world_seed` as 8 little-endian bytes ‖
//! `main_id` (UTF-8) ‖ 0x00 ‖ domain ‖ [0x00 ‖ sub-key]) — DOMAIN.md §6.6 with an explicit
//! separator so `("ab", "c")` and `("a", "bc")` never collide. Draw `n` (0, 1, 2, …) is
//! SplitMix64's finaliser applied to `key + (n + 1) · γ` (γ = 0x9E3779B97F4A7C15), i.e.
//! SplitMix64 used as a counter-based generator: no state beyond the counter, no global RNG,
//! portable bit for bit.

use sha2::{Digest, Sha256};

/// What a stream is for; each domain draws independently of the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Domain {
    Planets,
    Belts,
    Moons,
}

impl Domain {
    pub fn as_str(self) -> &'static str {
        match self {
            Domain::Planets => "planets",
            Domain::Belts => "belts",
            Domain::Moons => "moons",
        }
    }
}

/// The 64-bit key of one stream.
pub fn stream_key(world_seed: u64, main_id: &str, domain: Domain, sub_key: Option<&str>) -> u64 {
    let mut h = Sha256::new();
    h.update(world_seed.to_le_bytes());
    h.update(main_id.as_bytes());
    h.update([0u8]);
    h.update(domain.as_str().as_bytes());
    if let Some(sub) = sub_key {
        h.update([0u8]);
        h.update(sub.as_bytes());
    }
    let digest = h.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_le_bytes(first)
}

const GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A counter-based stream of draws.
#[derive(Debug, Clone)]
pub struct Stream {
    key: u64,
    counter: u64,
}

impl Stream {
    pub fn new(key: u64) -> Stream {
        Stream { key, counter: 0 }
    }

    pub fn for_star(world_seed: u64, main_id: &str, domain: Domain) -> Stream {
        Stream::new(stream_key(world_seed, main_id, domain, None))
    }

    pub fn key(&self) -> u64 {
        self.key
    }

    pub fn next_u64(&mut self) -> u64 {
        self.counter = self.counter.wrapping_add(1);
        mix(self.key.wrapping_add(self.counter.wrapping_mul(GAMMA)))
    }

    /// Uniform in [0, 1) with 53 random bits.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in [lo, hi).
    pub fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    /// Log-uniform in [lo, hi) (both > 0).
    pub fn log_uniform(&mut self, lo: f64, hi: f64) -> f64 {
        (lo.ln() + (hi.ln() - lo.ln()) * self.unit()).exp()
    }

    /// `true` with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// Standard normal (Box–Muller, one value per two draws).
    pub fn normal(&mut self, mean: f64, sd: f64) -> f64 {
        let u1 = 1.0 - self.unit(); // (0, 1]
        let u2 = self.unit();
        mean + sd * (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// Exponential with the given mean.
    pub fn exponential(&mut self, mean: f64) -> f64 {
        -mean * (1.0 - self.unit()).ln()
    }

    /// Poisson (Knuth's method; fine for the small means used here).
    pub fn poisson(&mut self, mean: f64) -> u32 {
        let limit = (-mean).exp();
        let mut k = 0;
        let mut p = 1.0;
        loop {
            p *= self.unit();
            if p <= limit || k >= 64 {
                return k;
            }
            k += 1;
        }
    }

    /// Uniform integer in [lo, hi] (inclusive).
    pub fn int(&mut self, lo: u32, hi: u32) -> u32 {
        if hi <= lo {
            return lo;
        }
        let span = u64::from(hi - lo) + 1;
        lo + (self.next_u64() % span) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_separated_by_seed_star_and_domain() {
        let k = stream_key(42, "Wolf 359", Domain::Planets, None);
        assert_eq!(k, stream_key(42, "Wolf 359", Domain::Planets, None));
        assert_ne!(k, stream_key(43, "Wolf 359", Domain::Planets, None));
        assert_ne!(k, stream_key(42, "Wolf 35", Domain::Planets, None));
        assert_ne!(k, stream_key(42, "Wolf 359", Domain::Belts, None));
        assert_ne!(k, stream_key(42, "Wolf 359", Domain::Moons, None));
        assert_ne!(stream_key(1, "ab", Domain::Moons, Some("c")), stream_key(1, "a", Domain::Moons, Some("bc")));
        assert_ne!(stream_key(1, "x", Domain::Moons, Some("")), stream_key(1, "x", Domain::Moons, None));
    }

    #[test]
    fn key_is_the_first_eight_bytes_of_sha256() {
        let mut h = Sha256::new();
        h.update(7u64.to_le_bytes());
        h.update(b"Sol\0planets");
        let d = h.finalize();
        assert_eq!(stream_key(7, "Sol", Domain::Planets, None), u64::from_le_bytes(d[..8].try_into().unwrap()));
    }

    #[test]
    fn streams_are_reproducible_and_well_spread() {
        let mut a = Stream::new(5);
        let mut b = Stream::new(5);
        let xs: Vec<u64> = (0..100).map(|_| a.next_u64()).collect();
        let ys: Vec<u64> = (0..100).map(|_| b.next_u64()).collect();
        assert_eq!(xs, ys);
        let mut s = Stream::new(99);
        let n = 20_000;
        let draws: Vec<f64> = (0..n).map(|_| s.unit()).collect();
        assert!(draws.iter().all(|u| (0.0..1.0).contains(u)));
        let mean = draws.iter().sum::<f64>() / n as f64;
        assert!((mean - 0.5).abs() < 0.01, "{mean}");
        let below = draws.iter().filter(|u| **u < 0.25).count() as f64 / n as f64;
        assert!((below - 0.25).abs() < 0.015, "{below}");
        let normals: Vec<f64> = (0..n).map(|_| s.normal(2.0, 0.5)).collect();
        let m = normals.iter().sum::<f64>() / n as f64;
        let v = normals.iter().map(|x| (x - m).powi(2)).sum::<f64>() / n as f64;
        assert!((m - 2.0).abs() < 0.02 && (v.sqrt() - 0.5).abs() < 0.02, "{m} {v}");
        let p: f64 = (0..n).map(|_| f64::from(s.poisson(1.5))).sum::<f64>() / n as f64;
        assert!((p - 1.5).abs() < 0.05, "{p}");
        let e: f64 = (0..n).map(|_| s.exponential(0.05)).sum::<f64>() / n as f64;
        assert!((e - 0.05).abs() < 0.003, "{e}");
        for _ in 0..1000 {
            let k = s.int(2, 5);
            assert!((2..=5).contains(&k));
            let l = s.log_uniform(0.1, 10.0);
            assert!((0.1..10.0).contains(&l));
        }
        assert_eq!(s.int(3, 3), 3);
    }
}
