import { stopGateway } from './gateway';

export default async function globalTeardown() {
  const pid = Number(process.env.E2E_GATEWAY_PID);
  if (pid) stopGateway(pid);
  // Give `up` time to stop its private PostgreSQL.
  await new Promise((r) => setTimeout(r, 1500));
}
