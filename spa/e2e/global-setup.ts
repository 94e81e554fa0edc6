import { ensureAsset, startGateway } from './gateway';

export default async function globalSetup() {
  const g = await startGateway();
  process.env.E2E_BASE_URL = g.baseUrl;
  process.env.E2E_DATA_DIR = g.dataDir;
  process.env.E2E_OBJECTS_DIR = g.objectsDir;
  process.env.E2E_GATEWAY_PID = String(g.proc.pid);
  process.env.E2E_GATEWAY_LOG = g.log;
  const how = await ensureAsset(g);
  process.env.E2E_ASSET_SOURCE = how;
  console.log(`gateway ${g.baseUrl} (data ${g.dataDir}); map asset ${how}`);
}
