import { defineConfig } from "@playwright/test";

// The dashboard's browser tests, run by ctest (web/e2e/run.sh) against the platform that ./tel
// started: Debian's chromium, never a downloaded browser.
const out = process.env.TEL_E2E_OUT ?? "e2e-out";

export default defineConfig({
  testDir: ".",
  timeout: 90_000,
  expect: { timeout: 10_000 },
  workers: 1,
  retries: 0,
  forbidOnly: true,
  reporter: [["list"]],
  outputDir: `${out}/results`,
  use: {
    baseURL: process.env.TEL_API_URL,
    headless: true,
    viewport: { width: 1280, height: 800 },
    acceptDownloads: true,
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
    launchOptions: {
      executablePath: process.env.TEL_CHROMIUM ?? "/usr/bin/chromium",
      // Root has no user namespaces for chromium's sandbox here; /dev/shm may be small in containers.
      args: ["--no-sandbox", "--disable-dev-shm-usage"],
    },
  },
});
