// After `vite build`: write a .gz beside every script, style sheet and SVG in dist/assets, so
// the backend's static file server (WhiteNoise) sends them compressed to browsers that accept
// gzip, without compressing on every request.
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

const dir = new URL("../dist/assets/", import.meta.url).pathname;
let before = 0;
let after = 0;
for (const name of readdirSync(dir)) {
  if (!/\.(js|css|svg)$/.test(name)) continue;
  const body = readFileSync(join(dir, name));
  const zipped = gzipSync(body, { level: 9 });
  if (zipped.length >= body.length) continue;
  writeFileSync(join(dir, `${name}.gz`), zipped);
  before += body.length;
  after += zipped.length;
}
console.log(`precompressed assets: ${(before / 1024).toFixed(1)} kB -> ${(after / 1024).toFixed(1)} kB gzip`);
