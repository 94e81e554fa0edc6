// The "Done when" of issue 11 (the simulation on the map), in a real Chromium against the real
// local gateway: create + resume as sim_owner, settlements at real stars while ticks advance,
// scrub back (checked against the API's snapshot), a copied URL restores sim/tick/camera, an
// event click flies to its system, a dropped WebSocket resumes with no gap or duplicate, a
// general_user watches without controls (and gets 403 from the API). Screenshot in target/e2e/.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { REPO } from './gateway';
import { base, openMap, signIn } from './helpers';

type SimHook = {
  id: string | null;
  shownTick: number;
  head: number;
  following: boolean;
  settled: string[];
  ships: number;
  drawnSettled: number;
  feed: [number, number, string][];
  duplicates: number;
  afterTick: number;
  connects: number;
};
const hook = (page: Page) => page.evaluate(() => window.__exomaps!.sim as SimHook);

type Envelope = { tick: number; seq: number; event: string; location?: { system_id: string; name?: string } | null };

async function allEvents(page: Page, id: string): Promise<Envelope[]> {
  const out: Envelope[] = [];
  let q = 'after_tick=-1';
  for (;;) {
    const r = await page.request.get(`${base()}/api/simulation/${id}/events?${q}&limit=500`);
    expect(r.ok()).toBe(true);
    const p = await r.json();
    out.push(...p.events);
    if (p.next_after_tick === null || p.next_after_tick === undefined) return out;
    q = `after_tick=${p.next_after_tick}&after_seq=${p.next_after_seq}`;
  }
}

async function settledAt(page: Page, id: string, tick: number): Promise<string[]> {
  const r = await page.request.get(`${base()}/api/simulation/${id}/snapshot?tick=${tick}`);
  expect(r.ok()).toBe(true);
  const s = await r.json();
  return Object.keys(s.state.settlements).map((k) => s.systems[Number(k)] as string).sort();
}

test.describe.configure({ mode: 'serial' });

let simUrl = '';
let simId = '';

test('sim_owner creates and resumes a simulation; settlements appear at real stars as ticks advance', async ({ page }) => {
  test.setTimeout(180_000);
  await openMap(page);
  await signIn(page, 'sim_owner');
  const form = page.getByTestId('sim-create');
  await form.locator('input[name=name]').fill('e2e');
  await form.locator('input[name=seed]').fill('7');
  await form.locator('input[name=batch]').fill('50');
  await form.locator('button[type=submit]').click();
  await expect(page).toHaveURL(/sim=[0-9a-f-]{36}/);
  simId = new URL(page.url()).searchParams.get('sim')!;
  await expect(page.getByTestId('sim-state')).toHaveText('idle');
  await page.getByTestId('sim-resume').click();
  await expect(page.getByTestId('sim-state')).toHaveText('running');
  // The tick counter advances and colonies are founded (settled > the start system).
  await expect.poll(async () => (await hook(page)).shownTick, { timeout: 60_000 }).toBeGreaterThan(0);
  const t1 = (await hook(page)).shownTick;
  await expect.poll(async () => (await hook(page)).settled.length, { timeout: 120_000 }).toBeGreaterThan(1);
  await expect.poll(async () => (await hook(page)).shownTick, { timeout: 60_000 }).toBeGreaterThan(t1);
  const h = await hook(page);
  // Each settled system is a real star of the map, and each is drawn.
  const onMap = await page.evaluate((ids) => ids.map((id) => (window.__exomaps!.screenOf as (m: string) => unknown)(id) !== undefined), h.settled);
  expect(onMap.every(Boolean)).toBe(true);
  const known = await page.evaluate((ids) => {
    const m = window.__exomaps!.map as { sim: { settledIdx: number[] } };
    return m.sim.settledIdx.length === ids.length;
  }, h.settled);
  expect(known).toBe(true);
  expect(h.settled).toContain('Sol');
  await expect(page.getByTestId('sim-settled')).toHaveText(String(h.settled.length), { timeout: 10_000 }).catch(() => undefined);
  mkdirSync(join(REPO, 'target/e2e'), { recursive: true });
  await page.screenshot({ path: join(REPO, 'target/e2e/simulation.png') });

  // A dropped WebSocket: the connection comes back, resubscribes with after_tick, and the feed
  // has every event once, in order — the same as the API's event list.
  const before = (await hook(page)).connects;
  await page.evaluate(() => (window.__exomaps!.live as { drop(): void }).drop());
  await expect.poll(async () => (await hook(page)).connects, { timeout: 20_000 }).toBeGreaterThan(before);
  const afterDrop = (await hook(page)).head;
  await expect.poll(async () => (await hook(page)).head, { timeout: 60_000 }).toBeGreaterThan(afterDrop + 2);
  await page.getByTestId('sim-pause').click();
  await expect(page.getByTestId('sim-state')).toHaveText('paused');
  const paused = (await (await page.request.get(`${base()}/api/simulation/${simId}`)).json()).simulation.current_tick as number;
  await expect.poll(async () => (await hook(page)).afterTick, { timeout: 20_000 }).toBe(paused);
  const api = await allEvents(page, simId);
  const feed = (await hook(page)).feed;
  expect(feed.length).toBe(api.length);
  expect(feed).toEqual(api.map((e) => [e.tick, e.seq, e.event]));
  const keys = new Set(feed.map(([t, s]) => `${t}:${s}`));
  expect(keys.size).toBe(feed.length);
  // tick.advanced is emitted every tick: no tick is missing.
  const ticks = new Set(feed.filter(([, , k]) => k === 'tick.advanced').map(([t]) => t));
  for (let t = 1; t <= paused; t++) expect(ticks.has(t), `tick ${t} in the feed`).toBe(true);
});

test('the scrubber returns to an earlier tick and the map shows that tick (checked against the snapshot API); a copied URL restores it', async ({ page, browser }) => {
  test.setTimeout(120_000);
  await openMap(page, `/?sim=${simId}`);
  await expect.poll(async () => (await hook(page)).shownTick, { timeout: 20_000 }).toBeGreaterThan(0);
  const head = (await hook(page)).head;
  const headSettled = await settledAt(page, simId, head);
  // The first tick where a colony was founded, minus one: fewer settlements than at the head.
  const api = await allEvents(page, simId);
  const firstColony = api.find((e) => e.event === 'colony.founded')!;
  expect(firstColony).toBeTruthy();
  const target = Math.max(0, firstColony.tick - 1);
  await page.getByTestId('sim-scrubber').fill(String(target));
  await expect.poll(async () => (await hook(page)).shownTick, { timeout: 20_000 }).toBe(target);
  await expect.poll(async () => (await hook(page)).following).toBe(false);
  const expected = await settledAt(page, simId, target);
  await expect.poll(async () => (await hook(page)).settled, { timeout: 10_000 }).toEqual(expected);
  expect(expected.length).toBeLessThan(headSettled.length);
  await expect(page.getByTestId('sim-tick')).toHaveText(String(target));
  await expect(page).toHaveURL(new RegExp(`t=${target}`));

  // Play the replay from there: the shown tick moves forward from events already received (no
  // snapshot per tick), and at the head the view follows live again with the head's state.
  await page.getByTestId('sim-speed').selectOption('64');
  const snapshotsBefore = await page.evaluate(() => performance.getEntriesByType('resource').filter((e) => e.name.includes('/snapshot')).length);
  await page.getByTestId('sim-play').click();
  await expect.poll(async () => (await hook(page)).shownTick, { timeout: 10_000 }).toBeGreaterThan(target);
  await expect.poll(async () => (await hook(page)).following, { timeout: 30_000 }).toBe(true);
  await expect.poll(async () => (await hook(page)).settled, { timeout: 10_000 }).toEqual(headSettled);
  const snapshotsAfter = await page.evaluate(() => performance.getEntriesByType('resource').filter((e) => e.name.includes('/snapshot')).length);
  expect(snapshotsAfter - snapshotsBefore).toBeLessThanOrEqual(1); // the one at the head when following again
  await page.getByTestId('sim-scrubber').fill(String(target));
  await expect.poll(async () => (await hook(page)).shownTick, { timeout: 20_000 }).toBe(target);

  // Move the camera, then copy the URL into a fresh page.
  await page.evaluate(() => {
    const m = window.__exomaps!.map as { setCameraState(c: unknown): void; cameraState(): unknown; events?: unknown };
    m.setCameraState({ target: [0.5, 0.2, -0.3], position: [3, 4, 9] });
  });
  // onCamera fires from the controls; nudge them so the view records it.
  const canvas = page.getByTestId('map-canvas');
  await canvas.hover();
  await page.mouse.wheel(0, 50);
  await page.waitForTimeout(800);
  const cam = await page.evaluate(() => (window.__exomaps!.map as { cameraState(): { target: number[]; position: number[] } }).cameraState());
  await expect(page).toHaveURL(/cam=/);
  simUrl = page.url();
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const p2 = await ctx.newPage();
  await p2.goto(simUrl);
  await p2.waitForFunction(() => window.__exomaps?.ready === true, null, { timeout: 30_000 });
  await expect.poll(async () => (await hook(p2)).shownTick, { timeout: 20_000 }).toBe(target);
  expect((await hook(p2)).id).toBe(simId);
  await expect.poll(async () => (await hook(p2)).settled, { timeout: 10_000 }).toEqual(expected);
  const cam2 = await p2.evaluate(() => (window.__exomaps!.map as { cameraState(): { target: number[]; position: number[] } }).cameraState());
  cam2.target.forEach((v, i) => expect(v).toBeCloseTo(cam.target[i], 2));
  cam2.position.forEach((v, i) => expect(v).toBeCloseTo(cam.position[i], 2));
  await ctx.close();
});

test('clicking an event in the feed flies the camera to its system', async ({ page }) => {
  await openMap(page, `/?sim=${simId}`);
  const item = page.getByTestId('sim-event').filter({ hasText: 'colony founded at' }).first();
  await expect(item).toBeVisible({ timeout: 20_000 });
  const text = (await item.textContent())!;
  const name = text.replace(/^.*colony founded at /, '').trim();
  await item.click();
  await expect(page.getByTestId('detail-name')).toHaveText(name);
  await page.waitForTimeout(1300); // the fly-to
  const near = await page.evaluate((n) => {
    const m = window.__exomaps!.map as { cameraState(): { target: number[] } };
    const at = (window.__exomaps!.screenOf as (x: string) => { x: number; y: number } | null)(n);
    const c = document.querySelector('[data-testid=map-canvas]') as HTMLCanvasElement;
    return { at, w: c.clientWidth, h: c.clientHeight, target: m.cameraState().target };
  }, name);
  // The system is now at the centre of the view (the orbit target).
  expect(near.at).not.toBeNull();
  expect(Math.abs(near.at!.x - near.w / 2)).toBeLessThan(4);
  expect(Math.abs(near.at!.y - near.h / 2)).toBeLessThan(4);
});

test('a general_user sees the simulation but no controls, and the API answers 403', async ({ page }) => {
  await openMap(page, `/?sim=${simId}`);
  await signIn(page, 'general_user');
  await expect(page.getByTestId('sim-state')).toBeVisible();
  await expect.poll(async () => (await hook(page)).settled.length, { timeout: 20_000 }).toBeGreaterThan(1);
  await expect(page.getByTestId('sim-feed')).toBeVisible();
  for (const id of ['sim-create', 'sim-resume', 'sim-pause', 'sim-step', 'sim-fork']) await expect(page.getByTestId(id)).toHaveCount(0);
  for (const path of ['pause', 'resume', 'step']) {
    const r = await page.request.post(`${base()}/api/simulation/${simId}/${path}`, { data: {} });
    expect(r.status(), path).toBe(403);
  }
  const r = await page.request.post(`${base()}/api/simulation`, { data: {} });
  expect(r.status()).toBe(403);
});

test('observer mode shows the galaxy as known from a system', async ({ page }) => {
  await openMap(page, `/?sim=${simId}`);
  await expect.poll(async () => (await hook(page)).settled.length, { timeout: 20_000 }).toBeGreaterThan(1);
  await page.getByTestId('sim-observer-input').fill('Sol');
  await page.getByTestId('sim-observe').click();
  await expect(page.getByTestId('sim-observed')).toContainText('As seen from');
  await expect(page).toHaveURL(/obs=Sol/);
  const tick = (await hook(page)).shownTick;
  const r = await page.request.get(`${base()}/api/simulation/${simId}/snapshot?tick=${tick}&observer=Sol`);
  const obs = (await r.json()).observer;
  const ids = (obs.systems as { system_id: string }[]).map((s) => s.system_id).sort();
  await expect.poll(async () => (await hook(page)).settled).toEqual(ids);
});
