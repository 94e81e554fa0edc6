import { defineConfig } from 'vitest/config';
import react from '@vitejs/plugin-react';

// The dev server proxies the API, the WebSocket and the object store to a running gateway
// (`./dev up`, http://127.0.0.1:5000) so `npm run dev` works against real data.
const gateway = process.env.EXOMAPS_GATEWAY ?? 'http://127.0.0.1:5000';

export default defineConfig({
  plugins: [react()],
  // The SDK (packages/sdk, @exomaps/sdk) is used from its TypeScript sources: no build step
  // between an SDK change and the map (Node consumers use its tsc build, dist/).
  resolve: { conditions: ['exomaps-source', 'module', 'browser', 'development|production'] },
  ssr: { resolve: { conditions: ['exomaps-source', 'module', 'node', 'development|production'] } },
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    sourcemap: false,
    // three.js (~600 kB) + React: one ~830 kB chunk, ~220 kB gzipped.
    chunkSizeWarningLimit: 900,
  },
  server: {
    proxy: {
      '/api': gateway,
      '/data': gateway,
      '/ws': { target: gateway.replace(/^http/, 'ws'), ws: true },
    },
  },
  test: {
    include: ['tests/unit/**/*.test.ts'],
    environment: 'node',
  },
});
