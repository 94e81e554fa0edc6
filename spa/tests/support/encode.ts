// Map asset encoder (EXMP v2 map part + EXMN v1 names part) used only by tests (unit tests, the
// e2e fixtures and the first-paint benchmark). It mirrors exomaps_domain::asset::encode; the
// Rust golden files keep both honest.
import {
  CLASS_LETTERS,
  CLASS_NIBBLE_UNKNOWN,
  COUNT_ESCAPE,
  FLAG_CURATED,
  FLAG_HZ_PLANET,
  FLAG_INFERRED_PLANETS,
  FLAG_OBSERVED_PLANETS,
  MAG_UNKNOWN,
} from '../../packages/sdk/src/asset';

export interface EncodeSystem {
  main_id: string;
  x_pc: number;
  y_pc: number;
  z_pc: number;
  distance_ly: number;
  /** A class letter of "OBAFGKMLTYD", or null. */
  spectral_class: string | null;
  /** Absolute visual magnitude, or null/undefined when unknown. */
  abs_mag?: number | null;
  multiplicity: number;
  observed_planets: number;
  inferred_planets: number;
  curated?: boolean;
  hz_planet?: boolean;
  aliases?: string[];
}

export interface EncodedParts {
  map: Uint8Array;
  names: Uint8Array;
}

const clean = (s: string) => s.replace(/[\n\r\t]/g, ' ');
const roundHalfAway = (v: number) => Math.sign(v) * Math.round(Math.abs(v));
export const MIN_UNIT_PC = 1 / 1024;

export function classNibble(letter: string | null): number {
  if (!letter) return CLASS_NIBBLE_UNKNOWN;
  const i = CLASS_LETTERS.indexOf(letter.toUpperCase()[0]);
  return i < 0 ? CLASS_NIBBLE_UNKNOWN : i;
}

export function absMagCode(m: number | null | undefined): number {
  if (m === null || m === undefined || !Number.isFinite(m)) return MAG_UNKNOWN;
  return Math.min(254, Math.max(0, roundHalfAway((Math.fround(m) + 5) * 8)));
}

/** The position quantum: the largest |coordinate| maps to ±32767 (f32 arithmetic, as in Rust). */
export function unitPcFor(systems: EncodeSystem[]): number {
  let max = 0;
  for (const s of systems) for (const v of [s.x_pc, s.y_pc, s.z_pc]) if (Number.isFinite(v)) max = Math.max(max, Math.abs(Math.fround(v)));
  let unit = Math.max(Math.fround(max / 32767), MIN_UNIT_PC);
  if (Math.fround(max / unit) > 32767) {
    const f = new Float32Array([unit]);
    new Uint32Array(f.buffer)[0] += 1;
    unit = f[0];
  }
  return unit;
}

export function encodeAsset(systems: EncodeSystem[], worldBuildId: number): EncodedParts {
  const n = systems.length;
  const unit = unitPcFor(systems);
  const nibble = (c: number) => (c >= COUNT_ESCAPE ? COUNT_ESCAPE : c);
  const overflow = systems.flatMap((s, i) => (nibble(s.observed_planets) === COUNT_ESCAPE || nibble(s.inferred_planets) === COUNT_ESCAPE ? [i] : []));
  const map = new Uint8Array(24 + 10 * n + 4 + 8 * overflow.length);
  const v = new DataView(map.buffer);
  map.set([0x45, 0x58, 0x4d, 0x50], 0);
  v.setUint16(4, 2, true);
  v.setUint32(8, n, true);
  v.setUint32(12, worldBuildId % 2 ** 32, true);
  v.setUint32(16, Math.floor(worldBuildId / 2 ** 32), true);
  v.setFloat32(20, unit, true);
  let p = 24;
  for (const key of ['x_pc', 'y_pc', 'z_pc'] as const) {
    const q = systems.map((s) => {
      const x = Math.fround(s[key]);
      return Number.isFinite(x) ? Math.min(32767, Math.max(-32767, roundHalfAway(x / unit))) & 0xffff : 0;
    });
    for (const x of q) map[p++] = x & 255;
    for (const x of q) map[p++] = x >> 8;
  }
  for (const s of systems) map[p++] = absMagCode(s.abs_mag);
  for (const s of systems) {
    let f = 0;
    if (s.observed_planets > 0) f |= FLAG_OBSERVED_PLANETS;
    if (s.inferred_planets > 0) f |= FLAG_INFERRED_PLANETS;
    if (s.curated) f |= FLAG_CURATED;
    if (s.hz_planet) f |= FLAG_HZ_PLANET;
    map[p++] = classNibble(s.spectral_class) | (f << 4);
  }
  for (const s of systems) map[p++] = nibble(Math.min(s.observed_planets, 65535)) | (nibble(Math.min(s.inferred_planets, 65535)) << 4);
  for (const s of systems) map[p++] = s.multiplicity;
  v.setUint32(p, overflow.length, true);
  p += 4;
  for (const i of overflow) {
    v.setUint32(p, i, true);
    v.setUint16(p + 4, Math.min(systems[i].observed_planets, 65535), true);
    v.setUint16(p + 6, Math.min(systems[i].inferred_planets, 65535), true);
    p += 8;
  }

  const enc = new TextEncoder();
  const nameBytes = enc.encode(systems.map((s) => clean(s.main_id)).join('\n'));
  const lines: string[] = [];
  systems.forEach((s, i) => {
    for (const a of s.aliases ?? []) {
      const c = clean(a);
      if (c) lines.push(`${i}\t${c}`);
    }
  });
  const aliasBytes = enc.encode(lines.join('\n'));
  const names = new Uint8Array(20 + 8 + nameBytes.length + aliasBytes.length);
  const w = new DataView(names.buffer);
  names.set([0x45, 0x58, 0x4d, 0x4e], 0);
  w.setUint16(4, 1, true);
  w.setUint32(8, n, true);
  w.setUint32(12, worldBuildId % 2 ** 32, true);
  w.setUint32(16, Math.floor(worldBuildId / 2 ** 32), true);
  let q = 20;
  for (const block of [nameBytes, aliasBytes]) {
    w.setUint32(q, block.length, true);
    q += 4;
    names.set(block, q);
    q += block.length;
  }
  return { map, names };
}

/** Typical absolute visual magnitude per class letter (main sequence; D white dwarf). */
const TYPICAL_MV: Record<string, number> = { O: -4.5, B: -1.5, A: 1.5, F: 3.3, G: 4.8, K: 6.5, M: 11, L: 17, T: 22, Y: 26, D: 13 };

/**
 * A deterministic synthetic neighbourhood of `n` systems within `radiusLy`, Sol first.
 * Random numbers from mulberry32 (the LCG used before issue 12 lost precision in doubles and
 * repeated itself every ~1,160 systems, which flattered any compression measured on it).
 */
export function syntheticSystems(n: number, radiusLy = 110): EncodeSystem[] {
  let seed = 12345;
  const rnd = () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  const out: EncodeSystem[] = [
    { main_id: 'Sol', x_pc: 0, y_pc: 0, z_pc: 0, distance_ly: 0, spectral_class: 'G', abs_mag: 4.83, multiplicity: 1, observed_planets: 8, inferred_planets: 0, curated: true, hz_planet: true, aliases: ['Sun', 'The Sun'] },
  ];
  const classes = 'MMMMMMMKKKGGFAD';
  for (let i = 1; i < n; i++) {
    const r = radiusLy * Math.cbrt(rnd()) / 3.26156;
    const th = Math.acos(2 * rnd() - 1);
    const ph = 2 * Math.PI * rnd();
    const x = r * Math.sin(th) * Math.cos(ph);
    const y = r * Math.sin(th) * Math.sin(ph);
    const z = r * Math.cos(th);
    const obs = rnd() < 0.05 ? 1 + Math.floor(rnd() * 4) : 0;
    const cls = rnd() < 0.03 ? null : classes[Math.floor(rnd() * classes.length)];
    // Magnitude: the class's typical value with ±1.5 mag of scatter; unknown without a class.
    const mag = cls === null ? null : TYPICAL_MV[cls] + (rnd() - 0.5) * 3;
    out.push({
      main_id: `GJ ${1000 + i}`,
      x_pc: x,
      y_pc: y,
      z_pc: z,
      distance_ly: Math.hypot(x, y, z) * 3.26156,
      spectral_class: cls,
      abs_mag: mag,
      multiplicity: rnd() < 0.2 ? 2 : 1,
      observed_planets: obs,
      inferred_planets: Math.floor(rnd() * 4),
      aliases: [`HIP ${50000 + i}`, `LHS ${i}`],
    });
  }
  // Nearest first, as the publish phase orders the asset.
  const sol = out.shift()!;
  out.sort((a, b) => a.distance_ly - b.distance_ly);
  return [sol, ...out];
}
