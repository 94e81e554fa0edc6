// Sign-in state and persona menus (DOMAIN.md §1.1): the menus come from GET /api/persona; the
// ones with a page here link to it, the rest are shown as labels (no backing feature yet).
import { useCallback, useEffect, useState } from 'react';
import { allows, type PersonaView } from '@exomaps/sdk';
import { Api } from './api';

export function useSession() {
  const [session, setSession] = useState<PersonaView | null>(null);
  const [error, setError] = useState<string | null>(null);
  const reload = useCallback(async () => {
    try {
      setSession(await Api.persona());
      setError(null);
    } catch (e) {
      setError(String((e as Error).message));
    }
  }, []);
  useEffect(() => {
    void reload();
  }, [reload]);
  return { session, error, reload, setSession };
}

/** May this persona use the pipeline page (start runs, read the manifest)? From the permission rows. */
export function canSeePipeline(persona: string | undefined): boolean {
  return allows('runs_start', persona) && allows('runs_manifest', persona);
}

/** Where a persona menu entry leads, if anywhere. */
export function menuTarget(menu: string): string | null {
  const pipeline = ['Run Pipeline', 'Source Manifest', 'Quarantine Queue', 'Validation Summary', 'Run History', 'Job Status', 'Provenance', 'Latest Run Snapshot'];
  const map = ['Overview', 'Star Systems', 'Public Overview'];
  if (pipeline.includes(menu)) return '/pipeline';
  if (map.includes(menu)) return '/';
  return null;
}
