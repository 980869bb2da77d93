// Debian's Chromium, headless, driven by playwright-core: the one launch of the browser tests
// and the UI benchmark. Never a downloaded browser (`npx playwright install` is not used).
import { chromium } from "playwright-core";

export const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";

// No sandbox (tests run as root in CI); no GPU; and none of Chromium's own network traffic
// (component updates, sync, QUIC probes), which a machine without internet refuses noisily.
const LAUNCH_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export function launchChromium() {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: LAUNCH_ARGS });
}
