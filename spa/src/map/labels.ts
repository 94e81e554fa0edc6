// Label placement without overlap: candidates in priority order, each placed at its star's
// screen position unless its box would overlap one already placed. Pure.

export interface LabelCandidate {
  index: number;
  text: string;
  /** Screen position of the star, CSS pixels. */
  x: number;
  y: number;
  /** Higher first. */
  priority: number;
}

export interface PlacedLabel extends LabelCandidate {
  /** Box of the label (left, top, width, height). */
  box: [number, number, number, number];
}

const CHAR_W = 6.6;
const LINE_H = 14;

export function labelBox(c: LabelCandidate): [number, number, number, number] {
  const w = Math.ceil(c.text.length * CHAR_W) + 6;
  return [c.x + 7, c.y - LINE_H / 2, w, LINE_H];
}

function overlaps(a: [number, number, number, number], b: [number, number, number, number]): boolean {
  return a[0] < b[0] + b[2] && b[0] < a[0] + a[2] && a[1] < b[1] + b[3] && b[1] < a[1] + a[3];
}

/**
 * Places up to `max` labels inside a `width`×`height` viewport; no two boxes overlap, and none
 * overlaps an `occupied` box (labels drawn by someone else, e.g. the rings').
 */
export function placeLabels(
  cands: LabelCandidate[],
  width: number,
  height: number,
  max = 40,
  occupied: [number, number, number, number][] = [],
): PlacedLabel[] {
  const sorted = [...cands].sort((a, b) => b.priority - a.priority);
  const placed: PlacedLabel[] = [];
  for (const c of sorted) {
    if (placed.length >= max) break;
    const box = labelBox(c);
    if (box[0] < 0 || box[1] < 0 || box[0] + box[2] > width || box[1] + box[3] > height) continue;
    if (placed.some((p) => overlaps(p.box, box)) || occupied.some((o) => overlaps(o, box))) continue;
    placed.push({ ...c, box });
  }
  return placed;
}
