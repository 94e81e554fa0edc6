import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AssetError, decodeAsset } from '../src/asset';
// The golden file (written by shared/domain/tests/asset_golden.rs) and the test encoder live with the map's tests.
import { encodeAsset, syntheticSystems } from '../../../tests/support/encode';

const fixture = (name: string) => readFileSync(new URL(`../../../tests/fixtures/${name}`, import.meta.url));

describe('EXMP v1 decoder', () => {
  it('decodes the golden file written by the Rust reference encoder exactly', () => {
    const expected = JSON.parse(fixture('golden.json').toString('utf8'));
    const a = decodeAsset(new Uint8Array(fixture('golden.exmp')));
    expect(a.version).toBe(expected.version);
    expect(a.worldBuildId).toBe(expected.world_build_id);
    expect(a.count).toBe(expected.systems.length);
    expected.systems.forEach((s: Record<string, unknown>, i: number) => {
      expect({
        main_id: a.names[i], x: a.x[i], y: a.y[i], z: a.z[i], distance_ly: a.distanceLy[i],
        class_code: a.classCode[i], multiplicity: a.multiplicity[i], observed_planets: a.observedPlanets[i],
        inferred_planets: a.inferredPlanets[i], flags: a.flags[i], aliases: a.aliases[i],
      }).toEqual(s);
    });
  });

  it('decodes the byte-for-byte example of docs/map-asset.md', () => {
    const bytes = new Uint8Array([
      0x45, 0x58, 0x4d, 0x50, 1, 0, 0, 0, 1, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0,
      ...new Array(16).fill(0), 4, 1, 8, 0, 0, 0, 5, 3, 0, 0, 0, 0x53, 0x6f, 0x6c, 0, 0, 0, 0,
    ]);
    const a = decodeAsset(bytes);
    expect([a.worldBuildId, a.count, a.names[0], a.classCode[0], a.observedPlanets[0], a.flags[0]]).toEqual([7, 1, 'Sol', 4, 8, 5]);
    expect(a.aliases).toEqual([[]]);
  });

  it('the test encoder round-trips and matches the golden bytes', () => {
    const golden = new Uint8Array(fixture('golden.exmp'));
    const a = decodeAsset(golden);
    const systems = a.names.map((main_id, i) => ({
      main_id, x_pc: a.x[i], y_pc: a.y[i], z_pc: a.z[i], distance_ly: a.distanceLy[i],
      spectral_class: a.classCode[i] === 255 ? null : 'OBAFGKMLTYD'[a.classCode[i]],
      multiplicity: a.multiplicity[i], observed_planets: a.observedPlanets[i], inferred_planets: a.inferredPlanets[i],
      curated: (a.flags[i] & 4) !== 0, hz_planet: (a.flags[i] & 8) !== 0, aliases: a.aliases[i],
    }));
    expect(encodeAsset(systems, a.worldBuildId)).toEqual(golden);
    const big = decodeAsset(encodeAsset(syntheticSystems(11_000), 3));
    expect(big.count).toBe(11_000);
    expect(big.aliases[10]).toEqual(['HIP 50010', 'LHS 10']);
  });

  it('rejects bad files with a reason and never reads past the end', () => {
    const good = new Uint8Array(fixture('golden.exmp'));
    expect(() => decodeAsset(new TextEncoder().encode('NOPE'))).toThrow(/magic/);
    const v2 = good.slice();
    v2[4] = 2;
    expect(() => decodeAsset(v2)).toThrow(/version 2/);
    for (let end = 0; end < good.length; end++) {
      expect(() => decodeAsset(good.subarray(0, end)), `truncated at ${end}`).toThrow(AssetError);
    }
    const trailing = new Uint8Array([...good, 0]);
    expect(() => decodeAsset(trailing)).toThrow(/1 bytes after/);
    const huge = good.slice();
    new DataView(huge.buffer).setUint32(8, 0xffffffff, true);
    expect(() => decodeAsset(huge)).toThrow(/truncated/);
    // A bad alias line: index out of range.
    const bad = encodeAsset([{ main_id: 'A', x_pc: 0, y_pc: 0, z_pc: 0, distance_ly: 0, spectral_class: 'G', multiplicity: 1, observed_planets: 0, inferred_planets: 0, aliases: ['x'] }], 1);
    bad[bad.length - 3] = '9'.charCodeAt(0); // "0\tx" → "9\tx"
    expect(() => decodeAsset(bad)).toThrow(/alias line 0/);
    const notUtf8 = encodeAsset([{ main_id: 'A', x_pc: 0, y_pc: 0, z_pc: 0, distance_ly: 0, spectral_class: 'G', multiplicity: 1, observed_planets: 0, inferred_planets: 0 }], 1);
    notUtf8[notUtf8.length - 5] = 0xff;
    expect(() => decodeAsset(notUtf8)).toThrow(/names are not UTF-8/);
  });
});
