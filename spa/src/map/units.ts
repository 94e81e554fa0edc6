/** Light-years per parsec (the same constant as exomaps_domain::units). */
export const LY_PER_PC = 3.26156;
export const pcToLy = (pc: number) => pc * LY_PER_PC;
export const lyToPc = (ly: number) => ly / LY_PER_PC;

/** The rings drawn around Sol, in light-years; their radius in scene units (pc) is ly / 3.26156. */
export const RING_LY = [5, 10, 25, 50, 100];

/**
 * Scene coordinates from ICRS (pc): scene = (x, z, −y), so celestial north is screen-up
 * (DOMAIN.md §9.4 proposal) and the rings lie in the equatorial plane.
 */
export function toScene(x: number, y: number, z: number): [number, number, number] {
  return [x, z, -y];
}
export function fromScene(sx: number, sy: number, sz: number): [number, number, number] {
  return [sx, -sz, sy];
}

/** Distance between systems i and j in pc and ly. */
export function separation(
  a: { x: number; y: number; z: number },
  b: { x: number; y: number; z: number },
): { pc: number; ly: number } {
  const pc = Math.hypot(a.x - b.x, a.y - b.y, a.z - b.z);
  return { pc, ly: pcToLy(pc) };
}
