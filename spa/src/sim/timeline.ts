// Timeline maths, pure: playback position from wall time and speed, scrubber clamping, the
// simulated year of a tick (DOMAIN.md: 0.25 year per tick).
export const YEARS_PER_TICK = 0.25;
/** Playback speeds offered, in ticks per second. */
export const SPEEDS = [1, 4, 16, 64];

export const yearOf = (tick: number) => tick * YEARS_PER_TICK;

/** The (fractional) tick after `ms` of playing at `speed` ticks/s from `from`, capped at `head`. */
export function advance(from: number, ms: number, speed: number, head: number): number {
  return Math.min(head, Math.max(0, from + (ms / 1000) * speed));
}

/** A scrubber value clamped to the simulated range [0, head], whole ticks. */
export function clampTick(t: number, head: number): number {
  if (!Number.isFinite(t)) return head;
  return Math.min(Math.max(0, head), Math.max(0, Math.round(t)));
}
