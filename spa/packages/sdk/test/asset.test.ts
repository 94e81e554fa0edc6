import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { AssetError, absMagOf, decodeAsset, distanceLyOf, MAG_UNKNOWN, withNames } from '../src/asset';
// The golden files (written by shared/domain/tests/asset_golden.rs) and the test encoder live with the map's tests.
import { absMagCode, encodeAsset, syntheticSystems, type EncodeSystem } from '../../../tests/support/encode';

const fixture = (name: string) => new Uint8Array(readFileSync(new URL(`../../../tests/fixtures/${name}`, import.meta.url)));
const one = (over: Partial<EncodeSystem> = {}): EncodeSystem => ({
  main_id: 'A', x_pc: 0, y_pc: 0, z_pc: 0, distance_ly: 0, spectral_class: 'G', multiplicity: 1, observed_planets: 0, inferred_planets: 0, ...over,
});

describe('map asset decoder (EXMP v2 + EXMN v1)', () => {
  it('decodes the golden files written by the Rust reference encoder exactly', () => {
    const expected = JSON.parse(new TextDecoder().decode(fixture('golden.json')));
    const a = decodeAsset(fixture('golden.exmp'), fixture('golden.names'));
    expect(a.version).toBe(expected.version);
    expect(a.worldBuildId).toBe(expected.world_build_id);
    expect(a.unitPc).toBe(expected.unit_pc);
    expect(a.count).toBe(expected.systems.length);
    expect(a.named).toBe(true);
    expected.systems.forEach((s: Record<string, unknown>, i: number) => {
      expect({
        main_id: a.names[i], x: a.x[i], y: a.y[i], z: a.z[i], distance_ly: a.distanceLy[i],
        class_code: a.classCode[i], abs_mag: a.absMag[i], multiplicity: a.multiplicity[i], observed_planets: a.observedPlanets[i],
        inferred_planets: a.inferredPlanets[i], flags: a.flags[i], aliases: a.aliases[i],
      }).toEqual(s);
    });
  });

  it('decodes the byte-for-byte example of docs/map-asset.md', () => {
    const map = new Uint8Array([
      0x45, 0x58, 0x4d, 0x50, 2, 0, 0, 0, 1, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x00, 0x80, 0x3a,
      0, 0, 0, 0, 0, 0, 79, 0x54, 8, 1, 0, 0, 0, 0,
    ]);
    const names = new Uint8Array([0x45, 0x58, 0x4d, 0x4e, 1, 0, 0, 0, 1, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0x53, 0x6f, 0x6c, 0, 0, 0, 0]);
    const bare = decodeAsset(map);
    expect([bare.worldBuildId, bare.count, bare.unitPc, bare.classCode[0], bare.observedPlanets[0], bare.flags[0], absMagOf(bare.absMag[0])]).toEqual([7, 1, 1 / 1024, 4, 8, 5, 4.875]);
    expect([bare.named, bare.names]).toEqual([false, ['']]);
    const a = withNames(bare, names);
    expect([a.named, a.names, a.aliases]).toEqual([true, ['Sol'], [[]]]);
    expect(a.x).toBe(bare.x); // the columns are shared, not copied
  });

  it('the test encoder matches the golden bytes and round-trips within the quanta', () => {
    const golden = fixture('golden.exmp');
    const goldenNames = fixture('golden.names');
    const a = decodeAsset(golden, goldenNames);
    const systems = a.names.map((main_id, i) => ({
      main_id, x_pc: a.x[i], y_pc: a.y[i], z_pc: a.z[i], distance_ly: a.distanceLy[i],
      spectral_class: a.classCode[i] === 255 ? null : 'OBAFGKMLTYD'[a.classCode[i]], abs_mag: absMagOf(a.absMag[i]),
      multiplicity: a.multiplicity[i], observed_planets: a.observedPlanets[i], inferred_planets: a.inferredPlanets[i],
      curated: (a.flags[i] & 4) !== 0, hz_planet: (a.flags[i] & 8) !== 0, aliases: a.aliases[i],
    }));
    const again = encodeAsset(systems, a.worldBuildId);
    expect(again.map).toEqual(golden);
    expect(again.names).toEqual(goldenNames);
    const src = syntheticSystems(11_000);
    const parts = encodeAsset(src, 3);
    const big = decodeAsset(parts.map, parts.names);
    expect(big.count).toBe(11_000);
    expect(big.aliases[0]).toEqual(['Sun', 'The Sun']);
    for (let i = 0; i < big.count; i++) {
      const s = src[i];
      expect(Math.abs(big.x[i] - s.x_pc) <= big.unitPc / 2 + 1e-6 && Math.abs(big.z[i] - s.z_pc) <= big.unitPc / 2 + 1e-6, `${i}`).toBe(true);
      expect(Math.abs(big.distanceLy[i] - s.distance_ly)).toBeLessThan(0.01);
      expect(big.absMag[i]).toBe(absMagCode(s.abs_mag));
      expect([big.observedPlanets[i], big.inferredPlanets[i], big.multiplicity[i]]).toEqual([s.observed_planets, s.inferred_planets, s.multiplicity]);
    }
  });

  it('keeps large planet counts exact through the overflow table', () => {
    const parts = encodeAsset([one({ observed_planets: 14 }), one({ observed_planets: 15 }), one({ inferred_planets: 65535 }), one({ observed_planets: 300, inferred_planets: 16 })], 1);
    const a = decodeAsset(parts.map);
    expect([...a.observedPlanets]).toEqual([14, 15, 0, 300]);
    expect([...a.inferredPlanets]).toEqual([0, 0, 65535, 16]);
    const broken = parts.map.slice(0, parts.map.length - 8);
    new DataView(broken.buffer).setUint32(broken.length - 20, 2, true);
    expect(() => decodeAsset(broken)).toThrow(/overflow entry 2/);
  });

  it('magnitudes: 1/8-mag steps from −5, clamped, 255 unknown', () => {
    expect([absMagCode(-5), absMagCode(-9), absMagCode(0), absMagCode(1.42), absMagCode(26.75), absMagCode(40)]).toEqual([0, 0, 40, 51, 254, 254]);
    expect([absMagCode(null), absMagCode(undefined), absMagCode(NaN)]).toEqual([MAG_UNKNOWN, MAG_UNKNOWN, MAG_UNKNOWN]);
    expect([absMagOf(0), absMagOf(51), absMagOf(254), absMagOf(255)]).toEqual([-5, 1.375, 26.75, null]);
    expect(distanceLyOf(1, 2, 2)).toBe(Math.fround(3 * 3.26156));
  });

  it('rejects bad files with a reason and never reads past the end', () => {
    const good = fixture('golden.exmp');
    const names = fixture('golden.names');
    expect(() => decodeAsset(new TextEncoder().encode('NOPE'))).toThrow(/magic/);
    const v1 = good.slice();
    v1[4] = 1;
    expect(() => decodeAsset(v1)).toThrow(/version 1/);
    for (let end = 0; end < good.length; end++) {
      expect(() => decodeAsset(good.subarray(0, end)), `truncated at ${end}`).toThrow(AssetError);
    }
    for (let end = 0; end < names.length; end++) {
      expect(() => decodeAsset(good, names.subarray(0, end)), `names truncated at ${end}`).toThrow(AssetError);
    }
    expect(() => decodeAsset(new Uint8Array([...good, 0]))).toThrow(/1 bytes after/);
    expect(() => decodeAsset(good, new Uint8Array([...names, 0]))).toThrow(/1 bytes after/);
    const huge = good.slice();
    new DataView(huge.buffer).setUint32(8, 0xffffffff, true);
    expect(() => decodeAsset(huge)).toThrow(/truncated/);
    const zeroUnit = good.slice();
    new DataView(zeroUnit.buffer).setFloat32(20, 0, true);
    expect(() => decodeAsset(zeroUnit)).toThrow(/unit/);
    const badClass = encodeAsset([one()], 1).map;
    badClass[24 + 6 + 1] = 0x0c;
    expect(() => decodeAsset(badClass)).toThrow(/class\/flags byte of system 0/);
    // Names of another build.
    const other = encodeAsset([one()], 2);
    expect(() => decodeAsset(encodeAsset([one()], 1).map, other.names)).toThrow(/another map part/);
    // A bad alias line: index out of range.
    const bad = encodeAsset([one({ aliases: ['x'] })], 1);
    bad.names[bad.names.length - 3] = '9'.charCodeAt(0); // "0\tx" → "9\tx"
    expect(() => decodeAsset(bad.map, bad.names)).toThrow(/alias line 0/);
    const notUtf8 = encodeAsset([one()], 1);
    notUtf8.names[notUtf8.names.length - 5] = 0xff;
    expect(() => decodeAsset(notUtf8.map, notUtf8.names)).toThrow(/names are not UTF-8/);
  });

  it('the first-paint part of 11,000 synthetic systems is at most 12 bytes per system gzipped', () => {
    const parts = encodeAsset(syntheticSystems(11_000), 900_000);
    const perSystem = gzipSync(parts.map).length / 11_000;
    const namesPerSystem = gzipSync(parts.names).length / 11_000;
    console.log(`synthetic 11,000: map part ${(parts.map.length / 11_000).toFixed(2)} B/system raw, ${perSystem.toFixed(2)} gzip; names part ${namesPerSystem.toFixed(2)} gzip`);
    expect(perSystem).toBeLessThanOrEqual(12);
    expect(perSystem).toBeGreaterThan(4); // random positions cannot squeeze below their entropy
  });
});
