// One palette per spectral class (DOMAIN.md §9.3 "Proposal: one table"): the UI badges and the
// star colours both use it. Sizes and brightness grow with the star's visual luminosity, from
// the asset's absolute magnitude (issue 12: bright stars look bright); a class's typical
// luminosity stands in when the magnitude is unknown.
import { absMagOf, CLASS_LETTERS, CLASS_UNKNOWN } from '@exomaps/sdk';

export const CLASS_COLOURS: Record<string, string> = {
  O: '#9bb0ff',
  B: '#aabfff',
  A: '#cad7ff',
  F: '#f8f7ff',
  G: '#fff4ea',
  K: '#ffd2a1',
  M: '#ffb56c',
  L: '#ff8c42',
  T: '#ff6b35',
  Y: '#d9534f',
  D: '#e6ecff',
  '?': '#6b7280',
};

/** Typical main-sequence luminosity (L☉) per class: the size proxy. */
const CLASS_LUMINOSITY: Record<string, number> = {
  O: 1e5, B: 1e3, A: 20, F: 3, G: 1, K: 0.3, M: 0.02, L: 1e-4, T: 1e-5, Y: 1e-6, D: 1e-3, '?': 0.05,
};

/** Every filterable class key, in order (unknown last). */
export const CLASS_KEYS = [...CLASS_LETTERS.split(''), '?'];

export function classKey(code: number): string {
  return code === CLASS_UNKNOWN || code >= CLASS_LETTERS.length ? '?' : CLASS_LETTERS[code];
}

export function hexToRgb(hex: string): [number, number, number] {
  const n = parseInt(hex.slice(1), 16);
  return [((n >> 16) & 255) / 255, ((n >> 8) & 255) / 255, (n & 255) / 255];
}

/** Point size (world-space scale factor) by class and multiplicity. */
export function starSize(code: number, multiplicity: number): number {
  const l = CLASS_LUMINOSITY[classKey(code)];
  // 0.30 + 0.70·L^0.3 as in the original (§9.3), clamped, plus a little for multiples.
  const lum = Math.min(3.2, Math.max(0.35, 0.3 + 0.7 * Math.pow(l, 0.3)));
  return lum * (multiplicity > 1 ? 1.15 : 1);
}

/** The Sun's absolute visual magnitude. */
export const SUN_MV = 4.83;

/** Visual luminosity (L☉, V band) of an absolute magnitude. */
export const visualLuminosity = (mv: number) => Math.pow(10, -0.4 * (mv - SUN_MV));

/**
 * Point size (world-space scale factor, as `starSize`) and brightness (0–1, the point's
 * opacity) of a star from its abs_mag byte; the class proxy when the magnitude is unknown.
 * Sirius (M 1.4–1.8) ≈ size 1.9, brightness 0.72; the Sun 1.0 / 0.6; Proxima (M 15.5) 0.35 / 0.45.
 */
export function starLook(absMagCode: number, classCode: number, multiplicity: number): { size: number; bright: number } {
  const mv = absMagOf(absMagCode);
  if (mv === null) {
    const l = CLASS_LUMINOSITY[classKey(classCode)];
    return { size: starSize(classCode, multiplicity), bright: Math.min(1, Math.max(0.45, 0.6 + 0.1 * Math.log10(l))) };
  }
  const l = visualLuminosity(mv);
  const size = Math.min(3.2, Math.max(0.35, 0.3 + 0.7 * Math.pow(l, 0.3))) * (multiplicity > 1 ? 1.15 : 1);
  return { size, bright: Math.min(1, Math.max(0.45, 0.6 + 0.1 * Math.log10(l))) };
}
