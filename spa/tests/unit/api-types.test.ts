import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { OPERATIONS, allows } from '@exomaps/sdk';
import { canSeePipeline, menuTarget } from '../../src/session';

const gen = '../../scripts/gen-api.mjs';

describe('API types generated from the OpenAPI document', () => {
  it('src/api/schema.ts and access.gen.ts are what openapi.json generates now', async () => {
    const { generate } = await import(/* @vite-ignore */ gen);
    const files: Record<string, string> = await generate();
    for (const [rel, text] of Object.entries(files)) {
      expect(readFileSync(new URL(`../../${rel}`, import.meta.url), 'utf8'), `${rel} is stale: npm run gen:api`).toBe(text);
    }
  });

  it('the pipeline page follows the permission rows (x-personas)', () => {
    expect(OPERATIONS.runs_start.personas).toEqual(['admin', 'data_curator', 'ops_engineer']);
    expect(['admin', 'data_curator', 'ops_engineer'].map(canSeePipeline)).toEqual([true, true, true]);
    expect(['sim_owner', 'general_user', 'science_analyst', 'narrative_designer', 'observer_guest', undefined].map(canSeePipeline)).toEqual([false, false, false, false, false, false]);
    expect(allows('system_get', 'observer_guest')).toBe(true);
    expect(menuTarget('Quarantine Queue')).toBe('/pipeline');
    expect(menuTarget('Cost Monitor')).toBeNull();
  });
});
