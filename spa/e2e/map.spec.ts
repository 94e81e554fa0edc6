// The "Done when" of issue 6, in a real Chromium against the real local gateway.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { REPO, worldPointer } from './gateway';
import { base, litPixels, openMap, search, signIn } from './helpers';

const SCREENSHOT = join(REPO, 'target/e2e/map.png');

test('the map canvas renders stars (non-blank pixels) and a screenshot is kept', async ({ page }) => {
  await openMap(page);
  const { lit, total } = await litPixels(page);
  expect(lit, `${lit} lit of ${total}`).toBeGreaterThan(150);
  expect(lit / total).toBeLessThan(0.5); // stars on black, not a white-out
  const count = await page.evaluate(() => window.__exomaps!.count as number);
  expect(count).toBeGreaterThanOrEqual(15);
  // One draw call for the stars: the whole star field is one THREE.Points object.
  const pointsObjects = await page.evaluate(() => {
    const m = window.__exomaps!.map as { renderer: { info: { render: { calls: number; points: number } } } };
    return m.renderer.info.render.points;
  });
  expect(pointsObjects).toBe(count);
  await expect(page.locator('.ring-label', { hasText: '10 ly' })).toBeVisible();
  await search(page, 'Proxima');
  await page.waitForTimeout(1200);
  mkdirSync(join(REPO, 'target/e2e'), { recursive: true });
  await page.screenshot({ path: SCREENSHOT });
  console.log(`screenshot: ${SCREENSHOT}`);
});

test('searching "Proxima" selects it; the panel shows 4.23 ly (Hipparcos 2) and its planets', async ({ page }) => {
  await openMap(page);
  await page.getByTestId('search').fill('Proxima');
  await expect(page.getByTestId('suggestion').first()).toContainText('Proxima Centauri');
  await page.getByTestId('suggestion').first().click();
  await expect(page.getByTestId('detail-name')).toHaveText('Proxima Centauri');
  // The sample carries Hipparcos 2: its parallax (771.64 ± 2.60 mas → 4.23 ly) is adopted over
  // the catalogue distance without an error (4.24 ly); both are listed under Distances.
  await expect(page.getByTestId('detail-distance')).toContainText('4.23 ly');
  await expect(page.getByTestId('distance-measurement').first()).toContainText('hipparcos');
  await expect(page.getByTestId('planet-observed').first()).toBeVisible();
  await expect(page.getByTestId('planet-observed').first()).toContainText(/Proxima/);
  await expect(page.getByTestId('simbad-link')).toHaveAttribute('href', /^https:\/\/simbad\.u-strasbg\.fr\/simbad\/sim-id\?Ident=.*Proxima/);
  await expect(page).toHaveURL(/sel=/);
  // Other aliases find it too.
  await page.getByTestId('search').fill('GJ 551');
  await expect(page.getByTestId('suggestion').first()).toContainText('Proxima Centauri');
});

test('picking: clicking a star selects it, and picking stays fast', async ({ page }) => {
  await openMap(page);
  await search(page, "Barnard");
  await page.waitForTimeout(1200); // fly-to
  const at = await page.evaluate(() => (window.__exomaps!.screenOf as (m: string) => { x: number; y: number } | null)('Wolf 359'));
  expect(at).not.toBeNull();
  const box = (await page.getByTestId('map-canvas').boundingBox())!;
  await page.mouse.click(box.x + at!.x, box.y + at!.y);
  await expect(page.getByTestId('detail-name')).toHaveText('Wolf 359');
  const ms = await page.evaluate(() => (window.__exomaps!.map as { lastPickMs: number }).lastPickMs);
  console.log(`pick in the browser: ${ms.toFixed(3)} ms`);
  expect(ms).toBeLessThan(16);
});

test('the ruler between Sol and Sirius reads 8.6 ly ± 0.1', async ({ page }) => {
  await openMap(page);
  await search(page, 'Sol', /^Sol/);
  await page.getByTestId('ruler-from').click();
  await search(page, 'Sirius');
  await page.getByTestId('ruler-to').click();
  const text = await page.getByTestId('ruler-ly').innerText();
  const ly = parseFloat(text);
  expect(Math.abs(ly - 8.6), text).toBeLessThanOrEqual(0.1);
  const pc = parseFloat(await page.getByTestId('ruler-pc').innerText());
  expect(ly / pc).toBeCloseTo(3.26156, 2);
  await expect(page.locator('.ruler-label')).toContainText('ly');
});

test('a filter hides M dwarfs', async ({ page }) => {
  await openMap(page);
  const before = await page.evaluate(() => window.__exomaps!.visibleCount as number);
  type MapHandle = {
    catalog: { asset: { classCode: Uint8Array; names: string[] } };
    flyTo(i: number, d: number): void;
    screenOf(i: number): { x: number; y: number } | null;
    pickAt(x: number, y: number): number;
  };
  const mDwarfs = await page.evaluate(() => {
    const m = window.__exomaps!.map as unknown as MapHandle;
    return [...m.catalog.asset.classCode].flatMap((c, i) => (c === 6 ? [i] : []));
  });
  expect(mDwarfs.length).toBeGreaterThanOrEqual(1);
  const target = mDwarfs[0];
  // The M dwarf is drawn and pickable before…
  await page.evaluate((i) => (window.__exomaps!.map as unknown as MapHandle).flyTo(i, 2), target);
  await page.waitForTimeout(1200);
  const picked = () =>
    page.evaluate((i) => {
      const m = window.__exomaps!.map as unknown as MapHandle;
      const at = m.screenOf(i)!;
      return m.pickAt(at.x, at.y) === i;
    }, target);
  expect(await picked()).toBe(true);
  await page.getByTestId('class-M').uncheck();
  await expect(page.getByTestId('visible-count')).toContainText(`${before - mDwarfs.length} of`);
  expect(await page.evaluate(() => window.__exomaps!.visibleCount)).toBe(before - mDwarfs.length);
  // …and gone after: not drawn (size 0 in the shader) and not pickable.
  expect(await picked()).toBe(false);
  const shown = await page.evaluate((i) => {
    const m = window.__exomaps!.map as unknown as { points: { geometry: { getAttribute(n: string): { array: Float32Array } } } };
    return m.points.geometry.getAttribute('shown').array[i];
  }, target);
  expect(shown).toBe(0);
  await expect(page).toHaveURL(/cls=OBAFGKLTYD%3F|cls=OBAFGKLTYD\?/);
});

test('reloading the copied URL restores camera, selection and filters', async ({ page, context }) => {
  await openMap(page);
  await search(page, 'Sirius');
  await page.getByTestId('class-K').uncheck();
  await page.getByTestId('planet-filter').selectOption('any');
  await page.getByTestId('max-ly').fill('40');
  await page.waitForTimeout(1500); // fly-to ends, URL follows
  const cam = await page.evaluate(() => (window.__exomaps!.map as { cameraState(): unknown }).cameraState());
  const url = page.url();
  expect(url).toContain('cam=');
  const again = await context.newPage();
  await openMap(again, url.slice(base().length));
  await expect(again.getByTestId('detail-name')).toHaveText(/Sirius/);
  await expect(again.getByTestId('class-K')).not.toBeChecked();
  await expect(again.getByTestId('class-M')).toBeChecked();
  await expect(again.getByTestId('max-ly')).toHaveValue('40');
  const cam2 = (await again.evaluate(() => (window.__exomaps!.map as { cameraState(): unknown }).cameraState())) as { target: number[]; position: number[] };
  const c1 = cam as { target: number[]; position: number[] };
  for (let k = 0; k < 3; k++) {
    expect(cam2.target[k]).toBeCloseTo(c1.target[k], 2);
    expect(cam2.position[k]).toBeCloseTo(c1.position[k], 2);
  }
});

test('a persona without access does not see the pipeline page, and the API refuses it', async ({ page }) => {
  await openMap(page);
  await expect(page.getByTestId('nav-pipeline')).toHaveCount(0); // anonymous: observer_guest
  expect((await page.request.post(`${base()}/api/runs`, { data: {} })).status()).toBe(401);
  await signIn(page, 'general_user');
  await expect(page.getByTestId('persona-button')).toContainText('General User');
  await expect(page.getByTestId('nav-pipeline')).toHaveCount(0);
  await page.getByTestId('persona-button').click();
  await expect(page.getByTestId('persona-menu')).toContainText('Star Systems'); // DOMAIN.md §1.1 menus
  await page.goto(base() + '/pipeline');
  await expect(page.getByTestId('no-access')).toBeVisible();
  await expect(page.getByTestId('pipeline-page')).toHaveCount(0);
  // The browser's own session (cookies) is refused by the API.
  const r = await page.request.post(`${base()}/api/runs`, { data: {} });
  expect(r.status()).toBe(403);
  expect((await r.json()).required_personas).toEqual(['admin', 'data_curator', 'ops_engineer']);
  expect((await page.request.get(`${base()}/api/runs/manifest`)).status()).toBe(403);
  await page.getByTestId('logout').click();
  await expect(page.getByTestId('login-open')).toBeVisible();
});

test('persona switch changes the menus and the pipeline access', async ({ page }) => {
  await openMap(page);
  await signIn(page, 'data_curator');
  await expect(page.getByTestId('nav-pipeline')).toBeVisible();
  await page.getByTestId('persona-button').click();
  await expect(page.getByTestId('persona-menu')).toContainText('Quarantine Queue');
  await page.getByTestId('logout').click();
  // admin holds all eight personas: switch to general_user and back.
  await signIn(page, 'admin');
  await page.getByTestId('persona-button').click();
  await page.getByTestId('switch-general_user').click();
  await expect(page.getByTestId('persona-button')).toContainText('General User');
  await expect(page.getByTestId('nav-pipeline')).toHaveCount(0);
  expect((await page.request.get(`${base()}/api/runs/manifest`)).status()).toBe(403);
  await page.getByTestId('persona-button').click();
  await page.getByTestId('switch-ops_engineer').click();
  await expect(page.getByTestId('nav-pipeline')).toBeVisible();
});

test('starting a run shows live phase progress, and the map refreshes when it completes', async ({ page }) => {
  await openMap(page);
  const buildBefore = await page.evaluate(() => window.__exomaps!.worldBuildId as number);
  await signIn(page, 'data_curator');
  await page.getByTestId('nav-pipeline').click();
  await expect(page.getByTestId('pipeline-page')).toBeVisible();
  await page.getByTestId('start-run').click();
  await expect(page.getByTestId('phase-ingest')).toBeVisible();
  await expect(page.getByTestId('run-completed')).toBeVisible({ timeout: 60_000 });
  // Live over the WebSocket: the run starts as soon as POST /api/runs answers, so the first
  // messages may precede the subscription (the page catches up from GET /api/runs/{id}); the
  // last phase is always followed live: publish running, then done.
  const progress = await page.evaluate(() => window.__exomaps!.progress as string[]);
  expect(progress.indexOf('publish:done'), progress.join(' ')).toBeGreaterThanOrEqual(1);
  expect(progress.length).toBeGreaterThanOrEqual(2);
  for (const phase of ['ingest', 'transform', 'publish']) {
    await expect(page.getByTestId(`phase-${phase}`)).toHaveAttribute('data-status', 'done');
  }
  console.log(`live progress: ${progress.join(' ')}`);
  await expect(page.getByTestId('validation')).toBeVisible();
  await expect(page.getByTestId('quarantine-row').first()).toBeVisible(); // the sample's dirty rows
  // The new build: the map follows data.refreshed.
  const runId = (await page.getByTestId('run-title').innerText()).slice(4);
  const manifest = await (await page.request.get(`${base()}/api/runs/manifest`)).json();
  const run = manifest.runs.find((r: { run: { run_id: string } }) => r.run.run_id.startsWith(runId));
  const detail = await (await page.request.get(`${base()}/api/runs/${run.run.run_id}`)).json();
  const newBuild: number = detail.world_build_id;
  expect(newBuild).toBeGreaterThan(buildBefore);
  expect((await worldPointer(base()))!.world_build_id).toBe(newBuild); // published by the run itself
  await page.waitForFunction((b) => window.__exomaps?.worldBuildId === b, newBuild, { timeout: 20_000 });
  expect(await page.evaluate(() => window.__exomaps!.reason)).toBe('data.refreshed');
  await page.getByRole('link', { name: 'Map', exact: true }).click();
  await expect(page.getByTestId('live-note')).toContainText(`world build ${newBuild}`);
  await expect(page.getByTestId('map-status')).toContainText(`world build ${newBuild}`);
});

test("bright stars look bright: Sirius is drawn bigger and brighter than Proxima and Barnard's Star", async ({ page }) => {
  await openMap(page);
  const mainIds: string[] = [];
  for (const name of ['Sirius', 'Proxima Centauri', "Barnard's Star"]) {
    const res = await page.request.get(`${base()}/api/system/${encodeURIComponent(name)}`);
    expect(res.status(), name).toBe(200);
    mainIds.push((await res.json()).system.main_id);
  }
  type MapHandle = {
    catalog: { indexOf(m: string): number | undefined };
    positions: Float32Array;
    starLook(i: number): { size: number; bright: number; px: number };
    screenOf(i: number): { x: number; y: number } | null;
    setCameraState(c: { target: number[]; position: number[] }): void;
  };
  const [sirius, ...faint] = await page.evaluate((ids) => {
    const m = window.__exomaps!.map as unknown as MapHandle;
    return ids.map((id) => m.catalog.indexOf(id)!);
  }, mainIds);
  expect([sirius, ...faint].every((i) => typeof i === 'number')).toBe(true);
  for (const other of faint) {
    // The camera equidistant from both stars, both in view: what is drawn differs only by the star.
    await page.evaluate(
      ([a, b]) => {
        const m = window.__exomaps!.map as unknown as MapHandle;
        const p = (i: number) => [0, 1, 2].map((k) => m.positions[3 * i + k]);
        const [pa, pb] = [p(a), p(b)];
        const mid = pa.map((v, k) => (v + pb[k]) / 2);
        const ab = pb.map((v, k) => v - pa[k]);
        const len = Math.hypot(...ab);
        // n ⟂ ab: ab × (0, 1, 0), or ab × (1, 0, 0) when ab is vertical.
        let n = [-ab[2], 0, ab[0]];
        if (Math.hypot(...n) < 1e-6 * len) n = [0, ab[2], -ab[1]];
        const nl = Math.hypot(...n);
        const d = 1.3 * len;
        m.setCameraState({ target: mid, position: mid.map((v, k) => v + (n[k] / nl) * d) });
      },
      [sirius, other],
    );
    await page.waitForTimeout(400);
    const [s, f] = await page.evaluate(
      ([a, b]) => [a, b].map((i) => (window.__exomaps!.map as unknown as MapHandle).starLook(i)),
      [sirius, other],
    );
    expect(s.size, 'size attribute').toBeGreaterThan(f.size * 2);
    expect(s.bright, 'brightness attribute').toBeGreaterThan(f.bright);
    expect(s.px, 'point diameter at equal distance').toBeGreaterThan(f.px * 1.5);
    // On the canvas: the light within 3 px of each star's centre.
    const light = await page.evaluate(
      ([a, b]) => {
        const m = window.__exomaps!.map as unknown as MapHandle;
        const gl = document.querySelector('[data-testid=map-canvas]') as HTMLCanvasElement;
        const c = document.createElement('canvas');
        c.width = gl.width;
        c.height = gl.height;
        const g = c.getContext('2d')!;
        g.drawImage(gl, 0, 0);
        const ratio = gl.width / gl.clientWidth;
        return [a, b].map((i) => {
          const at = m.screenOf(i)!;
          const cx = Math.round(at.x * ratio);
          const cy = Math.round(at.y * ratio);
          const d = g.getImageData(cx - 3, cy - 3, 7, 7).data;
          let sum = 0;
          for (let k = 0; k < d.length; k += 4) sum += d[k] + d[k + 1] + d[k + 2];
          return sum;
        });
      },
      [sirius, other],
    );
    console.log(`Sirius vs ${other}: ${JSON.stringify([s, f])}, canvas light ${light}`);
    expect(light[0], `canvas light around Sirius vs ${other}: ${light}`).toBeGreaterThan(light[1] * 1.2);
  }
  // Same class K, so only the magnitude can tell them apart: the giant Arcturus over the dwarf ε Eridani.
  const [arcturus, epsEri] = await Promise.all(
    ['Arcturus', 'Epsilon Eridani'].map(async (name) => (await (await page.request.get(`${base()}/api/system/${encodeURIComponent(name)}`)).json()).system),
  );
  expect([arcturus.spectral_class, epsEri.spectral_class]).toEqual(['K', 'K']);
  const [a, e] = await page.evaluate(
    (ids) => ids.map((id) => {
      const m = window.__exomaps!.map as unknown as MapHandle;
      return m.starLook(m.catalog.indexOf(id)!);
    }),
    [arcturus.main_id, epsEri.main_id],
  );
  expect(a.size).toBeGreaterThan(e.size * 2);
  expect(a.bright).toBeGreaterThan(e.bright);
});
