import { describe, expect, it } from "vitest";
import { SseParser } from "./sse";

const STREAM =
  'event: meta\ndata: {"intent":"recommend","movies":[]}\n\n' +
  'event: token\ndata: {"text":"Hello"}\n\n' +
  ": keep-alive\n\n" +
  'event: token\ndata: {"text":" world"}\n\n' +
  'event: done\ndata: {"message_id":7}\n\n';

const EXPECTED = [
  { event: "meta", data: '{"intent":"recommend","movies":[]}' },
  { event: "token", data: '{"text":"Hello"}' },
  { event: "token", data: '{"text":" world"}' },
  { event: "done", data: '{"message_id":7}' },
];

function feed(chunks: string[]) {
  const parser = new SseParser();
  return [...chunks.flatMap((chunk) => parser.push(chunk)), ...parser.end()];
}

describe("SseParser", () => {
  it("parses a whole stream at once", () => {
    expect(feed([STREAM])).toEqual(EXPECTED);
  });

  it("gives the same events whatever the chunk boundaries", () => {
    // Every split point, including inside "event:", inside the JSON and between the two "\n".
    for (let cut = 1; cut < STREAM.length; cut += 1) {
      expect(feed([STREAM.slice(0, cut), STREAM.slice(cut)])).toEqual(EXPECTED);
    }
    expect(feed([...STREAM])).toEqual(EXPECTED); // one character at a time
  });

  it("handles CRLF and CR line endings, even when a chunk ends between CR and LF", () => {
    const crlf = STREAM.replace(/\n/g, "\r\n");
    for (let cut = 1; cut < crlf.length; cut += 1) {
      expect(feed([crlf.slice(0, cut), crlf.slice(cut)])).toEqual(EXPECTED);
    }
    expect(feed([STREAM.replace(/\n/g, "\r")])).toEqual(EXPECTED);
  });

  it("joins multi-line data and defaults the event name to message", () => {
    expect(feed(["data: a\ndata: b\n\n", "data:no-space\n\n"])).toEqual([
      { event: "message", data: "a\nb" },
      { event: "message", data: "no-space" },
    ]);
  });

  it("keeps an unfinished event until its blank line arrives, and drops it at the end", () => {
    const parser = new SseParser();
    expect(parser.push('event: token\ndata: {"text":"x"}\n')).toEqual([]);
    expect(parser.push("\n")).toEqual([{ event: "token", data: '{"text":"x"}' }]);
    expect(parser.push('event: token\ndata: {"text":"cut off"}\n')).toEqual([]);
    expect(parser.end()).toEqual([]);
  });

  it("ignores comments, unknown fields and blank lines without data", () => {
    expect(feed([": hi\nid: 3\nretry: 10\n\n\n", "event: x\n\n"])).toEqual([]);
  });
});
