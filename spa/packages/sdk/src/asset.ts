// Decoder for the EXMP v1 map asset, following docs/map-asset.md exactly (the Rust reference
// is shared/domain/src/asset.rs). Columns stay columnar: typed arrays, one entry per system.

export const MAGIC = 'EXMP';
export const VERSION = 1;
export const HEADER_BYTES = 20;
export const BYTES_PER_SYSTEM = 23;
export const CLASS_LETTERS = 'OBAFGKMLTYD';
export const CLASS_UNKNOWN = 255;

export const FLAG_OBSERVED_PLANETS = 0x01;
export const FLAG_INFERRED_PLANETS = 0x02;
export const FLAG_CURATED = 0x04;
export const FLAG_HZ_PLANET = 0x08;

/** A decoded asset: the columns of docs/map-asset.md, names and aliases per system. */
export interface MapAsset {
  version: number;
  /** u64 in the file; exact while below 2^53 (always, for database ids). */
  worldBuildId: number;
  count: number;
  x: Float32Array;
  y: Float32Array;
  z: Float32Array;
  distanceLy: Float32Array;
  classCode: Uint8Array;
  multiplicity: Uint8Array;
  observedPlanets: Uint16Array;
  inferredPlanets: Uint16Array;
  flags: Uint8Array;
  names: string[];
  /** Search aliases of system i (its main_id excluded). */
  aliases: string[][];
}

export class AssetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AssetError';
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes and validates an asset; throws `AssetError` naming the problem. Never reads past the end. */
export function decodeAsset(input: ArrayBuffer | Uint8Array): MapAsset {
  const bytes = input instanceof Uint8Array ? input : new Uint8Array(input);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 0;
  const need = (n: number, what: string) => {
    if (!Number.isSafeInteger(n) || n < 0 || pos + n > bytes.byteLength) {
      throw new AssetError(`map asset truncated in ${what}`);
    }
  };
  need(4, 'header');
  if (String.fromCharCode(bytes[0], bytes[1], bytes[2], bytes[3]) !== MAGIC) {
    throw new AssetError('not a map asset (magic is not EXMP)');
  }
  need(HEADER_BYTES, 'header');
  const version = view.getUint16(4, true);
  if (version !== VERSION) throw new AssetError(`unsupported map asset version ${version}`);
  const count = view.getUint32(8, true);
  const lo = view.getUint32(12, true);
  const hi = view.getUint32(16, true);
  const worldBuildId = hi * 2 ** 32 + lo;
  pos = HEADER_BYTES;

  // Columns are unaligned in the file: copy each into its own typed array.
  const f32 = (what: string) => {
    need(4 * count, what);
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) out[i] = view.getFloat32(pos + 4 * i, true);
    pos += 4 * count;
    return out;
  };
  const u8 = (what: string) => {
    need(count, what);
    const out = bytes.slice(pos, pos + count);
    pos += count;
    return out;
  };
  const u16 = (what: string) => {
    need(2 * count, what);
    const out = new Uint16Array(count);
    for (let i = 0; i < count; i++) out[i] = view.getUint16(pos + 2 * i, true);
    pos += 2 * count;
    return out;
  };
  const text = (what: string) => {
    need(4, what);
    const len = view.getUint32(pos, true);
    pos += 4;
    need(len, what);
    let s: string;
    try {
      s = utf8.decode(bytes.subarray(pos, pos + len));
    } catch {
      throw new AssetError(`${what} are not UTF-8`);
    }
    pos += len;
    return s;
  };

  const x = f32('x');
  const y = f32('y');
  const z = f32('z');
  const distanceLy = f32('distance_ly');
  const classCode = u8('class_code');
  const multiplicity = u8('multiplicity');
  const observedPlanets = u16('observed_planets');
  const inferredPlanets = u16('inferred_planets');
  const flags = u8('flags');
  const nameBlock = text('names');
  const names = count === 0 && nameBlock === '' ? [] : nameBlock.split('\n');
  if (names.length !== count) throw new AssetError(`${names.length} names for ${count} systems`);
  const aliasBlock = text('aliases');
  if (pos !== bytes.byteLength) throw new AssetError(`${bytes.byteLength - pos} bytes after the alias block`);

  const aliases: string[][] = Array.from({ length: count }, () => []);
  if (aliasBlock !== '') {
    const lines = aliasBlock.split('\n');
    for (let n = 0; n < lines.length; n++) {
      const line = lines[n];
      const tab = line.indexOf('\t');
      const idx = tab > 0 ? line.slice(0, tab) : '';
      if (!/^[0-9]+$/.test(idx) || Number(idx) >= count) {
        throw new AssetError(`alias line ${n} is not index<TAB>alias`);
      }
      aliases[Number(idx)].push(line.slice(tab + 1));
    }
  }
  return {
    version,
    worldBuildId,
    count,
    x,
    y,
    z,
    distanceLy,
    classCode,
    multiplicity,
    observedPlanets,
    inferredPlanets,
    flags,
    names,
    aliases,
  };
}

/** The class letter of a code ("?" for unknown). */
export function classLetter(code: number): string {
  return code < CLASS_LETTERS.length ? CLASS_LETTERS[code] : '?';
}
