// Issue 12: the names people type. The sample gateway ingests every family (SIMBAD, EXOPLANETS,
// HIPPARCOS and NAMES excerpts); the map's search box asks GET /api/search.
import { expect, test } from '@playwright/test';
import { base, openMap } from './helpers';

const TEN = ['Vega', 'Altair', 'Arcturus', 'Tau Ceti', 'Epsilon Eridani', '61 Cygni', 'Alpha Centauri', 'Sirius', 'Procyon', 'Gliese 581'];

test('the search box finds the ten names and opens each system', async ({ page }) => {
  await openMap(page);
  for (const name of TEN) {
    const res = await page.request.get(`${base()}/api/system/${encodeURIComponent(name)}`);
    expect(res.status(), name).toBe(200);
    const mainId: string = (await res.json()).system.main_id;
    await page.getByTestId('search').fill(name);
    // The suggestions come from GET /api/search (not the map's own index).
    const first = page.getByTestId('suggestion').first();
    await expect(first).toHaveAttribute('data-source', 'search');
    await first.click();
    await expect(page.getByTestId('detail')).toBeVisible();
    await expect(page.getByTestId('simbad-link')).toContainText(mainId);
  }
});

test('typos and Hipparcos distances: "Vgea" finds Vega, whose panel lists its distances by source', async ({ page }) => {
  await openMap(page);
  await page.getByTestId('search').fill('Vgea');
  await expect(page.getByTestId('suggestion').first()).toHaveAttribute('data-source', 'search');
  await expect(page.getByTestId('suggestion').first()).toContainText('Vega');
  await page.getByTestId('suggestion').first().click();
  await expect(page.getByTestId('detail-name')).toHaveText('Vega');
  await expect(page.getByTestId('distance-measurement').first()).toContainText('hipparcos');
  await expect(page.getByTestId('distance-measurement').first()).toContainText('25.04 ly');
  await expect(page.getByTestId('lineage')).toContainText('HIPPARCOS_sample.dat');
  // Brightness from the asset's magnitude, with the Hipparcos Hp it came from; names and designations.
  await expect(page.getByTestId('detail-brightness')).toContainText(/MV 0\.\d/);
  await expect(page.getByTestId('detail-brightness')).toContainText('Hipparcos Hp');
  await expect(page.getByTestId('detail-aliases')).toContainText(/HIP 91262/);
  // Every distance with its source.
  const res = await page.request.get(`${base()}/api/system/Vega`);
  const distances: { provenance: string }[] = (await res.json()).distances;
  await expect(page.getByTestId('distance-source')).toHaveText(distances.map((d) => d.provenance));
});
