// The simulation drawn over the star map: settled systems (one Points draw call, colour by
// faction, size by population), ships in flight (one Points draw call, positions interpolated
// along their routes from the fractional tick each frame), trade routes (one LineSegments) and
// the settlement front (a faint sphere around the start at the farthest settled system).
// Positions are the star map's scene positions (indexes into the catalog).
import * as THREE from 'three';
import { factionColour, populationSize } from '../sim/model';

export interface SimDraw {
  settlements: { idx: number; population: number; faction: number }[];
  ships: { from: number; to: number; departTick: number; arriveTick: number; faction: number }[];
  routes: [number, number][];
  /** Catalog index of the start system (centre of the front), −1 when unknown. */
  origin: number;
}

const VERTEX = /* glsl */ `
  attribute vec3 color;
  attribute float size;
  uniform float scale;
  varying vec3 vColor;
  void main() {
    vColor = color;
    vec4 mv = modelViewMatrix * vec4(position, 1.0);
    gl_Position = projectionMatrix * mv;
    gl_PointSize = clamp(size * 5.0 * sqrt(30.0 / max(-mv.z, 0.05)), 3.0, 40.0) * scale;
  }
`;
const RING = /* glsl */ `
  varying vec3 vColor;
  void main() {
    float r = length(gl_PointCoord - vec2(0.5)) * 2.0;
    if (r > 1.0) discard;
    float ring = smoothstep(0.55, 0.75, r) * smoothstep(1.0, 0.85, r);
    gl_FragColor = vec4(vColor, max(ring, 0.35 * smoothstep(1.0, 0.0, r)));
  }
`;
const DOT = /* glsl */ `
  varying vec3 vColor;
  void main() {
    float r = length(gl_PointCoord - vec2(0.5)) * 2.0;
    if (r > 1.0) discard;
    gl_FragColor = vec4(mix(vColor, vec3(1.0), 0.5), 1.0);
  }
`;

function pointsMaterial(fragment: string, scale: number) {
  return new THREE.ShaderMaterial({ vertexShader: VERTEX, fragmentShader: fragment, uniforms: { scale: { value: scale } }, transparent: true, depthWrite: false });
}

export class SimLayer {
  readonly group = new THREE.Group();
  private readonly settled: THREE.Points;
  private readonly ships: THREE.Points;
  private readonly routes: THREE.LineSegments;
  private readonly front: THREE.LineSegments;
  private shipData: SimDraw['ships'] = [];
  private shipPos = new Float32Array(0);
  /** Catalog indexes drawn as settled (for tests). */
  settledIdx: number[] = [];

  constructor(private readonly positions: () => Float32Array, scale: number) {
    this.settled = new THREE.Points(new THREE.BufferGeometry(), pointsMaterial(RING, scale));
    this.ships = new THREE.Points(new THREE.BufferGeometry(), pointsMaterial(DOT, scale));
    this.routes = new THREE.LineSegments(new THREE.BufferGeometry(), new THREE.LineBasicMaterial({ color: 0x7dd3fc, transparent: true, opacity: 0.45 }));
    this.front = new THREE.LineSegments(frontGeometry(), new THREE.LineBasicMaterial({ color: 0xf472b6, transparent: true, opacity: 0.25 }));
    for (const o of [this.routes, this.front, this.settled, this.ships]) {
      o.frustumCulled = false;
      this.group.add(o);
    }
    this.front.visible = false;
  }

  setScale(scale: number) {
    for (const o of [this.settled, this.ships]) (o.material as THREE.ShaderMaterial).uniforms.scale.value = scale;
  }

  /** Replaces what is drawn (a new tick's state). */
  set(d: SimDraw | null) {
    const P = this.positions();
    const s = d?.settlements.filter((x) => x.idx >= 0 && 3 * x.idx < P.length) ?? [];
    this.settledIdx = s.map((x) => x.idx);
    const pos = new Float32Array(3 * s.length), col = new Float32Array(3 * s.length), size = new Float32Array(s.length);
    let far = 0;
    const o = d && d.origin >= 0 ? new THREE.Vector3().fromArray(P, 3 * d.origin) : null;
    s.forEach((x, k) => {
      pos.set(P.subarray(3 * x.idx, 3 * x.idx + 3), 3 * k);
      col.set(factionColour(x.faction), 3 * k);
      size[k] = populationSize(x.population);
      if (o) far = Math.max(far, o.distanceTo(new THREE.Vector3().fromArray(P, 3 * x.idx)));
    });
    setAttrs(this.settled.geometry, { position: [pos, 3], color: [col, 3], size: [size, 1] });

    const r = d?.routes.filter(([a, b]) => 3 * Math.max(a, b) < P.length && a >= 0 && b >= 0) ?? [];
    const rp = new Float32Array(6 * r.length);
    r.forEach(([a, b], k) => {
      rp.set(P.subarray(3 * a, 3 * a + 3), 6 * k);
      rp.set(P.subarray(3 * b, 3 * b + 3), 6 * k + 3);
    });
    setAttrs(this.routes.geometry, { position: [rp, 3] });

    this.shipData = d?.ships.filter((x) => x.from >= 0 && x.to >= 0 && 3 * Math.max(x.from, x.to) < P.length) ?? [];
    const n = this.shipData.length;
    this.shipPos = new Float32Array(3 * n);
    const sc = new Float32Array(3 * n), ss = new Float32Array(n).fill(0.35);
    this.shipData.forEach((x, k) => sc.set(factionColour(x.faction), 3 * k));
    setAttrs(this.ships.geometry, { position: [this.shipPos, 3], color: [sc, 3], size: [ss, 1] });

    this.front.visible = !!o && far > 0;
    if (o) {
      this.front.position.copy(o);
      this.front.scale.setScalar(Math.max(far, 1e-3));
    }
  }

  /** Moves every ship to fractional tick `t` (straight line, constant speed from launch to arrival). */
  setTime(t: number) {
    const P = this.positions();
    const out = this.shipPos;
    const ships = this.shipData;
    for (let k = 0; k < ships.length; k++) {
      const s = ships[k];
      const span = s.arriveTick - s.departTick;
      const f = span <= 0 ? 1 : Math.min(1, Math.max(0, (t - s.departTick) / span));
      const a = 3 * s.from, b = 3 * s.to, o = 3 * k;
      out[o] = P[a] + (P[b] - P[a]) * f;
      out[o + 1] = P[a + 1] + (P[b + 1] - P[a + 1]) * f;
      out[o + 2] = P[a + 2] + (P[b + 2] - P[a + 2]) * f;
    }
    const attr = this.ships.geometry.getAttribute('position') as THREE.BufferAttribute | undefined;
    if (attr) attr.needsUpdate = true;
  }

  /** Ship positions (scene units) after the last setTime, for tests. */
  shipPositions(): Float32Array {
    return this.shipPos;
  }

  dispose() {
    for (const o of [this.settled, this.ships, this.routes, this.front]) {
      o.geometry.dispose();
      (o.material as THREE.Material).dispose();
    }
  }
}

function setAttrs(g: THREE.BufferGeometry, attrs: Record<string, [Float32Array, number]>) {
  for (const [name, [a, n]] of Object.entries(attrs)) g.setAttribute(name, new THREE.BufferAttribute(a, n));
  g.setDrawRange(0, Infinity);
}

/** Three great circles of a unit sphere. */
function frontGeometry(): THREE.BufferGeometry {
  const pts: number[] = [];
  const N = 96;
  for (let axis = 0; axis < 3; axis++) {
    for (let k = 0; k < N; k++) {
      for (const j of [k, k + 1]) {
        const a = (j / N) * Math.PI * 2;
        const c = Math.cos(a), s = Math.sin(a);
        pts.push(...(axis === 0 ? [c, s, 0] : axis === 1 ? [c, 0, s] : [0, c, s]));
      }
    }
  }
  const g = new THREE.BufferGeometry();
  g.setAttribute('position', new THREE.Float32BufferAttribute(pts, 3));
  return g;
}
