#!/usr/bin/env node
// Follow a simulation from Node with @exomaps/sdk: sign in (bearer tokens), find a simulation
// (or create and start one), subscribe to its channel and print its events until N have arrived.
//
//   EXOMAPS_URL=http://127.0.0.1:5000 EXOMAPS_USER=admin EXOMAPS_PASSWORD=… node examples/follow-sim.mjs
//
// Environment: EXOMAPS_URL (default http://127.0.0.1:5000), EXOMAPS_USER, EXOMAPS_PASSWORD,
// EXOMAPS_SIM (a simulation id, or `new`; default: the newest one, else a new one), EXOMAPS_EVENTS (N,
// default 25), EXOMAPS_TIMEOUT_MS (default 60000). Exits 0 after N events; 1 with a message on
// any failure (sign-in refused, no simulation, a gap or duplicate in the feed, timeout).
// Node 20 has no global WebSocket: the `ws` package's is passed in.
import WebSocket from 'ws';
import { ApiFailure, allows, createApi, followSimulation, liveFor } from '@exomaps/sdk';

const url = process.env.EXOMAPS_URL ?? 'http://127.0.0.1:5000';
const user = process.env.EXOMAPS_USER;
const password = process.env.EXOMAPS_PASSWORD;
const want = Number(process.env.EXOMAPS_EVENTS ?? 25);
const timeoutMs = Number(process.env.EXOMAPS_TIMEOUT_MS ?? 60_000);

function fail(message) {
  console.error(`follow-sim: FAILED: ${message}`);
  process.exit(1);
}

if (!user || !password) fail('set EXOMAPS_USER and EXOMAPS_PASSWORD');
if (!Number.isInteger(want) || want < 1) fail('EXOMAPS_EVENTS must be a positive integer');

const api = createApi({ baseUrl: url, mode: 'bearer' });
try {
  const t = await api.login(user, password);
  // Simulations are created by sim_owner or admin: switch to one when the user has it.
  const persona = ['sim_owner', 'admin'].find((p) => t.personas.includes(p)) ?? t.persona;
  if (persona !== t.persona) await api.switchPersona(persona);
  console.log(`signed in as ${t.user} (${persona})`);

  const pick = process.env.EXOMAPS_SIM;
  let sim = pick === 'new' ? undefined : pick ? (await api.simGet(pick)).simulation : (await api.simList(20)).simulations[0];
  if (!sim) {
    if (!allows('sim_create', persona)) fail(`no simulation yet, and ${persona} may not create one`);
    sim = await api.simCreate({ name: 'follow-sim example', seed: 7, target_tick: 400, batch_ticks: 10, tick_interval_ms: 20 });
    console.log(`created simulation ${sim.sim_id}`);
  }
  if ((sim.state === 'idle' || sim.state === 'paused') && allows('sim_resume', persona)) {
    await api.simResume(sim.sim_id);
    console.log(`resumed simulation ${sim.sim_id}`);
  }
  console.log(`following sim:${sim.sim_id} (${sim.state}, tick ${sim.current_tick}) until ${want} events`);

  const live = liveFor(api, { WebSocket });
  const timer = setTimeout(() => fail(`only ${printed} of ${want} events after ${timeoutMs} ms`), timeoutMs);
  let last = -1;
  let printed = 0;
  const follow = followSimulation(live, sim.sim_id, {
    onEvents(fresh) {
      for (const e of fresh) {
        const key = e.tick * 1_048_576 + e.seq;
        if (key <= last) fail(`event out of order: tick ${e.tick} seq ${e.seq}`);
        last = key;
        const where = e.location?.name ?? e.location?.system_id ?? '';
        console.log(`tick ${String(e.tick).padStart(5)} #${e.seq}  ${e.event}${where ? `  @ ${where}` : ''}`);
        if (++printed === want) {
          clearTimeout(timer);
          follow.stop();
          live.close();
          console.log(`follow-sim: OK: ${printed} events, ${follow.cursor.duplicates} duplicates dropped, ${live.connects} connection(s)`);
          process.exit(0);
        }
      }
    },
  });
  live.on((m) => {
    if (m.type === 'error') fail(`the server refused: ${m.error}: ${m.message}`);
  });
} catch (e) {
  fail(e instanceof ApiFailure ? `HTTP ${e.status}: ${e.message}` : String(e?.stack ?? e));
}
