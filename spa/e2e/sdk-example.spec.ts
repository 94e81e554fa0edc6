// The SDK's Node example (packages/sdk/examples/follow-sim.mjs) against the real local gateway:
// it signs in with bearer tokens, creates and starts a simulation, follows `sim:<id>` over the
// WebSocket with the `ws` package and exits 0 after N events; a refused sign-in fails loudly.
// Needs the SDK's build (packages/sdk/dist: `npm run build -w @exomaps/sdk`, done by ./dev spa-test).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { REPO } from './gateway';
import { base, user } from './helpers';

const SDK = join(REPO, 'spa/packages/sdk');

function runExample(env: Record<string, string>): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((ok) => {
    const p = spawn(process.execPath, ['examples/follow-sim.mjs'], { cwd: SDK, env: { ...process.env, ...env } });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('close', (code) => ok({ code, out, err }));
  });
}

test('the Node example signs in, creates a simulation and prints N of its events', async () => {
  expect(existsSync(join(SDK, 'dist/index.js')), 'build the SDK first: npm run build -w @exomaps/sdk').toBe(true);
  const owner = user('sim_owner'); // demo_sim_owner (admin's sign-in attempts are left to the other specs)
  const r = await runExample({ EXOMAPS_URL: base(), EXOMAPS_USER: owner.username, EXOMAPS_PASSWORD: owner.password, EXOMAPS_SIM: 'new', EXOMAPS_EVENTS: '30', EXOMAPS_TIMEOUT_MS: '60000' });
  expect(r.code, `stdout:\n${r.out}\nstderr:\n${r.err}`).toBe(0);
  expect(r.out).toMatch(/created simulation [0-9a-f-]{36}/);
  const lines = r.out.split('\n').filter((l) => /^tick\s+\d+ #\d+/.test(l));
  expect(lines).toHaveLength(30);
  expect(lines[0]).toMatch(/sim\.started/);
  expect(r.out).toMatch(/follow-sim: OK: 30 events/);
});

test('the Node example fails loudly when sign-in is refused', async () => {
  const r = await runExample({ EXOMAPS_URL: base(), EXOMAPS_USER: 'nobody-here', EXOMAPS_PASSWORD: 'wrong', EXOMAPS_TIMEOUT_MS: '10000' });
  expect(r.code).toBe(1);
  expect(r.err).toMatch(/follow-sim: FAILED: HTTP 401/);
});
