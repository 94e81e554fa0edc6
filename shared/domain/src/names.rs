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

#[cfg(test)]
mod tests {
    use super::*;

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
