import { expect, type Page } from '@playwright/test';
import { seedUsers } from './gateway';

export const base = () => process.env.E2E_BASE_URL!;

export function user(persona: string) {
  const users = seedUsers(process.env.E2E_DATA_DIR!);
  // `admin` holds all eight personas; `demo_<persona>` holds one.
  const u = users.find((s) => s.username === persona) ?? users.find((s) => s.username === `demo_${persona}`);
  if (!u) throw new Error(`no seed user for ${persona}`);
  return u;
}

export async function openMap(page: Page, path = '/') {
  await page.goto(base() + path);
  await page.waitForFunction(() => window.__exomaps?.ready === true, null, { timeout: 30_000 });
}

export async function search(page: Page, query: string, pick?: RegExp) {
  await page.getByTestId('search').fill(query);
  const s = pick ? page.getByTestId('suggestion').filter({ hasText: pick }).first() : page.getByTestId('suggestion').first();
  await s.click();
}

export async function signIn(page: Page, persona: string) {
  const u = user(persona);
  await page.getByTestId('login-open').click();
  await page.locator('input[name=username]').fill(u.username);
  await page.locator('input[name=password]').fill(u.password);
  await page.locator('form[data-testid=login-form] button[type=submit]').click();
  await expect(page.getByTestId('user')).toHaveText(u.username);
}

/** Non-background pixels of the WebGL canvas. */
export async function litPixels(page: Page): Promise<{ lit: number; total: number }> {
  return page.evaluate(() => {
    const gl = document.querySelector('[data-testid=map-canvas]') as HTMLCanvasElement;
    const c = document.createElement('canvas');
    c.width = gl.width;
    c.height = gl.height;
    const g = c.getContext('2d')!;
    g.drawImage(gl, 0, 0);
    const d = g.getImageData(0, 0, c.width, c.height).data;
    let lit = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i] + d[i + 1] + d[i + 2] > 120) lit++;
    return { lit, total: d.length / 4 };
  });
}

