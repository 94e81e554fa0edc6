//! The compact map asset for the SPA (issue 3 item 6; issue 12 item 4): every system of a world
//! build in two versioned little-endian binary parts. The format is specified in
//! `docs/map-asset.md`; this module is its reference encoder and decoder.
//!
//! **The map part** (`EXMP` version 2, `data/world/<build>.exmp`) is all the map needs for its
//! first paint: positions, brightness, class, flags, counts, multiplicity — about 10 bytes per
//! system, ~8 gzipped. **The names part** (`EXMN` version 1, `data/world/<build>.names`) carries
//! each system's main_id and display name; the SPA fetches it alongside and labels and searches
//! once it is there. Every other name is searched through `GET /api/search`.
//!
//! ```text
//! map:   magic "EXMP" | u16 version = 2 | u16 reserved = 0 | u32 count | u64 world_build_id
//!        | f32 unit_pc                                   (position quantum, parsecs)
//!        x: u8 low[count] | u8 high[count]               (i16 q; x_pc = q · unit_pc; byte planes)
//!        y: same | z: same                               (pc, ICRS, heliocentric)
//!        u8 abs_mag[count]                               (M_V = code / 8 − 5; 255 unknown)
//!        u8 class_flags[count]                           (low nibble class, 15 unknown;
//!                                                         high nibble the four flags)
//!        u8 counts[count]                                (low nibble observed planets, high
//!                                                         nibble inferred; 15 = see overflow)
//!        u8 multiplicity[count]
//!        u32 overflow | overflow × (u32 index, u16 observed, u16 inferred)
//! names: magic "EXMN" | u16 version = 1 | u16 reserved = 0 | u32 count | u64 world_build_id
//!        | u32 name_bytes | UTF-8 main_ids joined by '\n'
//!        | u32 alias_bytes | UTF-8 lines "index\talias" joined by '\n'
//! ```
//!
//! `distance_ly` is not stored: decoders compute it from the decoded position
//! (`sqrt(x·x + y·y + z·z) · 3.26156`, in double precision, rounded to f32).
//! The database keeps a build's asset as one blob, the map part followed by the names part
//! ([`bundle`] / [`split_bundle`]); publish writes the two parts as two objects.

use crate::build_input::InferInput;
use crate::canon::CanonStar;
use crate::coords::Icrs;
use crate::inference::{StarInput, SystemInference, stellar_params};
use crate::spectral::SpectralClass;
use crate::units::LY_PER_PC;
use serde::Serialize;
use std::fmt;

pub const MAGIC: [u8; 4] = *b"EXMP";
pub const VERSION: u16 = 2;
pub const NAMES_MAGIC: [u8; 4] = *b"EXMN";
pub const NAMES_VERSION: u16 = 1;
/// Bytes before the first column of the map part.
pub const HEADER_BYTES: usize = 4 + 2 + 2 + 4 + 8 + 4;
/// Bytes of the names part before its name block.
pub const NAMES_HEADER_BYTES: usize = 4 + 2 + 2 + 4 + 8;
/// Fixed-width bytes per system in the map part (the columns).
pub const BYTES_PER_SYSTEM: usize = 3 * 2 + 1 + 1 + 1 + 1;
/// `class_code` of a system without a class (in [`DecodedSystem`]; the file stores 15).
pub const CLASS_UNKNOWN: u8 = 255;
/// The class nibble of a system without a class.
const CLASS_NIBBLE_UNKNOWN: u8 = 15;
/// `abs_mag` of a system whose brightness is unknown.
pub const MAG_UNKNOWN: u8 = 255;
/// A count nibble saying "the exact counts are in the overflow table".
pub const COUNT_ESCAPE: u8 = 15;

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
    /// Not stored (decoders derive it from the position); the publish order sorts by it.
    pub distance_ly: f32,
    pub class: Option<SpectralClass>,
    /// Absolute visual magnitude (see [`absolute_magnitude`]), when it can be told.
    pub abs_mag: Option<f32>,
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
    /// The `flags` nibble. The two planet bits follow the counts.
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

    /// The map entry of a canonical star and (optionally) its inference; `None` when the star
    /// cannot be placed (no position or distance). Aliases exclude the main_id.
    pub fn from_canon(star: &CanonStar, inference: Option<&SystemInference>) -> Option<AssetSystem> {
        AssetSystem::from_input(&InferInput::from_canon(star), inference)
    }

    /// The map entry of a star as Phase 03 reads it (see [`AssetSystem::from_canon`]).
    pub fn from_input(star: &InferInput, inference: Option<&SystemInference>) -> Option<AssetSystem> {
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
            abs_mag: absolute_magnitude_of(star).map(|m| m as f32),
            multiplicity: star.multiplicity,
            observed_planets: u16::try_from(star.observed.len()).unwrap_or(u16::MAX),
            inferred_planets: u16::try_from(inferred).unwrap_or(u16::MAX),
            curated: star.curated,
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

/// The Sun's absolute bolometric magnitude (IAU 2015 B2).
pub const M_BOL_SUN: f64 = 4.74;

/// Bolometric correction BC_V (M_V = M_bol − BC_V) by effective temperature: a coarse
/// piecewise-linear table after Pecaut & Mamajek (2013) (dwarfs; brown dwarfs extrapolated),
/// hottest first.
const BOLOMETRIC_CORRECTION: [(f64, f64); 15] = [
    (40_000.0, -3.9),
    (30_000.0, -3.0),
    (15_000.0, -1.3),
    (10_000.0, -0.3),
    (7_000.0, 0.0),
    (5_770.0, -0.07),
    (5_000.0, -0.25),
    (4_500.0, -0.5),
    (4_000.0, -0.9),
    (3_500.0, -1.6),
    (3_000.0, -2.8),
    (2_600.0, -4.0),
    (2_000.0, -6.0),
    (1_200.0, -9.0),
    (500.0, -12.0),
];

/// BC_V at `teff_k` (clamped to the table).
pub fn bolometric_correction(teff_k: f64) -> f64 {
    let t = teff_k.clamp(BOLOMETRIC_CORRECTION[14].0, BOLOMETRIC_CORRECTION[0].0);
    for w in BOLOMETRIC_CORRECTION.windows(2) {
        let ((t0, b0), (t1, b1)) = (w[0], w[1]);
        if t <= t0 && t >= t1 {
            return b0 + (b1 - b0) * (t0 - t) / (t0 - t1);
        }
    }
    BOLOMETRIC_CORRECTION[14].1
}

/// The absolute visual magnitude the map sizes a star by ("bright stars look bright"):
/// from the Hipparcos Hp magnitude and the adopted distance when both exist
/// (`M = Hp + 5 − 5·log10(d/pc)`; Hp ≈ V within a few tenths); else from the luminosity and
/// effective temperature (known, or estimated from the spectral class on the main sequence, as
/// the inference engine does): `M_V = 4.74 − 2.5·log10(L/L☉) − BC_V(Teff)`. `None` when
/// nothing is known about the star (no class, Teff or luminosity).
pub fn absolute_magnitude(star: &CanonStar) -> Option<f64> {
    absolute_magnitude_of(&InferInput::from_canon(star))
}

/// [`absolute_magnitude`] of a star as Phase 03 reads it.
pub fn absolute_magnitude_of(star: &InferInput) -> Option<f64> {
    if let (Some(hp), Some(d)) = (star.hp_mag, star.distance_pc)
        && hp.is_finite()
        && d.is_finite()
        && d > 0.0
    {
        return Some(hp + 5.0 - 5.0 * d.log10());
    }
    let known = |v: Option<f64>| v.is_some_and(|v| v.is_finite() && v > 0.0);
    if star.spectral_class.is_none() && !known(star.teff_k) && !known(star.luminosity_lsun) {
        return None;
    }
    let p = stellar_params(&StarInput::from_input(star));
    Some(M_BOL_SUN - 2.5 * p.luminosity_lsun.log10() - bolometric_correction(p.teff_k))
}

/// The `abs_mag` byte of an absolute magnitude: steps of 1/8 mag from −5 (0) to +26.75 (254),
/// clamped; 255 unknown (none, or not finite).
pub fn abs_mag_code(m: Option<f32>) -> u8 {
    match m {
        Some(m) if m.is_finite() => ((f64::from(m) + 5.0) * 8.0).round().clamp(0.0, 254.0) as u8,
        _ => MAG_UNKNOWN,
    }
}

/// The absolute magnitude an `abs_mag` byte stands for.
pub fn abs_mag_of(code: u8) -> Option<f32> {
    (code != MAG_UNKNOWN).then(|| f32::from(code) / 8.0 - 5.0)
}

/// Light-years from Sol of a decoded position, as every decoder computes it.
pub fn distance_ly_of(x: f32, y: f32, z: f32) -> f32 {
    let (x, y, z) = (f64::from(x), f64::from(y), f64::from(z));
    ((x * x + y * y + z * z).sqrt() * LY_PER_PC) as f32
}

/// The two encoded parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoded {
    /// `EXMP` v2: what the first paint needs.
    pub map: Vec<u8>,
    /// `EXMN` v1: main_ids and display names.
    pub names: Vec<u8>,
}

/// A decoded asset (both parts).
#[derive(Debug, Clone, PartialEq)]
pub struct DecodedAsset {
    pub version: u16,
    pub world_build_id: u64,
    /// The position quantum (pc).
    pub unit_pc: f32,
    pub systems: Vec<DecodedSystem>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DecodedSystem {
    pub main_id: String,
    pub x_pc: f32,
    pub y_pc: f32,
    pub z_pc: f32,
    pub distance_ly: f32,
    /// 0–10 (`"OBAFGKMLTYD"`), [`CLASS_UNKNOWN`] unknown.
    pub class_code: u8,
    /// The `abs_mag` byte ([`abs_mag_of`]).
    pub abs_mag: u8,
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
    /// Bytes after the last block of a part.
    TrailingBytes(usize),
    InvalidUtf8(&'static str),
    /// The name block does not hold exactly `count` names.
    NameCount {
        expected: usize,
        found: usize,
    },
    /// An alias line is not `index\talias` with an index below `count`.
    BadAliasLine(usize),
    /// The position quantum is not a positive finite number.
    BadUnit,
    /// A class nibble outside 0–10 and 15, or flags outside the four defined bits.
    BadClassFlags(usize),
    /// An overflow entry out of order, out of range, for a system without an escape, or a
    /// system with an escape and no entry.
    BadOverflow(usize),
    /// The names part is for another build or another number of systems.
    PartsDisagree,
}

impl fmt::Display for AssetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AssetError::BadMagic => f.write_str("not a map asset part (magic is not EXMP / EXMN)"),
            AssetError::UnsupportedVersion(v) => write!(f, "unsupported map asset version {v}"),
            AssetError::Truncated(what) => write!(f, "map asset truncated in {what}"),
            AssetError::TrailingBytes(n) => write!(f, "{n} bytes after the last block"),
            AssetError::InvalidUtf8(what) => write!(f, "{what} are not UTF-8"),
            AssetError::NameCount { expected, found } => write!(f, "{found} names for {expected} systems"),
            AssetError::BadAliasLine(i) => write!(f, "alias line {i} is not index<TAB>alias"),
            AssetError::BadUnit => f.write_str("the position unit is not a positive number"),
            AssetError::BadClassFlags(i) => write!(f, "class/flags byte of system {i} is invalid"),
            AssetError::BadOverflow(i) => write!(f, "count overflow entry {i} is invalid"),
            AssetError::PartsDisagree => f.write_str("the names part belongs to another map part"),
        }
    }
}

impl std::error::Error for AssetError {}

/// One line of text for the name/alias blocks: no `\n` (separator) and no `\t`.
fn clean(s: &str) -> String {
    s.replace(['\n', '\r', '\t'], " ")
}

/// The smallest position quantum, 2⁻¹⁰ pc (0.003 ly).
pub const MIN_UNIT_PC: f32 = 1.0 / 1024.0;

/// The position quantum for these systems: the largest |coordinate| maps to ±32767.
pub fn unit_pc_for(systems: &[AssetSystem]) -> f32 {
    let max = systems
        .iter()
        .flat_map(|s| [s.x_pc, s.y_pc, s.z_pc])
        .filter(|v| v.is_finite())
        .fold(0.0f32, |m, v| m.max(v.abs()));
    // 2⁻¹⁰ pc at least (a map of Sol alone), rounded up so that max / unit ≤ 32767.
    let unit = (max / 32767.0).max(MIN_UNIT_PC);
    if max / unit > 32767.0 { f32::from_bits(unit.to_bits() + 1) } else { unit }
}

fn quantise(v: f32, unit: f32) -> i16 {
    if !v.is_finite() {
        return 0;
    }
    (f64::from(v) / f64::from(unit)).round().clamp(-32767.0, 32767.0) as i16
}

/// Encode `systems` (in the given order) for a world build.
///
/// Panics only if `systems.len()` or a text block exceeds `u32::MAX` (far beyond any map).
pub fn encode(systems: &[AssetSystem], world_build_id: u64) -> Encoded {
    let count = u32::try_from(systems.len()).expect("at most u32::MAX systems");
    let n = systems.len();
    let unit = unit_pc_for(systems);
    let mut map = Vec::with_capacity(HEADER_BYTES + n * BYTES_PER_SYSTEM + 4);
    map.extend_from_slice(&MAGIC);
    map.extend_from_slice(&VERSION.to_le_bytes());
    map.extend_from_slice(&0u16.to_le_bytes());
    map.extend_from_slice(&count.to_le_bytes());
    map.extend_from_slice(&world_build_id.to_le_bytes());
    map.extend_from_slice(&unit.to_le_bytes());
    for col in [|s: &AssetSystem| s.x_pc, |s: &AssetSystem| s.y_pc, |s: &AssetSystem| s.z_pc] {
        let q: Vec<[u8; 2]> = systems.iter().map(|s| quantise(col(s), unit).to_le_bytes()).collect();
        map.extend(q.iter().map(|b| b[0]));
        map.extend(q.iter().map(|b| b[1]));
    }
    map.extend(systems.iter().map(|s| abs_mag_code(s.abs_mag)));
    map.extend(systems.iter().map(|s| {
        let class = s.class.map_or(CLASS_NIBBLE_UNKNOWN, SpectralClass::code);
        class | (s.flags() << 4)
    }));
    let nibble = |c: u16| if c >= u16::from(COUNT_ESCAPE) { COUNT_ESCAPE } else { c as u8 };
    let escaped =
        |s: &AssetSystem| nibble(s.observed_planets) == COUNT_ESCAPE || nibble(s.inferred_planets) == COUNT_ESCAPE;
    map.extend(systems.iter().map(|s| nibble(s.observed_planets) | (nibble(s.inferred_planets) << 4)));
    map.extend(systems.iter().map(|s| s.multiplicity));
    let overflow: Vec<(usize, &AssetSystem)> = systems.iter().enumerate().filter(|(_, s)| escaped(s)).collect();
    map.extend_from_slice(&(overflow.len() as u32).to_le_bytes());
    for (i, s) in overflow {
        map.extend_from_slice(&(i as u32).to_le_bytes());
        map.extend_from_slice(&s.observed_planets.to_le_bytes());
        map.extend_from_slice(&s.inferred_planets.to_le_bytes());
    }

    let names_block = systems.iter().map(|s| clean(&s.main_id)).collect::<Vec<_>>().join("\n");
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
    let mut names = Vec::with_capacity(NAMES_HEADER_BYTES + 8 + names_block.len() + aliases.len());
    names.extend_from_slice(&NAMES_MAGIC);
    names.extend_from_slice(&NAMES_VERSION.to_le_bytes());
    names.extend_from_slice(&0u16.to_le_bytes());
    names.extend_from_slice(&count.to_le_bytes());
    names.extend_from_slice(&world_build_id.to_le_bytes());
    for block in [names_block, aliases] {
        let len = u32::try_from(block.len()).expect("text block under 4 GiB");
        names.extend_from_slice(&len.to_le_bytes());
        names.extend_from_slice(block.as_bytes());
    }
    Encoded { map, names }
}

/// The database form: the map part followed by the names part.
pub fn bundle(e: &Encoded) -> Vec<u8> {
    let mut out = Vec::with_capacity(e.map.len() + e.names.len());
    out.extend_from_slice(&e.map);
    out.extend_from_slice(&e.names);
    out
}

/// The two parts of a [`bundle`] (the map part is self-delimiting).
pub fn split_bundle(bytes: &[u8]) -> Result<(&[u8], &[u8]), AssetError> {
    bundle_parts(bytes).map(|p| (p.map, p.names))
}

/// A [`bundle`] split into its parts, with the number of systems its map part holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BundleParts<'a> {
    pub map: &'a [u8],
    pub names: &'a [u8],
    /// Systems in the map part (checked: the map part decodes).
    pub systems: usize,
}

/// Splits a [`bundle`] (decoding and checking its map part once).
pub fn bundle_parts(bytes: &[u8]) -> Result<BundleParts<'_>, AssetError> {
    let (decoded, used) = decode_map_prefix(bytes)?;
    let (map, names) = bytes.split_at(used);
    Ok(BundleParts { map, names, systems: decoded.systems.len() })
}

/// Decode and check a bundle (both parts).
pub fn decode_bundle(bytes: &[u8]) -> Result<DecodedAsset, AssetError> {
    let (map, names) = split_bundle(bytes)?;
    decode(map, Some(names))
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
    fn bytes(&mut self, count: usize, what: &'static str) -> Result<&'a [u8], AssetError> {
        self.take(count, what)
    }
    /// An i16 column in two byte planes (low bytes, then high bytes).
    fn planes(&mut self, count: usize, what: &'static str) -> Result<Vec<i16>, AssetError> {
        let lo = self.take(count, what)?;
        let hi = self.take(count, what)?;
        Ok(lo.iter().zip(hi).map(|(l, h)| i16::from_le_bytes([*l, *h])).collect())
    }
    fn text(&mut self, what: &'static str) -> Result<&'a str, AssetError> {
        let len = u32::from_le_bytes(self.array(what)?) as usize;
        std::str::from_utf8(self.take(len, what)?).map_err(|_| AssetError::InvalidUtf8(what))
    }
}

/// The map part decoded (no names yet) and how many bytes it took.
fn decode_map_prefix(bytes: &[u8]) -> Result<(DecodedAsset, usize), AssetError> {
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
    let unit_pc = f32::from_le_bytes(r.array("header")?);
    if !(unit_pc.is_finite() && unit_pc > 0.0) {
        return Err(AssetError::BadUnit);
    }
    // Check the whole fixed part is there before allocating for `count` systems.
    if count.checked_mul(BYTES_PER_SYSTEM).is_none_or(|n| n > bytes.len() - r.pos) {
        return Err(AssetError::Truncated("columns"));
    }
    let x = r.planes(count, "x")?;
    let y = r.planes(count, "y")?;
    let z = r.planes(count, "z")?;
    let mag = r.bytes(count, "abs_mag")?;
    let class_flags = r.bytes(count, "class_flags")?;
    let counts = r.bytes(count, "counts")?;
    let mult = r.bytes(count, "multiplicity")?;
    let mut systems = Vec::with_capacity(count);
    for i in 0..count {
        let class = class_flags[i] & 0x0f;
        let class_code = match class {
            c if c <= SpectralClass::D.code() => c,
            CLASS_NIBBLE_UNKNOWN => CLASS_UNKNOWN,
            _ => return Err(AssetError::BadClassFlags(i)),
        };
        let (xp, yp, zp) = (f32::from(x[i]) * unit_pc, f32::from(y[i]) * unit_pc, f32::from(z[i]) * unit_pc);
        systems.push(DecodedSystem {
            main_id: String::new(),
            x_pc: xp,
            y_pc: yp,
            z_pc: zp,
            distance_ly: distance_ly_of(xp, yp, zp),
            class_code,
            abs_mag: mag[i],
            multiplicity: mult[i],
            observed_planets: u16::from(counts[i] & 0x0f),
            inferred_planets: u16::from(counts[i] >> 4),
            flags: class_flags[i] >> 4,
            aliases: Vec::new(),
        });
    }
    let overflow = u32::from_le_bytes(r.array("overflow")?) as usize;
    let escaped = |c: u8| c & 0x0f == COUNT_ESCAPE || c >> 4 == COUNT_ESCAPE;
    let mut expected = counts.iter().enumerate().filter(|(_, c)| escaped(**c)).map(|(i, _)| i);
    for k in 0..overflow {
        let i = u32::from_le_bytes(r.array("overflow")?) as usize;
        let obs = u16::from_le_bytes(r.array("overflow")?);
        let inf = u16::from_le_bytes(r.array("overflow")?);
        if expected.next() != Some(i) {
            return Err(AssetError::BadOverflow(k));
        }
        let s = &mut systems[i];
        (s.observed_planets, s.inferred_planets) = (obs, inf);
    }
    if expected.next().is_some() {
        return Err(AssetError::BadOverflow(overflow));
    }
    Ok((DecodedAsset { version, world_build_id, unit_pc, systems }, r.pos))
}

/// Decode and validate the map part alone (names empty). Never panics, whatever the bytes.
pub fn decode_map(bytes: &[u8]) -> Result<DecodedAsset, AssetError> {
    let (asset, used) = decode_map_prefix(bytes)?;
    if used != bytes.len() {
        return Err(AssetError::TrailingBytes(bytes.len() - used));
    }
    Ok(asset)
}

/// The names part: (main_ids, aliases per system) for `count` systems of `world_build_id`.
pub fn decode_names(
    bytes: &[u8],
    count: usize,
    world_build_id: u64,
) -> Result<(Vec<String>, Vec<Vec<String>>), AssetError> {
    let mut r = Reader { bytes, pos: 0 };
    if r.array::<4>("names header")? != NAMES_MAGIC {
        return Err(AssetError::BadMagic);
    }
    let version = u16::from_le_bytes(r.array("names header")?);
    if version != NAMES_VERSION {
        return Err(AssetError::UnsupportedVersion(version));
    }
    let _reserved = r.array::<2>("names header")?;
    let n = u32::from_le_bytes(r.array("names header")?) as usize;
    let build = u64::from_le_bytes(r.array("names header")?);
    if n != count || build != world_build_id {
        return Err(AssetError::PartsDisagree);
    }
    let names_block = r.text("names")?;
    let names: Vec<String> = if count == 0 && names_block.is_empty() {
        Vec::new()
    } else {
        names_block.split('\n').map(String::from).collect()
    };
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
            if idx.is_empty() || !idx.bytes().all(|b| b.is_ascii_digit()) {
                return Err(AssetError::BadAliasLine(line_no));
            }
            let i: usize = idx.parse().map_err(|_| AssetError::BadAliasLine(line_no))?;
            aliases.get_mut(i).ok_or(AssetError::BadAliasLine(line_no))?.push(alias.to_string());
        }
    }
    Ok((names, aliases))
}

/// Decode and validate an asset: the map part and, when given, its names part. Never panics,
/// whatever the bytes.
pub fn decode(map: &[u8], names: Option<&[u8]>) -> Result<DecodedAsset, AssetError> {
    let mut asset = decode_map(map)?;
    if let Some(names) = names {
        let (ids, aliases) = decode_names(names, asset.systems.len(), asset.world_build_id)?;
        for ((s, id), a) in asset.systems.iter_mut().zip(ids).zip(aliases) {
            s.main_id = id;
            s.aliases = a;
        }
    }
    Ok(asset)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sys(i: usize) -> AssetSystem {
        let class = SpectralClass::from_code((i % 12) as u8);
        let (x, y, z) =
            ((i as f32 * 0.37).sin() * 30.0, (i as f32 * 0.11).cos() * 30.0, (i as f32 * 0.05).sin() * 30.0);
        AssetSystem {
            main_id: format!("GJ {}", 1000 + i),
            x_pc: x,
            y_pc: y,
            z_pc: z,
            distance_ly: distance_ly_of(x, y, z),
            class,
            abs_mag: (!i.is_multiple_of(5)).then_some((i % 40) as f32 * 0.5 - 2.0),
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

    fn round_trip(systems: &[AssetSystem], id: u64) -> DecodedAsset {
        let e = encode(systems, id);
        let a = decode(&e.map, Some(&e.names)).unwrap();
        assert_eq!(decode_bundle(&bundle(&e)).unwrap(), a, "the bundle decodes the same");
        a
    }

    #[test]
    fn bundle_parts_split_and_count() {
        for n in [0, 1, 37] {
            let e = encode(&synthetic(n), 3);
            let b = bundle(&e);
            let p = bundle_parts(&b).unwrap();
            assert_eq!((p.map, p.names, p.systems), (&e.map[..], &e.names[..], n));
            assert_eq!(split_bundle(&b).unwrap(), (&e.map[..], &e.names[..]));
        }
        let e = encode(&synthetic(5), 3);
        assert!(bundle_parts(&e.map[..e.map.len() - 1]).is_err(), "a truncated map part is refused, not counted");
        assert!(bundle_parts(b"nope").is_err());
    }

    #[test]
    fn header_layout_is_exact() {
        let systems = synthetic(3);
        let e = encode(&systems, 0x0102_0304_0506_0708);
        let bytes = &e.map;
        assert_eq!(&bytes[0..4], b"EXMP");
        assert_eq!(&bytes[4..6], &[2, 0]);
        assert_eq!(&bytes[6..8], &[0, 0]);
        assert_eq!(&bytes[8..12], &[3, 0, 0, 0]);
        assert_eq!(&bytes[12..20], &[8, 7, 6, 5, 4, 3, 2, 1]);
        let unit = f32::from_le_bytes(bytes[20..24].try_into().unwrap());
        assert_eq!(unit, unit_pc_for(&systems));
        // x: three low bytes then three high bytes.
        let q0 = quantise(systems[0].x_pc, unit).to_le_bytes();
        assert_eq!((bytes[24], bytes[27]), (q0[0], q0[1]));
        // After the three position columns: abs_mag, class_flags, counts, multiplicity.
        let at = HEADER_BYTES + 18;
        assert_eq!(bytes[at], MAG_UNKNOWN, "system 0 has no magnitude");
        assert_eq!(bytes[at + 1], abs_mag_code(Some(-1.5)), "system 1: 1 % 40 · 0.5 − 2");
        assert_eq!(bytes[at + 3], SpectralClass::O.code() | (systems[0].flags() << 4));
        assert_eq!(bytes[at + 6], 2, "system 0: 2 observed (low nibble), 0 inferred (high nibble)");
        assert_eq!(bytes[at + 9..at + 12], [1, 2, 3]);
        assert_eq!(&bytes[at + 12..], &[0, 0, 0, 0], "no overflow");
        assert_eq!(bytes.len(), HEADER_BYTES + 3 * BYTES_PER_SYSTEM + 4);
        let names = &e.names;
        assert_eq!(&names[0..4], b"EXMN");
        assert_eq!(&names[4..8], &[1, 0, 0, 0]);
        assert_eq!(&names[8..20], &bytes[8..20], "count and build id as in the map part");
        let len = u32::from_le_bytes(names[20..24].try_into().unwrap()) as usize;
        assert_eq!(&names[24..24 + len], b"GJ 1000\nGJ 1001\nGJ 1002");
        assert!(std::str::from_utf8(&names[28 + len..]).unwrap().starts_with("0\tHIP 50000\n0\tLHS 0\n1\tHIP 50001"));
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
            abs_mag: Some(4.83),
            multiplicity: 1,
            observed_planets: 8,
            inferred_planets: 0,
            curated: true,
            hz_planet: false,
            aliases: vec![],
        };
        let e = encode(&[sol], 7);
        let mut want = vec![0x45, 0x58, 0x4D, 0x50, 2, 0, 0, 0, 1, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0];
        want.extend([0x00, 0x00, 0x80, 0x3A]); // f32 2⁻¹⁰
        want.extend([0u8; 6]);
        want.extend([79, 0x54, 8, 1]);
        want.extend([0, 0, 0, 0]);
        assert_eq!(e.map, want);
        let mut names = vec![0x45, 0x58, 0x4D, 0x4E, 1, 0, 0, 0, 1, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0];
        names.extend([3, 0, 0, 0, b'S', b'o', b'l', 0, 0, 0, 0]);
        assert_eq!(e.names, names);
    }

    #[test]
    fn magnitude_quantisation() {
        assert_eq!(abs_mag_code(Some(-5.0)), 0);
        assert_eq!(abs_mag_code(Some(-9.0)), 0, "brighter than −5 clamps");
        assert_eq!(abs_mag_code(Some(0.0)), 40);
        assert_eq!(abs_mag_code(Some(1.42)), 51, "Sirius: (1.42 + 5) · 8 = 51.36");
        assert_eq!(abs_mag_code(Some(26.75)), 254);
        assert_eq!(abs_mag_code(Some(40.0)), 254, "fainter clamps below the unknown code");
        assert_eq!(abs_mag_code(None), MAG_UNKNOWN);
        assert_eq!(abs_mag_code(Some(f32::NAN)), MAG_UNKNOWN);
        assert_eq!(abs_mag_of(MAG_UNKNOWN), None);
        for k in 0..=254u8 {
            assert_eq!(abs_mag_code(abs_mag_of(k)), k, "code {k} round-trips");
        }
        // Quantisation error at most 1/16 mag within the range.
        for i in 0..3000 {
            let m = -5.0 + i as f32 * 0.0105;
            let back = abs_mag_of(abs_mag_code(Some(m))).unwrap();
            assert!((back - m).abs() <= 1.0 / 16.0 + 1e-6, "{m} → {back}");
        }
    }

    fn star(class: Option<SpectralClass>, subclass: Option<f64>, hp: Option<f64>, d: f64) -> CanonStar {
        let mut s: CanonStar = serde_json::from_value(serde_json::json!({
            "main_id": "x", "provenance": "simbad", "sources": [], "ra_deg": 10.0, "dec_deg": 20.0,
            "distance_pc": d, "distance_source": null, "distance_provenance": null, "distances": [],
            "otype": null, "otypes": [], "spectral_type": null, "spectral_class": null,
            "spectral_subclass": null, "luminosity_class": null, "class_source": null, "kind": "normal",
            "teff_k": null, "luminosity_lsun": null, "mass_msun": null, "radius_rsun": null,
            "metallicity_feh": null, "age_gyr": null, "parameters_provenance": null, "multiplicity": 1,
            "group": null, "aliases": [], "planets": [], "flags": []
        }))
        .unwrap();
        s.spectral_class = class;
        s.spectral_subclass = subclass;
        s.hp_mag = hp;
        s
    }

    #[test]
    fn absolute_magnitudes_from_hipparcos_or_the_class() {
        let close = |a: f64, b: f64, tol: f64| (a - b).abs() <= tol;
        // Sirius: Hp −1.0876 at 2.637 pc (Hipparcos 2) → M ≈ 1.81.
        let sirius = absolute_magnitude(&star(Some(SpectralClass::A), Some(1.0), Some(-1.0876), 2.637)).unwrap();
        assert!(close(sirius, -1.0876 + 5.0 - 5.0 * 2.637f64.log10(), 1e-12), "{sirius}");
        // Proxima: Hp 10.7 at 1.302 pc → M ≈ 15.1, ~13 magnitudes fainter than Sirius.
        let proxima = absolute_magnitude(&star(Some(SpectralClass::M), Some(5.5), Some(10.7), 1.302)).unwrap();
        assert!(proxima - sirius > 12.0, "{proxima} vs {sirius}");
        // Without photometry, from the class on the main sequence: a G2 dwarf is Sun-like
        // (M_V 4.83), an M5 dwarf much fainter, a white dwarf faint.
        let g2 = absolute_magnitude(&star(Some(SpectralClass::G), Some(2.0), None, 10.0)).unwrap();
        assert!(close(g2, 4.83, 0.35), "G2V: {g2}");
        let m5 = absolute_magnitude(&star(Some(SpectralClass::M), Some(5.0), None, 10.0)).unwrap();
        assert!((10.0..16.0).contains(&m5), "M5V: {m5}");
        let a0 = absolute_magnitude(&star(Some(SpectralClass::A), Some(0.0), None, 10.0)).unwrap();
        assert!((0.0..2.0).contains(&a0), "A0V: {a0}");
        assert!(a0 < g2 && g2 < m5);
        // Nothing known: no magnitude (the map falls back to its class default).
        assert_eq!(absolute_magnitude(&star(None, None, None, 10.0)), None);
        // A bad distance never yields a number from Hp.
        let bad = star(Some(SpectralClass::K), None, Some(5.0), 0.0);
        assert!(absolute_magnitude(&bad).is_some_and(|m| m.is_finite() && m > 4.0), "class K estimate");
        assert!(close(bolometric_correction(5770.0), -0.07, 1e-12));
        assert!(close(bolometric_correction(1e6), -3.9, 1e-12) && close(bolometric_correction(10.0), -12.0, 1e-12));
    }

    #[test]
    fn round_trip_within_the_quanta() {
        let systems = synthetic(500);
        let out = round_trip(&systems, 77);
        assert_eq!((out.version, out.world_build_id, out.systems.len()), (2, 77, 500));
        let unit = out.unit_pc;
        assert_eq!(unit, MIN_UNIT_PC, "coordinates within ±30 pc: the smallest quantum");
        let far = round_trip(&[sys(1), AssetSystem { x_pc: -60.0, ..sys(2) }], 1).unit_pc;
        assert!((60.0 / 32767.0..=60.0 / 32767.0 * 1.000_001).contains(&far), "{far}");
        for (a, b) in systems.iter().zip(&out.systems) {
            assert_eq!(a.main_id, b.main_id);
            for (p, q) in [(a.x_pc, b.x_pc), (a.y_pc, b.y_pc), (a.z_pc, b.z_pc)] {
                assert!((p - q).abs() <= unit * 0.5001, "{p} → {q}");
            }
            assert_eq!(b.distance_ly, distance_ly_of(b.x_pc, b.y_pc, b.z_pc));
            assert!((a.distance_ly - b.distance_ly).abs() < 0.01, "0.01 ly is plenty");
            assert_eq!((a.class_code(), a.multiplicity, a.flags()), (b.class_code, b.multiplicity, b.flags));
            assert_eq!((a.observed_planets, a.inferred_planets), (b.observed_planets, b.inferred_planets));
            assert_eq!(abs_mag_code(a.abs_mag), b.abs_mag);
            assert_eq!(a.aliases, b.aliases);
        }
        assert_eq!(out.systems[11].class_code, CLASS_UNKNOWN);
        assert_eq!(out.systems[10].class_code, SpectralClass::D.code());
    }

    #[test]
    fn large_counts_go_through_the_overflow_table() {
        let mut systems = synthetic(40);
        systems[3].observed_planets = 14;
        systems[5].observed_planets = 15;
        systems[9].inferred_planets = 65_535;
        systems[30].observed_planets = 300;
        systems[30].inferred_planets = 16;
        let e = encode(&systems, 1);
        assert_eq!(e.map.len(), HEADER_BYTES + 40 * BYTES_PER_SYSTEM + 4 + 3 * 8);
        let out = decode(&e.map, None).unwrap();
        for i in [3, 5, 9, 30] {
            let (a, b) = (&systems[i], &out.systems[i]);
            assert_eq!((a.observed_planets, a.inferred_planets), (b.observed_planets, b.inferred_planets), "{i}");
        }
        assert!(out.systems.iter().all(|s| s.main_id.is_empty()), "no names without the names part");
        // An escape without its overflow entry, or an entry out of order, is an error.
        let mut broken = e.map.clone();
        let n = broken.len();
        broken[n - 3 * 8 - 4..n - 3 * 8].copy_from_slice(&2u32.to_le_bytes());
        broken.truncate(n - 8);
        assert_eq!(decode_map(&broken), Err(AssetError::BadOverflow(2)));
        let mut swapped = e.map.clone();
        swapped[n - 24..n - 20].copy_from_slice(&9u32.to_le_bytes());
        assert_eq!(decode_map(&swapped), Err(AssetError::BadOverflow(0)));
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
        let out = round_trip(&[s], 1);
        assert_eq!(out.systems[0].main_id, "Tab and newline");
        assert_eq!(out.systems[0].aliases, ["a b"]);
        assert_eq!(out.systems[0].flags, 0b1101);
        let empty = round_trip(&[], 9);
        assert!(empty.systems.is_empty());
        let e = encode(&[], 9);
        assert_eq!((e.map.len(), e.names.len()), (HEADER_BYTES + 4, NAMES_HEADER_BYTES + 8));
    }

    #[test]
    fn decode_rejects_bad_bytes_without_panicking() {
        let e = encode(&synthetic(20), 5);
        let good = &e.map;
        assert_eq!(decode_map(b"NOPE"), Err(AssetError::BadMagic));
        let mut v1 = good.clone();
        v1[4] = 1;
        assert_eq!(decode_map(&v1), Err(AssetError::UnsupportedVersion(1)));
        for end in 0..good.len() {
            assert!(decode_map(&good[..end]).is_err(), "truncated at {end}");
        }
        for end in 0..e.names.len() {
            assert!(decode(good, Some(&e.names[..end])).is_err(), "names truncated at {end}");
        }
        let mut trailing = good.clone();
        trailing.push(0);
        assert_eq!(decode_map(&trailing), Err(AssetError::TrailingBytes(1)));
        let mut huge = good.clone();
        huge[8..12].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(matches!(decode_map(&huge), Err(AssetError::Truncated(_))));
        let mut zero_unit = good.clone();
        zero_unit[20..24].copy_from_slice(&0f32.to_le_bytes());
        assert_eq!(decode_map(&zero_unit), Err(AssetError::BadUnit));
        let mut bad_class = good.clone();
        bad_class[HEADER_BYTES + 6 * 20 + 20 + 4] = 0x0c;
        assert_eq!(decode_map(&bad_class), Err(AssetError::BadClassFlags(4)));
        // A names part of another build or size.
        let other = encode(&synthetic(20), 6);
        assert_eq!(decode(good, Some(&other.names)), Err(AssetError::PartsDisagree));
        let fewer = encode(&synthetic(19), 5);
        assert_eq!(decode(good, Some(&fewer.names)), Err(AssetError::PartsDisagree));
        assert_eq!(decode(good, Some(good)), Err(AssetError::BadMagic));
        // Random bytes after a valid header prefix, in both parts.
        let mut x: u64 = 1;
        for _ in 0..500 {
            let mut b = good[..24].to_vec();
            let mut n = e.names[..20].to_vec();
            for _ in 0..(x % 300) {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                b.push((x >> 33) as u8);
                n.push((x >> 41) as u8);
            }
            let _ = decode_bundle(&b);
            let _ = decode(good, Some(&n));
        }
        assert_eq!(AssetError::NameCount { expected: 2, found: 1 }.to_string(), "1 names for 2 systems");
    }

    #[test]
    fn eleven_thousand_systems_fixed_part() {
        let systems = synthetic(11_000);
        let e = encode(&systems, 1);
        eprintln!("11,000 systems: map part {} bytes, names part {} bytes", e.map.len(), e.names.len());
        assert_eq!(BYTES_PER_SYSTEM, 10);
        assert_eq!(e.map.len(), HEADER_BYTES + 11_000 * BYTES_PER_SYSTEM + 4);
        assert_eq!(decode(&e.map, Some(&e.names)).unwrap().systems.len(), 11_000);
    }
}
