// EXMP v1 encoder used only by tests (unit tests, the e2e fixtures and the first-paint
// benchmark). It mirrors exomaps_domain::asset::encode; the Rust golden file keeps both honest.
import { CLASS_LETTERS, CLASS_UNKNOWN, FLAG_CURATED, FLAG_HZ_PLANET, FLAG_INFERRED_PLANETS, FLAG_OBSERVED_PLANETS } from '../../packages/sdk/src/asset';

export interface EncodeSystem {
  main_id: string;
  x_pc: number;
  y_pc: number;
  z_pc: number;
  distance_ly: number;
  /** A class letter of "OBAFGKMLTYD", or null. */
  spectral_class: string | null;
  multiplicity: number;
  observed_planets: number;
  inferred_planets: number;
  curated?: boolean;
  hz_planet?: boolean;
  aliases?: string[];
}

const clean = (s: string) => s.replace(/[\n\r\t]/g, ' ');

export function classCodeOf(letter: string | null): number {
  if (!letter) return CLASS_UNKNOWN;
  const i = CLASS_LETTERS.indexOf(letter.toUpperCase()[0]);
  return i < 0 ? CLASS_UNKNOWN : i;
}

export function encodeAsset(systems: EncodeSystem[], worldBuildId: number): Uint8Array {
  const n = systems.length;
  const enc = new TextEncoder();
  const names = enc.encode(systems.map((s) => clean(s.main_id)).join('\n'));
  const lines: string[] = [];
  systems.forEach((s, i) => {
    for (const a of s.aliases ?? []) {
      const c = clean(a);
      if (c) lines.push(`${i}\t${c}`);
    }
  });
  const aliases = enc.encode(lines.join('\n'));
  const out = new Uint8Array(20 + 23 * n + 8 + names.length + aliases.length);
  const v = new DataView(out.buffer);
  out.set([0x45, 0x58, 0x4d, 0x50], 0);
  v.setUint16(4, 1, true);
  v.setUint16(6, 0, true);
  v.setUint32(8, n, true);
  v.setUint32(12, worldBuildId % 2 ** 32, true);
  v.setUint32(16, Math.floor(worldBuildId / 2 ** 32), true);
  let p = 20;
  for (const key of ['x_pc', 'y_pc', 'z_pc', 'distance_ly'] as const) {
    for (const s of systems) {
      v.setFloat32(p, s[key], true);
      p += 4;
    }
  }
  for (const s of systems) out[p++] = classCodeOf(s.spectral_class);
  for (const s of systems) out[p++] = s.multiplicity;
  for (const s of systems) (v.setUint16(p, Math.min(s.observed_planets, 65535), true), (p += 2));
  for (const s of systems) (v.setUint16(p, Math.min(s.inferred_planets, 65535), true), (p += 2));
  for (const s of systems) {
    let f = 0;
    if (s.observed_planets > 0) f |= FLAG_OBSERVED_PLANETS;
    if (s.inferred_planets > 0) f |= FLAG_INFERRED_PLANETS;
    if (s.curated) f |= FLAG_CURATED;
    if (s.hz_planet) f |= FLAG_HZ_PLANET;
    out[p++] = f;
  }
  for (const block of [names, aliases]) {
    v.setUint32(p, block.length, true);
    p += 4;
    out.set(block, p);
    p += block.length;
  }
  return out;
}

/** A deterministic synthetic neighbourhood of `n` systems within `radiusLy`, Sol first. */
export function syntheticSystems(n: number, radiusLy = 110): EncodeSystem[] {
  let seed = 12345;
  const rnd = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const out: EncodeSystem[] = [
    { main_id: 'Sol', x_pc: 0, y_pc: 0, z_pc: 0, distance_ly: 0, spectral_class: 'G', multiplicity: 1, observed_planets: 8, inferred_planets: 0, curated: true, hz_planet: true, aliases: ['Sun', 'The Sun'] },
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
    out.push({
      main_id: `GJ ${1000 + i}`,
      x_pc: x,
      y_pc: y,
      z_pc: z,
      distance_ly: Math.hypot(x, y, z) * 3.26156,
      spectral_class: rnd() < 0.03 ? null : classes[Math.floor(rnd() * classes.length)],
      multiplicity: rnd() < 0.2 ? 2 : 1,
      observed_planets: obs,
      inferred_planets: Math.floor(rnd() * 4),
      aliases: [`HIP ${50000 + i}`, `LHS ${i}`],
    });
  }
  return out;
}
