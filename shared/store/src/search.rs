//! Name search over a build's `search_names` (written with the canonical build): exact, then
//! prefix, then fuzzy (trigram similarity or at most a few edits), one hit per system.

use crate::{Result, Store};
use serde::Serialize;

/// One system found by name.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct SearchHit {
    pub main_id: String,
    pub display_name: Option<String>,
    /// The name that matched.
    pub name: String,
    /// 0 exact, 1 prefix, 2 fuzzy.
    pub tier: i32,
    /// Edits between the query and the name (capped).
    pub edits: i32,
    pub similarity: f32,
    pub distance_ly: Option<f64>,
}

/// Most edits a fuzzy hit may need for a query key of this many characters.
pub fn max_edits(key_chars: usize) -> i32 {
    match key_chars {
        0..=3 => 0,
        4..=7 => 2,
        _ => 3,
    }
}

impl Store {
    /// Systems of the active build whose names match `key` (a `names::search_key`), best first:
    /// exact > prefix > fuzzy; within a tier fewer edits, display names, higher similarity,
    /// nearer systems.
    pub async fn search_names(&self, key: &str, limit: i64) -> Result<Vec<SearchHit>> {
        let edits = max_edits(key.chars().count());
        Ok(sqlx::query_as!(
            SearchHit,
            r#"WITH b AS (SELECT world_build_id FROM dm_galaxy.world_builds WHERE status = 'active'),
             hits AS (
                 SELECT n.world_build_id, n.star_id, n.main_id, n.display_name, n.name, n.kind,
                        CASE WHEN n.name_key = $1 THEN 0 WHEN n.name_key LIKE $2 THEN 1 ELSE 2 END AS tier,
                        levenshtein_less_equal(n.name_key, $1, 4) AS edits,
                        similarity(n.name_key, $1) AS similarity
                 FROM dm_galaxy.search_names n JOIN b USING (world_build_id)
                 WHERE n.name_key = $1 OR n.name_key LIKE $2 OR n.name_key % $1
                    OR ($3 > 0 AND abs(length(n.name_key) - length($1)) <= $3
                        AND levenshtein_less_equal(n.name_key, $1, $3) <= $3)),
             best AS (
                 SELECT DISTINCT ON (star_id) * FROM hits
                 ORDER BY star_id, tier, edits, kind, similarity DESC, length(name))
             SELECT best.main_id AS "main_id!", best.display_name, best.name AS "name!", best.tier AS "tier!",
                    best.edits AS "edits!", best.similarity AS "similarity!", x.distance_ly AS "distance_ly?"
             FROM best LEFT JOIN dm_galaxy.stars_xyz x USING (world_build_id, star_id)
             ORDER BY best.tier, best.edits, best.kind, best.similarity DESC, x.distance_ly NULLS LAST, best.main_id
             LIMIT $4"#,
            key,
            format!("{key}%"),
            edits,
            limit,
        )
        .fetch_all(self.pool())
        .await?)
    }

    /// The main_id of the system of a build one of whose names has exactly this search key
    /// (display names first).
    pub async fn main_id_by_search_key(&self, world_build_id: i64, key: &str) -> Result<Option<String>> {
        Ok(sqlx::query_scalar!(
            "SELECT main_id FROM dm_galaxy.search_names WHERE world_build_id = $1 AND name_key = $2
             ORDER BY kind, main_id LIMIT 1",
            world_build_id,
            key,
        )
        .fetch_optional(self.pool())
        .await?)
    }
}
