// Benchmark (not a test of behaviour): issue 11's figures.
// 1. Script time per frame (the simulation layer's state update + three.js draw submission,
//    measured in the page with performance.now(); the software rasteriser works in Chromium's GPU
//    process) while 1,000 ships are in flight over the 11,000-system synthetic world (goal ≤ 4 ms
//    median). The ships and settlements are synthetic (the synthetic world is a map asset, not a
//    world build the engine can run on), drawn through the same StarMap.setSim / simClock path.
// 2. Bytes received over the WebSocket per simulated tick for a real simulation on the sample world.
// Result: target/e2e/sim-bench.json.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { syntheticSystems } from '../tests/support/encode';
import { REPO, writeAsset } from './gateway';
import { base, openMap, signIn } from './helpers';

const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];

test('simulation frame time with 1,000 ships over 11,000 systems; WebSocket bytes per tick', async ({ browser, page }) => {
  test.setTimeout(240_000);
  const result: Record<string, unknown> = {};
  const objects = process.env.E2E_OBJECTS_DIR!;
  const pointer = join(objects, 'data/world/latest.json');
  const original = readFileSync(pointer);
  try {
    writeAsset(objects, syntheticSystems(11_000), 900_001);
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const p = await ctx.newPage();
    await p.goto(base() + '/');
    await p.waitForFunction(() => window.__exomaps?.ready === true && window.__exomaps?.count === 11_000, null, { timeout: 30_000 });
    const r = await p.evaluate(async () => {
      type M = {
        setSim(d: unknown, t: number): void;
        simClock: (() => number | null) | null;
        frameScriptMs: number[];
        frameTotalMs: number[];
        invalidate(): void;
      };
      const m = window.__exomaps!.map as M;
      const n = 11_000;
      let seed = 42;
      const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
      const settlements = Array.from({ length: 2000 }, () => ({ idx: Math.floor(rnd() * n), population: Math.floor(rnd() * 1e9), faction: Math.floor(rnd() * 12) }));
      const ships = Array.from({ length: 1000 }, () => {
        const depart = Math.floor(rnd() * 100);
        return { from: Math.floor(rnd() * n), to: Math.floor(rnd() * n), departTick: depart, arriveTick: depart + 200 + Math.floor(rnd() * 400), faction: Math.floor(rnd() * 12) };
      });
      const routes = Array.from({ length: 500 }, () => [Math.floor(rnd() * n), Math.floor(rnd() * n)]);
      m.setSim({ settlements, ships, routes, origin: 0 }, 100);
      await new Promise((ok) => setTimeout(ok, 500));
      m.frameScriptMs.length = 0;
      m.frameTotalMs.length = 0;
      const t0 = performance.now();
      m.simClock = () => 100 + (performance.now() - t0) / 50; // 20 ticks/s
      m.invalidate();
      await new Promise((ok) => setTimeout(ok, 5000));
      m.simClock = null;
      return { script: [...m.frameScriptMs], total: [...m.frameTotalMs] };
    });
    await ctx.close();
    expect(r.script.length).toBeGreaterThan(20);
    result.frames = r.script.length;
    result.median_frame_script_ms = Number(median(r.script).toFixed(3));
    result.p95_frame_script_ms = Number([...r.script].sort((a, b) => a - b)[Math.floor(r.script.length * 0.95)].toFixed(3));
    result.median_frame_total_ms_with_labels = Number(median(r.total).toFixed(3));
  } finally {
    writeFileSync(pointer, original);
  }

  // Bytes per simulated tick: a real simulation on the sample world, every WebSocket frame counted.
  await openMap(page);
  await signIn(page, 'sim_owner');
  let bytes = 0;
  let frames = 0;
  page.on('websocket', (ws) => ws.on('framereceived', (f) => {
    const s = typeof f.payload === 'string' ? f.payload : f.payload.toString();
    if (s.includes('"sim.tick"')) {
      bytes += Buffer.byteLength(s);
      frames++;
    }
  }));
  await page.reload();
  await page.waitForFunction(() => window.__exomaps?.ready === true, null, { timeout: 30_000 });
  const form = page.getByTestId('sim-create');
  await form.locator('input[name=seed]').fill('11');
  await form.locator('input[name=batch]').fill('50');
  await form.locator('button[type=submit]').click();
  await expect(page).toHaveURL(/sim=/);
  const id = new URL(page.url()).searchParams.get('sim')!;
  await page.getByTestId('sim-resume').click();
  await page.waitForTimeout(30_000);
  await page.getByTestId('sim-pause').click();
  await page.waitForTimeout(1500);
  const d = await (await page.request.get(`${base()}/api/simulation/${id}`)).json();
  const ticks = d.simulation.current_tick as number;
  expect(ticks).toBeGreaterThan(0);
  result.ws_ticks = ticks;
  result.ws_sim_tick_messages = frames;
  result.ws_bytes_sim_tick = bytes;
  result.ws_bytes_per_tick = Number((bytes / ticks).toFixed(1));
  result.event_counts = d.event_counts;
  mkdirSync(join(REPO, 'target/e2e'), { recursive: true });
  writeFileSync(join(REPO, 'target/e2e/sim-bench.json'), JSON.stringify(result, null, 2) + '\n');
  console.log(`sim bench: ${JSON.stringify(result)}`);
});
