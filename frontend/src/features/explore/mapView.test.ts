import { describe, expect, it } from "vitest";
import {
  INITIAL_VIEW,
  MARGIN,
  MAX_ZOOM,
  MIN_ZOOM,
  buildGrid,
  centerOn,
  gridSizeFor,
  hitTest,
  nearestPoint,
  panBy,
  pixelsPerUnit,
  screenToWorld,
  type View,
  visibleWorld,
  wheelZoomFactor,
  worldToScreen,
  zoomAbout,
} from "./mapView";

const VIEWPORT = { width: 800, height: 600 };

/** A deterministic pseudo-random generator (mulberry32), so failures reproduce. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomPoints(n: number, seed: number): { xs: Float32Array; ys: Float32Array } {
  const next = random(seed);
  const xs = new Float32Array(n);
  const ys = new Float32Array(n);
  for (let i = 0; i < n; i += 1) {
    // Clustered like a real map: most points near the centre.
    const spread = next() < 0.7 ? 0.25 : 1;
    xs[i] = Math.max(-1, Math.min(1, (next() * 2 - 1) * spread));
    ys[i] = Math.max(-1, Math.min(1, (next() * 2 - 1) * spread));
  }
  return { xs, ys };
}

function linearNearest(
  xs: ArrayLike<number>,
  ys: ArrayLike<number>,
  wx: number,
  wy: number,
  radius: number,
  accept: (i: number) => boolean = () => true,
): number {
  let best = -1;
  let bestDistance = radius * radius;
  for (let i = 0; i < xs.length; i += 1) {
    if (!accept(i)) continue;
    const dx = (xs[i] ?? 0) - wx;
    const dy = (ys[i] ?? 0) - wy;
    const distance = dx * dx + dy * dy;
    if (distance < bestDistance || (distance === bestDistance && i > best)) {
      best = i;
      bestDistance = distance;
    }
  }
  return best;
}

describe("transforms", () => {
  it("fits the [-1, 1] square in the smaller side at zoom 1, with a margin", () => {
    expect(pixelsPerUnit(INITIAL_VIEW, VIEWPORT)).toBeCloseTo(300 * (1 - MARGIN));
    expect(worldToScreen(INITIAL_VIEW, VIEWPORT, 0, 0)).toEqual({ x: 400, y: 300 });
    const topRight = worldToScreen(INITIAL_VIEW, VIEWPORT, 1, 1);
    expect(topRight.x).toBeCloseTo(400 + 300 * (1 - MARGIN));
    expect(topRight.y).toBeCloseTo(300 - 300 * (1 - MARGIN)); // y points up in the world
    const box = visibleWorld(INITIAL_VIEW, VIEWPORT);
    expect(box.minY).toBeLessThan(-1);
    expect(box.maxY).toBeGreaterThan(1);
    expect(box.maxX - box.minX).toBeCloseTo(((box.maxY - box.minY) * 800) / 600);
  });

  it("round-trips world → screen → world at any view", () => {
    const views: View[] = [INITIAL_VIEW, { cx: 0.3, cy: -0.7, zoom: 4.5 }, { cx: -1.2, cy: 1, zoom: 0.5 }];
    for (const view of views) {
      for (const [x, y] of [
        [0, 0],
        [1, -1],
        [-0.25, 0.9],
      ] as const) {
        const screen = worldToScreen(view, VIEWPORT, x, y);
        const back = screenToWorld(view, VIEWPORT, screen.x, screen.y);
        expect(back.x).toBeCloseTo(x, 10);
        expect(back.y).toBeCloseTo(y, 10);
      }
    }
  });

  it("survives an unmeasured (0 × 0) viewport", () => {
    const at = worldToScreen(INITIAL_VIEW, { width: 0, height: 0 }, 1, 1);
    expect(Number.isFinite(at.x) && Number.isFinite(at.y)).toBe(true);
  });
});

describe("zoom and pan", () => {
  it("keeps the world point under the cursor in place when zooming", () => {
    const view: View = { cx: 0.2, cy: 0.1, zoom: 2 };
    const cursor = { x: 650, y: 120 };
    const before = screenToWorld(view, VIEWPORT, cursor.x, cursor.y);
    const zoomed = zoomAbout(view, VIEWPORT, cursor.x, cursor.y, 2.5);
    expect(zoomed.zoom).toBeCloseTo(5);
    const after = screenToWorld(zoomed, VIEWPORT, cursor.x, cursor.y);
    expect(after.x).toBeCloseTo(before.x, 10);
    expect(after.y).toBeCloseTo(before.y, 10);
    // Zooming back out about the same point returns to the first view.
    const back = zoomAbout(zoomed, VIEWPORT, cursor.x, cursor.y, 1 / 2.5);
    expect(back.cx).toBeCloseTo(view.cx, 10);
    expect(back.cy).toBeCloseTo(view.cy, 10);
  });

  it("zooming about the centre keeps the centre", () => {
    const zoomed = zoomAbout(INITIAL_VIEW, VIEWPORT, 400, 300, 3);
    expect(zoomed).toEqual({ cx: 0, cy: 0, zoom: 3 });
  });

  it("clamps the zoom and ignores nonsense factors", () => {
    expect(zoomAbout(INITIAL_VIEW, VIEWPORT, 400, 300, 1e6).zoom).toBe(MAX_ZOOM);
    expect(zoomAbout(INITIAL_VIEW, VIEWPORT, 400, 300, 1e-6).zoom).toBe(MIN_ZOOM);
    const atMax = { cx: 0.5, cy: 0.5, zoom: MAX_ZOOM };
    expect(zoomAbout(atMax, VIEWPORT, 10, 10, 2)).toBe(atMax); // unchanged, not shifted
    expect(zoomAbout(INITIAL_VIEW, VIEWPORT, 0, 0, 0)).toBe(INITIAL_VIEW);
    expect(zoomAbout(INITIAL_VIEW, VIEWPORT, 0, 0, Number.NaN)).toBe(INITIAL_VIEW);
  });

  it("pans so the content follows the pointer, within limits", () => {
    const view: View = { cx: 0, cy: 0, zoom: 2 };
    const grabbed = screenToWorld(view, VIEWPORT, 300, 200);
    const moved = panBy(view, VIEWPORT, 50, -30);
    const now = screenToWorld(moved, VIEWPORT, 350, 170);
    expect(now.x).toBeCloseTo(grabbed.x, 10);
    expect(now.y).toBeCloseTo(grabbed.y, 10);
    const far = panBy(view, VIEWPORT, -1e6, 1e6);
    expect(Math.abs(far.cx)).toBeLessThanOrEqual(1.25);
    expect(Math.abs(far.cy)).toBeLessThanOrEqual(1.25);
  });

  it("centres on a point, zooming in but never out", () => {
    expect(centerOn(INITIAL_VIEW, 0.4, -0.6, 6)).toEqual({ cx: 0.4, cy: -0.6, zoom: 6 });
    expect(centerOn({ cx: 0, cy: 0, zoom: 10 }, 0.4, -0.6, 6).zoom).toBe(10);
  });

  it("turns wheel deltas into zoom factors: up zooms in, modes normalised", () => {
    expect(wheelZoomFactor(-100, 0)).toBeGreaterThan(1);
    expect(wheelZoomFactor(100, 0)).toBeLessThan(1);
    expect(wheelZoomFactor(100, 0) * wheelZoomFactor(-100, 0)).toBeCloseTo(1);
    expect(wheelZoomFactor(3, 1)).toBeCloseTo(wheelZoomFactor(48, 0)); // lines of 16 px
    expect(wheelZoomFactor(1e9, 0)).toBe(wheelZoomFactor(300, 0)); // one event cannot jump
  });
});

describe("grid index", () => {
  it("holds every point exactly once, in the cell that contains it", () => {
    const { xs, ys } = randomPoints(1000, 7);
    const grid = buildGrid(xs, ys);
    expect(grid.size).toBe(gridSizeFor(1000));
    expect([...grid.items].sort((a, b) => a - b)).toEqual([...Array(1000).keys()]);
    expect(grid.starts[grid.size * grid.size]).toBe(1000);
    for (let c = 0; c < grid.size * grid.size; c += 1) {
      for (let k = grid.starts[c] ?? 0; k < (grid.starts[c + 1] ?? 0); k += 1) {
        const i = grid.items[k] ?? 0;
        const col = Math.min(grid.size - 1, Math.floor(((xs[i] ?? 0) + 1) / grid.cell));
        const row = Math.min(grid.size - 1, Math.floor(((ys[i] ?? 0) + 1) / grid.cell));
        expect(row * grid.size + col).toBe(c);
      }
    }
  });

  it("sizes the grid to the number of points", () => {
    expect(gridSizeFor(0)).toBe(1);
    expect(gridSizeFor(10_000)).toBe(50);
    expect(gridSizeFor(10_000_000)).toBe(256);
  });

  it("finds the same nearest point as a linear scan, for 10,000 points", () => {
    const { xs, ys } = randomPoints(10_000, 42);
    const grid = buildGrid(xs, ys);
    const next = random(3);
    for (let q = 0; q < 2000; q += 1) {
      const wx = next() * 2.4 - 1.2;
      const wy = next() * 2.4 - 1.2;
      const radius = [0.001, 0.01, 0.05, 0.3][q % 4] ?? 0.01;
      expect(nearestPoint(grid, wx, wy, radius)).toBe(linearNearest(xs, ys, wx, wy, radius));
    }
  });

  it("respects the radius, the filter and ties", () => {
    const xs = [0, 0.1, 0.1, -0.9, 1];
    const ys = [0, 0, 0, 0.9, 1];
    const grid = buildGrid(xs, ys, 4);
    expect(nearestPoint(grid, 0.02, 0, 0.05)).toBe(0);
    expect(nearestPoint(grid, 0.5, 0.5, 0.05)).toBe(-1);
    expect(nearestPoint(grid, 0.09, 0, 0.05)).toBe(2); // two points at 0.1: the one drawn on top
    expect(nearestPoint(grid, 0.09, 0, 0.05, (i) => i !== 2)).toBe(1);
    expect(nearestPoint(grid, 0.09, 0, 0.05, (i) => i === 0)).toBe(-1); // 0.09 away: too far
    expect(nearestPoint(grid, 0.09, 0, 0.1, (i) => i === 0)).toBe(0);
    expect(nearestPoint(grid, 0.02, 0, 0.05, () => false)).toBe(-1);
    expect(nearestPoint(grid, 1, 1, 0.01)).toBe(4); // on the far edge
    expect(nearestPoint(grid, 0, 0, 0)).toBe(-1);
    expect(nearestPoint(buildGrid([], []), 0, 0, 1)).toBe(-1);
  });

  it("finds points outside [-1, 1] (clamped into edge cells)", () => {
    const grid = buildGrid([1.5, -3], [0, 0], 8);
    expect(nearestPoint(grid, 1.5, 0, 0.01)).toBe(0);
    expect(nearestPoint(grid, -3, 0.005, 0.01)).toBe(1);
  });

  it("visits only the cells near the query", () => {
    // Count reads of xs through a proxy: a query near one corner must not touch every point.
    const { xs, ys } = randomPoints(10_000, 5);
    let reads = 0;
    const counted = new Proxy(xs, {
      get(target, key, receiver) {
        if (typeof key === "string" && /^\d+$/.test(key)) reads += 1;
        return Reflect.get(target, key, receiver) as unknown;
      },
    });
    const grid = buildGrid(xs, ys);
    const probe = { ...grid, xs: counted };
    nearestPoint(probe, 0.1, 0.1, 0.02);
    expect(reads).toBeGreaterThan(0);
    expect(reads).toBeLessThan(500);
  });

  it("hit-tests in screen pixels at the current zoom", () => {
    const grid = buildGrid([0, 0.5], [0, 0.5]);
    const view: View = { cx: 0, cy: 0, zoom: 1 };
    const target = worldToScreen(view, VIEWPORT, 0.5, 0.5);
    expect(hitTest(grid, view, VIEWPORT, target.x + 6, target.y, 8)).toBe(1);
    expect(hitTest(grid, view, VIEWPORT, target.x + 12, target.y, 8)).toBe(-1);
    // The radius is in pixels whatever the zoom: 4× closer in, 6 px is still a hit, 12 px a miss.
    const zoomed = zoomAbout(view, VIEWPORT, 400, 300, 4);
    const there = worldToScreen(zoomed, VIEWPORT, 0.5, 0.5);
    expect(hitTest(grid, zoomed, VIEWPORT, there.x + 6, there.y, 8)).toBe(1);
    expect(hitTest(grid, zoomed, VIEWPORT, there.x + 12, there.y, 8)).toBe(-1);
    expect(hitTest(grid, view, VIEWPORT, 400, 300, 8, () => false)).toBe(-1);
  });
});
