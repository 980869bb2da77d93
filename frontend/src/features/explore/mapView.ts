// Geometry of the Explore map, as pure functions: world ↔ screen transforms, zoom about a point,
// panning, and a uniform-grid spatial index for "which point is under the pointer".
//
// World: the backend's coordinates, x and y in [-1, 1], y pointing up.
// Screen: CSS pixels from the canvas's top-left corner, y pointing down.

export interface Viewport {
  /** CSS pixels. */
  width: number;
  height: number;
}

export interface View {
  /** The world point at the centre of the viewport. */
  cx: number;
  cy: number;
  /** 1 = the whole [-1, 1] square fits the viewport. */
  zoom: number;
}

export interface Point2 {
  x: number;
  y: number;
}

export const MIN_ZOOM = 0.5;
export const MAX_ZOOM = 200;
/** Fraction of the viewport's smaller side left empty around the [-1, 1] square at zoom 1. */
export const MARGIN = 0.06;
/** How far past the map's edge the centre may wander (world units). */
const PAN_LIMIT = 1.25;

export const INITIAL_VIEW: View = { cx: 0, cy: 0, zoom: 1 };

export function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

/** Pixels per world unit. */
export function pixelsPerUnit(view: View, viewport: Viewport): number {
  const side = Math.max(1, Math.min(viewport.width, viewport.height));
  return (side / 2) * (1 - MARGIN) * view.zoom;
}

export function worldToScreen(view: View, viewport: Viewport, x: number, y: number): Point2 {
  const s = pixelsPerUnit(view, viewport);
  return { x: viewport.width / 2 + (x - view.cx) * s, y: viewport.height / 2 - (y - view.cy) * s };
}

export function screenToWorld(view: View, viewport: Viewport, sx: number, sy: number): Point2 {
  const s = pixelsPerUnit(view, viewport);
  return { x: view.cx + (sx - viewport.width / 2) / s, y: view.cy - (sy - viewport.height / 2) / s };
}

/** The world rectangle the viewport shows. */
export function visibleWorld(view: View, viewport: Viewport): { minX: number; maxX: number; minY: number; maxY: number } {
  const topLeft = screenToWorld(view, viewport, 0, 0);
  const bottomRight = screenToWorld(view, viewport, viewport.width, viewport.height);
  return { minX: topLeft.x, maxX: bottomRight.x, minY: bottomRight.y, maxY: topLeft.y };
}

function limited(view: View): View {
  return {
    cx: clamp(view.cx, -PAN_LIMIT, PAN_LIMIT),
    cy: clamp(view.cy, -PAN_LIMIT, PAN_LIMIT),
    zoom: clamp(view.zoom, MIN_ZOOM, MAX_ZOOM),
  };
}

/**
 * Multiply the zoom by `factor`, keeping the world point under screen point (sx, sy) where it is
 * (the cursor for the wheel, the centre for the buttons). The zoom is clamped to its limits.
 */
export function zoomAbout(view: View, viewport: Viewport, sx: number, sy: number, factor: number): View {
  if (!Number.isFinite(factor) || factor <= 0) return view;
  const zoom = clamp(view.zoom * factor, MIN_ZOOM, MAX_ZOOM);
  if (zoom === view.zoom) return view;
  const anchor = screenToWorld(view, viewport, sx, sy);
  const s = pixelsPerUnit({ ...view, zoom }, viewport);
  // Solve screenToWorld(next, sx, sy) === anchor for the new centre.
  return limited({
    cx: anchor.x - (sx - viewport.width / 2) / s,
    cy: anchor.y + (sy - viewport.height / 2) / s,
    zoom,
  });
}

/** Move the map by (dx, dy) screen pixels: the content follows the pointer. */
export function panBy(view: View, viewport: Viewport, dx: number, dy: number): View {
  const s = pixelsPerUnit(view, viewport);
  return limited({ cx: view.cx - dx / s, cy: view.cy + dy / s, zoom: view.zoom });
}

/** Centre the map on a world point, at least at `minZoom`. */
export function centerOn(view: View, x: number, y: number, minZoom = view.zoom): View {
  return limited({ cx: x, cy: y, zoom: Math.max(view.zoom, minZoom) });
}

/** Zoom factor for a wheel event's deltaY, normalised across delta modes (pixels, lines, pages). */
export function wheelZoomFactor(deltaY: number, deltaMode: number, pageHeight = 800): number {
  const pixels = deltaMode === 1 ? deltaY * 16 : deltaMode === 2 ? deltaY * pageHeight : deltaY;
  return Math.exp(-clamp(pixels, -300, 300) * 0.0015);
}

// ---- spatial index ---------------------------------------------------------------------------

/**
 * A uniform grid over the world square: the point indices of each cell stored contiguously
 * (cell c holds items[starts[c]] .. items[starts[c + 1] - 1]).
 */
export interface GridIndex {
  size: number;
  minX: number;
  minY: number;
  cell: number;
  starts: Int32Array;
  items: Int32Array;
  xs: ArrayLike<number>;
  ys: ArrayLike<number>;
}

/** Side of the grid for n points: about `perCell` points per cell on average, 1 to 256 cells. */
export function gridSizeFor(n: number, perCell = 4): number {
  return clamp(Math.ceil(Math.sqrt(n / perCell)), 1, 256);
}

export function buildGrid(xs: ArrayLike<number>, ys: ArrayLike<number>, size = gridSizeFor(xs.length)): GridIndex {
  const n = xs.length;
  const minX = -1;
  const minY = -1;
  const cell = 2 / size;
  const cellOf = new Int32Array(n);
  const counts = new Int32Array(size * size + 1);
  for (let i = 0; i < n; i += 1) {
    const col = clamp(Math.floor(((xs[i] ?? 0) - minX) / cell), 0, size - 1);
    const row = clamp(Math.floor(((ys[i] ?? 0) - minY) / cell), 0, size - 1);
    const c = row * size + col;
    cellOf[i] = c;
    counts[c + 1] = (counts[c + 1] ?? 0) + 1;
  }
  const starts = new Int32Array(size * size + 1);
  for (let c = 0; c < size * size; c += 1) starts[c + 1] = (starts[c] ?? 0) + (counts[c + 1] ?? 0);
  const fill = starts.slice(0, size * size);
  const items = new Int32Array(n);
  for (let i = 0; i < n; i += 1) {
    const c = cellOf[i] ?? 0;
    items[fill[c] ?? 0] = i;
    fill[c] = (fill[c] ?? 0) + 1;
  }
  return { size, minX, minY, cell, starts, items, xs, ys };
}

/**
 * The index of the point nearest to world point (wx, wy) within `radius` world units, or -1.
 * Only the cells the circle overlaps are visited. `accept(i)` can exclude points (hidden genres).
 * Ties go to the point drawn last (the higher index), which is the one on top.
 */
export function nearestPoint(
  grid: GridIndex,
  wx: number,
  wy: number,
  radius: number,
  accept?: (index: number) => boolean,
): number {
  if (!(radius > 0) || grid.items.length === 0) return -1;
  const { size, cell, minX, minY, starts, items, xs, ys } = grid;
  // Clamped, like the points were: one outside [-1, 1] sits in an edge cell.
  const col0 = clamp(Math.floor((wx - radius - minX) / cell), 0, size - 1);
  const col1 = clamp(Math.floor((wx + radius - minX) / cell), 0, size - 1);
  const row0 = clamp(Math.floor((wy - radius - minY) / cell), 0, size - 1);
  const row1 = clamp(Math.floor((wy + radius - minY) / cell), 0, size - 1);
  let best = -1;
  let bestDistance = radius * radius;
  for (let row = row0; row <= row1; row += 1) {
    for (let col = col0; col <= col1; col += 1) {
      const c = row * size + col;
      const end = starts[c + 1] ?? 0;
      for (let k = starts[c] ?? 0; k < end; k += 1) {
        const i = items[k] ?? 0;
        const dx = (xs[i] ?? 0) - wx;
        const dy = (ys[i] ?? 0) - wy;
        const distance = dx * dx + dy * dy;
        if (distance < bestDistance || (distance === bestDistance && i > best)) {
          if (accept && !accept(i)) continue;
          best = i;
          bestDistance = distance;
        }
      }
    }
  }
  return best;
}

/** nearestPoint for a screen position and a radius in pixels. */
export function hitTest(
  grid: GridIndex,
  view: View,
  viewport: Viewport,
  sx: number,
  sy: number,
  radiusPx: number,
  accept?: (index: number) => boolean,
): number {
  const world = screenToWorld(view, viewport, sx, sy);
  return nearestPoint(grid, world.x, world.y, radiusPx / pixelsPerUnit(view, viewport), accept);
}
