import { describe, expect, it } from 'vitest';
import { decodeAsset, MAG_UNKNOWN } from '@exomaps/sdk';
import { starLook, starSize, visualLuminosity } from '../../src/map/classes';
import { Catalog, displayName, normalise } from '../../src/map/catalog';
import { countVisible, defaultFilters, visibilityMask } from '../../src/map/filters';
import { placeLabels } from '../../src/map/labels';
import { LY_PER_PC, RING_LY, fromScene, lyToPc, separation, toScene } from '../../src/map/units';
import { decodeView, emptyView, encodeView } from '../../src/map/urlState';
import { absMagCode, encodeAsset, type EncodeSystem } from '../support/encode';

const sys = (main_id: string, xyz: [number, number, number], cls: string | null, extra: Partial<EncodeSystem> = {}): EncodeSystem => ({
  main_id, x_pc: xyz[0], y_pc: xyz[1], z_pc: xyz[2], distance_ly: Math.hypot(...xyz) * LY_PER_PC,
  spectral_class: cls, multiplicity: 1, observed_planets: 0, inferred_planets: 0, ...extra,
});

const parts = encodeAsset([
  sys('Sol', [0, 0, 0], 'G', { observed_planets: 8, curated: true }),
  sys('V* V645 Cen', [-0.474248, -0.36297, -1.156055], 'M', { observed_planets: 2, aliases: ['NAME Proxima Centauri', 'GJ   551'] }),
  sys('* alf CMa', [-0.4943, 2.4763, -0.7585], 'A', { aliases: ['NAME Sirius', '* 9 CMa'] }),
  sys('Wolf  359', [-2.2, 0.6, 0.3], 'M', { inferred_planets: 3 }),
  sys('Far One', [20, 20, 20], null, {}),
], 4);
const asset = decodeAsset(parts.map, parts.names);
const cat = new Catalog(asset);

describe('the names part arrives after the map part', () => {
  it('an unnamed catalogue draws but cannot be searched or looked up until the names attach', () => {
    const bare = new Catalog(decodeAsset(parts.map));
    expect([bare.named, bare.count, bare.search('Sirius'), bare.indexOf('Sol'), bare.indexOf('')]).toEqual([false, 5, [], undefined, undefined]);
    expect(bare.position(2)).toEqual(cat.position(2));
    const named = bare.withNames(parts.names);
    expect([named.named, named.indexOf('* alf CMa'), named.displayNames[2], named.search('sirius')[0].index]).toEqual([true, 2, 'Sirius', 2]);
    expect(() => bare.withNames(encodeAsset([sys('X', [0, 0, 0], 'G')], 4).names)).toThrow(/another map part/);
  });
});

describe('brightness from the absolute magnitude', () => {
  it('bright stars look bright: bigger and more opaque; unknown magnitudes fall back to the class', () => {
    const code = (m: number) => absMagCode(m);
    const sirius = starLook(code(1.42), 2, 2);
    const vega = starLook(code(0.58), 2, 1);
    const arcturus = starLook(code(-0.3), 5, 1);
    const sun = starLook(code(4.83), 4, 1);
    const proxima = starLook(code(15.5), 6, 1);
    const barnard = starLook(code(13.2), 6, 1);
    for (const bright of [sirius, vega, arcturus]) {
      for (const faint of [proxima, barnard, sun]) {
        expect(bright.size).toBeGreaterThan(faint.size);
        expect(bright.bright).toBeGreaterThan(faint.bright);
      }
    }
    expect(sun.size).toBeCloseTo(1, 1);
    expect(arcturus.size).toBeGreaterThan(vega.size);
    // Same class, different magnitude: the magnitude decides (a K giant over a K dwarf).
    expect(starLook(code(0.5), 5, 1).size).toBeGreaterThan(starLook(code(6.5), 5, 1).size * 2);
    // Unknown magnitude: the class proxy, as before issue 12.
    expect(starLook(MAG_UNKNOWN, 6, 1).size).toBe(starSize(6, 1));
    expect(starLook(MAG_UNKNOWN, 2, 1).size).toBeGreaterThan(starLook(MAG_UNKNOWN, 6, 1).size);
    expect(visualLuminosity(4.83)).toBe(1);
  });
});

describe('search', () => {
  it('finds systems by any alias, ignoring SIMBAD prefixes, case and spacing', () => {
    expect(cat.search('Proxima')[0]).toMatchObject({ index: 1, name: 'Proxima Centauri', matched: 'NAME Proxima Centauri' });
    expect(cat.search('gj 551')[0].index).toBe(1);
    expect(cat.search('sirius')[0].name).toBe('Sirius');
    expect(cat.search('9 cma')[0].index).toBe(2);
    expect(cat.search('wolf 359')[0].name).toBe('Wolf 359');
    expect(cat.search('')).toEqual([]);
    expect(cat.search('zzz')).toEqual([]);
  });
  it('ranks exact over prefix over substring, then nearer first', () => {
    const hits = cat.search('o');
    expect(hits.map((h) => h.index)).toContain(4);
    expect(cat.search('sol')[0].index).toBe(0);
    expect(normalise('NAME  Proxima   Cen')).toBe('proxima cen');
    expect(displayName('V* V645 Cen', ['NAME Proxima Cen', 'NAME Proxima Centauri', 'GJ 551'])).toBe('Proxima Centauri');
    expect(displayName('Wolf  359', ['GJ 406'])).toBe('Wolf 359');
    expect(displayName('Proxima Centauri', ['NAME Proxima Cen', 'GJ 551'])).toBe('Proxima Centauri');
    expect(displayName('GJ   551', ['NAME Proxima Cen'])).toBe('Proxima Cen');
    expect(displayName('NAME Barnard\'s star', [])).toBe("Barnard's star");
    expect(displayName('HD  95735', ['NAME Lalande 21185'])).toBe('Lalande 21185');
    expect(displayName('Sirius A', ['alf CMa'])).toBe('Sirius A');
  });
});

describe('filters', () => {
  it('hides M dwarfs but keeps the kept indices', () => {
    const f = defaultFilters();
    f.classes.delete('M');
    const mask = visibilityMask(asset, f);
    expect([...mask]).toEqual([1, 0, 1, 0, 1]);
    expect([...visibilityMask(asset, f, [1])]).toEqual([1, 1, 1, 0, 1]);
  });
  it('filters by distance range, planets and provenance', () => {
    const f = defaultFilters();
    f.maxLy = 5;
    expect([...visibilityMask(asset, f)]).toEqual([1, 1, 0, 0, 0]);
    f.maxLy = 110;
    f.minLy = 8;
    expect(countVisible(visibilityMask(asset, f))).toBe(2);
    const p = defaultFilters();
    p.planets = 'observed';
    expect([...visibilityMask(asset, p)]).toEqual([1, 1, 0, 0, 0]);
    p.planets = 'inferred';
    expect([...visibilityMask(asset, p)]).toEqual([0, 0, 0, 1, 0]);
    p.planets = 'any-planets';
    expect([...visibilityMask(asset, p)]).toEqual([1, 1, 0, 1, 0]);
    const u = defaultFilters();
    u.classes = new Set(['?']);
    expect([...visibilityMask(asset, u)]).toEqual([0, 0, 0, 0, 1]);
  });
});

describe('URL state', () => {
  it('round-trips camera, selection, ruler and filters', () => {
    const v = emptyView();
    v.camera = { target: [1.23456, -2, 0], position: [10, 20.5, -30.25] };
    v.selected = 'V* V645 Cen';
    v.ruler = ['Sol', '* alf CMa'];
    v.filters.classes.delete('M');
    v.filters.minLy = 2;
    v.filters.maxLy = 50;
    v.filters.planets = 'observed';
    const s = encodeView(v);
    const back = decodeView(s);
    expect(back.camera).toEqual({ target: [1.235, -2, 0], position: [10, 20.5, -30.25] });
    expect(back.selected).toBe('V* V645 Cen');
    expect(back.ruler).toEqual(['Sol', '* alf CMa']);
    expect([...back.filters.classes].sort()).toEqual([...v.filters.classes].sort());
    expect([back.filters.minLy, back.filters.maxLy, back.filters.planets]).toEqual([2, 50, 'observed']);
  });
  it('the default view is an empty query; malformed parts are ignored', () => {
    expect(encodeView(emptyView())).toBe('');
    const v = decodeView('?cam=1,2,x&d=9-3&pl=bogus&cls=MQ&ruler=onlyone');
    expect(v.camera).toBeNull();
    expect(v.ruler).toBeNull();
    expect([v.filters.minLy, v.filters.planets]).toEqual([0, 'any']);
    expect([...v.filters.classes]).toEqual(['M']);
    const none = emptyView();
    none.filters.classes.clear();
    expect(decodeView(encodeView(none)).filters.classes.size).toBe(0);
  });
});

describe('ruler and units', () => {
  it('measures Sol–Sirius in ly and pc', () => {
    const d = separation(cat.position(0), cat.position(2));
    expect(d.pc).toBeCloseTo(Math.hypot(0.4943, 2.4763, 0.7585), 3); // positions are quantised (~0.0006 pc here)
    expect(d.ly).toBeCloseTo(8.6, 1);
    expect(d.ly / d.pc).toBeCloseTo(LY_PER_PC, 10);
  });
  it('rings are drawn in pc for their ly labels', () => {
    expect(RING_LY).toContain(10);
    expect(lyToPc(10)).toBeCloseTo(3.066, 3);
  });
  it('scene transform puts celestial north up and inverts', () => {
    expect(toScene(0, 0, 1)).toEqual([0, 1, -0]);
    expect(fromScene(...toScene(1, 2, 3))).toEqual([1, 2, 3]);
  });
});

describe('labels', () => {
  it('never overlap, keep priority order and stay inside the viewport', () => {
    const cands = Array.from({ length: 200 }, (_, i) => ({ index: i, text: `Star ${i}`, x: (i * 37) % 800, y: (i * 53) % 600, priority: 200 - i }));
    const placed = placeLabels(cands, 800, 600, 1000);
    expect(placed.length).toBeGreaterThan(10);
    expect(placed[0].index).toBe(cands.find((c) => c.x + 7 + 50 < 800 && c.y > 7)!.index);
    for (let a = 0; a < placed.length; a++) {
      const A = placed[a].box;
      expect(A[0] >= 0 && A[1] >= 0 && A[0] + A[2] <= 800 && A[1] + A[3] <= 600).toBe(true);
      for (let b = a + 1; b < placed.length; b++) {
        const B = placed[b].box;
        const overlap = A[0] < B[0] + B[2] && B[0] < A[0] + A[2] && A[1] < B[1] + B[3] && B[1] < A[1] + A[3];
        expect(overlap).toBe(false);
      }
    }
    expect(placeLabels(cands, 800, 600, 5).length).toBe(5);
    // An occupied box (a ring label) keeps star labels away.
    const one = [{ index: 0, text: 'Sol', x: 100, y: 100, priority: 1 }];
    expect(placeLabels(one, 800, 600, 5, [[105, 95, 40, 14]])).toEqual([]);
    expect(placeLabels(one, 800, 600, 5, [[300, 300, 40, 14]]).length).toBe(1);
  });
});
