// The 3-D star map: one THREE.Points draw call for every star (colour by class, size and
// brightness by the asset's absolute magnitude, hidden stars collapse to size 0), Sol's reticle, distance rings labelled in
// light-years (drawn at ly / 3.26156 pc), orbit controls with a smooth fly-to, screen-space
// picking, non-overlapping labels and a two-star ruler. Imperative three.js; React owns the
// panels around it. Renders on demand, not in a busy loop.
import * as THREE from 'three';
import { OrbitControls } from 'three/examples/jsm/controls/OrbitControls.js';
import type { Catalog } from './catalog';
import { CLASS_COLOURS, classKey, hexToRgb, starLook } from './classes';
import { SimLayer, type SimDraw } from './SimLayer';
import { placeLabels, type LabelCandidate } from './labels';
import { pick, project, type Projected } from './picking';
import { RING_LY, lyToPc, separation, toScene } from './units';
import type { CameraState } from './urlState';

const VERTEX = /* glsl */ `
  attribute vec3 color;
  attribute float size;
  attribute float shown;
  attribute float bright;
  uniform float scale;
  varying vec3 vColor;
  varying float vBright;
  void main() {
    vColor = color;
    vBright = bright;
    vec4 mv = modelViewMatrix * vec4(position, 1.0);
    gl_Position = projectionMatrix * mv;
    // Brighter classes are bigger; size falls off gently (√) with distance so far stars stay visible.
    float px = (1.6 + 2.4 * size) * sqrt(30.0 / max(-mv.z, 0.05)) * scale;
    gl_PointSize = shown > 0.5 ? clamp(px, 2.0 * scale, 36.0 * scale) : 0.0;
  }
`;

const FRAGMENT = /* glsl */ `
  varying vec3 vColor;
  varying float vBright;
  void main() {
    vec2 d = gl_PointCoord - vec2(0.5);
    float r = length(d) * 2.0;
    if (r > 1.0) discard;
    float core = smoothstep(0.55, 0.0, r);
    float halo = smoothstep(1.0, 0.2, r) * 0.45;
    vec3 c = mix(vColor, vec3(1.0), core * 0.45);
    // Intrinsically brighter stars are more opaque (additive blending: brighter).
    gl_FragColor = vec4(c, clamp(core + halo, 0.0, 1.0) * vBright);
  }
`;

/** Names always worth a label when on screen (DOMAIN.md §9.4). */
const ALWAYS = ['Proxima Centauri', 'Sirius', 'Sirius A', 'Sirius B', "Barnard's star", "Barnard's Star", 'Sol'];

export interface StarMapEvents {
  onPick?: (index: number | null) => void;
  onCamera?: (c: CameraState) => void;
  /** The star under the pointer changed (null: none), for the room's shared cursor. */
  onHover?: (index: number | null) => void;
  /** The labels were placed again (the camera or the stars moved): overlays follow. */
  onLabels?: () => void;
}

export class StarMap {
  readonly renderer: THREE.WebGLRenderer;
  readonly camera: THREE.PerspectiveCamera;
  readonly controls: OrbitControls;
  private readonly scene = new THREE.Scene();
  private readonly container: HTMLElement;
  private readonly labelLayer: HTMLDivElement;
  private readonly labelPool: HTMLSpanElement[] = [];
  private readonly ringLabels: HTMLSpanElement[] = [];
  private points: THREE.Points | null = null;
  private positions = new Float32Array(0);
  private sizes = new Float32Array(0);
  private brights = new Float32Array(0);
  private visible: Uint8Array = new Uint8Array(0);
  private projected: Projected | null = null;
  private catalog: Catalog | null = null;
  private byDistance: number[] = [];
  private alwaysIdx: number[] = [];
  private selected = -1;
  private ruler: [number, number] | null = null;
  private readonly marker: THREE.Sprite;
  private readonly solMarker: THREE.Sprite;
  private rulerLine: THREE.Line | null = null;
  private rulerLabel: HTMLSpanElement;
  private frameRequested = false;
  private flight: { from: THREE.Vector3[]; to: THREE.Vector3[]; start: number; ms: number } | null = null;
  private readonly events: StarMapEvents;
  private disposed = false;
  /** Milliseconds of the last pick (projection + search), for the debug hook. */
  lastPickMs = 0;
  /** performance.now() when stars were first drawn. */
  firstStarsAt: number | null = null;
  frames = 0;
  private labelsDirty = true;
  /** The simulation overlay; `simClock` gives the fractional tick to draw ships at (null: still). */
  readonly sim: SimLayer;
  simClock: (() => number | null) | null = null;
  /** Script time of the last frames (sim state update + draw submission), ms, for the benchmark. */
  readonly frameScriptMs: number[] = [];
  /** Whole frame() script time (also label placement), ms. */
  readonly frameTotalMs: number[] = [];

  constructor(container: HTMLElement, events: StarMapEvents = {}) {
    this.container = container;
    this.events = events;
    this.renderer = new THREE.WebGLRenderer({ antialias: false, alpha: false, preserveDrawingBuffer: true });
    this.renderer.setPixelRatio(Math.min(window.devicePixelRatio, 2));
    this.renderer.setClearColor(0x03050c, 1);
    this.renderer.domElement.dataset.testid = 'map-canvas';
    container.appendChild(this.renderer.domElement);
    this.labelLayer = document.createElement('div');
    this.labelLayer.className = 'map-labels';
    container.appendChild(this.labelLayer);
    this.rulerLabel = document.createElement('span');
    this.rulerLabel.className = 'map-label ruler-label';
    this.rulerLabel.style.display = 'none';
    this.labelLayer.appendChild(this.rulerLabel);

    this.camera = new THREE.PerspectiveCamera(55, 1, 0.01, 4000);
    this.camera.position.set(0, 9, 26);
    this.controls = new OrbitControls(this.camera, this.renderer.domElement);
    this.controls.enableDamping = true;
    this.controls.dampingFactor = 0.12;
    this.controls.minDistance = 0.05;
    this.controls.maxDistance = 400;
    this.controls.addEventListener('change', () => {
      this.invalidate();
      this.events.onCamera?.(this.cameraState());
    });

    this.scene.add(this.rings());
    this.sim = new SimLayer(() => this.positions, 1);
    this.scene.add(this.sim.group);
    this.solMarker = new THREE.Sprite(new THREE.SpriteMaterial({ map: reticleTexture('#fbbf24'), depthWrite: false, transparent: true, sizeAttenuation: false }));
    this.solMarker.scale.set(0.045, 0.045, 1);
    this.scene.add(this.solMarker);
    this.marker = new THREE.Sprite(new THREE.SpriteMaterial({ map: reticleTexture('#38bdf8'), depthWrite: false, transparent: true, sizeAttenuation: false }));
    this.marker.scale.set(0.06, 0.06, 1);
    this.marker.visible = false;
    this.scene.add(this.marker);

    for (const ly of RING_LY) {
      const s = document.createElement('span');
      s.className = 'map-label ring-label';
      s.textContent = `${ly} ly`;
      this.labelLayer.appendChild(s);
      this.ringLabels.push(s);
    }

    let down: { x: number; y: number } | null = null;
    const el = this.renderer.domElement;
    el.addEventListener('pointerdown', (e) => (down = { x: e.clientX, y: e.clientY }));
    el.addEventListener('pointerup', (e) => {
      if (!down || Math.hypot(e.clientX - down.x, e.clientY - down.y) > 5) return;
      const r = el.getBoundingClientRect();
      const i = this.pickAt(e.clientX - r.left, e.clientY - r.top);
      this.events.onPick?.(i < 0 ? null : i);
    });
    let hovered = -1;
    const hover = (i: number) => {
      if (i === hovered) return;
      hovered = i;
      this.events.onHover?.(i < 0 ? null : i);
    };
    el.addEventListener('pointermove', (e) => {
      if (e.buttons || !this.events.onHover) return;
      const r = el.getBoundingClientRect();
      hover(this.pickAt(e.clientX - r.left, e.clientY - r.top));
    });
    el.addEventListener('pointerleave', () => hover(-1));
    new ResizeObserver(() => this.resize()).observe(container);
    this.resize();
  }

  /** Distance rings in the equatorial plane (scene y = 0), radius in pc for a label in ly. */
  private rings(): THREE.Group {
    const g = new THREE.Group();
    const mat = new THREE.LineBasicMaterial({ color: 0x2b3a55, transparent: true, opacity: 0.7 });
    for (const ly of RING_LY) {
      const r = lyToPc(ly);
      const pts: THREE.Vector3[] = [];
      for (let k = 0; k <= 128; k++) {
        const a = (k / 128) * Math.PI * 2;
        pts.push(new THREE.Vector3(Math.cos(a) * r, 0, Math.sin(a) * r));
      }
      g.add(new THREE.Line(new THREE.BufferGeometry().setFromPoints(pts), mat));
    }
    return g;
  }

  private resize() {
    const w = Math.max(1, this.container.clientWidth);
    const h = Math.max(1, this.container.clientHeight);
    this.renderer.setSize(w, h, false);
    this.renderer.domElement.style.width = `${w}px`;
    this.renderer.domElement.style.height = `${h}px`;
    this.camera.aspect = w / h;
    this.camera.updateProjectionMatrix();
    if (this.points) (this.points.material as THREE.ShaderMaterial).uniforms.scale.value = this.renderer.getPixelRatio();
    this.sim.setScale(this.renderer.getPixelRatio());
    this.invalidate();
  }

  /** Replaces the stars (a new world build): one BufferGeometry, one draw call. */
  setCatalog(catalog: Catalog) {
    this.catalog = catalog;
    const a = catalog.asset;
    const n = a.count;
    this.positions = new Float32Array(3 * n);
    const colors = new Float32Array(3 * n);
    const sizes = new Float32Array(n);
    const brights = new Float32Array(n);
    const shown = new Float32Array(n).fill(1);
    const rgb = new Map(Object.entries(CLASS_COLOURS).map(([k, v]) => [k, hexToRgb(v)]));
    for (let i = 0; i < n; i++) {
      const [sx, sy, sz] = toScene(a.x[i], a.y[i], a.z[i]);
      this.positions.set([sx, sy, sz], 3 * i);
      colors.set(rgb.get(classKey(a.classCode[i]))!, 3 * i);
      const look = starLook(a.absMag[i], a.classCode[i], a.multiplicity[i]);
      sizes[i] = look.size;
      brights[i] = look.bright;
    }
    this.sizes = sizes;
    this.brights = brights;
    const geom = new THREE.BufferGeometry();
    geom.setAttribute('position', new THREE.BufferAttribute(this.positions, 3));
    geom.setAttribute('color', new THREE.BufferAttribute(colors, 3));
    geom.setAttribute('size', new THREE.BufferAttribute(sizes, 1));
    geom.setAttribute('shown', new THREE.BufferAttribute(shown, 1));
    geom.setAttribute('bright', new THREE.BufferAttribute(brights, 1));
    geom.computeBoundingSphere();
    const mat = new THREE.ShaderMaterial({
      vertexShader: VERTEX,
      fragmentShader: FRAGMENT,
      uniforms: { scale: { value: 1 } },
      transparent: true,
      depthWrite: false,
      blending: THREE.AdditiveBlending,
    });
    if (this.points) {
      this.scene.remove(this.points);
      this.points.geometry.dispose();
      (this.points.material as THREE.Material).dispose();
    }
    this.points = new THREE.Points(geom, mat);
    this.points.frustumCulled = false;
    this.scene.add(this.points);
    this.visible = new Uint8Array(n).fill(1);
    this.projected = null;
    this.byDistance = Array.from({ length: n }, (_, i) => i).sort((p, q) => a.distanceLy[p] - a.distanceLy[q]);
    this.alwaysIdx = catalog.displayNames.flatMap((name, i) => (ALWAYS.includes(name) ? [i] : []));
    this.selected = -1;
    this.ruler = null;
    this.resize();
  }

  /** The simulation's state to draw (null: none); `t` places the ships. */
  setSim(d: SimDraw | null, t: number) {
    this.sim.set(d);
    this.sim.setTime(t);
    this.invalidate();
  }

  setVisibility(mask: Uint8Array) {
    if (!this.points || mask.length !== this.visible.length) return;
    this.visible = mask;
    const attr = this.points.geometry.getAttribute('shown') as THREE.BufferAttribute;
    for (let i = 0; i < mask.length; i++) (attr.array as Float32Array)[i] = mask[i];
    attr.needsUpdate = true;
    this.invalidate();
  }

  setSelected(i: number | null) {
    this.selected = i ?? -1;
    this.marker.visible = this.selected >= 0;
    if (this.selected >= 0) this.marker.position.fromArray(this.positions, 3 * this.selected);
    this.invalidate();
  }

  setRuler(pair: [number, number] | null) {
    this.ruler = pair;
    if (this.rulerLine) {
      this.scene.remove(this.rulerLine);
      this.rulerLine.geometry.dispose();
      this.rulerLine = null;
    }
    if (pair) {
      const pts = pair.map((i) => new THREE.Vector3().fromArray(this.positions, 3 * i));
      this.rulerLine = new THREE.Line(new THREE.BufferGeometry().setFromPoints(pts), new THREE.LineBasicMaterial({ color: 0x38bdf8 }));
      this.scene.add(this.rulerLine);
    }
    this.invalidate();
  }

  cameraState(): CameraState {
    return { target: this.controls.target.toArray() as [number, number, number], position: this.camera.position.toArray() as [number, number, number] };
  }

  setCameraState(c: CameraState) {
    this.flight = null;
    this.controls.target.fromArray(c.target);
    this.camera.position.fromArray(c.position);
    this.controls.update();
    this.invalidate();
  }

  /** Smoothly moves the orbit target to star i, keeping the viewing direction. */
  flyTo(i: number, distance?: number) {
    const target = new THREE.Vector3().fromArray(this.positions, 3 * i);
    const dir = this.camera.position.clone().sub(this.controls.target);
    const len = distance ?? Math.min(Math.max(dir.length() * 0.5, 1.2), 8);
    if (dir.lengthSq() < 1e-9) dir.set(0, 0.3, 1);
    const pos = target.clone().add(dir.normalize().multiplyScalar(len));
    this.flight = { from: [this.controls.target.clone(), this.camera.position.clone()], to: [target, pos], start: performance.now(), ms: 900 };
    this.invalidate();
  }

  /** The star under CSS-pixel (x, y) of the canvas, or −1. */
  pickAt(x: number, y: number): number {
    const t0 = performance.now();
    this.updateProjection();
    const i = this.projected ? pick(this.projected, this.visible, x, y, 12) : -1;
    this.lastPickMs = performance.now() - t0;
    return i;
  }

  /**
   * How star i is drawn from here (test hook): its size factor and brightness (the vertex
   * attributes) and its point diameter in device pixels, as the vertex shader computes it.
   */
  starLook(i: number): { size: number; bright: number; px: number } {
    this.camera.updateMatrixWorld();
    const mv = new THREE.Vector3().fromArray(this.positions, 3 * i).applyMatrix4(this.camera.matrixWorldInverse);
    const scale = this.renderer.getPixelRatio();
    const px = (1.6 + 2.4 * this.sizes[i]) * Math.sqrt(30 / Math.max(-mv.z, 0.05)) * scale;
    return { size: this.sizes[i], bright: this.brights[i], px: Math.min(Math.max(px, 2 * scale), 36 * scale) };
  }

  /** CSS-pixel position of star i on the canvas (null when off screen). */
  screenOf(i: number): { x: number; y: number } | null {
    this.updateProjection();
    const p = this.projected;
    if (!p || p.depth[i] > 1 || p.depth[i] < -1) return null;
    return { x: p.sx[i], y: p.sy[i] };
  }

  private updateProjection() {
    if (!this.points) return;
    this.camera.updateMatrixWorld();
    const vp = new THREE.Matrix4().multiplyMatrices(this.camera.projectionMatrix, this.camera.matrixWorldInverse);
    this.projected = project(this.positions, vp.elements, this.container.clientWidth, this.container.clientHeight, this.projected ?? undefined);
  }

  /** Something changed (camera, stars, selection…): redraw, labels included. */
  invalidate() {
    this.labelsDirty = true;
    this.requestFrame();
  }

  /** Another frame; the labels stay unless something else invalidated them (a ship-only frame). */
  private requestFrame() {
    if (this.frameRequested || this.disposed) return;
    this.frameRequested = true;
    requestAnimationFrame(() => this.frame());
  }

  private frame() {
    this.frameRequested = false;
    if (this.disposed) return;
    const f0 = performance.now();
    let moving = false;
    if (this.flight) {
      const f = this.flight;
      const t = Math.min(1, (performance.now() - f.start) / f.ms);
      const e = t < 0.5 ? 4 * t * t * t : 1 - Math.pow(-2 * t + 2, 3) / 2;
      this.controls.target.lerpVectors(f.from[0], f.to[0], e);
      this.camera.position.lerpVectors(f.from[1], f.to[1], e);
      if (t >= 1) {
        this.flight = null;
        this.events.onCamera?.(this.cameraState());
      } else moving = true;
    }
    moving = this.controls.update() || moving;
    const t0 = performance.now();
    const t = this.simClock?.() ?? null;
    let shipsMoving = false;
    if (t !== null) {
      this.sim.setTime(t);
      shipsMoving = true;
    }
    this.renderer.render(this.scene, this.camera);
    this.frameScriptMs.push(performance.now() - t0);
    if (this.frameScriptMs.length > 600) this.frameScriptMs.splice(0, 300);
    this.frames++;
    if (this.points && this.firstStarsAt === null) this.firstStarsAt = performance.now();
    // Labels follow the camera and the stars, not the ships: a frame that only moves ships keeps them.
    if (moving || this.labelsDirty) {
      this.labelsDirty = false;
      this.updateLabels();
    }
    this.frameTotalMs.push(performance.now() - f0);
    if (this.frameTotalMs.length > 600) this.frameTotalMs.splice(0, 300);
    if (moving) this.invalidate();
    else if (shipsMoving) this.requestFrame();
  }

  private updateLabels() {
    const cat = this.catalog;
    if (!cat || !this.points) return;
    this.updateProjection();
    const p = this.projected!;
    const w = this.container.clientWidth;
    const h = this.container.clientHeight;
    const cands: LabelCandidate[] = [];
    const seen = new Set<number>();
    const add = (i: number, priority: number) => {
      if (i < 0 || seen.has(i) || !this.visible[i] || p.depth[i] > 1 || p.depth[i] < -1) return;
      seen.add(i);
      cands.push({ index: i, text: cat.displayNames[i], x: p.sx[i], y: p.sy[i], priority });
    };
    add(this.selected, 1000);
    if (this.ruler) this.ruler.forEach((i) => add(i, 900));
    for (const i of this.alwaysIdx) add(i, 800);
    let taken = 0;
    for (const i of this.byDistance) {
      if (taken > 120) break;
      if (!this.visible[i]) continue;
      taken++;
      add(i, 500 - cat.asset.distanceLy[i]);
    }
    // Near the camera: the stars one is flying among.
    const cam = this.camera.position;
    const near: [number, number][] = [];
    for (let i = 0; i < this.visible.length; i++) {
      if (!this.visible[i]) continue;
      const dx = this.positions[3 * i] - cam.x, dy = this.positions[3 * i + 1] - cam.y, dz = this.positions[3 * i + 2] - cam.z;
      near.push([dx * dx + dy * dy + dz * dz, i]);
      if (near.length > 400) {
        near.sort((a, b) => a[0] - b[0]);
        near.length = 40;
      }
    }
    near.sort((a, b) => a[0] - b[0]);
    near.slice(0, 40).forEach(([d2, i]) => add(i, 300 - Math.sqrt(d2)));
    // Ring labels first: star labels keep clear of them.
    const v = new THREE.Vector3();
    const ringBoxes: [number, number, number, number][] = [];
    RING_LY.forEach((ly, k) => {
      v.set(lyToPc(ly), 0, 0).project(this.camera);
      const s = this.ringLabels[k];
      const ok = v.z < 1 && v.z > -1;
      s.style.display = ok ? '' : 'none';
      if (!ok) return;
      const x = (v.x * 0.5 + 0.5) * w + 4;
      const y = (-v.y * 0.5 + 0.5) * h;
      s.style.transform = `translate(${x}px, ${y}px)`;
      ringBoxes.push([x, y, 40, 14]);
    });
    const placed = placeLabels(cands, w, h, 36, ringBoxes);
    while (this.labelPool.length < placed.length) {
      const s = document.createElement('span');
      s.className = 'map-label';
      this.labelLayer.appendChild(s);
      this.labelPool.push(s);
    }
    this.labelPool.forEach((s, k) => {
      const l = placed[k];
      if (!l) {
        s.style.display = 'none';
        return;
      }
      s.style.display = '';
      s.textContent = l.text;
      s.dataset.index = String(l.index);
      s.className = 'map-label' + (l.index === this.selected ? ' selected' : '');
      s.style.transform = `translate(${l.box[0]}px, ${l.box[1]}px)`;
    });
    if (this.ruler) {
      const [a, b] = this.ruler;
      const d = separation(cat.position(a), cat.position(b));
      v.fromArray(this.positions, 3 * a).add(new THREE.Vector3().fromArray(this.positions, 3 * b)).multiplyScalar(0.5).project(this.camera);
      this.rulerLabel.style.display = v.z < 1 && v.z > -1 ? '' : 'none';
      this.rulerLabel.textContent = `${d.ly.toFixed(2)} ly · ${d.pc.toFixed(2)} pc`;
      this.rulerLabel.style.transform = `translate(${(v.x * 0.5 + 0.5) * w}px, ${(-v.y * 0.5 + 0.5) * h}px)`;
    } else this.rulerLabel.style.display = 'none';
    this.events.onLabels?.();
  }

  dispose() {
    this.disposed = true;
    this.sim.dispose();
    this.controls.dispose();
    this.renderer.dispose();
    this.renderer.domElement.remove();
    this.labelLayer.remove();
  }
}

function reticleTexture(colour: string): THREE.Texture {
  const c = document.createElement('canvas');
  c.width = c.height = 64;
  const g = c.getContext('2d')!;
  g.strokeStyle = colour;
  g.lineWidth = 4;
  g.beginPath();
  g.arc(32, 32, 22, 0, Math.PI * 2);
  g.stroke();
  for (const [x1, y1, x2, y2] of [[32, 2, 32, 12], [32, 52, 32, 62], [2, 32, 12, 32], [52, 32, 62, 32]]) {
    g.beginPath();
    g.moveTo(x1, y1);
    g.lineTo(x2, y2);
    g.stroke();
  }
  const t = new THREE.CanvasTexture(c);
  t.colorSpace = THREE.SRGBColorSpace;
  return t;
}
