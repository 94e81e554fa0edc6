//! Identifier normalisation (DOMAIN.md §4.3, §11.17).
//!
//! SIMBAD pads identifiers with trailing spaces and uses internal runs of spaces for
//! alignment (`Wolf  359`, `HD  95735`), so the same object arrives under several spellings.
//! [`normalise_id`] gives the canonical display form; [`alias_key`] the case-folded search key
//! with the SIMBAD classification prefix removed.

/// Classification prefixes SIMBAD puts in front of identifiers, in the order they are tried.
/// At most one is stripped by [`alias_key`].
pub const ALIAS_PREFIXES: [&str; 4] = ["NAME ", "V* ", "** ", "* "];

/// Trim and collapse every run of whitespace (spaces, tabs, NBSP) to one ASCII space.
/// `"Wolf  359  "` → `"Wolf 359"`.
///
/// "Whitespace" is Unicode `White_Space` (so tab, newline, U+00A0 NBSP, U+2007, U+202F, …).
pub fn normalise_id(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for word in raw.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// Alias/search key: [`normalise_id`], then strip ONE leading prefix among `"NAME "`, `"V* "`,
/// `"** "`, `"* "` (in that precedence), then lowercase.
///
/// `"NAME Barnard's star"` → `"barnard's star"`; `"* alf CMa B"` → `"alf cma b"`;
/// `"V* V645 Cen"` → `"v645 cen"`.
///
/// Prefixes match ASCII-case-insensitively (`"name Foo"` → `"foo"`), so a key computed from
/// user input agrees with one computed from the catalogue. A prefix is only stripped when
/// something follows it (`"NAME "` alone normalises to `"NAME"` and keys to `"name"`).
pub fn alias_key(raw: &str) -> String {
    let norm = normalise_id(raw);
    let rest = ALIAS_PREFIXES.iter().find_map(|p| strip_prefix_ignore_ascii_case(&norm, p)).unwrap_or(&norm);
    rest.to_lowercase()
}

fn strip_prefix_ignore_ascii_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix).then(|| &s[prefix.len()..])
}

/// Greek letters: (letter, Latin spelling, SIMBAD's three-letter form).
pub const GREEK: [(char, &str, &str); 24] = [
    ('α', "alpha", "alf"),
    ('β', "beta", "bet"),
    ('γ', "gamma", "gam"),
    ('δ', "delta", "del"),
    ('ε', "epsilon", "eps"),
    ('ζ', "zeta", "zet"),
    ('η', "eta", "eta"),
    ('θ', "theta", "tet"),
    ('ι', "iota", "iot"),
    ('κ', "kappa", "kap"),
    ('λ', "lambda", "lam"),
    ('μ', "mu", "mu"),
    ('ν', "nu", "nu"),
    ('ξ', "xi", "ksi"),
    ('ο', "omicron", "omi"),
    ('π', "pi", "pi"),
    ('ρ', "rho", "rho"),
    ('σ', "sigma", "sig"),
    ('τ', "tau", "tau"),
    ('υ', "upsilon", "ups"),
    ('φ', "phi", "phi"),
    ('χ', "chi", "chi"),
    ('ψ', "psi", "psi"),
    ('ω', "omega", "ome"),
];

/// Latin letters for the accented ones people leave out (`Véga` → `Vega`).
fn fold_char(c: char) -> Option<&'static str> {
    Some(match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' => "a",
        'ç' | 'ć' | 'č' => "c",
        'ď' | 'đ' => "d",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ė' | 'ę' | 'ě' => "e",
        'ì' | 'í' | 'î' | 'ï' | 'ī' | 'ı' => "i",
        'ñ' | 'ń' | 'ň' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ő' => "o",
        'ù' | 'ú' | 'û' | 'ü' | 'ū' | 'ů' | 'ű' => "u",
        'ý' | 'ÿ' => "y",
        'ś' | 'š' | 'ş' => "s",
        'ź' | 'ż' | 'ž' => "z",
        'ł' => "l",
        'ř' => "r",
        'ť' | 'ţ' => "t",
        'ğ' => "g",
        'ß' => "ss",
        'æ' => "ae",
        'œ' => "oe",
        _ => return None,
    })
}

/// Search key: tolerant of case, accents, spacing, punctuation, Greek letters and catalogue
/// spellings. [`alias_key`], then: accents folded (`é` → `e`), Greek letters and SIMBAD's
/// three-letter forms spelt out (`τ`, `tau` → `tau`; `alf` → `alpha`), `Gliese`/`Gl` → `gj`,
/// then everything but letters and digits removed (spaces included).
///
/// `"τ Ceti"` and `"Tau Ceti"` → `"tauceti"`; `"Barnard's Star"` and `"barnards star"` →
/// `"barnardsstar"`; `"Gliese 581"` and `"GJ 581"` → `"gj581"`; `"* alf Cen A"` → `"alphacena"`.
pub fn search_key(raw: &str) -> String {
    let key = alias_key(raw);
    let mut spelt = String::with_capacity(key.len());
    for c in key.chars() {
        if let Some((_, latin, _)) = GREEK.iter().find(|(g, _, _)| *g == c) {
            spelt.push_str(latin);
            // "α1" stays "alpha1"; "α Cen" keeps its space.
        } else if let Some(f) = fold_char(c) {
            spelt.push_str(f);
        } else {
            spelt.push(c);
        }
    }
    let words: Vec<String> = spelt
        .split(|c: char| c.is_whitespace() || c == '-' || c == '_' || c == '/')
        .filter(|w| !w.is_empty())
        .map(|w| w.chars().filter(|c| c.is_alphanumeric()).collect::<String>())
        .filter(|w| !w.is_empty())
        .collect();
    let mut out = String::with_capacity(spelt.len());
    for (i, w) in words.iter().enumerate() {
        let w = w.as_str();
        let w = if i == 0 {
            // SIMBAD's three-letter Greek forms, with an optional component digit: alf, alf01.
            let (letters, digits) = w.split_at(w.find(|c: char| c.is_ascii_digit()).unwrap_or(w.len()));
            match GREEK.iter().find(|(_, _, three)| *three == letters && words.len() > 1) {
                Some((_, latin, _)) => format!("{latin}{}", digits.trim_start_matches('0')),
                None => match w {
                    "gliese" | "gl" if words.len() > 1 => "gj".to_string(),
                    _ => w.to_string(),
                },
            }
        } else {
            w.to_string()
        };
        out.push_str(&w);
    }
    out
}

/// The spellings of a Bayer or Flamsteed designation: `("τ", "Cet", "Ceti")` →
/// `τ Cet`, `tau Cet`, `Tau Ceti`, `τ Ceti`; with a component digit (`α1`) also the
/// digit-less forms when `with_bare` (`Alpha Centauri` for α1 Cen). A Flamsteed number:
/// `61 Cyg`, `61 Cygni`.
pub fn designation_spellings(letter: &str, abbr: &str, genitive: Option<&str>, with_bare: bool) -> Vec<String> {
    let mut out = Vec::new();
    let mut push = |s: String| {
        if !out.contains(&s) {
            out.push(s);
        }
    };
    let mut chars = letter.chars();
    let first = chars.next();
    let digits: String = chars.collect();
    match first.and_then(|c| GREEK.iter().find(|(g, _, _)| *g == c)) {
        Some((greek, latin, three)) => {
            let capital = {
                let mut c = latin.chars();
                c.next().map(|f| f.to_uppercase().collect::<String>() + c.as_str()).unwrap_or_default()
            };
            let mut forms = vec![digits.clone()];
            if with_bare && !digits.is_empty() {
                forms.push(String::new());
            }
            for d in forms {
                push(format!("{greek}{d} {abbr}"));
                push(format!("{latin}{d} {abbr}"));
                if d.is_empty() {
                    push(format!("{three} {abbr}"));
                } else {
                    push(format!("{three}{d:0>2} {abbr}"));
                }
                if let Some(g) = genitive {
                    push(format!("{capital}{d} {g}"));
                    push(format!("{greek}{d} {g}"));
                }
            }
        }
        None if letter.chars().all(|c| c.is_ascii_digit()) && !letter.is_empty() => {
            push(format!("{letter} {abbr}"));
            if let Some(g) = genitive {
                push(format!("{letter} {g}"));
            }
        }
        None => {
            // A variable-star designation (`V1803`, `CG`).
            push(format!("{letter} {abbr}"));
            if let Some(g) = genitive {
                push(format!("{letter} {g}"));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_keys_fold_what_people_type() {
        for (a, b) in [
            ("Tau Ceti", "τ Ceti"),
            ("tau ceti", "TAU  CETI"),
            ("Barnard's Star", "barnards star"),
            ("Gliese 581", "GJ 581"),
            ("Gl 581", "gj581"),
            ("Véga", "Vega"),
            ("* alf Cen A", "Alpha Cen A"),
            ("alf01 Cen", "α1 Cen"),
            ("NAME Proxima Centauri", "proxima-centauri"),
        ] {
            assert_eq!(search_key(a), search_key(b), "{a} vs {b}");
        }
        assert_eq!(search_key("Tau Ceti"), "tauceti");
        assert_eq!(search_key("61 Cyg"), "61cyg");
        assert_eq!(search_key("ベガ"), "ベガ");
        assert_eq!(search_key("Вега"), "вега");
        assert_ne!(search_key("Gliese"), "gj");
        assert_eq!(search_key(""), "");
    }

    #[test]
    fn designations_are_spelt_every_way() {
        let tau = designation_spellings("τ", "Cet", Some("Ceti"), true);
        for want in ["τ Cet", "tau Cet", "Tau Ceti", "τ Ceti", "tau Cet"] {
            assert!(tau.contains(&want.to_string()), "{want} in {tau:?}");
        }
        let alpha1 = designation_spellings("α1", "Cen", Some("Centauri"), true);
        for want in ["α1 Cen", "alf01 Cen", "Alpha1 Centauri", "Alpha Centauri", "alf Cen"] {
            assert!(alpha1.contains(&want.to_string()), "{want} in {alpha1:?}");
        }
        assert!(!designation_spellings("α2", "Cen", Some("Centauri"), false).contains(&"Alpha Centauri".to_string()));
        assert_eq!(designation_spellings("61", "Cyg", Some("Cygni"), true), ["61 Cyg", "61 Cygni"]);
    }

    #[test]
    fn normalise_trims_and_collapses() {
        assert_eq!(normalise_id("Wolf  359  "), "Wolf 359");
        assert_eq!(normalise_id("  HD  95735"), "HD 95735");
        assert_eq!(normalise_id("V* V645 Cen                 "), "V* V645 Cen");
        assert_eq!(normalise_id("a\tb\u{00A0}\u{00A0}c\r\n"), "a b c");
        assert_eq!(normalise_id("KIC 10255705 \t"), "KIC 10255705");
        assert_eq!(normalise_id(""), "");
        assert_eq!(normalise_id(" \t\u{00A0} "), "");
        assert_eq!(normalise_id("already clean"), "already clean");
    }

    #[test]
    fn normalise_is_idempotent_and_keeps_other_characters() {
        for s in ["Wolf  359 ", "NAME Barnard's star", "WISE J072003.20\u{2212}084651.2", "é  ü"] {
            let once = normalise_id(s);
            assert_eq!(normalise_id(&once), once);
        }
        assert_eq!(normalise_id("é  ü"), "é ü");
        assert_eq!(normalise_id("x\u{2212}1"), "x\u{2212}1");
    }

    #[test]
    fn alias_key_examples_from_the_contract() {
        assert_eq!(alias_key("NAME Barnard's star"), "barnard's star");
        assert_eq!(alias_key("* alf CMa B"), "alf cma b");
        assert_eq!(alias_key("V* V645 Cen"), "v645 cen");
        assert_eq!(alias_key("** HN   28Ba,Bb"), "hn 28ba,bb");
        assert_eq!(alias_key("Wolf  359     "), "wolf 359");
    }

    #[test]
    fn alias_key_strips_only_one_prefix() {
        assert_eq!(alias_key("NAME * foo"), "* foo");
        assert_eq!(alias_key("* * foo"), "* foo");
        assert_eq!(alias_key("V* ** x"), "** x");
    }

    #[test]
    fn alias_key_prefix_needs_the_space_and_a_rest() {
        assert_eq!(alias_key("NAMEfoo"), "namefoo");
        assert_eq!(alias_key("V*foo"), "v*foo");
        assert_eq!(alias_key("*"), "*");
        assert_eq!(alias_key("**"), "**");
        assert_eq!(alias_key("NAME "), "name");
        assert_eq!(alias_key(""), "");
    }

    #[test]
    fn alias_key_normalises_before_stripping() {
        assert_eq!(alias_key("  NAME   Proxima   Centauri "), "proxima centauri");
        assert_eq!(alias_key("*\u{00A0}tau Cet"), "tau cet");
        assert_eq!(alias_key("name Proxima"), "proxima");
        assert_eq!(alias_key("v* V645 Cen"), "v645 cen");
    }

    #[test]
    fn alias_key_is_safe_on_multibyte_text() {
        // A prefix-length slice must never split a UTF-8 character.
        assert_eq!(alias_key("éé"), "éé");
        assert_eq!(alias_key("ÉÉÉÉÉ x"), "ééééé x");
        assert_eq!(alias_key("V\u{2212} x"), "v\u{2212} x");
    }
}
