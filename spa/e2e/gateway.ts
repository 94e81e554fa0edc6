// Starts and stops the real local gateway for the end-to-end tests.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeAsset, type EncodeSystem } from '../tests/support/encode';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => ok(port));
    });
  });
}

export interface Gateway {
  proc: ChildProcess;
  baseUrl: string;
  dataDir: string;
  objectsDir: string;
  log: string;
}

/** Builds (if needed) and starts `exomaps-local up` with its own data folder; resolves when healthy. */
export async function startGateway(opts: { spaDir?: string; sources?: string; sourceFiles?: string } = {}): Promise<Gateway> {
  const build = spawnSync('cargo', ['build', '-q', '-p', 'exomaps-local', '--bin', 'exomaps-local'], { cwd: REPO, stdio: 'inherit' });
  if (build.status !== 0) throw new Error('cargo build -p exomaps-local failed');
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'exomaps-e2e-'));
  const objectsDir = join(dataDir, 'objects');
  mkdirSync(objectsDir, { recursive: true });
  const log = join(dataDir, 'gateway.log');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    EXOMAPS_DATA_DIR: dataDir,
    EXOMAPS_PORT: String(port),
    EXOMAPS_HOST: '127.0.0.1',
    EXOMAPS_SOURCES: opts.sources ?? join(REPO, 'sample/sources'),
    EXOMAPS_SPA_DIR: opts.spaDir ?? join(REPO, 'spa/dist'),
    EXOMAPS_OBJECTS_DIR: objectsDir,
    EXOMAPS_LOGIN_MAX_PER_SOURCE: '1000',
    RUST_LOG: process.env.RUST_LOG ?? 'info',
  };
  delete env.DATABASE_URL; // `up` starts its own private cluster in the data folder
  env.EXOMAPS_SOURCE_FILES =
    opts.sourceFiles ??
    'SIMBAD_sample.csv,EXOPLANETS_sample.csv,HIPPARCOS_sample.dat,NAMES_starnames_sample.json,NAMES_constellations_sample.json';
  delete env.EXOMAPS_SEED_USERS;
  delete env.EXOMAPS_SECRETS_FILE;
  const out = openSync(log, 'a');
  // CI builds for an explicit target (CARGO_BUILD_TARGET, shared with cargo-lambda): target/<triple>/debug.
  const targetDir = process.env.CARGO_BUILD_TARGET ? join('target', process.env.CARGO_BUILD_TARGET) : 'target';
  const proc = spawn(join(REPO, targetDir, 'debug/exomaps-local'), ['up'], { cwd: REPO, env, stdio: ['ignore', out, out], detached: false });
  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`the gateway exited (${proc.exitCode}): ${readFileSync(log, 'utf8').slice(-3000)}`);
    try {
      const r = await fetch(`${baseUrl}/api/health`);
      if (r.ok) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) throw new Error(`the gateway did not become healthy: ${readFileSync(log, 'utf8').slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  return { proc, baseUrl, dataDir, objectsDir, log };
}

export function stopGateway(pid: number) {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    /* already gone */
  }
}

export interface SeedUser {
  username: string;
  password: string;
  personas: string[];
}

export function seedUsers(dataDir: string): SeedUser[] {
  const raw = JSON.parse(readFileSync(join(dataDir, 'seed-users.json'), 'utf8'));
  return (Array.isArray(raw) ? raw : raw.users) as SeedUser[];
}

/** The published map pointer (the pipeline's publish phase writes it on every run). */
export async function worldPointer(baseUrl: string): Promise<{ world_build_id: number; asset: string; systems: number } | null> {
  const r = await fetch(`${baseUrl}/data/world/latest.json`);
  return r.ok ? r.json() : null;
}

/** Writes an asset's two parts and its pointer into an object-store folder (the first-paint benchmark); returns the parts. */
export function writeAsset(objectsDir: string, systems: EncodeSystem[], id: number) {
  const dir = join(objectsDir, 'data/world');
  mkdirSync(dir, { recursive: true });
  const parts = encodeAsset(systems, id);
  writeFileSync(join(dir, `${id}.exmp`), parts.map);
  writeFileSync(join(dir, `${id}.names`), parts.names);
  writeFileSync(
    join(dir, 'latest.json'),
    JSON.stringify({ world_build_id: id, asset: `/data/world/${id}.exmp`, names: `/data/world/${id}.names`, systems: systems.length, generated_at: new Date().toISOString() }),
  );
  return parts;
}
