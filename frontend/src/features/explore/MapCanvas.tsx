// The Explore map on one <canvas>: no DOM node per film, so 10,000 points stay smooth. Drawing
// happens in requestAnimationFrame and only when something changed; hover and click find the
// point under the pointer through the grid index (mapView.ts), never by scanning every point.

import {
  type KeyboardEvent as ReactKeyboardEvent,
  type PointerEvent as ReactPointerEvent,
  type Ref,
  useCallback, useEffect, useId, useImperativeHandle, useRef, useState } from "react";
import { type PreparedMap, titleWithYear } from "./mapData";
import {
  INITIAL_VIEW,
  MAX_ZOOM,
  MIN_ZOOM,
  centerOn,
  clamp,
  hitTest,
  panBy,
  pixelsPerUnit,
  type View,
  type Viewport,
  wheelZoomFactor,
  worldToScreen,
  zoomAbout,
} from "./mapView";

export interface MapCanvasHandle {
  /** Zoom about the centre of the map. */
  zoomBy: (factor: number) => void;
  reset: () => void;
  /** Centre (and zoom in) on a point, e.g. a film picked by title. */
  focusPoint: (index: number) => void;
  focus: () => void;
}

export interface MapCanvasProps {
  map: PreparedMap;
  /** Legend slots (indices into map.genres) whose points are hidden. */
  hidden: ReadonlySet<number>;
  /** The selected point's index, highlighted. */
  selected: number | null;
  onSelect: (index: number) => void;
  /** Escape on the map. */
  onDismiss?: () => void;
  ref?: Ref<MapCanvasHandle>;
}

interface Theme {
  background: string;
  text: string;
  accent: string;
  muted: string;
  border: string;
  dark: boolean;
}

interface Tooltip {
  index: number;
  left: number;
  top: number;
  below: boolean;
}

interface Gesture {
  startX: number;
  startY: number;
  moved: boolean;
  touch: boolean;
  /** Two pointers: their distance and midpoint at the previous move. */
  pinch: { distance: number; x: number; y: number } | null;
}

interface Animation {
  from: View;
  to: View;
  start: number;
  duration: number;
}

const BUTTON_ZOOM = 1.6;
const KEY_PAN = 0.1; // of the viewport's size per arrow press; Shift: three times that
const HOVER_RADIUS = 10; // px around the pointer
const TOUCH_RADIUS = 18;
const DRAG_THRESHOLD = 4; // px before a press becomes a drag (and stops being a click)
const TOUCH_DRAG_THRESHOLD = 8;
const FOCUS_ZOOM = 6;
const LABEL_LIMIT = 60; // titles are drawn next to the points when no more are in view

/** A CSS variable of the element's theme, or `fallback` (jsdom has no computed variables). */
function cssVar(style: CSSStyleDeclaration | null, name: string, fallback: string): string {
  return style?.getPropertyValue(name).trim() || fallback;
}

function parseHex(color: string): [number, number, number] | null {
  const match = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(color.trim());
  if (!match?.[1]) return null;
  const hex = match[1].length === 3 ? [...match[1]].map((c) => c + c).join("") : match[1];
  return [0, 2, 4].map((i) => parseInt(hex.slice(i, i + 2), 16)) as [number, number, number];
}

/** The genre colours are dark (white text sits on them): lighter on a dark background. */
export function pointColor(color: string, dark: boolean): string {
  const rgb = parseHex(color);
  if (!dark || !rgb) return color;
  const [r, g, b] = rgb.map((v) => Math.round(v + (255 - v) * 0.4));
  return `rgb(${r} ${g} ${b})`;
}

function readTheme(element: Element | null): Theme {
  const style = element && typeof getComputedStyle === "function" ? getComputedStyle(element) : null;
  const background = cssVar(style, "--surface", "#ffffff");
  const rgb = parseHex(background);
  const dark = rgb ? 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2] < 128 : false;
  return {
    background,
    text: cssVar(style, "--text", dark ? "#ececf1" : "#1b1b1f"),
    accent: cssVar(style, "--accent", dark ? "#ef5a62" : "#b4232c"),
    muted: cssVar(style, "--text-muted", dark ? "#a9a9b6" : "#55545c"),
    border: cssVar(style, "--border", dark ? "#3a3a44" : "#d4d0c8"),
    dark,
  };
}

function pointRadius(zoom: number, count: number): number {
  const base = count > 5000 ? 2 : count > 1000 ? 2.6 : 3.6;
  return Math.min(8, base * (1 + 0.35 * Math.log2(Math.max(1, zoom))));
}

function prefersReducedMotion(): boolean {
  return typeof window.matchMedia === "function" && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
}

export function MapCanvas({ map, hidden, selected, onSelect, onDismiss, ref }: MapCanvasProps) {
  const instructionsId = useId();
  const containerRef = useRef<HTMLDivElement>(null);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const viewRef = useRef<View>(INITIAL_VIEW);
  const sizeRef = useRef<Viewport>({ width: 0, height: 0 });
  const themeRef = useRef<Theme | null>(null);
  const frameRef = useRef<number | null>(null);
  const animationRef = useRef<Animation | null>(null);
  const hoverRef = useRef(-1);
  const pointersRef = useRef(new Map<number, { x: number; y: number }>());
  const gestureRef = useRef<Gesture | null>(null);
  // The latest props, read by draw() and the event handlers without re-subscribing them.
  const mapRef = useRef(map);
  const hiddenRef = useRef(hidden);
  const selectedRef = useRef(selected);
  const onSelectRef = useRef(onSelect);
  const [tooltip, setTooltip] = useState<Tooltip | null>(null);
  const [zoomPercent, setZoomPercent] = useState(100);
  // Which zoom limit the view is at, for the buttons' disabled state (changes rarely).
  const [zoomEdge, setZoomEdge] = useState<"min" | "max" | null>(null);
  const trackEdge = useCallback((view: View) => {
    setZoomEdge(view.zoom <= MIN_ZOOM ? "min" : view.zoom >= MAX_ZOOM ? "max" : null);
  }, []);

  const draw = useCallback(() => {
    frameRef.current = null;
    const canvas = canvasRef.current;
    if (!canvas) return;
    const animation = animationRef.current;
    if (animation) {
      const t = clamp((performance.now() - animation.start) / animation.duration, 0, 1);
      const ease = t < 0.5 ? 2 * t * t : 1 - (-2 * t + 2) ** 2 / 2;
      const { from, to } = animation;
      viewRef.current = {
        cx: from.cx + (to.cx - from.cx) * ease,
        cy: from.cy + (to.cy - from.cy) * ease,
        zoom: from.zoom * (to.zoom / from.zoom) ** ease,
      };
      if (t >= 1) animationRef.current = null;
      else frameRef.current = requestAnimationFrame(draw);
    }
    const { width, height } = sizeRef.current;
    const dpr = window.devicePixelRatio || 1;
    const backingWidth = Math.max(1, Math.round(width * dpr));
    const backingHeight = Math.max(1, Math.round(height * dpr));
    if (canvas.width !== backingWidth || canvas.height !== backingHeight) {
      canvas.width = backingWidth;
      canvas.height = backingHeight;
    }
    const ctx = canvas.getContext("2d");
    if (!ctx) return; // no 2D context (jsdom, or a browser out of memory): the page still works
    const theme = (themeRef.current ??= readTheme(containerRef.current));
    const data = mapRef.current;
    const hiddenSlots = hiddenRef.current;
    const view = viewRef.current;
    const size = sizeRef.current;
    const s = pixelsPerUnit(view, size);
    const ox = width / 2 - view.cx * s;
    const oy = height / 2 + view.cy * s;
    const r = pointRadius(view.zoom, data.points.length);

    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.fillStyle = theme.background;
    ctx.fillRect(0, 0, width, height);

    // The map's extent, faintly: where "nothing" is when zoomed out.
    ctx.strokeStyle = theme.border;
    ctx.lineWidth = 1;
    ctx.strokeRect(ox - s, oy - s, 2 * s, 2 * s);

    const inView: number[] = [];
    ctx.globalAlpha = 0.85;
    data.genres.forEach((genre, slot) => {
      if (hiddenSlots.has(slot)) return;
      const members = data.members[slot];
      if (!members) return;
      ctx.fillStyle = pointColor(genre.color, theme.dark);
      ctx.beginPath();
      for (let k = 0; k < members.length; k += 1) {
        const i = members[k] ?? 0;
        const sx = ox + (data.xs[i] ?? 0) * s;
        const sy = oy - (data.ys[i] ?? 0) * s;
        if (sx < -r || sy < -r || sx > width + r || sy > height + r) continue;
        if (inView.length <= LABEL_LIMIT) inView.push(i);
        ctx.moveTo(sx + r, sy);
        ctx.arc(sx, sy, r, 0, Math.PI * 2);
      }
      ctx.fill();
    });
    ctx.globalAlpha = 1;

    if (inView.length > 0 && inView.length <= LABEL_LIMIT) {
      ctx.font = "12px system-ui, sans-serif";
      ctx.textBaseline = "middle";
      ctx.lineJoin = "round";
      ctx.lineWidth = 3;
      ctx.strokeStyle = theme.background;
      ctx.fillStyle = theme.muted;
      // A label is drawn only where it overlaps none already drawn: legible, never a pile.
      const placed: [number, number, number, number][] = [];
      const chosen = selectedRef.current;
      const order = chosen !== null && inView.includes(chosen) ? [chosen, ...inView.filter((i) => i !== chosen)] : inView;
      for (const i of order) {
        const point = data.points[i];
        if (!point) continue;
        const sx = ox + (data.xs[i] ?? 0) * s + r + 4;
        const sy = oy - (data.ys[i] ?? 0) * s;
        const box: [number, number, number, number] = [sx, sy - 8, sx + ctx.measureText(point.title).width, sy + 8];
        if (placed.some((b) => box[0] < b[2] && b[0] < box[2] && box[1] < b[3] && b[1] < box[3])) continue;
        placed.push(box);
        ctx.strokeText(point.title, sx, sy);
        ctx.fillText(point.title, sx, sy);
      }
    }

    const ring = (index: number, radius: number, width: number, color: string) => {
      if (index < 0 || index >= data.points.length) return;
      const sx = ox + (data.xs[index] ?? 0) * s;
      const sy = oy - (data.ys[index] ?? 0) * s;
      const genre = data.genres[data.genreOf[index] ?? 0];
      ctx.fillStyle = pointColor(genre?.color ?? "#55606e", theme.dark);
      ctx.beginPath();
      ctx.arc(sx, sy, r + 1.5, 0, Math.PI * 2);
      ctx.fill();
      ctx.lineWidth = width + 2;
      ctx.strokeStyle = theme.background;
      ctx.beginPath();
      ctx.arc(sx, sy, radius, 0, Math.PI * 2);
      ctx.stroke();
      ctx.lineWidth = width;
      ctx.strokeStyle = color;
      ctx.stroke();
    };
    const hover = hoverRef.current;
    if (hover >= 0 && hover !== selectedRef.current) ring(hover, r + 4, 1.5, theme.text);
    if (selectedRef.current !== null) ring(selectedRef.current, r + 6, 3, theme.accent);
  }, []);

  const requestDraw = useCallback(() => {
    if (frameRef.current === null) frameRef.current = requestAnimationFrame(draw);
  }, [draw]);

  const setHover = useCallback(
    (index: number) => {
      if (hoverRef.current === index) return;
      hoverRef.current = index;
      const canvas = canvasRef.current;
      if (canvas) canvas.style.cursor = index >= 0 ? "pointer" : "";
      const data = mapRef.current;
      if (index < 0 || !data.points[index]) {
        setTooltip(null);
      } else {
        const at = worldToScreen(viewRef.current, sizeRef.current, data.xs[index] ?? 0, data.ys[index] ?? 0);
        const { width } = sizeRef.current;
        setTooltip({ index, left: clamp(at.x, 8, Math.max(8, width - 8)), top: at.y, below: at.y < 48 });
      }
      requestDraw();
    },
    [requestDraw],
  );

  const setView = useCallback(
    (next: View) => {
      animationRef.current = null;
      viewRef.current = next;
      trackEdge(next);
      setHover(-1);
      requestDraw();
    },
    [requestDraw, setHover, trackEdge],
  );

  const animateTo = useCallback(
    (target: View) => {
      setHover(-1);
      if (prefersReducedMotion() || sizeRef.current.width === 0) {
        setView(target);
        return;
      }
      animationRef.current = { from: viewRef.current, to: target, start: performance.now(), duration: 350 };
      trackEdge(target);
      requestDraw();
    },
    [requestDraw, setHover, setView, trackEdge],
  );

  /** Keyboard and button changes are announced; pointer gestures would be too chatty. */
  const announceZoom = useCallback((view: View) => setZoomPercent(Math.round(view.zoom * 100)), []);

  const zoomBy = useCallback(
    (factor: number) => {
      const { width, height } = sizeRef.current;
      const base = animationRef.current?.to ?? viewRef.current;
      const next = zoomAbout(base, sizeRef.current, width / 2, height / 2, factor);
      animateTo(next);
      announceZoom(next);
    },
    [animateTo, announceZoom],
  );

  const reset = useCallback(() => {
    animateTo(INITIAL_VIEW);
    announceZoom(INITIAL_VIEW);
  }, [animateTo, announceZoom]);

  useImperativeHandle(
    ref,
    () => ({
      zoomBy,
      reset,
      focusPoint: (index: number) => {
        const data = mapRef.current;
        if (!data.points[index]) return;
        const next = centerOn(viewRef.current, data.xs[index] ?? 0, data.ys[index] ?? 0, FOCUS_ZOOM);
        animateTo(next);
        announceZoom(next);
      },
      focus: () => canvasRef.current?.focus(),
    }),
    [zoomBy, reset, animateTo, announceZoom],
  );

  // ---- props → redraw ---------------------------------------------------------------------
  useEffect(() => {
    onSelectRef.current = onSelect;
  }, [onSelect]);

  useEffect(() => {
    const newData = mapRef.current !== map;
    mapRef.current = map;
    hiddenRef.current = hidden;
    selectedRef.current = selected;
    if (newData) {
      viewRef.current = INITIAL_VIEW;
      trackEdge(INITIAL_VIEW);
    }
    const hover = hoverRef.current;
    if (newData || (hover >= 0 && hidden.has(map.genreOf[hover] ?? -1))) setHover(-1);
    requestDraw();
  }, [map, hidden, selected, requestDraw, setHover, trackEdge]);

  // ---- size, pixel ratio, theme -----------------------------------------------------------
  useEffect(() => {
    // The canvas itself is measured (it fills the frame inside its border): its box is what
    // pointer positions are relative to.
    const canvas = canvasRef.current;
    if (!canvas) return;
    const measure = (width: number, height: number) => {
      const before = sizeRef.current;
      sizeRef.current = { width, height };
      // The points moved on screen: a tooltip would point at where one used to be.
      if (before.width !== width || before.height !== height) setHover(-1);
      requestDraw();
    };
    const measureElement = () => {
      const rect = canvas.getBoundingClientRect();
      measure(rect.width, rect.height);
    };
    measureElement();
    // A browser zoom or a move to another screen changes devicePixelRatio: draw() re-checks it.
    window.addEventListener("resize", measureElement);
    let observer: ResizeObserver | null = null;
    if (typeof ResizeObserver !== "undefined") {
      observer = new ResizeObserver((entries) => {
        const box = entries[0]?.contentRect;
        if (box) measure(box.width, box.height);
      });
      observer.observe(canvas);
    }
    const scheme = typeof window.matchMedia === "function" ? window.matchMedia("(prefers-color-scheme: dark)") : null;
    const onScheme = () => {
      themeRef.current = readTheme(containerRef.current);
      requestDraw();
    };
    scheme?.addEventListener?.("change", onScheme);
    return () => {
      window.removeEventListener("resize", measureElement);
      observer?.disconnect();
      scheme?.removeEventListener?.("change", onScheme);
      if (frameRef.current !== null) cancelAnimationFrame(frameRef.current);
      frameRef.current = null;
    };
  }, [requestDraw, setHover]);

  // ---- wheel: a native listener, since React's is passive and could not stop the page scroll --
  useEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas) return;
    const onWheel = (event: WheelEvent) => {
      event.preventDefault();
      const rect = canvas.getBoundingClientRect();
      const pinch = event.ctrlKey ? 4 : 1; // trackpad pinch: small deltas with ctrlKey
      const factor = wheelZoomFactor(event.deltaY * pinch, event.deltaMode, sizeRef.current.height);
      const base = animationRef.current?.to ?? viewRef.current;
      setView(zoomAbout(base, sizeRef.current, event.clientX - rect.left, event.clientY - rect.top, factor));
    };
    canvas.addEventListener("wheel", onWheel, { passive: false });
    return () => canvas.removeEventListener("wheel", onWheel);
  }, [setView]);

  // ---- pointer: drag to pan, pinch to zoom, click to select, hover for the tooltip ---------
  const position = (event: { clientX: number; clientY: number }) => {
    const rect = canvasRef.current?.getBoundingClientRect();
    if (!rect) return { x: event.clientX, y: event.clientY };
    const size = sizeRef.current;
    if (rect.width !== size.width || rect.height !== size.height) {
      // The layout changed (the card opened or closed) and the ResizeObserver has not said so yet.
      sizeRef.current = { width: rect.width, height: rect.height };
      requestDraw();
    }
    return { x: event.clientX - rect.left, y: event.clientY - rect.top };
  };

  const visible = useCallback((index: number) => !hiddenRef.current.has(mapRef.current.genreOf[index] ?? -1), []);

  /** The point under (x, y) within `radius` px; the selected film wins a tie (it is drawn on top). */
  const pointAt = useCallback(
    (x: number, y: number, radius: number) => {
      const data = mapRef.current;
      const hit = hitTest(data.grid, viewRef.current, sizeRef.current, x, y, radius, visible);
      const chosen = selectedRef.current;
      if (hit < 0 || chosen === null || chosen === hit) return hit;
      const distance = (index: number) => {
        const at = worldToScreen(viewRef.current, sizeRef.current, data.xs[index] ?? 0, data.ys[index] ?? 0);
        return Math.hypot(at.x - x, at.y - y);
      };
      return distance(chosen) <= distance(hit) + 1e-6 ? chosen : hit;
    },
    [visible],
  );

  const onPointerDown = (event: ReactPointerEvent<HTMLCanvasElement>) => {
    if (event.pointerType === "mouse" && event.button !== 0) return;
    const pointers = pointersRef.current;
    const at = position(event);
    pointers.set(event.pointerId, at);
    try {
      event.currentTarget.setPointerCapture?.(event.pointerId);
    } catch {
      // an already-released pointer: nothing to capture
    }
    if (pointers.size === 1) {
      gestureRef.current = { startX: at.x, startY: at.y, moved: false, touch: event.pointerType === "touch", pinch: null };
    } else if (pointers.size === 2 && gestureRef.current) {
      const [a, b] = [...pointers.values()];
      if (a && b) {
        gestureRef.current.moved = true; // a pinch never ends in a click
        gestureRef.current.pinch = { distance: Math.hypot(a.x - b.x, a.y - b.y), x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 };
      }
    }
  };

  const onPointerMove = (event: ReactPointerEvent<HTMLCanvasElement>) => {
    const pointers = pointersRef.current;
    const at = position(event);
    const previous = pointers.get(event.pointerId);
    const gesture = gestureRef.current;
    if (!previous || !gesture) {
      if (event.pointerType !== "touch") setHover(pointAt(at.x, at.y, HOVER_RADIUS));
      return;
    }
    pointers.set(event.pointerId, at);
    if (pointers.size >= 2 && gesture.pinch) {
      const [a, b] = [...pointers.values()];
      if (!a || !b) return;
      const distance = Math.hypot(a.x - b.x, a.y - b.y);
      const mid = { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 };
      let next = panBy(viewRef.current, sizeRef.current, mid.x - gesture.pinch.x, mid.y - gesture.pinch.y);
      if (gesture.pinch.distance > 0) next = zoomAbout(next, sizeRef.current, mid.x, mid.y, distance / gesture.pinch.distance);
      gesture.pinch = { distance, x: mid.x, y: mid.y };
      setView(next);
      return;
    }
    if (!gesture.moved) {
      const threshold = gesture.touch ? TOUCH_DRAG_THRESHOLD : DRAG_THRESHOLD;
      if (Math.hypot(at.x - gesture.startX, at.y - gesture.startY) < threshold) return;
      gesture.moved = true;
      if (canvasRef.current) canvasRef.current.style.cursor = "grabbing";
    }
    setView(panBy(viewRef.current, sizeRef.current, at.x - previous.x, at.y - previous.y));
  };

  const endPointer = (event: ReactPointerEvent<HTMLCanvasElement>, cancelled: boolean) => {
    const pointers = pointersRef.current;
    if (!pointers.has(event.pointerId)) return;
    pointers.delete(event.pointerId);
    const gesture = gestureRef.current;
    if (pointers.size > 0) {
      if (gesture) gesture.pinch = null; // one finger left: it drags from where it is
      return;
    }
    gestureRef.current = null;
    if (canvasRef.current) canvasRef.current.style.cursor = hoverRef.current >= 0 ? "pointer" : "";
    if (cancelled || !gesture || gesture.moved) return;
    const at = position(event);
    const hit = pointAt(at.x, at.y, gesture.touch ? TOUCH_RADIUS : HOVER_RADIUS);
    if (hit >= 0) onSelectRef.current(hit);
  };

  const onKeyDown = (event: ReactKeyboardEvent<HTMLCanvasElement>) => {
    const { width, height } = sizeRef.current;
    const step = event.shiftKey ? KEY_PAN * 3 : KEY_PAN;
    const pan = (dx: number, dy: number) => {
      const base = animationRef.current?.to ?? viewRef.current;
      setView(panBy(base, sizeRef.current, dx * width * step, dy * height * step));
    };
    switch (event.key) {
      case "ArrowLeft":
        pan(1, 0); // the view moves left: the content moves right
        break;
      case "ArrowRight":
        pan(-1, 0);
        break;
      case "ArrowUp":
        pan(0, 1);
        break;
      case "ArrowDown":
        pan(0, -1);
        break;
      case "+":
      case "=":
        zoomBy(BUTTON_ZOOM);
        break;
      case "-":
      case "_":
        zoomBy(1 / BUTTON_ZOOM);
        break;
      case "0":
        reset();
        break;
      case "Escape":
        if (!onDismiss) return;
        onDismiss();
        break;
      default:
        return;
    }
    event.preventDefault();
  };

  const hoverPoint = tooltip ? map.points[tooltip.index] : undefined;
  const count = map.points.length;

  return (
    <div className="explore-map" ref={containerRef}>
      <canvas
        ref={canvasRef}
        className="explore-canvas"
        tabIndex={0}
        role="application"
        aria-roledescription="map"
        aria-label={`Map of ${count.toLocaleString("en")} films, placed by similarity and coloured by genre`}
        aria-describedby={instructionsId}
        onPointerDown={onPointerDown}
        onPointerMove={onPointerMove}
        onPointerUp={(event) => endPointer(event, false)}
        onPointerCancel={(event) => endPointer(event, true)}
        onPointerLeave={(event) => {
          if (event.pointerType !== "touch" && !pointersRef.current.has(event.pointerId)) setHover(-1);
        }}
        onKeyDown={onKeyDown}
      />
      <p id={instructionsId} className="visually-hidden">
        Drag or use the arrow keys to move around, the mouse wheel or the plus and minus keys to zoom, 0 to
        reset. Click a dot to open its film. To pick a film by its title, use “Find a film on the map”.
      </p>
      {hoverPoint && tooltip ? (
        <div
          className={tooltip.below ? "explore-tooltip is-below" : "explore-tooltip"}
          role="tooltip"
          style={{ left: `${tooltip.left}px`, top: `${tooltip.top}px` }}
        >
          {titleWithYear(hoverPoint)}
        </div>
      ) : null}
      <div className="explore-zoom" role="group" aria-label="Zoom">
        <button
          type="button"
          className="btn btn-small"
          aria-label="Zoom in"
          aria-disabled={zoomEdge === "max"}
          onClick={() => zoomBy(BUTTON_ZOOM)}
        >
          <span aria-hidden="true">+</span>
        </button>
        <button
          type="button"
          className="btn btn-small"
          aria-label="Zoom out"
          aria-disabled={zoomEdge === "min"}
          onClick={() => zoomBy(1 / BUTTON_ZOOM)}
        >
          <span aria-hidden="true">−</span>
        </button>
        <button type="button" className="btn btn-small" onClick={reset}>
          Reset
        </button>
      </div>
      <p className="visually-hidden" aria-live="polite">
        {`Zoom ${zoomPercent}%`}
      </p>
    </div>
  );
}
