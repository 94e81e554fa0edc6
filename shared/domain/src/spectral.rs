//! MK spectral types (DOMAIN.md §4.3, §4.4 (d), §4.6, §11.16, §11.20).
//!
//! [`parse`] reads the free-text spectral types of the exoplanet catalogue (and the ones found
//! in SIMBAD's `otypes`): it splits multi-valued types on `|`, `/`, `+` and the word `or` and
//! takes the first token as the primary; fixes the letter-O-for-zero typo after a class letter
//! (`KOV` → `K0V`); reads the class letter (`O B A F G K M L T Y`, and `D` for white dwarfs:
//! `DA…`, `WD`), the numeric subclass and the luminosity class. Strings that are not MK types
//! are answered honestly: `Brown dwarf` and `PSR` have no class (with a [`StellarKind`]),
//! `sdB` is a subdwarf of class B, `M-dwarf` is class M, `G or K` is class G marked ambiguous.
//! Nothing is ever guessed into a default class.

use crate::names::normalise_id;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A spectral class letter. `D` is a white dwarf.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum SpectralClass {
    O,
    B,
    A,
    F,
    G,
    K,
    M,
    L,
    T,
    Y,
    D,
}

/// The class letters in code order (see [`SpectralClass::code`]).
pub const CLASS_LETTERS: &str = "OBAFGKMLTYD";

impl SpectralClass {
    /// Every class, in [`CLASS_LETTERS`] order.
    pub const ALL: [SpectralClass; 11] = [
        SpectralClass::O,
        SpectralClass::B,
        SpectralClass::A,
        SpectralClass::F,
        SpectralClass::G,
        SpectralClass::K,
        SpectralClass::M,
        SpectralClass::L,
        SpectralClass::T,
        SpectralClass::Y,
        SpectralClass::D,
    ];

    pub fn letter(self) -> char {
        CLASS_LETTERS.as_bytes()[self.code() as usize] as char
    }

    /// Index into [`CLASS_LETTERS`] (the map asset's `class_code`).
    pub fn code(self) -> u8 {
        self as u8
    }

    pub fn from_code(code: u8) -> Option<SpectralClass> {
        SpectralClass::ALL.get(usize::from(code)).copied()
    }

    /// The class of an upper-case letter (`'W'` is not a class: `WD` is handled by [`parse`]).
    pub fn from_letter(c: char) -> Option<SpectralClass> {
        CLASS_LETTERS.find(c).and_then(|i| u8::try_from(i).ok()).and_then(SpectralClass::from_code)
    }

    /// The class-level effective temperature the original used when nothing better is known
    /// (DOMAIN.md §4.7 table), in kelvin.
    pub fn typical_teff_k(self) -> f64 {
        match self {
            SpectralClass::O => 35_000.0,
            SpectralClass::B => 18_000.0,
            SpectralClass::A => 8_500.0,
            SpectralClass::F => 6_750.0,
            SpectralClass::G => 5_600.0,
            SpectralClass::K => 4_450.0,
            SpectralClass::M => 3_200.0,
            SpectralClass::L => 1_800.0,
            SpectralClass::T => 1_200.0,
            SpectralClass::Y => 500.0,
            SpectralClass::D => 10_000.0,
        }
    }

    /// Class from an effective temperature (DOMAIN.md §4.6 thresholds: ≥30000 O, ≥10000 B,
    /// ≥7500 A, ≥6000 F, ≥5200 G, ≥3700 K, ≥2400 M; below that §4.6 says L — extended here
    /// with ≥1300 L, ≥500 T, else Y). Never returns `D` (temperature alone cannot tell a white
    /// dwarf). `None` for a non-finite or non-positive temperature.
    pub fn from_teff(teff_k: f64) -> Option<SpectralClass> {
        if !teff_k.is_finite() || teff_k <= 0.0 {
            return None;
        }
        const STEPS: [(f64, SpectralClass); 9] = [
            (30_000.0, SpectralClass::O),
            (10_000.0, SpectralClass::B),
            (7_500.0, SpectralClass::A),
            (6_000.0, SpectralClass::F),
            (5_200.0, SpectralClass::G),
            (3_700.0, SpectralClass::K),
            (2_400.0, SpectralClass::M),
            (1_300.0, SpectralClass::L),
            (500.0, SpectralClass::T),
        ];
        Some(STEPS.iter().find(|(t, _)| teff_k >= *t).map_or(SpectralClass::Y, |(_, c)| *c))
    }
}

impl fmt::Display for SpectralClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.letter())
    }
}

/// Approximate main-sequence effective temperatures (K) at subclasses 0 and 5 of each class,
/// after the dwarf sequence of Pecaut & Mamajek (2013); L/T/Y after typical brown-dwarf
/// spectral-type–Teff relations. Interpolated linearly by [`teff_from_type`]. They are
/// defaults for stars without a measured Teff, not measurements.
const TEFF_ANCHORS: [(SpectralClass, f64, f64); 10] = [
    (SpectralClass::O, 48_000.0, 41_000.0),
    (SpectralClass::B, 31_000.0, 15_700.0),
    (SpectralClass::A, 9_700.0, 8_100.0),
    (SpectralClass::F, 7_200.0, 6_500.0),
    (SpectralClass::G, 5_900.0, 5_650.0),
    (SpectralClass::K, 5_250.0, 4_450.0),
    (SpectralClass::M, 3_850.0, 3_050.0),
    (SpectralClass::L, 2_250.0, 1_600.0),
    (SpectralClass::T, 1_300.0, 1_150.0),
    (SpectralClass::Y, 450.0, 350.0),
];

/// A default effective temperature for a class and optional subclass: the class's subclass-0
/// value, interpolated toward subclass 5 and then toward the next class's subclass 0. Without
/// a subclass, subclass 5 (mid-class). White dwarfs (`D`): [`SpectralClass::typical_teff_k`].
pub fn teff_from_type(class: SpectralClass, subclass: Option<f64>) -> f64 {
    let Some(i) = TEFF_ANCHORS.iter().position(|(c, _, _)| *c == class) else {
        return class.typical_teff_k();
    };
    let (_, t0, t5) = TEFF_ANCHORS[i];
    let s = subclass.filter(|s| s.is_finite()).unwrap_or(5.0).clamp(0.0, 9.9);
    if s <= 5.0 {
        t0 + (t5 - t0) * s / 5.0
    } else {
        let next = TEFF_ANCHORS.get(i + 1).map_or(t5 * 0.8, |(_, n0, _)| *n0);
        t5 + (next - t5) * (s - 5.0) / 5.0
    }
}

/// What kind of object a spectral-type string says, beyond (or instead of) its class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StellarKind {
    /// An ordinary MK type.
    Normal,
    /// `D…` / `WD`.
    WhiteDwarf,
    /// `sd…` prefix (luminosity class VI).
    Subdwarf,
    /// `Brown dwarf` (no class is implied).
    BrownDwarf,
    /// `PSR` / pulsar (no class).
    Pulsar,
    /// `Catac. var.`, `AM Her` (no class).
    Cataclysmic,
    /// `C-N`, carbon star (no MK class).
    CarbonStar,
    /// Anything else without a class.
    Unknown,
}

impl StellarKind {
    pub const ALL: [StellarKind; 8] = [
        StellarKind::Normal,
        StellarKind::WhiteDwarf,
        StellarKind::Subdwarf,
        StellarKind::BrownDwarf,
        StellarKind::Pulsar,
        StellarKind::Cataclysmic,
        StellarKind::CarbonStar,
        StellarKind::Unknown,
    ];

    /// The kind's one name (its serde name, as stored).
    pub fn as_str(self) -> &'static str {
        match self {
            StellarKind::Normal => "normal",
            StellarKind::WhiteDwarf => "white_dwarf",
            StellarKind::Subdwarf => "subdwarf",
            StellarKind::BrownDwarf => "brown_dwarf",
            StellarKind::Pulsar => "pulsar",
            StellarKind::Cataclysmic => "cataclysmic",
            StellarKind::CarbonStar => "carbon_star",
            StellarKind::Unknown => "unknown",
        }
    }

    /// The kind named by [`StellarKind::as_str`].
    pub fn from_name(name: &str) -> Option<StellarKind> {
        StellarKind::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

/// A parsed spectral type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpectralType {
    /// The input, whitespace-normalised.
    pub raw: String,
    /// Alternatives split on `|`, `/`, `+` and `or` (typo-fixed), in order; the first is the
    /// primary.
    pub tokens: Vec<String>,
    pub class: Option<SpectralClass>,
    /// Numeric subclass in [0, 10) (e.g. `5.5` for `M5.5V`); `None` for white dwarfs.
    pub subclass: Option<f64>,
    /// Roman-numeral luminosity class of the primary (`V`, `IV-V`, `IIIb`, `VII`, …).
    pub luminosity_class: Option<String>,
    pub kind: StellarKind,
    /// The letter-O-for-zero typo was fixed in the primary (`KOV` → `K0V`).
    pub typo_fixed: bool,
    /// More than one alternative was given (`K4/M1/M3`, `G or K`, `K7V+K7V`).
    pub multi_valued: bool,
}

impl SpectralType {
    /// The primary token (after the typo fix).
    pub fn primary(&self) -> &str {
        self.tokens.first().map_or("", String::as_str)
    }

    /// Display form of the class and subclass: `"K0"`, `"M5.5"`, `"D"`, `"G"`.
    pub fn class_code(&self) -> Option<String> {
        let c = self.class?;
        Some(match self.subclass {
            Some(s) => format!("{c}{s}"),
            None => c.to_string(),
        })
    }
}

/// Parse a spectral-type string; `None` only when it is blank.
pub fn parse(raw: &str) -> Option<SpectralType> {
    let raw = normalise_id(raw);
    if raw.is_empty() {
        return None;
    }
    let lower = raw.to_lowercase();
    let special = if lower.starts_with("brown dwarf") {
        Some(StellarKind::BrownDwarf)
    } else if lower == "psr" || lower.starts_with("psr ") || lower.starts_with("pulsar") {
        Some(StellarKind::Pulsar)
    } else if lower.starts_with("catac") || lower.starts_with("am her") {
        Some(StellarKind::Cataclysmic)
    } else if lower.starts_with("c-") || lower == "c" {
        Some(StellarKind::CarbonStar)
    } else {
        None
    };

    let mut tokens = split_alternatives(&raw);
    let mut typo_fixed = false;
    if let Some(first) = tokens.first_mut()
        && let Some(fixed) = fix_letter_o(first)
    {
        *first = fixed;
        typo_fixed = true;
    }
    let multi_valued = tokens.len() > 1;
    if let Some(kind) = special {
        return Some(SpectralType {
            raw,
            tokens,
            class: None,
            subclass: None,
            luminosity_class: None,
            kind,
            typo_fixed,
            multi_valued,
        });
    }
    let primary = tokens.first().map_or("", String::as_str);
    let (class, subclass, luminosity_class, kind) = parse_token(primary);
    Some(SpectralType { raw, tokens, class, subclass, luminosity_class, kind, typo_fixed, multi_valued })
}

/// Split on `|`, `/`, `+` and the standalone word `or`; trimmed, blanks dropped.
fn split_alternatives(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    for part in s.split(['|', '/', '+']) {
        let mut current: Vec<&str> = Vec::new();
        for word in part.split_whitespace() {
            if word.eq_ignore_ascii_case("or") {
                if !current.is_empty() {
                    out.push(current.join(" "));
                }
                current.clear();
            } else {
                current.push(word);
            }
        }
        if !current.is_empty() {
            out.push(current.join(" "));
        }
    }
    out
}

/// `KOV` → `K0V`, `GOV` → `G0V`, `KOIII` → `K0III`, `KO` → `K0`: a capital `O` right after
/// a class letter (and not followed by another letter that makes a word) is a zero.
fn fix_letter_o(token: &str) -> Option<String> {
    let b = token.as_bytes();
    if b.len() >= 2 && b"BAFGKMLTY".contains(&b[0]) && b[1] == b'O' {
        // `KOV`, `KO`, `KOIII`, `GO V` — but not a word such as `BOSS` or `MOON`.
        let rest = &token[2..];
        let next = rest.chars().next();
        let ok = match next {
            None => true,
            Some(c) => c == ' ' || c == '.' || c.is_ascii_digit() || c == 'I' || c == 'V' || c == '-',
        };
        if ok {
            return Some(format!("{}0{}", &token[..1], rest));
        }
    }
    None
}

/// Class, subclass, luminosity class and kind of one token.
fn parse_token(token: &str) -> (Option<SpectralClass>, Option<f64>, Option<String>, StellarKind) {
    let mut s = token.trim();
    let lower = s.to_ascii_lowercase();
    if lower == "wd"
        || lower.starts_with("wd ")
        || lower.starts_with("wd") && !lower[2..].starts_with(char::is_alphabetic)
    {
        return (Some(SpectralClass::D), None, None, StellarKind::WhiteDwarf);
    }
    // "M-dwarf", "K dwarf": the class letter is explicit.
    if let Some(c) = s.chars().next().and_then(SpectralClass::from_letter)
        && (lower[1..].trim_start_matches(['-', ' ']).starts_with("dwarf"))
        && c != SpectralClass::D
    {
        return (Some(c), None, None, StellarKind::Normal);
    }
    let mut kind = StellarKind::Normal;
    let mut lum_prefix: Option<&str> = None;
    // Prefixes: sd (subdwarf, VI), esd/usd (extreme/ultra subdwarfs), d (dwarf, V).
    for (prefix, k, lum) in [
        ("usd", StellarKind::Subdwarf, "VI"),
        ("esd", StellarKind::Subdwarf, "VI"),
        ("sd", StellarKind::Subdwarf, "VI"),
        ("Sd", StellarKind::Subdwarf, "VI"),
        ("d", StellarKind::Normal, "V"),
    ] {
        if let Some(rest) = s.strip_prefix(prefix)
            && rest.starts_with(|c: char| SpectralClass::from_letter(c).is_some())
        {
            s = rest;
            kind = k;
            lum_prefix = Some(lum);
            break;
        }
    }
    let mut chars = s.char_indices();
    let Some((_, first)) = chars.next() else {
        return (None, None, None, StellarKind::Unknown);
    };
    let Some(class) = SpectralClass::from_letter(first) else {
        return (None, None, None, StellarKind::Unknown);
    };
    if class == SpectralClass::D {
        return (Some(SpectralClass::D), None, None, StellarKind::WhiteDwarf);
    }
    let rest = &s[first.len_utf8()..];
    let (subclass, rest) = read_subclass(rest);
    let rest = skip_range(rest);
    let lum = read_luminosity(rest).or(lum_prefix.map(String::from));
    (Some(class), subclass, lum, kind)
}

/// One digit, optionally followed by `.` and digits (`5`, `5.5`, `3.25`).
fn read_subclass(s: &str) -> (Option<f64>, &str) {
    let b = s.as_bytes();
    if b.first().is_none_or(|c| !c.is_ascii_digit()) {
        return (None, s);
    }
    let mut end = 1;
    if b.get(1) == Some(&b'.') && b.get(2).is_some_and(u8::is_ascii_digit) {
        end = 2;
        while b.get(end).is_some_and(u8::is_ascii_digit) {
            end += 1;
        }
    }
    (s[..end].parse().ok(), &s[end..])
}

/// Skip a subclass range such as `-9`, `-G0`, `-K1.5`, `-M2.5` right after the subclass.
fn skip_range(s: &str) -> &str {
    let Some(rest) = s.strip_prefix('-') else { return s };
    let rest = rest.strip_prefix(|c: char| SpectralClass::from_letter(c).is_some()).unwrap_or(rest);
    let (sub, after) = read_subclass(rest);
    if sub.is_some() { after } else { s }
}

/// A luminosity class at the start of `s` (after spaces and peculiarity letters such as
/// `e`): `0`/`Ia`/`Iab`/`Ib`/`I`/`II`/`III`/`IV`/`V`/`VI`/`VII`, an optional `a`/`b`/`ab`
/// suffix and an optional `-`range (`IV-V`, `III-IV`).
fn read_luminosity(s: &str) -> Option<String> {
    let s = s.trim_start_matches([' ', 'e', 'p', 'n', 'k', 'm', 's']);
    let (first, rest) = roman(s)?;
    let mut out = first.to_string();
    if let Some(r) = rest.strip_prefix('-')
        && let Some((second, _)) = roman(r)
    {
        out.push('-');
        out.push_str(second);
    }
    Some(out)
}

fn roman(s: &str) -> Option<(&str, &str)> {
    const NUMERALS: [&str; 7] = ["VII", "VI", "V", "IV", "III", "II", "I"];
    let base = NUMERALS.iter().find(|n| s.starts_with(**n))?;
    let mut end = base.len();
    for suffix in ["ab", "a", "b"] {
        if s[end..].starts_with(suffix) {
            end += suffix.len();
            break;
        }
    }
    // A numeral glued to a following capital is a word, not a luminosity class (lower-case
    // peculiarity letters may follow: `Vne`).
    if s[end..].starts_with(|c: char| c.is_ascii_uppercase()) {
        return None;
    }
    Some((&s[..end], &s[end..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> SpectralType {
        parse(s).unwrap_or_else(|| panic!("{s:?} parsed to None"))
    }

    fn class(s: &str) -> Option<char> {
        p(s).class.map(SpectralClass::letter)
    }

    #[test]
    fn plain_mk_types() {
        let t = p("M5.5V");
        assert_eq!(
            (t.class, t.subclass, t.luminosity_class.as_deref()),
            (Some(SpectralClass::M), Some(5.5), Some("V"))
        );
        assert_eq!((t.kind, t.typo_fixed, t.multi_valued), (StellarKind::Normal, false, false));
        assert_eq!(t.class_code().as_deref(), Some("M5.5"));
        let t = p("G2 V");
        assert_eq!(
            (t.class, t.subclass, t.luminosity_class.as_deref()),
            (Some(SpectralClass::G), Some(2.0), Some("V"))
        );
        let t = p(" K0IIIb");
        assert_eq!((t.raw.as_str(), t.luminosity_class.as_deref()), ("K0IIIb", Some("IIIb")));
        assert_eq!(p("K0 ").raw, "K0");
        assert_eq!(p("K0 ").luminosity_class, None);
        assert_eq!(p("A1IV-V").luminosity_class.as_deref(), Some("IV-V"));
        assert_eq!(p("G4II-III").luminosity_class.as_deref(), Some("II-III"));
        assert_eq!(p("K1IVa").luminosity_class.as_deref(), Some("IVa"));
        assert_eq!(p("B9Vne").luminosity_class.as_deref(), Some("V"));
        assert_eq!(p("K7eV").luminosity_class.as_deref(), Some("V"));
        assert_eq!(p("G0VI").luminosity_class.as_deref(), Some("VI"));
        assert_eq!(p("B0IVe").luminosity_class.as_deref(), Some("IV"));
        assert_eq!(p("M3.25").subclass, Some(3.25));
        assert_eq!(p("L3.5").class, Some(SpectralClass::L));
        assert_eq!(p("T8.5").subclass, Some(8.5));
        assert_eq!(p("Y0").class, Some(SpectralClass::Y));
        assert_eq!(p("O5V").class, Some(SpectralClass::O));
        let t = p("G");
        assert_eq!((t.class, t.subclass, t.luminosity_class.clone()), (Some(SpectralClass::G), None, None));
        assert_eq!(t.class_code().as_deref(), Some("G"));
    }

    #[test]
    fn multi_valued_types_take_the_first_token() {
        let t = p("K4/M1/M3");
        assert_eq!(t.tokens, ["K4", "M1", "M3"]);
        assert_eq!((t.class, t.subclass, t.multi_valued), (Some(SpectralClass::K), Some(4.0), true));
        let t = p("K7V+K7V");
        assert_eq!((t.primary(), t.luminosity_class.as_deref()), ("K7V", Some("V")));
        let t = p("G2/G3 IV-V");
        assert_eq!((t.primary(), t.class, t.luminosity_class.clone()), ("G2", Some(SpectralClass::G), None));
        let t = p("DA+M3V");
        assert_eq!((t.class, t.kind), (Some(SpectralClass::D), StellarKind::WhiteDwarf));
        let t = p("M9.5 | T5.5");
        assert_eq!((t.tokens.clone(), t.subclass), (vec!["M9.5".to_string(), "T5.5".to_string()], Some(9.5)));
        let t = p("G or K");
        assert_eq!(
            (t.tokens.clone(), t.class, t.multi_valued),
            (vec!["G".into(), "K".into()], Some(SpectralClass::G), true)
        );
        assert_eq!(class("F/G"), Some('F'));
        assert_eq!(class("M/K"), Some('M'));
        assert_eq!(class("A+M"), Some('A'));
        assert_eq!(p("M2.5+V").subclass, Some(2.5));
        assert_eq!(p("K0III/IV").luminosity_class.as_deref(), Some("III"));
    }

    #[test]
    fn letter_o_for_zero() {
        for (raw, fixed, class_letter, lum) in [
            ("GOV", "G0V", 'G', Some("V")),
            ("KOV", "K0V", 'K', Some("V")),
            ("MOV", "M0V", 'M', Some("V")),
            ("KOIII", "K0III", 'K', Some("III")),
            ("KO", "K0", 'K', None),
            ("KOIV", "K0IV", 'K', Some("IV")),
            ("KOIII/IV", "K0III", 'K', Some("III")),
        ] {
            let t = p(raw);
            assert!(t.typo_fixed, "{raw}");
            assert_eq!(t.primary(), fixed, "{raw}");
            assert_eq!(t.class.map(SpectralClass::letter), Some(class_letter), "{raw}");
            assert_eq!(t.subclass, Some(0.0), "{raw}");
            assert_eq!(t.luminosity_class.as_deref(), lum, "{raw}");
        }
        // A real O star and words are left alone.
        assert!(!p("O5V").typo_fixed);
        assert!(!p("BOSS").typo_fixed);
        assert_eq!(p("BOSS").subclass, None);
    }

    #[test]
    fn non_mk_strings_are_honest() {
        let t = p("Brown dwarf");
        assert_eq!((t.class, t.kind), (None, StellarKind::BrownDwarf), "never class B");
        let t = p("PSR");
        assert_eq!((t.class, t.kind), (None, StellarKind::Pulsar));
        let t = p("sdB");
        assert_eq!(
            (t.class, t.kind, t.luminosity_class.as_deref()),
            (Some(SpectralClass::B), StellarKind::Subdwarf, Some("VI"))
        );
        let t = p("sdB2VII");
        assert_eq!((t.subclass, t.luminosity_class.as_deref()), (Some(2.0), Some("VII")));
        assert_eq!(class("SdB D"), Some('B'));
        assert_eq!(class("sdL5"), Some('L'));
        assert_eq!(class("sdOB+dM"), Some('O'));
        assert_eq!(class("sdB+dM"), Some('B'));
        let t = p("M-dwarf");
        assert_eq!((t.class, t.kind), (Some(SpectralClass::M), StellarKind::Normal));
        for wd in ["WD", "WD DA", "WD DA+M5", "WD+M", "DA", "DAZe", "DQ D", "DA D", "DBe D", "DD D", "DN", "DAZ8+dM"] {
            let t = p(wd);
            assert_eq!((t.class, t.kind), (Some(SpectralClass::D), StellarKind::WhiteDwarf), "{wd}");
            assert_eq!(t.subclass, None);
        }
        assert_eq!(p("Catac. var.").class, None);
        assert_eq!(p("Catac. var.").kind, StellarKind::Cataclysmic);
        assert_eq!(p("AM Her").class, None, "not class A");
        assert_eq!(p("C-N").kind, StellarKind::CarbonStar);
        assert_eq!(p("C-N").class, None);
        assert_eq!(p("MRV").class, Some(SpectralClass::M));
        assert_eq!(p("MRV").subclass, None);
        let t = p("??");
        assert_eq!((t.class, t.kind), (None, StellarKind::Unknown));
        assert_eq!(parse("   "), None);
        assert_eq!(parse(""), None);
    }

    #[test]
    fn trailing_dwarf_marks_and_ranges() {
        // " D" suffixes never turn a G star into a white dwarf.
        for (raw, c, s) in
            [("G5 D", 'G', 5.0), ("G5D", 'G', 5.0), ("K0 D", 'K', 0.0), ("M0 D", 'M', 0.0), ("K0 E", 'K', 0.0)]
        {
            let t = p(raw);
            assert_eq!((t.class.map(SpectralClass::letter), t.subclass), (Some(c), Some(s)), "{raw}");
        }
        assert_eq!(class("B D"), Some('B'));
        assert_eq!(p("F8-9").subclass, Some(8.0));
        assert_eq!(p("F8-G0").class, Some(SpectralClass::F));
        assert_eq!(p("K4-M2.5").subclass, Some(4.0));
        let t = p("F7 V-V");
        assert_eq!(t.luminosity_class.as_deref(), Some("V-V"));
        assert_eq!(p("M3 PMS").luminosity_class, None);
        assert_eq!(p("G0V pecul.").luminosity_class.as_deref(), Some("V"));
    }

    #[test]
    fn never_panics_on_odd_text() {
        for s in [
            "é",
            "Kö",
            "K\u{2212}5",
            "O",
            "D",
            "sd",
            "sdé",
            "d",
            "-",
            "/",
            "+",
            "|||",
            "or",
            "G or",
            "KO\u{0301}",
            "W",
            "wdx",
            "M-",
            "M-dw",
        ] {
            let _ = parse(s);
        }
        assert_eq!(parse("/").map(|t| t.tokens.len()), Some(0));
    }

    #[test]
    fn class_codes_and_letters() {
        assert_eq!(CLASS_LETTERS.len(), 11);
        for (i, c) in SpectralClass::ALL.into_iter().enumerate() {
            assert_eq!(c.code() as usize, i);
            assert_eq!(SpectralClass::from_code(c.code()), Some(c));
            assert_eq!(SpectralClass::from_letter(c.letter()), Some(c));
            assert_eq!(c.to_string(), c.letter().to_string());
        }
        assert_eq!(SpectralClass::from_code(11), None);
        assert_eq!(SpectralClass::from_letter('W'), None);
        assert_eq!(SpectralClass::from_letter('k'), None);
        assert_eq!(serde_json::to_value(SpectralClass::D).unwrap(), "D");
    }

    #[test]
    fn teff_tables() {
        assert_eq!(SpectralClass::K.typical_teff_k(), 4450.0);
        assert_eq!(SpectralClass::D.typical_teff_k(), 10_000.0);
        // §4.6 thresholds, inclusive at the boundary.
        let cases = [
            (30_000.0, 'O'),
            (29_999.0, 'B'),
            (10_000.0, 'B'),
            (7_500.0, 'A'),
            (6_000.0, 'F'),
            (5_778.0, 'G'),
            (5_200.0, 'G'),
            (5_199.0, 'K'),
            (3_700.0, 'K'),
            (3_050.0, 'M'),
            (2_400.0, 'M'),
            (2_399.0, 'L'),
            (1_300.0, 'L'),
            (1_210.0, 'T'),
            (500.0, 'T'),
            (450.0, 'Y'),
        ];
        for (t, c) in cases {
            assert_eq!(SpectralClass::from_teff(t).map(SpectralClass::letter), Some(c), "{t}");
        }
        assert_eq!(SpectralClass::from_teff(0.0), None);
        assert_eq!(SpectralClass::from_teff(f64::NAN), None);
        // Subclass interpolation is monotonic (hotter → cooler) across every class boundary.
        let mut last = f64::INFINITY;
        for c in &SpectralClass::ALL[..10] {
            for s in 0..10 {
                let t = teff_from_type(*c, Some(f64::from(s)));
                assert!(t < last, "{c}{s}: {t} !< {last}");
                last = t;
            }
        }
        assert!((teff_from_type(SpectralClass::G, Some(2.0)) - 5800.0).abs() < 1e-9);
        assert_eq!(teff_from_type(SpectralClass::M, None), 3050.0);
        assert_eq!(teff_from_type(SpectralClass::D, Some(3.0)), 10_000.0);
        // The defaults land in their own class.
        for c in &SpectralClass::ALL[..10] {
            let t = teff_from_type(*c, None);
            assert_eq!(SpectralClass::from_teff(t), Some(*c), "{c}: {t}");
        }
    }
}
