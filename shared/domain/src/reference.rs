//! Reference distance checks (DOMAIN.md §4.5), evaluated against canonical stars.
//!
//! The rules are data ([`DEFAULT_RULES`], version [`RULES_VERSION`]): expected distance and
//! tolerance in light-years (the v1 values), and — per the §4.5 proposal — a list of exact
//! aliases matched by [`crate::names::alias_key`] against the canonical stars' aliases, instead of the v1
//! case-insensitive substring search (which let `ALF CEN` hit Proxima, the C component). Every
//! alias of a rule must resolve to the same star; the first alias that resolves decides.
//!
//! Status per rule: `pass` if |observed − expected| ≤ tolerance, else `fail`; `warn` when no
//! alias names a star, the aliases name different stars, or the star has no distance.
//! Overall: `fail` if any rule fails, else `warn` if any warns, else `pass` (v1 reported
//! `warn` for a fail; here a failed reference check is a failure).

use crate::canon::{Canon, CanonStar};
use crate::coords::Icrs;
use crate::units::LY_PER_PC;
use serde::Serialize;

/// Version of [`DEFAULT_RULES`].
pub const RULES_VERSION: &str = "reference.v2";

/// One reference check.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ReferenceRule {
    pub rule_key: &'static str,
    pub expected_ly: f64,
    pub tolerance_ly: f64,
    /// Exact aliases (any spelling; compared by [`crate::names::alias_key`]).
    pub aliases: &'static [&'static str],
}

/// The six rules of DOMAIN.md §4.5, matched by exact alias: the α Cen and Sirius/Procyon rules
/// name the curated primaries (`alf Cen A`, `alf CMa`, `alf CMi`), not their companions.
pub const DEFAULT_RULES: [ReferenceRule; 6] = [
    ReferenceRule {
        rule_key: "distance_alpha_centauri",
        expected_ly: 4.37,
        tolerance_ly: 1.25,
        aliases: &["alf Cen A", "Rigil Kentaurus", "Alpha Centauri A"],
    },
    ReferenceRule {
        rule_key: "distance_barnards_star",
        expected_ly: 5.96,
        tolerance_ly: 1.25,
        aliases: &["Barnard's star", "GJ 699"],
    },
    ReferenceRule {
        rule_key: "distance_sirius",
        expected_ly: 8.60,
        tolerance_ly: 1.5,
        aliases: &["alf CMa", "Sirius A"],
    },
    ReferenceRule {
        rule_key: "distance_procyon",
        expected_ly: 11.46,
        tolerance_ly: 1.75,
        aliases: &["alf CMi", "Procyon A"],
    },
    ReferenceRule { rule_key: "distance_tau_ceti", expected_ly: 11.90, tolerance_ly: 2.0, aliases: &["tau Cet"] },
    ReferenceRule {
        rule_key: "distance_epsilon_eridani",
        expected_ly: 10.50,
        tolerance_ly: 2.0,
        aliases: &["eps Eri"],
    },
];

/// Bright-star reference checks, evaluated when a Hipparcos 2 source is part of the run (the
/// stars are not in the SIMBAD extract): expected distances from well-known parallaxes, matched
/// by `HIP n` or the proper name (both must name the same star).
pub const BRIGHT_RULES: [ReferenceRule; 6] = [
    ReferenceRule { rule_key: "distance_vega", expected_ly: 25.04, tolerance_ly: 1.0, aliases: &["HIP 91262", "Vega"] },
    ReferenceRule {
        rule_key: "distance_altair",
        expected_ly: 16.73,
        tolerance_ly: 1.0,
        aliases: &["HIP 97649", "Altair"],
    },
    ReferenceRule {
        rule_key: "distance_arcturus",
        expected_ly: 36.7,
        tolerance_ly: 1.5,
        aliases: &["HIP 69673", "Arcturus"],
    },
    ReferenceRule {
        rule_key: "distance_pollux",
        expected_ly: 33.78,
        tolerance_ly: 1.5,
        aliases: &["HIP 37826", "Pollux"],
    },
    ReferenceRule {
        rule_key: "distance_capella",
        expected_ly: 42.9,
        tolerance_ly: 2.0,
        aliases: &["HIP 24608", "Capella"],
    },
    ReferenceRule {
        rule_key: "distance_luytens_star",
        expected_ly: 12.35,
        tolerance_ly: 1.0,
        aliases: &["HIP 36208", "GJ 273"],
    },
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    Pass,
    Warn,
    Fail,
}

impl CheckStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckStatus::Pass => "pass",
            CheckStatus::Warn => "warn",
            CheckStatus::Fail => "fail",
        }
    }
}

/// The outcome of one rule, with its details.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckResult {
    pub rule_key: String,
    pub status: CheckStatus,
    pub expected_ly: f64,
    pub tolerance_ly: f64,
    pub observed_ly: Option<f64>,
    /// observed − expected.
    pub delta_ly: Option<f64>,
    pub matched_main_id: Option<String>,
    pub matched_alias: Option<String>,
    /// ICRS Cartesian position of the matched star in light-years.
    pub position_ly: Option<[f64; 3]>,
    /// |‖position‖ − distance| in light-years (the radial round trip).
    pub round_trip_error_ly: Option<f64>,
    /// Why the rule warned.
    pub reason: Option<String>,
}

/// All rules' results and the overall status.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReferenceReport {
    pub rules_version: String,
    pub status: CheckStatus,
    pub results: Vec<CheckResult>,
}

/// Evaluate `rules` against the canonical stars.
pub fn evaluate(canon: &Canon, rules: &[ReferenceRule]) -> ReferenceReport {
    let results: Vec<CheckResult> = rules.iter().map(|r| check(canon, r)).collect();
    let status = results.iter().map(|r| r.status).max().unwrap_or(CheckStatus::Pass);
    ReferenceReport { rules_version: RULES_VERSION.to_string(), status, results }
}

fn check(canon: &Canon, rule: &ReferenceRule) -> CheckResult {
    let mut out = CheckResult {
        rule_key: rule.rule_key.to_string(),
        status: CheckStatus::Warn,
        expected_ly: rule.expected_ly,
        tolerance_ly: rule.tolerance_ly,
        observed_ly: None,
        delta_ly: None,
        matched_main_id: None,
        matched_alias: None,
        position_ly: None,
        round_trip_error_ly: None,
        reason: None,
    };
    let hits: Vec<(&str, &CanonStar)> = rule.aliases.iter().filter_map(|a| canon.find(a).map(|s| (*a, s))).collect();
    let Some(&(alias, star)) = hits.first() else {
        out.reason = Some(format!("no star has any of the aliases {:?}", rule.aliases));
        return out;
    };
    out.matched_main_id = Some(star.main_id.clone());
    out.matched_alias = Some(alias.to_string());
    if let Some((other_alias, other)) = hits.iter().find(|(_, s)| s.main_id != star.main_id) {
        out.reason = Some(format!(
            "aliases name different stars: {alias:?} → {:?}, {other_alias:?} → {:?}",
            star.main_id, other.main_id
        ));
        return out;
    }
    let Some(d_pc) = star.distance_pc.filter(|d| d.is_finite() && *d > 0.0) else {
        out.reason = Some(format!("{:?} has no distance", star.main_id));
        return out;
    };
    let observed = d_pc * LY_PER_PC;
    out.observed_ly = Some(observed);
    out.delta_ly = Some(observed - rule.expected_ly);
    if let (Some(ra), Some(dec)) = (star.ra_deg, star.dec_deg) {
        let p = Icrs::from_spherical(ra, dec, d_pc);
        out.position_ly = Some([p.x_pc * LY_PER_PC, p.y_pc * LY_PER_PC, p.z_pc * LY_PER_PC]);
        out.round_trip_error_ly = Some((p.distance_ly() - observed).abs());
    }
    out.status =
        if (observed - rule.expected_ly).abs() <= rule.tolerance_ly { CheckStatus::Pass } else { CheckStatus::Fail };
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::canon::{CanonConfig, canonicalise};
    use crate::catalogue::simbad;

    const HDR: &str = "sys_id,sys_code,main_id,ids,otype_txt,otype_shortname,otype_longname,otypes,Average of ra,Average of dec,Average of dist\n";

    fn canon(rows: &[&str]) -> Canon {
        let b = simbad::parse(format!("{HDR}{}\n", rows.join("\n")).as_bytes()).unwrap();
        canonicalise(&b.accepted, &[], &CanonConfig::default())
    }

    const BARNARD: &str =
        "4,BARNST,NAME Barnard's star,GJ   699|HIP  87937,BY*,BY*,,BY*,269.4520825,4.693364265,1.8233";
    const TAU: &str = "20,,* tau Cet,GJ   71|HD  10700,PM*,PM*,,PM*,26.01701,-15.93748,3.6032";
    const EPS: &str = "12,EPSERI,* eps Eri,GJ   144,BY*,BY*,,BY*,53.23268735,-9.458258657,3.2028";
    const PROXIMA: &str =
        "2,ALCENT,V* V645 Cen,* alf Cen C|NAME Proxima Centauri,Fl*,Fl*,,Fl*,217.428938,-62.67949189,1.3012";

    #[test]
    fn all_six_pass_with_the_curated_primaries() {
        let r = evaluate(&canon(&[PROXIMA, BARNARD, TAU, EPS]), &DEFAULT_RULES);
        assert_eq!(r.status, CheckStatus::Pass, "{r:#?}");
        assert_eq!(r.rules_version, RULES_VERSION);
        let matched: Vec<&str> = r.results.iter().map(|x| x.matched_main_id.as_deref().unwrap()).collect();
        assert_eq!(
            matched,
            ["Alpha Centauri A", "NAME Barnard's star", "Sirius A", "Procyon A", "* tau Cet", "* eps Eri"]
        );
        let alpha = &r.results[0];
        assert!((alpha.observed_ly.unwrap() - 1.3241 * LY_PER_PC).abs() < 1e-12, "the A component, not Proxima");
        assert!(alpha.round_trip_error_ly.unwrap() < 1e-9);
        let p = alpha.position_ly.unwrap();
        assert!(((p[0].powi(2) + p[1].powi(2) + p[2].powi(2)).sqrt() - alpha.observed_ly.unwrap()).abs() < 1e-9);
        assert!((r.results[1].delta_ly.unwrap() - (1.8233 * LY_PER_PC - 5.96)).abs() < 1e-12);
    }

    #[test]
    fn missing_star_warns_and_a_distant_one_fails() {
        let r = evaluate(&canon(&[]), &DEFAULT_RULES);
        assert_eq!(r.status, CheckStatus::Warn);
        let barnard = &r.results[1];
        assert_eq!(barnard.status, CheckStatus::Warn);
        assert!(barnard.reason.as_deref().unwrap().contains("no star"));
        let far = "4,,NAME Barnard's star,GJ 699,BY*,BY*,,BY*,269.45,4.69,3.0";
        let r = evaluate(&canon(&[far]), &DEFAULT_RULES[1..2]);
        assert_eq!((r.status, r.results[0].status), (CheckStatus::Fail, CheckStatus::Fail));
        // Tolerance is inclusive.
        let rule = ReferenceRule {
            rule_key: "x",
            expected_ly: 1.8233 * LY_PER_PC + 0.5,
            tolerance_ly: 0.5,
            aliases: &["GJ 699"],
        };
        assert_eq!(evaluate(&canon(&[BARNARD]), &[rule]).status, CheckStatus::Pass);
    }

    #[test]
    fn aliases_naming_different_stars_warn() {
        let rule =
            ReferenceRule { rule_key: "mixed", expected_ly: 6.0, tolerance_ly: 5.0, aliases: &["GJ 699", "tau Cet"] };
        let r = evaluate(&canon(&[BARNARD, TAU]), &[rule]);
        assert_eq!(r.results[0].status, CheckStatus::Warn);
        assert!(r.results[0].reason.as_deref().unwrap().contains("different stars"));
    }

    #[test]
    fn a_star_without_distance_warns() {
        let r = evaluate(&canon(&["4,,NAME Barnard's star,GJ 699,BY*,BY*,,BY*,269.45,4.69,"]), &DEFAULT_RULES[1..2]);
        assert_eq!(r.results[0].status, CheckStatus::Warn);
        assert!(r.results[0].reason.as_deref().unwrap().contains("no distance"));
        assert_eq!(CheckStatus::Fail.as_str(), "fail");
        assert_eq!(serde_json::to_value(CheckStatus::Warn).unwrap(), "warn");
    }
}
