import { rmSync } from 'node:fs';
import { stopGateway } from './gateway';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

export default async function globalTeardown() {
  const pid = Number(process.env.E2E_GATEWAY_PID);
  if (pid) stopGateway(pid);
  // `up` stops its private PostgreSQL on SIGTERM; then the data folder goes (E2E_KEEP=1 keeps it).
  for (let t = 0; pid && alive(pid) && t < 100; t++) await new Promise((r) => setTimeout(r, 100));
  const dir = process.env.E2E_DATA_DIR;
  if (dir && process.env.E2E_KEEP !== '1') rmSync(dir, { recursive: true, force: true });
}
