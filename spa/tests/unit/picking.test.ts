import { describe, expect, it } from 'vitest';
import { Matrix4, PerspectiveCamera, Vector3 } from 'three';
import { pick, project } from '../../src/map/picking';

describe('screen-space picking', () => {
  const cam = new PerspectiveCamera(60, 800 / 600, 0.01, 1000);
  cam.position.set(0, 0, 10);
  cam.lookAt(0, 0, 0);
  cam.updateMatrixWorld();
  const vp = new Matrix4().multiplyMatrices(cam.projectionMatrix, cam.matrixWorldInverse);

  it('picks the star under the pointer, nearest in front on ties, never behind the camera', () => {
    const pos = new Float32Array([0, 0, 0, 0, 0, 5, 1, 1, 0, 0, 0, 20]);
    const visible = new Uint8Array([1, 1, 1, 1]);
    const p = project(pos, vp.elements, 800, 600);
    expect([p.sx[0], p.sy[0]]).toEqual([400, 300]);
    expect(pick(p, visible, 402, 301)).toBe(1); // 0 and 1 coincide on screen: 1 is in front
    expect(pick(p, new Uint8Array([1, 0, 1, 1]), 402, 301)).toBe(0);
    expect(p.depth[3]).toBeGreaterThan(1); // behind the camera: never picked
    const v = new Vector3(1, 1, 0).project(cam);
    expect(pick(p, visible, (v.x * 0.5 + 0.5) * 800, (-v.y * 0.5 + 0.5) * 600)).toBe(2);
    expect(pick(p, visible, 10, 10)).toBe(-1);
  });

  it('stays fast for 11,000 stars', () => {
    const n = 11_000;
    const pos = new Float32Array(3 * n).map(() => (Math.random() - 0.5) * 60);
    const visible = new Uint8Array(n).fill(1);
    const out = project(pos, vp.elements, 800, 600);
    const t0 = performance.now();
    const runs = 200;
    for (let r = 0; r < runs; r++) {
      project(pos, vp.elements, 800, 600, out);
      pick(out, visible, 400 + r, 300);
    }
    const ms = (performance.now() - t0) / runs;
    console.log(`picking 11,000 stars (project + pick): ${ms.toFixed(3)} ms per pick`);
    expect(ms).toBeLessThan(5);
  });
});
