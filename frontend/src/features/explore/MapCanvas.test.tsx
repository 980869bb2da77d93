import { act, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { MapCanvas, pointColor } from "./MapCanvas";
import { prepareMap } from "./mapData";
import { MARGIN } from "./mapView";
import { POINTS } from "./testData";

// jsdom lacks PointerEvent, requestAnimationFrame control, a 2D context and layout: each is
// replaced by a small stand-in so the canvas's behaviour can be checked.

class FakePointerEvent extends MouseEvent {
  readonly pointerId: number;
  readonly pointerType: string;
  constructor(type: string, init: PointerEventInit = {}) {
    super(type, init);
    this.pointerId = init.pointerId ?? 1;
    this.pointerType = init.pointerType ?? "mouse";
  }
}

const SIZE = 400;
const SCALE = (SIZE / 2) * (1 - MARGIN); // pixels per world unit at zoom 1
const screenOf = (x: number, y: number) => ({ clientX: SIZE / 2 + x * SCALE, clientY: SIZE / 2 - y * SCALE });
const INCEPTION = 0; // index in POINTS, at (0.5, 0.5)
const PARASITE = 1; // (-0.5, 0.2)

let frames = new Map<number, FrameRequestCallback>();
let nextFrame = 1;
let schemeListeners: (() => void)[] = [];
let surface = "#ffffff";

function flushFrames() {
  act(() => {
    const pending = [...frames.values()];
    frames = new Map();
    for (const callback of pending) callback(performance.now());
  });
}

function fakeContext() {
  const ctx = {
    backgrounds: [] as string[],
    fillStyle: "",
    strokeStyle: "",
    lineWidth: 1,
    globalAlpha: 1,
    font: "",
    textBaseline: "",
    lineJoin: "",
    setTransform: vi.fn(),
    fillRect: vi.fn(() => ctx.backgrounds.push(ctx.fillStyle)),
    strokeRect: vi.fn(),
    beginPath: vi.fn(),
    moveTo: vi.fn(),
    arc: vi.fn(),
    fill: vi.fn(),
    stroke: vi.fn(),
    strokeText: vi.fn(),
    fillText: vi.fn(),
    measureText: vi.fn((text: string) => ({ width: text.length * 7 })),
  };
  return ctx;
}

let ctx = fakeContext();

beforeEach(() => {
  frames = new Map();
  schemeListeners = [];
  surface = "#ffffff";
  ctx = fakeContext();
  vi.stubGlobal("PointerEvent", FakePointerEvent);
  vi.stubGlobal("requestAnimationFrame", (callback: FrameRequestCallback) => {
    const id = nextFrame++;
    frames.set(id, callback);
    return id;
  });
  vi.stubGlobal("cancelAnimationFrame", (id: number) => frames.delete(id));
  vi.stubGlobal("matchMedia", (query: string) => ({
    matches: query.includes("reduce"), // no animation: views change at once
    media: query,
    addEventListener: (_: string, listener: () => void) => {
      if (query.includes("color-scheme")) schemeListeners.push(listener);
    },
    removeEventListener: vi.fn(),
  }));
  vi.stubGlobal("devicePixelRatio", 2);
  vi.spyOn(HTMLCanvasElement.prototype, "getContext").mockReturnValue(ctx as never);
  vi.spyOn(Element.prototype, "getBoundingClientRect").mockReturnValue(
    DOMRect.fromRect({ x: 0, y: 0, width: SIZE, height: SIZE }),
  );
  vi.spyOn(window, "getComputedStyle").mockImplementation(
    () => ({ getPropertyValue: (name: string) => (name === "--surface" ? surface : "") }) as CSSStyleDeclaration,
  );
});

afterEach(() => {
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

function setup(hidden: ReadonlySet<number> = new Set()) {
  const map = prepareMap(POINTS);
  const onSelect = vi.fn();
  const onDismiss = vi.fn();
  const view = render(<MapCanvas map={map} hidden={hidden} selected={null} onSelect={onSelect} onDismiss={onDismiss} />);
  flushFrames();
  const canvas = screen.getByRole("application");
  const rerender = (nextHidden: ReadonlySet<number>, selected: number | null = null) =>
    view.rerender(<MapCanvas map={map} hidden={nextHidden} selected={selected} onSelect={onSelect} onDismiss={onDismiss} />);
  return { map, onSelect, onDismiss, canvas, rerender };
}

function click(canvas: HTMLElement, at: { clientX: number; clientY: number }, pointerType = "mouse") {
  fireEvent.pointerDown(canvas, { ...at, pointerId: 1, pointerType, button: 0 });
  fireEvent.pointerUp(canvas, { ...at, pointerId: 1, pointerType, button: 0 });
}

describe("MapCanvas drawing", () => {
  it("draws a title only where it overlaps no title already drawn", () => {
    const crowded = prepareMap([
      { id: 1, title: "Heat", year: 1995, genre: "Crime", x: 0, y: 0 },
      { id: 2, title: "Heat Wave", year: 2001, genre: "Drama", x: 0.001, y: 0.001 },
      { id: 3, title: "Far Away", year: 2002, genre: "Drama", x: -0.9, y: 0.9 },
    ]);
    render(<MapCanvas map={crowded} hidden={new Set()} selected={null} onSelect={vi.fn()} onDismiss={vi.fn()} />);
    flushFrames();
    const drawn = ctx.fillText.mock.calls.map((call) => call[0] as string);
    expect(drawn).toContain("Far Away");
    expect(drawn.filter((title) => title.startsWith("Heat"))).toHaveLength(1);
  });

  it("draws every visible point once, at the device's pixel ratio, only when something changed", () => {
    const { canvas, map, rerender } = setup();
    expect((canvas as HTMLCanvasElement).width).toBe(SIZE * 2);
    expect(ctx.setTransform).toHaveBeenLastCalledWith(2, 0, 0, 2, 0, 0);
    expect(ctx.arc).toHaveBeenCalledTimes(POINTS.length);
    expect(ctx.fill).toHaveBeenCalledTimes(map.genres.length); // one fill per genre
    expect(ctx.fillText).toHaveBeenCalledTimes(POINTS.length); // few in view: titles drawn
    expect(frames.size).toBe(0);

    rerender(new Set()); // same data, a new (equal) set: one redraw, nothing more
    flushFrames();
    ctx.arc.mockClear();
    flushFrames();
    expect(ctx.arc).not.toHaveBeenCalled();

    const comedy = map.genres.findIndex((genre) => genre.genre === "Comedy");
    rerender(new Set([comedy]));
    expect(frames.size).toBe(1);
    flushFrames();
    expect(ctx.arc).toHaveBeenCalledTimes(POINTS.length - 2);
  });

  it("redraws with the theme's colours when the colour scheme changes", () => {
    setup();
    expect(ctx.backgrounds.at(-1)).toBe("#ffffff");
    surface = "#1c1c22";
    act(() => schemeListeners.forEach((listener) => listener()));
    flushFrames();
    expect(ctx.backgrounds.at(-1)).toBe("#1c1c22");
  });

  it("lightens the dark genre colours on a dark background only", () => {
    expect(pointColor("#1f6b4a", false)).toBe("#1f6b4a");
    expect(pointColor("#000000", true)).toBe("rgb(102 102 102)");
    expect(pointColor("not a colour", true)).toBe("not a colour");
  });
});

describe("MapCanvas interaction", () => {
  it("shows the hovered film's title and year in a tooltip", () => {
    const { canvas } = setup();
    fireEvent.pointerMove(canvas, { ...screenOf(0.5, 0.5), pointerType: "mouse" });
    expect(screen.getByRole("tooltip")).toHaveTextContent("Inception (2010)");
    fireEvent.pointerMove(canvas, { ...screenOf(0.75, 0.75), pointerType: "mouse" });
    expect(screen.queryByRole("tooltip")).not.toBeInTheDocument();
  });

  it("selects the clicked film, but not after a drag, which pans the map", () => {
    const { canvas, onSelect } = setup();
    click(canvas, screenOf(0.5, 0.5));
    expect(onSelect).toHaveBeenCalledWith(INCEPTION);
    onSelect.mockClear();

    const start = screenOf(0.5, 0.5);
    fireEvent.pointerDown(canvas, { ...start, pointerId: 2, button: 0 });
    fireEvent.pointerMove(canvas, { clientX: start.clientX + 30, clientY: start.clientY + 20, pointerId: 2 });
    fireEvent.pointerMove(canvas, { clientX: start.clientX + 56, clientY: start.clientY + 44, pointerId: 2 });
    fireEvent.pointerUp(canvas, { clientX: start.clientX + 56, clientY: start.clientY + 44, pointerId: 2 });
    expect(onSelect).not.toHaveBeenCalled();
    click(canvas, start);
    expect(onSelect).not.toHaveBeenCalled(); // the film moved with the map
    click(canvas, { clientX: start.clientX + 56, clientY: start.clientY + 44 });
    expect(onSelect).toHaveBeenCalledWith(INCEPTION);
  });

  it("ignores films of hidden genres", () => {
    const map = prepareMap(POINTS);
    const action = map.genres.findIndex((genre) => genre.genre === "Action");
    const { canvas, onSelect } = setup(new Set([action]));
    click(canvas, screenOf(0.5, 0.5));
    fireEvent.pointerMove(canvas, { ...screenOf(0.5, 0.5), pointerType: "mouse" });
    expect(onSelect).not.toHaveBeenCalled();
    expect(screen.queryByRole("tooltip")).not.toBeInTheDocument();
  });

  it("pans with the arrow keys, zooms with + and −, resets with 0, dismisses with Escape", () => {
    const { canvas, onSelect, onDismiss } = setup();
    canvas.focus();
    fireEvent.keyDown(canvas, { key: "ArrowRight" }); // the view moves right: content 40 px left
    const moved = screenOf(0.5, 0.5);
    click(canvas, { clientX: moved.clientX - SIZE * 0.1, clientY: moved.clientY });
    expect(onSelect).toHaveBeenLastCalledWith(INCEPTION);

    fireEvent.keyDown(canvas, { key: "0" });
    fireEvent.keyDown(canvas, { key: "+" });
    expect(screen.getByText("Zoom 160%")).toBeInTheDocument();
    onSelect.mockClear();
    click(canvas, { clientX: SIZE / 2 + 0.5 * SCALE * 1.6, clientY: SIZE / 2 - 0.5 * SCALE * 1.6 });
    expect(onSelect).toHaveBeenCalledWith(INCEPTION);

    fireEvent.keyDown(canvas, { key: "-" });
    expect(screen.getByText("Zoom 100%")).toBeInTheDocument();
    fireEvent.keyDown(canvas, { key: "Escape" });
    expect(onDismiss).toHaveBeenCalledTimes(1);
  });

  it("zooms with the buttons about the centre", () => {
    const { canvas, onSelect } = setup();
    fireEvent.click(screen.getByRole("button", { name: "Zoom in" }));
    click(canvas, { clientX: SIZE / 2 + 0.5 * SCALE * 1.6, clientY: SIZE / 2 - 0.5 * SCALE * 1.6 });
    expect(onSelect).toHaveBeenCalledWith(INCEPTION);
    fireEvent.click(screen.getByRole("button", { name: "Reset" }));
    onSelect.mockClear();
    click(canvas, screenOf(0.5, 0.5));
    expect(onSelect).toHaveBeenCalledWith(INCEPTION);
  });

  it("zooms with the wheel about the cursor and keeps the page from scrolling", () => {
    const { canvas, onSelect } = setup();
    const cursor = screenOf(0.5, 0.5);
    const wheel = new WheelEvent("wheel", { ...cursor, deltaY: -100, cancelable: true, bubbles: true });
    act(() => {
      canvas.dispatchEvent(wheel);
    });
    expect(wheel.defaultPrevented).toBe(true);
    click(canvas, cursor); // the film under the cursor stays there
    expect(onSelect).toHaveBeenLastCalledWith(INCEPTION);
    const factor = Math.exp(0.15);
    const before = screenOf(-0.5, 0.2);
    click(canvas, {
      clientX: cursor.clientX + (before.clientX - cursor.clientX) * factor,
      clientY: cursor.clientY + (before.clientY - cursor.clientY) * factor,
    });
    expect(onSelect).toHaveBeenLastCalledWith(PARASITE);
  });

  it("zooms with a two-finger pinch, and a tap selects with a touch-sized radius", () => {
    const { canvas, onSelect } = setup();
    const touch = { pointerType: "touch" };
    fireEvent.pointerDown(canvas, { clientX: 150, clientY: 200, pointerId: 1, ...touch });
    fireEvent.pointerDown(canvas, { clientX: 250, clientY: 200, pointerId: 2, ...touch });
    fireEvent.pointerMove(canvas, { clientX: 100, clientY: 200, pointerId: 1, ...touch });
    fireEvent.pointerMove(canvas, { clientX: 300, clientY: 200, pointerId: 2, ...touch });
    fireEvent.pointerUp(canvas, { clientX: 100, clientY: 200, pointerId: 1, ...touch });
    fireEvent.pointerUp(canvas, { clientX: 300, clientY: 200, pointerId: 2, ...touch });
    expect(onSelect).not.toHaveBeenCalled(); // a pinch is not a tap
    // Twice as far apart: zoom ×2 about the middle, so Inception is twice as far from the centre.
    const at = { clientX: SIZE / 2 + 0.5 * SCALE * 2, clientY: SIZE / 2 - 0.5 * SCALE * 2 };
    click(canvas, { clientX: at.clientX + 14, clientY: at.clientY }, "touch");
    expect(onSelect).toHaveBeenCalledWith(INCEPTION);
  });

  it("prefers the selected film when films share a spot", () => {
    const twins = [
      { id: 1, title: "Original", year: 1990, genre: "Drama", x: 0.3, y: 0.3 },
      { id: 2, title: "Remake", year: 2020, genre: "Drama", x: 0.3, y: 0.3 },
    ];
    const map = prepareMap(twins);
    const view = render(<MapCanvas map={map} hidden={new Set()} selected={null} onSelect={vi.fn()} />);
    flushFrames();
    const canvas = screen.getByRole("application");
    fireEvent.pointerMove(canvas, { ...screenOf(0.3, 0.3), pointerType: "mouse" });
    expect(screen.getByRole("tooltip")).toHaveTextContent("Remake (2020)"); // drawn on top
    view.rerender(<MapCanvas map={map} hidden={new Set()} selected={0} onSelect={vi.fn()} />);
    fireEvent.pointerMove(canvas, { ...screenOf(0.31, 0.3), pointerType: "mouse" });
    fireEvent.pointerMove(canvas, { ...screenOf(0.3, 0.3), pointerType: "mouse" });
    expect(screen.getByRole("tooltip")).toHaveTextContent("Original (1990)");
  });

  it("has an accessible name and instructions", () => {
    const { canvas } = setup();
    expect(canvas).toHaveAccessibleName(/Map of 7 films/);
    expect(canvas).toHaveAccessibleDescription(/arrow keys/);
    expect(canvas).toHaveAttribute("tabindex", "0");
  });
});
