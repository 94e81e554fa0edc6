// Filters of the map (class, distance range, planets, provenance) as plain data, and the
// visibility mask they produce. Sol and the selection are always visible.
import { FLAG_INFERRED_PLANETS, FLAG_OBSERVED_PLANETS, type MapAsset } from '@exomaps/sdk';
import { CLASS_KEYS, classKey } from './classes';

export type PlanetFilter = 'any' | 'observed' | 'inferred' | 'any-planets';

export interface Filters {
  /** Classes shown (keys of CLASS_KEYS). */
  classes: Set<string>;
  minLy: number;
  maxLy: number;
  /**
   * any: every system; any-planets: with observed or inferred planets; observed: with observed
   * planets; inferred: with inferred planets only (candidates the engine added).
   */
  planets: PlanetFilter;
}

export const DEFAULT_MAX_LY = 110;

export function defaultFilters(): Filters {
  return { classes: new Set(CLASS_KEYS), minLy: 0, maxLy: DEFAULT_MAX_LY, planets: 'any' };
}

export function isDefault(f: Filters): boolean {
  return f.classes.size === CLASS_KEYS.length && f.minLy === 0 && f.maxLy >= DEFAULT_MAX_LY && f.planets === 'any';
}

export function passes(asset: MapAsset, i: number, f: Filters): boolean {
  if (!f.classes.has(classKey(asset.classCode[i]))) return false;
  const d = asset.distanceLy[i];
  if (d < f.minLy || (f.maxLy < DEFAULT_MAX_LY && d > f.maxLy)) return false;
  const fl = asset.flags[i];
  switch (f.planets) {
    case 'any':
      return true;
    case 'any-planets':
      return (fl & (FLAG_OBSERVED_PLANETS | FLAG_INFERRED_PLANETS)) !== 0;
    case 'observed':
      return (fl & FLAG_OBSERVED_PLANETS) !== 0;
    case 'inferred':
      return (fl & FLAG_INFERRED_PLANETS) !== 0;
  }
}

/** 1 = visible, 0 = hidden, per system. `keep` (Sol, the selection, the ruler ends) stays visible. */
export function visibilityMask(asset: MapAsset, f: Filters, keep: number[] = []): Uint8Array {
  const out = new Uint8Array(asset.count);
  for (let i = 0; i < asset.count; i++) out[i] = passes(asset, i, f) ? 1 : 0;
  for (const k of keep) if (k >= 0 && k < asset.count) out[k] = 1;
  return out;
}

export function countVisible(mask: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < mask.length; i++) n += mask[i];
  return n;
}
