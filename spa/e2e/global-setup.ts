import { startGateway, worldPointer } from './gateway';

export default async function globalSetup() {
  const g = await startGateway();
  process.env.E2E_BASE_URL = g.baseUrl;
  process.env.E2E_DATA_DIR = g.dataDir;
  process.env.E2E_OBJECTS_DIR = g.objectsDir;
  process.env.E2E_GATEWAY_PID = String(g.proc.pid);
  process.env.E2E_GATEWAY_LOG = g.log;
  const ptr = await worldPointer(g.baseUrl);
  if (!ptr) throw new Error(`the sample run published no map asset (see ${g.log})`);
  console.log(`gateway ${g.baseUrl} (data ${g.dataDir}); world build ${ptr.world_build_id}, ${ptr.systems} systems`);
}
