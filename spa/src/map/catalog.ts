// The star catalogue behind the map: the decoded asset plus derived per-system data
// (display names, search index). Pure: no DOM, no three.js.
import { FLAG_HZ_PLANET, withNames, type MapAsset } from '@exomaps/sdk';
import { classKey } from './classes';

/** Lower case, single spaces, without SIMBAD's "NAME " / "* " / "V* " style prefixes. */
export function normalise(s: string): string {
  return s
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/^(name|\*\*|\*|v\*|em\*|pm\*|fl\*)\s+/, '');
}

export interface SearchHit {
  index: number;
  /** The alias (or main_id) that matched. */
  matched: string;
  name: string;
  score: number;
}

export class Catalog {
  readonly asset: MapAsset;
  readonly count: number;
  readonly displayNames: string[];
  /** The names part is attached: labels, the local search and lookups by main_id work. */
  readonly named: boolean;
  private readonly keys: string[] = [];
  private readonly keyRaw: string[] = [];
  private readonly keyIndex: number[] = [];
  private readonly byMainId = new Map<string, number>();

  constructor(asset: MapAsset) {
    this.asset = asset;
    this.count = asset.count;
    this.named = asset.named;
    this.displayNames = asset.names.map((main, i) => displayName(main, asset.aliases[i]));
    for (let i = 0; asset.named && i < asset.count; i++) {
      this.byMainId.set(asset.names[i], i);
      for (const s of [asset.names[i], ...asset.aliases[i]]) {
        this.keys.push(normalise(s));
        this.keyRaw.push(s);
        this.keyIndex.push(i);
      }
    }
  }

  /** The same stars with the names part attached (a new Catalog; the columns are shared). */
  withNames(names: ArrayBuffer | Uint8Array): Catalog {
    return new Catalog(withNames(this.asset, names));
  }

  indexOf(mainId: string): number | undefined {
    return this.byMainId.get(mainId);
  }

  position(i: number) {
    return { x: this.asset.x[i], y: this.asset.y[i], z: this.asset.z[i] };
  }

  classKey(i: number): string {
    return classKey(this.asset.classCode[i]);
  }

  hzPlanet(i: number): boolean {
    return (this.asset.flags[i] & FLAG_HZ_PLANET) !== 0;
  }

  /**
   * Systems whose main_id or any alias matches `query`: exact > prefix > word prefix >
   * substring, ties broken by distance from Sol. One hit per system, at most `limit`.
   */
  search(query: string, limit = 12): SearchHit[] {
    const q = normalise(query);
    if (!q) return [];
    const best = new Map<number, SearchHit>();
    for (let k = 0; k < this.keys.length; k++) {
      const key = this.keys[k];
      const at = key.indexOf(q);
      if (at < 0) continue;
      let score: number;
      if (key === q) score = 400;
      else if (at === 0) score = 300;
      else if (key[at - 1] === ' ' || key[at - 1] === '-') score = 200;
      else score = 100 - Math.min(at, 50);
      const i = this.keyIndex[k];
      const prev = best.get(i);
      if (!prev || score > prev.score) best.set(i, { index: i, matched: this.keyRaw[k], name: this.displayNames[i], score });
    }
    const d = this.asset.distanceLy;
    return [...best.values()].sort((a, b) => b.score - a.score || d[a.index] - d[b.index]).slice(0, limit);
  }
}

/** SIMBAD-style identifiers: prefixed ("NAME …", "* …", "V* …") or catalogue + number ("GJ 551"). */
const CATALOGUE_ID = /^(NAME|\*\*?|V\*|Em\*|PM\*|Fl\*)\s|^[A-Z0-9][A-Z0-9+-]{0,7}\s*[+-]?[0-9J]/;

/**
 * A human name: the main_id when it is a name already (curated: "Proxima Centauri", "Sol"),
 * else the longest "NAME …" identifier ("Proxima Centauri" over "Proxima Cen"), else the
 * main_id; spaces collapsed.
 */
export function displayName(mainId: string, aliases: string[]): string {
  const clean = (s: string) => s.replace(/\s+/g, ' ').trim();
  if (!CATALOGUE_ID.test(mainId)) return clean(mainId);
  let best = '';
  for (const a of [mainId, ...aliases]) {
    if (!/^NAME\s/.test(a)) continue;
    const n = clean(a.replace(/^NAME\s+/, ''));
    if (n.length > best.length) best = n;
  }
  return best || clean(mainId);
}
