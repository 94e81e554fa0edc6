// Decoder for the map asset, following docs/map-asset.md exactly (the Rust reference is
// shared/domain/src/asset.rs): the map part (EXMP v2: positions, brightness, class, flags,
// counts — all the first paint needs) and the names part (EXMN v1: main_ids and display
// names), fetched alongside and attached when it arrives. Columns stay columnar: typed
// arrays, one entry per system.

export const MAGIC = 'EXMP';
export const VERSION = 2;
export const NAMES_MAGIC = 'EXMN';
export const NAMES_VERSION = 1;
export const HEADER_BYTES = 24;
export const NAMES_HEADER_BYTES = 20;
export const BYTES_PER_SYSTEM = 10;
export const CLASS_LETTERS = 'OBAFGKMLTYD';
export const CLASS_UNKNOWN = 255;
/** The class nibble of a system without a class. */
export const CLASS_NIBBLE_UNKNOWN = 15;
export const MAG_UNKNOWN = 255;
export const COUNT_ESCAPE = 15;
export const LY_PER_PC = 3.26156;

export const FLAG_OBSERVED_PLANETS = 0x01;
export const FLAG_INFERRED_PLANETS = 0x02;
export const FLAG_CURATED = 0x04;
export const FLAG_HZ_PLANET = 0x08;

/** A decoded asset: the columns of docs/map-asset.md; names and aliases once the names part is attached. */
export interface MapAsset {
  version: number;
  /** u64 in the file; exact while below 2^53 (always, for database ids). */
  worldBuildId: number;
  count: number;
  /** The position quantum (pc). */
  unitPc: number;
  x: Float32Array;
  y: Float32Array;
  z: Float32Array;
  /** Derived from the position (not stored). */
  distanceLy: Float32Array;
  classCode: Uint8Array;
  /** The abs_mag byte: M_V = code / 8 − 5; 255 unknown (see `absMag`). */
  absMag: Uint8Array;
  multiplicity: Uint8Array;
  observedPlanets: Uint16Array;
  inferredPlanets: Uint16Array;
  flags: Uint8Array;
  /** main_id per system; empty strings until the names part is attached (`named`). */
  names: string[];
  /** Search aliases of system i (its main_id excluded); empty until the names part is attached. */
  aliases: string[][];
  named: boolean;
}

export class AssetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AssetError';
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The absolute magnitude of an abs_mag byte (null when unknown). */
export function absMagOf(code: number): number | null {
  return code === MAG_UNKNOWN ? null : code / 8 - 5;
}

/** Light-years from Sol of a decoded position, exactly as the Rust decoder computes it. */
export function distanceLyOf(x: number, y: number, z: number): number {
  return Math.fround(Math.sqrt(x * x + y * y + z * z) * LY_PER_PC);
}

function reader(input: ArrayBuffer | Uint8Array) {
  const bytes = input instanceof Uint8Array ? input : new Uint8Array(input);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const r = {
    bytes,
    view,
    pos: 0,
    need(n: number, what: string) {
      if (!Number.isSafeInteger(n) || n < 0 || r.pos + n > bytes.byteLength) throw new AssetError(`map asset truncated in ${what}`);
    },
    magic(want: string) {
      r.need(4, 'header');
      if (String.fromCharCode(bytes[0], bytes[1], bytes[2], bytes[3]) !== want) {
        throw new AssetError(`not a map asset part (magic is not ${want})`);
      }
    },
    text(what: string): string {
      r.need(4, what);
      const len = view.getUint32(r.pos, true);
      r.pos += 4;
      r.need(len, what);
      let s: string;
      try {
        s = utf8.decode(bytes.subarray(r.pos, r.pos + len));
      } catch {
        throw new AssetError(`${what} are not UTF-8`);
      }
      r.pos += len;
      return s;
    },
  };
  return r;
}

/** Decodes and validates the map part (and the names part when given); throws `AssetError` naming the problem. Never reads past the end. */
export function decodeAsset(input: ArrayBuffer | Uint8Array, names?: ArrayBuffer | Uint8Array): MapAsset {
  const r = reader(input);
  const { bytes, view } = r;
  r.magic(MAGIC);
  r.need(HEADER_BYTES, 'header');
  const version = view.getUint16(4, true);
  if (version !== VERSION) throw new AssetError(`unsupported map asset version ${version}`);
  const count = view.getUint32(8, true);
  const worldBuildId = view.getUint32(16, true) * 2 ** 32 + view.getUint32(12, true);
  const unitPc = view.getFloat32(20, true);
  if (!(Number.isFinite(unitPc) && unitPc > 0)) throw new AssetError('the position unit is not a positive number');
  r.pos = HEADER_BYTES;
  r.need(BYTES_PER_SYSTEM * count, 'columns');

  // i16 columns in two byte planes (low bytes, then high bytes), times the unit.
  const coord = () => {
    const out = new Float32Array(count);
    const lo = r.pos;
    const hi = r.pos + count;
    for (let i = 0; i < count; i++) {
      const q = bytes[lo + i] | (bytes[hi + i] << 8);
      out[i] = (q > 32767 ? q - 65536 : q) * unitPc;
    }
    r.pos += 2 * count;
    return out;
  };
  const u8 = () => {
    const out = bytes.slice(r.pos, r.pos + count);
    r.pos += count;
    return out;
  };
  const x = coord();
  const y = coord();
  const z = coord();
  const absMag = u8();
  const classFlags = u8();
  const counts = u8();
  const multiplicity = u8();
  const distanceLy = new Float32Array(count);
  const classCode = new Uint8Array(count);
  const flags = new Uint8Array(count);
  const observedPlanets = new Uint16Array(count);
  const inferredPlanets = new Uint16Array(count);
  for (let i = 0; i < count; i++) {
    distanceLy[i] = distanceLyOf(x[i], y[i], z[i]);
    const c = classFlags[i] & 0x0f;
    if (c >= CLASS_LETTERS.length && c !== CLASS_NIBBLE_UNKNOWN) throw new AssetError(`class/flags byte of system ${i} is invalid`);
    classCode[i] = c === CLASS_NIBBLE_UNKNOWN ? CLASS_UNKNOWN : c;
    flags[i] = classFlags[i] >> 4;
    observedPlanets[i] = counts[i] & 0x0f;
    inferredPlanets[i] = counts[i] >> 4;
  }
  r.need(4, 'overflow');
  const overflow = view.getUint32(r.pos, true);
  r.pos += 4;
  let next = 0;
  const nextEscaped = () => {
    while (next < count && (counts[next] & 0x0f) !== COUNT_ESCAPE && counts[next] >> 4 !== COUNT_ESCAPE) next++;
    return next < count ? next++ : -1;
  };
  for (let k = 0; k < overflow; k++) {
    r.need(8, 'overflow');
    const i = view.getUint32(r.pos, true);
    if (nextEscaped() !== i) throw new AssetError(`count overflow entry ${k} is invalid`);
    observedPlanets[i] = view.getUint16(r.pos + 4, true);
    inferredPlanets[i] = view.getUint16(r.pos + 6, true);
    r.pos += 8;
  }
  if (nextEscaped() !== -1) throw new AssetError(`count overflow entry ${overflow} is invalid`);
  if (r.pos !== bytes.byteLength) throw new AssetError(`${bytes.byteLength - r.pos} bytes after the last block`);

  const asset: MapAsset = {
    version,
    worldBuildId,
    count,
    unitPc,
    x,
    y,
    z,
    distanceLy,
    classCode,
    absMag,
    multiplicity,
    observedPlanets,
    inferredPlanets,
    flags,
    names: new Array<string>(count).fill(''),
    aliases: Array.from({ length: count }, () => []),
    named: false,
  };
  return names === undefined ? asset : withNames(asset, names);
}

/** The names part decoded for `asset` (count and build must match): a new MapAsset sharing the columns. */
export function withNames(asset: MapAsset, input: ArrayBuffer | Uint8Array): MapAsset {
  const r = reader(input);
  const { bytes, view } = r;
  r.magic(NAMES_MAGIC);
  r.need(NAMES_HEADER_BYTES, 'names header');
  const version = view.getUint16(4, true);
  if (version !== NAMES_VERSION) throw new AssetError(`unsupported map asset version ${version}`);
  const count = view.getUint32(8, true);
  const build = view.getUint32(16, true) * 2 ** 32 + view.getUint32(12, true);
  if (count !== asset.count || build !== asset.worldBuildId) throw new AssetError('the names part belongs to another map part');
  r.pos = NAMES_HEADER_BYTES;
  const nameBlock = r.text('names');
  const names = count === 0 && nameBlock === '' ? [] : nameBlock.split('\n');
  if (names.length !== count) throw new AssetError(`${names.length} names for ${count} systems`);
  const aliasBlock = r.text('aliases');
  if (r.pos !== bytes.byteLength) throw new AssetError(`${bytes.byteLength - r.pos} bytes after the last block`);
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
  return { ...asset, names, aliases, named: true };
}

/** The class letter of a code ("?" for unknown). */
export function classLetter(code: number): string {
  return code < CLASS_LETTERS.length ? CLASS_LETTERS[code] : '?';
}
