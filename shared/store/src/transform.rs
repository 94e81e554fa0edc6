//! Phase 02 writes and build activation.

use crate::{Result, Store};

/// A star's position in the new world build.
#[derive(Debug, Clone)]
pub struct PositionWrite {
    pub x_pc: f64,
    pub y_pc: f64,
    pub z_pc: f64,
    pub distance_pc: f64,
    pub distance_ly: f64,
    pub distance_source: &'static str,
    pub uncertainty_pc: Option<f64>,
    pub in_scope: bool,
    pub in_margin: bool,
}

impl Store {
    /// Makes a build the active one (archiving the previous), atomically: readers see the old
    /// build or the new one, never neither. Activating the active build changes nothing.
    pub async fn activate_world_build(&self, world_build_id: i64) -> Result<()> {
        let mut tx = self.pool().begin().await?;
        sqlx::query!(
            "UPDATE dm_galaxy.world_builds SET status = 'archived' WHERE status = 'active' AND world_build_id <> $1",
            world_build_id,
        )
        .execute(&mut *tx)
        .await?;
        sqlx::query!(
            "UPDATE dm_galaxy.world_builds SET status = 'active', activated_at = COALESCE(activated_at, now())
             WHERE world_build_id = $1",
            world_build_id,
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.bump_generation();
        Ok(())
    }
}
