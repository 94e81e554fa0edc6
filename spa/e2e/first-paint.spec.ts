// First paint with a synthetic 11,000-system asset on loopback (issue 6: goal ≤ 2 s in headless
// Chromium). The asset is written into the gateway's object store as the active pointer for the
// duration of this file, then the published one is put back. Each load is a fresh browser
// context (cold cache). Result: target/e2e/first-paint.json.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { expect, test } from '@playwright/test';
import { syntheticSystems } from '../tests/support/encode';
import { REPO, writeAsset } from './gateway';
import { base } from './helpers';

const RUNS = Number(process.env.EXOMAPS_FIRST_PAINT_RUNS ?? 7);

test('first paint of 11,000 systems', async ({ browser }) => {
  const objects = process.env.E2E_OBJECTS_DIR!;
  const pointer = join(objects, 'data/world/latest.json');
  const original = readFileSync(pointer);
  try {
    const parts = writeAsset(objects, syntheticSystems(11_000), 900_000);
    // Bytes per system of the two parts, raw and gzipped (the map part is all first paint needs).
    const per = (n: number) => Number((n / 11_000).toFixed(2));
    const size = {
      map_bytes_per_system: per(parts.map.length),
      map_gzip_bytes_per_system: per(gzipSync(parts.map).length),
      names_bytes_per_system: per(parts.names.length),
      names_gzip_bytes_per_system: per(gzipSync(parts.names).length),
    };
    expect(size.map_gzip_bytes_per_system).toBeLessThanOrEqual(12);
    const samples: { firstStarsMs: number; loadedMs: number; namesMs: number }[] = [];
    let pickMs = NaN;
    for (let r = 0; r < RUNS; r++) {
      const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      const page = await ctx.newPage();
      await page.goto(base() + '/');
      await page.waitForFunction(() => window.__exomaps?.ready === true, null, { timeout: 30_000 });
      const s = await page.evaluate(() => ({
        firstStarsMs: window.__exomaps!.firstStarsMs as number,
        loadedMs: window.__exomaps!.loadedMs as number,
        namesMs: window.__exomaps!.namesMs as number,
        count: window.__exomaps!.count as number,
      }));
      expect(s.count).toBe(11_000);
      samples.push(s);
      if (r === 0) {
        // Picking cost with 11,000 stars: projection of every star + nearest search, per click.
        const picks = await page.evaluate(() => {
          const m = window.__exomaps!.map as { pickAt(x: number, y: number): number; lastPickMs: number };
          const out: number[] = [];
          for (let k = 0; k < 100; k++) {
            m.pickAt(200 + k * 5, 300 + k);
            out.push(m.lastPickMs);
          }
          return out.sort((a, b) => a - b);
        });
        pickMs = picks[50];
      }
      await ctx.close();
    }
    const sorted = samples.map((s) => s.firstStarsMs).sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)];
    const fetchDecode = samples.map((s) => s.loadedMs).sort((a, b) => a - b)[Math.floor(samples.length / 2)];
    const namesMs = samples.map((s) => s.namesMs).sort((a, b) => a - b)[Math.floor(samples.length / 2)];
    const result = { systems: 11_000, runs: RUNS, ...size, median_names_loaded_ms: Math.round(namesMs), median_first_paint_ms: Math.round(median), min_ms: Math.round(sorted[0]), max_ms: Math.round(sorted.at(-1)!), median_fetch_decode_ms: Math.round(fetchDecode), median_pick_ms: Number(pickMs.toFixed(3)), samples_ms: sorted.map(Math.round) };
    mkdirSync(join(REPO, 'target/e2e'), { recursive: true });
    writeFileSync(join(REPO, 'target/e2e/first-paint.json'), JSON.stringify(result, null, 2) + '\n');
    console.log(`first paint, 11,000 systems, median of ${RUNS}: ${Math.round(median)} ms (${JSON.stringify(result)})`);
    expect(median).toBeLessThanOrEqual(2000);
    expect(pickMs).toBeLessThan(8);
  } finally {
    writeFileSync(pointer, original);
  }
});
