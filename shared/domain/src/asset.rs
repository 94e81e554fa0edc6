//! The compact map asset for the SPA (issue 3, item 6): every system of a world build in one
//! versioned little-endian columnar binary. The format is specified in `docs/map-asset.md`;
//! this module is its reference encoder and decoder.
//!
//! Layout (all integers and floats little-endian; no padding):
//!
//! ```text
//! magic "EXMP" | u16 version = 1 | u16 reserved = 0 | u32 count | u64 world_build_id
//! f32 x[count] | f32 y[count] | f32 z[count]          (pc, ICRS, heliocentric)
//! f32 distance_ly[count]
//! u8 class_code[count]                                 (index into "OBAFGKMLTYD", 255 unknown)
//! u8 multiplicity[count]
//! u16 observed_planets[count] | u16 inferred_planets[count]
//! u8 flags[count]                                      (bit0 observed planets, bit1 inferred
//!                                                       planets, bit2 curated, bit3 HZ planet)
//! u32 name_bytes | UTF-8 names joined by '\n'          (main_id per system, in order)
//! u32 alias_bytes | UTF-8 lines "index\talias" joined by '\n'
//! ```
//!
//! Since issue 12 the alias block holds only each system's display name (`NAME Vega`): the
//! other names (tens of thousands) are searched through `GET /api/search`.

use crate::canon::{CanonStar, Provenance};
use crate::coords::Icrs;
use crate::inference::SystemInference;
use crate::spectral::SpectralClass;
use serde::Serialize;
use std::fmt;

pub const MAGIC: [u8; 4] = *b"EXMP";
pub const VERSION: u16 = 1;
/// Bytes before the first column.
pub const HEADER_BYTES: usize = 4 + 2 + 2 + 4 + 8;
/// Fixed-width bytes per system (the columns).
pub const BYTES_PER_SYSTEM: usize = 4 * 4 + 1 + 1 + 2 + 2 + 1;
/// `class_code` of a system without a class.
pub const CLASS_UNKNOWN: u8 = 255;

pub const FLAG_OBSERVED_PLANETS: u8 = 1 << 0;
pub const FLAG_INFERRED_PLANETS: u8 = 1 << 1;
pub const FLAG_CURATED: u8 = 1 << 2;
pub const FLAG_HZ_PLANET: u8 = 1 << 3;

/// One system on the map.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AssetSystem {
    pub main_id: String,
    pub x_pc: f32,
    pub y_pc: f32,
    pub z_pc: f32,
    pub distance_ly: f32,
    pub class: Option<SpectralClass>,
    pub multiplicity: u8,
    pub observed_planets: u16,
    pub inferred_planets: u16,
    pub curated: bool,
    /// Some planet (observed or inferred) lies in the habitable zone.
    pub hz_planet: bool,
    /// Search aliases (the main_id need not be repeated). Tabs and newlines are replaced by
    /// spaces when encoded.
    pub aliases: Vec<String>,
}

impl AssetSystem {
    /// The `flags` byte. The two planet bits follow the counts.
    pub fn flags(&self) -> u8 {
        let mut f = 0;
        if self.observed_planets > 0 {
            f |= FLAG_OBSERVED_PLANETS;
        }
        if self.inferred_planets > 0 {
            f |= FLAG_INFERRED_PLANETS;
        }
        if self.curated {
            f |= FLAG_CURATED;
        }
        if self.hz_planet {
            f |= FLAG_HZ_PLANET;
        }
        f
    }

    pub fn class_code(&self) -> u8 {
        self.class.map_or(CLASS_UNKNOWN, SpectralClass::code)
    }
}

impl AssetSystem {
    /// The map entry of a canonical star and (optionally) its inference; `None` when the star
    /// cannot be placed (no position or distance). Aliases exclude the main_id.
    pub fn from_canon(star: &CanonStar, inference: Option<&SystemInference>) -> Option<AssetSystem> {
        let (ra, dec, d) = (star.ra_deg?, star.dec_deg?, star.distance_pc?);
        let p = Icrs::from_spherical(ra, dec, d);
        let hz_observed = inference.is_some_and(|inf| {
            let hz = &inf.habitable_zone;
            inf.observed_zones
                .iter()
                .any(|z| (hz.conservative_inner_au..=hz.conservative_outer_au).contains(&z.orbit.a_au))
        });
        let inferred = inference.map_or(0, |i| i.planets.len());
        let main_key = crate::names::alias_key(&star.main_id);
        Some(AssetSystem {
            main_id: star.main_id.clone(),
            x_pc: p.x_pc as f32,
            y_pc: p.y_pc as f32,
            z_pc: p.z_pc as f32,
            distance_ly: p.distance_ly() as f32,
            class: star.spectral_class,
            multiplicity: star.multiplicity,
            observed_planets: u16::try_from(star.planets.len()).unwrap_or(u16::MAX),
            inferred_planets: u16::try_from(inferred).unwrap_or(u16::MAX),
            curated: star.provenance == Provenance::Curated,
            hz_planet: hz_observed || inference.is_some_and(|i| i.planets.iter().any(|p| p.in_hz)),
            // Issue 12: every other name is served by `GET /api/search`; the asset carries only
            // the display name (as `NAME …`, the form the map reads display names from).
            aliases: star
                .display_name
                .as_deref()
                .filter(|d| crate::names::alias_key(d) != main_key)
                .map(|d| vec![format!("NAME {d}")])
                .unwrap_or_default(),
        })
    }
}

/// A decoded asset.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodedAsset {
    pub version: u16,
    pub world_build_id: u64,
    pub systems: Vec<DecodedSystem>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DecodedSystem {
    pub main_id: String,
    pub x_pc: f32,
    pub y_pc: f32,
    pub z_pc: f32,
    pub distance_ly: f32,
    pub class_code: u8,
    pub multiplicity: u8,
    pub observed_planets: u16,
    pub inferred_planets: u16,
    pub flags: u8,
    pub aliases: Vec<String>,
}

/// Why bytes are not a valid asset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AssetError {
    BadMagic,
    UnsupportedVersion(u16),
    /// The bytes end before `what`.
    Truncated(&'static str),
    /// Bytes after the alias block.
    TrailingBytes(usize),
    InvalidUtf8(&'static str),
    /// The name block does not hold exactly `count` names.
    NameCount {
        expected: usize,
        found: usize,
    },
    /// An alias line is not `index\talias` with an index below `count`.
    BadAliasLine(usize),
}

impl fmt::Display for AssetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AssetError::BadMagic => f.write_str("not a map asset (magic is not EXMP)"),
            AssetError::UnsupportedVersion(v) => write!(f, "unsupported map asset version {v}"),
            AssetError::Truncated(what) => write!(f, "map asset truncated in {what}"),
            AssetError::TrailingBytes(n) => write!(f, "{n} bytes after the alias block"),
            AssetError::InvalidUtf8(what) => write!(f, "{what} are not UTF-8"),
            AssetError::NameCount { expected, found } => write!(f, "{found} names for {expected} systems"),
            AssetError::BadAliasLine(i) => write!(f, "alias line {i} is not index<TAB>alias"),
        }
    }
}

impl std::error::Error for AssetError {}

/// One line of text for the name/alias blocks: no `\n` (separator) and no `\t`.
fn clean(s: &str) -> String {
    s.replace(['\n', '\r', '\t'], " ")
}

/// Encode `systems` (in the given order) for a world build.
///
/// Panics only if `systems.len()` or a text block exceeds `u32::MAX` (far beyond any map).
pub fn encode(systems: &[AssetSystem], world_build_id: u64) -> Vec<u8> {
    let count = u32::try_from(systems.len()).expect("at most u32::MAX systems");
    let names = systems.iter().map(|s| clean(&s.main_id)).collect::<Vec<_>>().join("\n");
    let mut aliases = String::new();
    for (i, s) in systems.iter().enumerate() {
        for a in &s.aliases {
            let a = clean(a);
            if a.is_empty() {
                continue;
            }
            if !aliases.is_empty() {
                aliases.push('\n');
            }
            aliases.push_str(&i.to_string());
            aliases.push('\t');
            aliases.push_str(&a);
        }
    }
    let mut out = Vec::with_capacity(HEADER_BYTES + systems.len() * BYTES_PER_SYSTEM + 8 + names.len() + aliases.len());
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&count.to_le_bytes());
    out.extend_from_slice(&world_build_id.to_le_bytes());
    for col in
        [|s: &AssetSystem| s.x_pc, |s: &AssetSystem| s.y_pc, |s: &AssetSystem| s.z_pc, |s: &AssetSystem| s.distance_ly]
    {
        for s in systems {
            out.extend_from_slice(&col(s).to_le_bytes());
        }
    }
    out.extend(systems.iter().map(AssetSystem::class_code));
    out.extend(systems.iter().map(|s| s.multiplicity));
    for s in systems {
        out.extend_from_slice(&s.observed_planets.to_le_bytes());
    }
    for s in systems {
        out.extend_from_slice(&s.inferred_planets.to_le_bytes());
    }
    out.extend(systems.iter().map(AssetSystem::flags));
    for block in [names, aliases] {
        let len = u32::try_from(block.len()).expect("text block under 4 GiB");
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(block.as_bytes());
    }
    out
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], AssetError> {
        let end = self.pos.checked_add(n).filter(|e| *e <= self.bytes.len()).ok_or(AssetError::Truncated(what))?;
        let s = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(s)
    }
    fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], AssetError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N, what)?);
        Ok(a)
    }
    fn column<const N: usize, T>(
        &mut self,
        count: usize,
        what: &'static str,
        f: fn([u8; N]) -> T,
    ) -> Result<Vec<T>, AssetError> {
        let raw = self.take(count.checked_mul(N).ok_or(AssetError::Truncated(what))?, what)?;
        Ok(raw.chunks_exact(N).map(|c| f(c.try_into().unwrap_or([0; N]))).collect())
    }
    fn text(&mut self, what: &'static str) -> Result<&'a str, AssetError> {
        let len = u32::from_le_bytes(self.array(what)?) as usize;
        std::str::from_utf8(self.take(len, what)?).map_err(|_| AssetError::InvalidUtf8(what))
    }
}

/// Decode and validate an asset. Never panics, whatever the bytes.
pub fn decode(bytes: &[u8]) -> Result<DecodedAsset, AssetError> {
    let mut r = Reader { bytes, pos: 0 };
    if r.array::<4>("header")? != MAGIC {
        return Err(AssetError::BadMagic);
    }
    let version = u16::from_le_bytes(r.array("header")?);
    if version != VERSION {
        return Err(AssetError::UnsupportedVersion(version));
    }
    let _reserved = r.array::<2>("header")?;
    let count = u32::from_le_bytes(r.array("header")?) as usize;
    let world_build_id = u64::from_le_bytes(r.array("header")?);
    let x = r.column(count, "x", f32::from_le_bytes)?;
    let y = r.column(count, "y", f32::from_le_bytes)?;
    let z = r.column(count, "z", f32::from_le_bytes)?;
    let d = r.column(count, "distance_ly", f32::from_le_bytes)?;
    let class = r.column(count, "class_code", |b: [u8; 1]| b[0])?;
    let mult = r.column(count, "multiplicity", |b: [u8; 1]| b[0])?;
    let obs = r.column(count, "observed_planets", u16::from_le_bytes)?;
    let inf = r.column(count, "inferred_planets", u16::from_le_bytes)?;
    let flags = r.column(count, "flags", |b: [u8; 1]| b[0])?;
    let names_block = r.text("names")?;
    let names: Vec<&str> =
        if count == 0 && names_block.is_empty() { Vec::new() } else { names_block.split('\n').collect() };
    if names.len() != count {
        return Err(AssetError::NameCount { expected: count, found: names.len() });
    }
    let alias_block = r.text("aliases")?;
    if r.pos != bytes.len() {
        return Err(AssetError::TrailingBytes(bytes.len() - r.pos));
    }
    let mut aliases: Vec<Vec<String>> = vec![Vec::new(); count];
    if !alias_block.is_empty() {
        for (line_no, line) in alias_block.split('\n').enumerate() {
            let (idx, alias) = line.split_once('\t').ok_or(AssetError::BadAliasLine(line_no))?;
            let i: usize = idx.parse().map_err(|_| AssetError::BadAliasLine(line_no))?;
            aliases.get_mut(i).ok_or(AssetError::BadAliasLine(line_no))?.push(alias.to_string());
        }
    }
    let systems = (0..count)
        .map(|i| DecodedSystem {
            main_id: names[i].to_string(),
            x_pc: x[i],
            y_pc: y[i],
            z_pc: z[i],
            distance_ly: d[i],
            class_code: class[i],
            multiplicity: mult[i],
            observed_planets: obs[i],
            inferred_planets: inf[i],
            flags: flags[i],
            aliases: std::mem::take(&mut aliases[i]),
        })
        .collect();
    Ok(DecodedAsset { version, world_build_id, systems })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sys(i: usize) -> AssetSystem {
        let class = SpectralClass::from_code((i % 12) as u8);
        AssetSystem {
            main_id: format!("GJ {}", 1000 + i),
            x_pc: (i as f32 * 0.37).sin() * 30.0,
            y_pc: (i as f32 * 0.11).cos() * 30.0,
            z_pc: (i as f32 * 0.05).sin() * 30.0,
            distance_ly: (i % 100) as f32,
            class,
            multiplicity: 1 + (i % 3) as u8,
            observed_planets: u16::from(i.is_multiple_of(4)) * 2,
            inferred_planets: (i % 3) as u16,
            curated: i.is_multiple_of(50),
            hz_planet: i.is_multiple_of(7),
            aliases: vec![format!("HIP {}", 50_000 + i), format!("LHS {i}")],
        }
    }

    fn synthetic(n: usize) -> Vec<AssetSystem> {
        (0..n).map(sys).collect()
    }

    #[test]
    fn header_layout_is_exact() {
        let bytes = encode(&synthetic(3), 0x0102_0304_0506_0708);
        assert_eq!(&bytes[0..4], b"EXMP");
        assert_eq!(&bytes[4..6], &[1, 0]);
        assert_eq!(&bytes[6..8], &[0, 0]);
        assert_eq!(&bytes[8..12], &[3, 0, 0, 0]);
        assert_eq!(&bytes[12..20], &[8, 7, 6, 5, 4, 3, 2, 1]);
        // Column x starts right after the header; class codes after four f32 columns.
        assert_eq!(&bytes[20..24], &synthetic(1)[0].x_pc.to_le_bytes());
        assert_eq!(bytes[HEADER_BYTES + 3 * 16], 0, "class of system 0 = O = 0");
        let names_at = HEADER_BYTES + 3 * BYTES_PER_SYSTEM;
        let names_len = u32::from_le_bytes(bytes[names_at..names_at + 4].try_into().unwrap()) as usize;
        assert_eq!(&bytes[names_at + 4..names_at + 4 + names_len], b"GJ 1000\nGJ 1001\nGJ 1002");
        let aliases_at = names_at + 4 + names_len;
        let alias_len = u32::from_le_bytes(bytes[aliases_at..aliases_at + 4].try_into().unwrap()) as usize;
        assert_eq!(aliases_at + 4 + alias_len, bytes.len());
        assert!(
            std::str::from_utf8(&bytes[aliases_at + 4..]).unwrap().starts_with("0\tHIP 50000\n0\tLHS 0\n1\tHIP 50001")
        );
    }

    #[test]
    fn the_documented_example_byte_for_byte() {
        let sol = AssetSystem {
            main_id: "Sol".into(),
            x_pc: 0.0,
            y_pc: 0.0,
            z_pc: 0.0,
            distance_ly: 0.0,
            class: Some(SpectralClass::G),
            multiplicity: 1,
            observed_planets: 8,
            inferred_planets: 0,
            curated: true,
            hz_planet: false,
            aliases: vec![],
        };
        let mut want = vec![0x45, 0x58, 0x4D, 0x50, 1, 0, 0, 0, 1, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0];
        want.extend([0u8; 16]);
        want.extend([4, 1, 8, 0, 0, 0, 5]);
        want.extend([3, 0, 0, 0, b'S', b'o', b'l']);
        want.extend([0, 0, 0, 0]);
        assert_eq!(encode(&[sol], 7), want);
    }

    #[test]
    fn round_trip() {
        let systems = synthetic(500);
        let out = decode(&encode(&systems, 77)).unwrap();
        assert_eq!((out.version, out.world_build_id, out.systems.len()), (1, 77, 500));
        for (a, b) in systems.iter().zip(&out.systems) {
            assert_eq!(a.main_id, b.main_id);
            assert_eq!((a.x_pc, a.y_pc, a.z_pc, a.distance_ly), (b.x_pc, b.y_pc, b.z_pc, b.distance_ly));
            assert_eq!((a.class_code(), a.multiplicity, a.flags()), (b.class_code, b.multiplicity, b.flags));
            assert_eq!((a.observed_planets, a.inferred_planets), (b.observed_planets, b.inferred_planets));
            assert_eq!(a.aliases, b.aliases);
        }
        assert_eq!(out.systems[11].class_code, CLASS_UNKNOWN);
        assert_eq!(out.systems[10].class_code, SpectralClass::D.code());
    }

    #[test]
    fn flags_and_text_cleaning() {
        let mut s = sys(0);
        s.observed_planets = 1;
        s.inferred_planets = 0;
        s.curated = true;
        s.hz_planet = true;
        assert_eq!(s.flags(), 0b1101);
        s.main_id = "Tab\tand\nnewline".into();
        s.aliases = vec!["".into(), "a\tb".into()];
        let out = decode(&encode(&[s], 1)).unwrap();
        assert_eq!(out.systems[0].main_id, "Tab and newline");
        assert_eq!(out.systems[0].aliases, ["a b"]);
        let empty = decode(&encode(&[], 9)).unwrap();
        assert!(empty.systems.is_empty());
        assert_eq!(encode(&[], 9).len(), HEADER_BYTES + 8);
    }

    #[test]
    fn decode_rejects_bad_bytes_without_panicking() {
        let good = encode(&synthetic(20), 5);
        assert_eq!(decode(b"NOPE"), Err(AssetError::BadMagic));
        let mut v2 = good.clone();
        v2[4] = 2;
        assert_eq!(decode(&v2), Err(AssetError::UnsupportedVersion(2)));
        for end in 0..good.len() {
            assert!(decode(&good[..end]).is_err(), "truncated at {end}");
        }
        let mut trailing = good.clone();
        trailing.push(0);
        assert_eq!(decode(&trailing), Err(AssetError::TrailingBytes(1)));
        let mut huge = good.clone();
        huge[8..12].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(matches!(decode(&huge), Err(AssetError::Truncated(_))));
        // Random bytes after a valid header prefix.
        let mut x: u64 = 1;
        for _ in 0..500 {
            let mut b = good[..20].to_vec();
            for _ in 0..(x % 300) {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                b.push((x >> 33) as u8);
            }
            let _ = decode(&b);
        }
        assert_eq!(AssetError::NameCount { expected: 2, found: 1 }.to_string(), "1 names for 2 systems");
    }

    #[test]
    fn eleven_thousand_systems_stay_far_below_six_megabytes() {
        let systems = synthetic(11_000);
        let bytes = encode(&systems, 1);
        let fixed = HEADER_BYTES + 11_000 * BYTES_PER_SYSTEM;
        eprintln!("11,000 systems: {} bytes ({} fixed columns + text)", bytes.len(), fixed);
        assert_eq!(BYTES_PER_SYSTEM, 23);
        assert!(bytes.len() < 1_000_000, "{}", bytes.len());
        assert_eq!(decode(&bytes).unwrap().systems.len(), 11_000);
    }
}
