// The dashboard in a real browser against the real platform: the operator creates a tenant, its
// owner signs in and sets up a number, a carrier, a SIP account and an API key, a real SIP call
// (sipp) shows up in the call log with its legs and in the CSV export, and another tenant's user
// sees none of it; a caller leaves a voicemail message that is played and marked heard; a queue
// made in the UI shows a real waiting caller live on its wallboard; a webhook made in the UI
// delivers a signed ping to a real endpoint, shown in its log; an agent sees only the call log,
// voicemail and the queues. Screenshots of the main pages go to
// TEL_E2E_SCREENSHOTS.
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { expect, test, type Page } from "@playwright/test";

const apiUrl = process.env.TEL_API_URL!;
const adminKey = process.env.TEL_ADMIN_KEY!;
const shots = process.env.TEL_E2E_SCREENSHOTS ?? "e2e-out/screenshots";
const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));

const suffix = Math.random().toString(36).slice(2, 8);
const tenantName = `E2E Dental ${suffix}`;
const owner = { email: `owner-${suffix}@e2e.example.com`, password: `pw-${suffix}-long-enough` };
const e164 = `+1555${String(Math.floor(Math.random() * 1e7)).padStart(7, "0")}`;
const createdTenants: string[] = [];
let sipDomain = "";
let sipPassword = "";
let apiKey = "";
let callId = "";

async function adminApi(method: string, path: string, body?: unknown, key = adminKey) {
  const response = await fetch(apiUrl + path, {
    method,
    headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

async function shot(page: Page, name: string) {
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}

async function signIn(page: Page, email: string, password: string) {
  await page.goto("/");
  await page.getByLabel("E-mail", { exact: true }).fill(email);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page.getByRole("heading", { name: "Call log" })).toBeVisible();
}

async function nav(page: Page, name: string) {
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name }).click();
}

test.describe.configure({ mode: "serial" });

test.beforeEach(({ page }) => {
  page.on("dialog", (dialog) => void dialog.accept());
});

// Whatever a test left signed in is signed out, so that no session outlives the run in Redis.
async function signOutAll(request: import("@playwright/test").APIRequestContext) {
  const session = await request.get("/v1/session");
  if (!session.ok()) return;
  const { csrf_token } = await session.json();
  await request.delete("/v1/sessions", { headers: { "X-CSRF-Token": csrf_token } });
}

test.afterEach(async ({ page }) => {
  await signOutAll(page.request);
});

test.afterAll(async () => {
  for (const id of createdTenants) await adminApi("DELETE", `/v1/tenants/${id}`).catch(() => undefined);
});

test("the dashboard loads in under a second and asks to sign in", async ({ page }) => {
  // A started browser and an empty cache: what a user who opens the dashboard the first time gets.
  await page.goto("about:blank");
  const started = Date.now();
  await page.goto("/calls");
  await expect(page.getByRole("heading", { name: "Sign in to tel" })).toBeVisible();
  const elapsed = Date.now() - started;
  const timing = await page.evaluate(() => {
    const entry = performance.getEntriesByType("navigation")[0] as PerformanceNavigationTiming;
    return {
      rendered: Math.round(performance.now()),
      domContentLoaded: Math.round(entry.domContentLoadedEventEnd),
      load: Math.round(entry.loadEventEnd),
    };
  });
  console.log(
    `dashboard load on loopback (cold cache): sign-in form visible after ${elapsed} ms ` +
      `(in-page ${timing.rendered} ms); DOMContentLoaded ${timing.domContentLoaded} ms, load ${timing.load} ms`,
  );
  expect(elapsed).toBeLessThan(1000);
  await expect(page).toHaveURL(/\/sign-in$/);
  await shot(page, "laptop-sign-in");
});

test("a wrong password shows the API's error and signs nobody in", async ({ page }) => {
  // One failed sign-in per run from this machine: far below the per-source limit (10 in 15 min).
  await page.goto("/");
  await page.getByLabel("E-mail", { exact: true }).fill(`nobody-${suffix}@e2e.example.com`);
  await page.getByLabel("Password", { exact: true }).fill("not the password");
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page.getByRole("alert")).toHaveText("Invalid e-mail or password");
  await expect(page.getByRole("heading", { name: "Sign in to tel" })).toBeVisible();
  await page.reload();
  await expect(page.getByRole("heading", { name: "Sign in to tel" })).toBeVisible();
});

test("the operator creates a tenant with its owner in the UI", async ({ page }) => {
  await page.goto("/");
  await page.getByRole("button", { name: "Operator sign-in (admin key)" }).click();
  await page.getByLabel("Admin key").fill(adminKey);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page.getByRole("heading", { name: "Tenants" })).toBeVisible();
  await page.getByLabel("Company name").fill(tenantName);
  await page.getByLabel("Time zone").fill("Europe/Kyiv");
  await page.getByLabel("Owner e-mail").fill(owner.email);
  await page.getByLabel("Owner name").fill("E2E Owner");
  await page.getByLabel("Owner password").fill(owner.password);
  await page.getByRole("button", { name: "Create tenant" }).click();
  await expect(page.getByRole("status").filter({ hasText: `Created ${tenantName}` })).toBeVisible();
  const tenants = await adminApi("GET", "/v1/tenants?limit=200");
  const tenant = tenants.items.find((t: { name: string }) => t.name === tenantName);
  expect(tenant).toBeTruthy();
  createdTenants.push(tenant.id);
  sipDomain = tenant.sip_domain;
  await expect(page.getByTestId("tenant-row").filter({ hasText: tenantName })).toBeVisible();
  await shot(page, "laptop-admin-tenants");
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page.getByRole("heading", { name: "Sign in to tel" })).toBeVisible();
});

test("the owner signs in with the keyboard and sets up a number, a carrier, a SIP account and a key", async ({
  page,
}) => {
  await page.goto("/");
  // Keyboard only: Tab into the form, type, Enter submits.
  await page.getByLabel("E-mail", { exact: true }).focus();
  await page.keyboard.type(owner.email);
  await page.keyboard.press("Tab");
  await page.keyboard.type(owner.password);
  await page.keyboard.press("Enter");
  await expect(page.getByRole("heading", { name: "Call log" })).toBeVisible();
  await expect(page.getByTestId("who")).toContainText(owner.email);
  await expect(page.getByText("No calls yet")).toBeVisible();
  await shot(page, "laptop-call-log-empty");

  await nav(page, "Numbers");
  await expect(page.getByText("No numbers yet")).toBeVisible();
  // A keyboard or screen reader user continues at the new page's content, not in the menu.
  await expect(page.locator("#main")).toBeFocused();
  await page.getByLabel("Number (E.164)").fill(e164);
  await page.getByLabel("Label", { exact: true }).fill("Front desk");
  await page.getByLabel("Route").selectOption("extensions");
  await page.getByLabel("Extensions").fill("101");
  await page.getByRole("button", { name: "Add number" }).click();
  const row = page.getByTestId("number-row").filter({ hasText: e164 });
  await expect(row).toContainText("rings 101");
  // The API's error body is shown as it is: the same number again is a conflict.
  await page.getByLabel("Number (E.164)").fill(e164);
  await page.getByRole("button", { name: "Add number" }).click();
  await expect(page.getByRole("alert")).toContainText(/already|exists|taken/i);
  await shot(page, "laptop-numbers");

  await nav(page, "Carriers");
  await page.getByLabel("Name", { exact: true }).fill("Local carrier");
  await page.getByLabel("Source addresses").fill("127.0.0.1");
  await page.getByRole("button", { name: "Add carrier" }).click();
  await expect(page.getByTestId("carrier-row").filter({ hasText: "Local carrier" })).toContainText("127.0.0.1");
  // Rows are edited in place (PATCH); the caller ID is checked by the API like at creation.
  await page.getByRole("button", { name: "Edit Local carrier" }).click();
  const editCarrier = page.getByRole("form", { name: "Edit Local carrier" });
  await editCarrier.getByLabel("Caller ID").fill("not a number");
  await editCarrier.getByRole("button", { name: "Save" }).click();
  await expect(editCarrier.getByRole("alert")).toContainText("caller_id");
  await editCarrier.getByLabel("Caller ID").fill(e164);
  await editCarrier.getByRole("button", { name: "Save" }).click();
  await expect(page.getByTestId("carrier-row").filter({ hasText: "Local carrier" })).toContainText(e164);
  // Registering to the carrier needs its outbound URI (the registrar): the API names the field. The
  // row then shows the registration as sip-edge reports it, until it is stopped (an empty user).
  await page.getByRole("button", { name: "Edit Local carrier" }).click();
  await editCarrier.getByLabel("Register as").fill("line-1");
  await editCarrier.getByLabel("Registration password").fill("gateway secret");
  await editCarrier.getByRole("button", { name: "Save" }).click();
  await expect(editCarrier.getByRole("alert")).toContainText("outbound_uri");
  await editCarrier.getByLabel("Outbound URI").fill("sip:127.0.0.1:5999");
  await editCarrier.getByRole("button", { name: "Save" }).click();
  const carrierRow = page.getByTestId("carrier-row").filter({ hasText: "Local carrier" });
  await expect(carrierRow).toContainText("line-1:");
  await expect(carrierRow).not.toContainText("gateway secret");
  await page.getByRole("button", { name: "Edit Local carrier" }).click();
  await editCarrier.getByLabel("Register as").fill("");
  await editCarrier.getByRole("button", { name: "Save" }).click();
  await expect(carrierRow).not.toContainText("line-1");
  await shot(page, "laptop-carriers");

  await nav(page, "SIP accounts");
  await page.getByLabel("User name").fill("manager1");
  await page.getByLabel("Extension").fill("101");
  await page.getByLabel("Display name").fill("Manager One");
  await page.getByRole("button", { name: "Add account" }).click();
  const credentials = page.getByTestId("sip-credentials");
  await expect(credentials).toContainText("manager1");
  await expect(credentials).toContainText(sipDomain);
  await expect(credentials.getByTestId("sip-registrar")).toContainText(process.env.TEL_SIP_ADDR!);
  sipPassword = (await credentials.getByTestId("secret-value").textContent()) ?? "";
  expect(sipPassword.length).toBeGreaterThanOrEqual(12);
  await expect(page.getByTestId("sip-row").filter({ hasText: "manager1" })).toContainText("101");
  await shot(page, "laptop-sip-accounts");

  await nav(page, "API keys");
  await page.getByLabel("Name", { exact: true }).fill("e2e call check");
  await page.getByRole("button", { name: "Create key" }).click();
  apiKey = (await page.getByTestId("secret-value").textContent()) ?? "";
  expect(apiKey).toMatch(/^telk_/);
  await expect(page.getByTestId("key-row").filter({ hasText: "e2e call check" })).toContainText("active");
  await shot(page, "laptop-api-keys");

  await nav(page, "Users");
  await expect(page.getByTestId("user-row").filter({ hasText: owner.email })).toContainText("owner");
  const agent = `agent-${suffix}@e2e.example.com`;
  await page.getByLabel("E-mail", { exact: true }).fill(agent);
  await page.getByLabel("Password", { exact: true }).fill(`agent-${suffix}-long-enough`);
  await page.getByRole("button", { name: "Add user" }).click();
  await expect(page.getByTestId("user-row").filter({ hasText: agent })).toContainText("agent");
  await page.getByRole("button", { name: `Edit ${agent}` }).click();
  await page
    .getByRole("form", { name: `Edit ${agent}` })
    .getByLabel("Role")
    .selectOption("admin");
  await page
    .getByRole("form", { name: `Edit ${agent}` })
    .getByRole("button", { name: "Save" })
    .click();
  await expect(page.getByTestId("user-row").filter({ hasText: agent })).toContainText("admin");
  await shot(page, "laptop-users");

  await nav(page, "Company");
  await expect(page.getByTestId("company")).toContainText(sipDomain);
  await expect(page.getByTestId("company")).toContainText(process.env.TEL_SIP_ADDR!);
  await page.getByRole("button", { name: "Edit" }).click();
  await page.getByLabel("Time zone").fill("Mars/Olympus");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByRole("form", { name: "Edit the company" }).getByRole("alert")).toContainText("timezone");
  await page.getByLabel("Time zone").fill("Europe/Berlin");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByTestId("company")).toContainText("Europe/Berlin");
  await shot(page, "laptop-company");
});

test("a real call appears in the call log with its legs, its route and in the CSV export", async ({ page }) => {
  test.setTimeout(120_000);
  expect(sipPassword).not.toBe("");
  // The number follows a dial plan: a forwarding scheme whose first step rings manager1.
  await adminApi(
    "PUT",
    "/v1/dialplan",
    {
      nodes: {
        reception: {
          type: "scheme",
          steps: [{ targets: [{ extension: "101" }], ring_seconds: 20 }],
          then: "nobody",
          record: true,
        },
        nobody: { type: "hangup", status: 480, reason: "nobody answered" },
      },
      numbers: { [e164]: "reception" },
    },
    apiKey,
  );
  const call = await run("bash", [join(here, "place_call.sh")], {
    env: {
      ...process.env,
      DEMO_API_KEY: apiKey,
      DEMO_NUMBER: e164,
      DEMO_SIP_DOMAIN: sipDomain,
      DEMO_SIP_MANAGER1_PASSWORD: sipPassword,
    },
    timeout: 90_000,
  }).catch((failure) => {
    throw new Error(`the call failed: ${failure.stdout ?? ""}${failure.stderr ?? ""}`);
  });
  console.log(call.stdout.split("\n").slice(0, 3).join("\n"));

  await signIn(page, owner.email, owner.password);
  const row = page.getByTestId("call-row").first();
  await expect(async () => {
    await page.getByRole("button", { name: "Refresh" }).click();
    await expect(row).toContainText("answered", { timeout: 1000 });
  }).toPass({ timeout: 15_000 });
  await expect(row).toContainText(e164);
  await expect(row).toContainText("inbound");
  await shot(page, "laptop-call-log");

  await row.getByRole("link").click();
  await expect(page.getByRole("heading", { name: "Call details" })).toBeVisible();
  callId = decodeURIComponent(new URL(page.url()).pathname.split("/").pop()!);
  await expect(page.getByTestId("call-disposition")).toHaveText("answered");
  const leg = page.getByTestId("leg-row").first();
  await expect(leg).toContainText("101");
  await expect(leg).toContainText("200");
  const route = page.getByTestId("route-step");
  await expect(route).toHaveCount(2);
  await expect(route.nth(0)).toContainText("reception scheme: ring");
  await expect(route.nth(1)).toContainText("step: 1 — extension 101 for 20 s");
  // The scheme records: the page plays the recording, fetched with the session like the API.
  const player = page.getByTestId("recording-player");
  await expect(player).toBeVisible();
  const recording = await page.request.get((await player.getAttribute("src"))!);
  expect(recording.status()).toBe(200);
  expect(recording.headers()["content-type"]).toContain("audio/wav");
  expect((await recording.body()).subarray(0, 4).toString()).toBe("RIFF");
  await shot(page, "laptop-call-details");

  await nav(page, "Call log");
  const downloading = page.waitForEvent("download");
  await page.getByRole("button", { name: "Export CSV" }).click();
  const download = await downloading;
  expect(download.suggestedFilename()).toMatch(/^calls-\d{4}-\d{2}-\d{2}\.csv$/);
  const csv = readFileSync((await download.path())!, "utf8")
    .trim()
    .split("\r\n");
  expect(csv[0]).toBe(
    "id,started_at,answered_at,ended_at,direction,caller,called,disposition,ring_seconds,talk_seconds,answered_by,hangup_side,sip_status,cause",
  );
  expect(csv).toHaveLength(2);
  expect(csv[1]).toContain(callId);
  expect(csv[1]).toContain(",inbound,");
  expect(csv[1]).toContain(",answered,");
  // The spreadsheet-formula guard: a caller id like +1555... is written as '+1555...
  expect(csv[1]).toContain(`'${e164}`);

  // Filters narrow the list and come from the address bar.
  await page.getByLabel("Disposition").selectOption("busy");
  await page.getByRole("button", { name: "Apply" }).click();
  await expect(page).toHaveURL(/disposition=busy/);
  await expect(page.getByText("No calls match these filters.")).toBeVisible();
  await page.goto("/calls?direction=inbound&number=" + encodeURIComponent(e164));
  await expect(page.getByTestId("call-row")).toHaveCount(1);
  await page.getByLabel("Direction").selectOption("outbound");
  await page.getByRole("button", { name: "Apply" }).click();
  await expect(page.getByText("No calls match these filters.")).toBeVisible();
});

test("the owner edits the dial plan: a refusal names the node, a save bumps the version, the preview walks it", async ({
  page,
}) => {
  await signIn(page, owner.email, owner.password);
  await nav(page, "Dial plan");
  // The plan the call test saved.
  await expect(page.getByTestId("plan-version")).toContainText("Version 1");
  const editor = page.getByLabel("Plan (JSON)");
  const plan = JSON.parse(await editor.inputValue());
  expect(plan.numbers[e164]).toBe("reception");

  plan.nodes.reception.then = "voicemail";
  await editor.fill(JSON.stringify(plan, null, 2));
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByRole("form", { name: "Edit the dial plan" }).getByRole("alert")).toHaveText(
    /^node "reception": leads to unknown node "voicemail"$/i,
  );
  await expect(page.getByTestId("plan-version")).toContainText("Version 1");

  plan.nodes.reception.then = "nobody";
  plan.nodes.reception.steps[0].ring_seconds = 25;
  await editor.fill(JSON.stringify(plan, null, 2));
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByTestId("plan-saved")).toHaveText("Saved as version 2.");
  await expect(page.getByTestId("plan-version")).toContainText("Version 2");

  await page.getByLabel("Number (E.164)").fill(e164);
  await page.getByRole("button", { name: "Preview" }).click();
  const steps = page.getByTestId("preview-step");
  await expect(steps).toHaveCount(1);
  await expect(steps.first()).toContainText("reception scheme: ring");
  await expect(steps.first()).toContainText("rings extension 101 for 25 s");

  // Office hours in front of the scheme: a call on Monday at noon goes to reception; once the hours
  // start at 14:00 (Berlin), the same call at the same time is closed.
  const preview = async (hours: string, version: number) => {
    plan.schedules = { office: { time_zone: "Europe/Berlin", hours: { mon: [hours] } } };
    plan.nodes.main = { type: "schedule", schedule: "office", open: "reception", closed: "nobody" };
    plan.numbers[e164] = "main";
    await editor.fill(JSON.stringify(plan, null, 2));
    await page.getByRole("button", { name: "Save" }).click();
    await expect(page.getByTestId("plan-saved")).toHaveText(`Saved as version ${version}.`);
    await page.getByLabel("At").fill("2026-11-30T12:00");
    await page.getByRole("button", { name: "Preview" }).click();
    return page.getByTestId("preview-step").first();
  };
  await expect(await preview("09:00-18:00", 3)).toContainText("main schedule: open");
  await expect(steps.nth(1)).toContainText("reception scheme: ring");
  await expect(await preview("14:00-18:00", 4)).toContainText("main schedule: closed");
  await expect(steps.nth(1)).toContainText("nobody hangup");
  await shot(page, "laptop-dial-plan");
});

test("a caller's voicemail message is listed, played and marked heard", async ({ page }) => {
  test.setTimeout(90_000);
  // The number now goes straight to a voicemail box (no greeting: the beep alone).
  await adminApi(
    "PUT",
    "/v1/dialplan",
    { nodes: { vm: { type: "voicemail", box: "front-desk", max_seconds: 30 } }, numbers: { [e164]: "vm" } },
    apiKey,
  );
  await run("bash", [join(here, "leave_voicemail.sh")], {
    env: { ...process.env, DEMO_NUMBER: e164 },
    timeout: 60_000,
  }).catch((failure) => {
    throw new Error(`the call failed: ${failure.stdout ?? ""}${failure.stderr ?? ""}`);
  });

  await signIn(page, owner.email, owner.password);
  await nav(page, "Voicemail");
  const row = page.getByTestId("voicemail-row").first();
  await expect(async () => {
    await page.getByRole("button", { name: "Refresh" }).click();
    await expect(row).toContainText("front-desk", { timeout: 1000 });
  }).toPass({ timeout: 15_000 });
  await expect(row).toContainText("+15557654321");
  await expect(row.getByTestId("voicemail-state")).toHaveText("New");
  // The message plays from the API with the session: a mono WAV, the caller alone.
  const message = await page.request.get((await row.locator("audio").getAttribute("src"))!);
  expect(message.status()).toBe(200);
  const wav = await message.body();
  expect(wav.subarray(0, 4).toString()).toBe("RIFF");
  expect(wav.readUInt16LE(22)).toBe(1);
  await row.getByRole("button", { name: "Mark heard" }).click();
  await expect(row.getByTestId("voicemail-state")).toHaveText("Heard");
  await shot(page, "laptop-voicemail");
  await page.getByLabel("New only").check();
  await expect(page.getByText("No messages match.")).toBeVisible();
  // The call log shows the same call as missed, with its message.
  await nav(page, "Call log");
  await page.getByTestId("call-row").first().getByRole("link").click();
  await expect(page.getByRole("heading", { name: "Voicemail message (box front-desk)" })).toBeVisible();
  await expect(page.getByTestId("call-disposition")).toHaveText("no answer");
});

test("a webhook made in the UI gets a signed ping, shown in its delivery log, and a replay", async ({ page }) => {
  // A CRM's endpoint on 127.0.0.99, the one private address the local stack lets webhooks reach.
  const received: { headers: Record<string, unknown>; body: string }[] = [];
  const receiver = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk) => (body += chunk));
    request.on("end", () => {
      received.push({ headers: request.headers, body });
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.99", resolve));
  const port = (receiver.address() as AddressInfo).port;
  try {
    await signIn(page, owner.email, owner.password);
    await nav(page, "Webhooks");
    await expect(page.getByText("No webhooks yet.")).toBeVisible();
    const form = page.getByRole("form", { name: "Add a webhook" });
    // An address inside the platform's network is refused (SSRF), naming the field.
    await form.getByLabel("Endpoint URL").fill("http://127.0.0.1:17080/v1/tenants");
    await form.getByRole("button", { name: "Add webhook" }).click();
    await expect(form.getByRole("alert")).toContainText("url");
    await form.getByLabel("Endpoint URL").fill(`http://127.0.0.99:${port}/hooks`);
    await form.getByLabel("queue.caller_joined").check();
    await form.getByRole("button", { name: "Add webhook" }).click();
    const secret = (await page.getByTestId("webhook-secret").getByTestId("secret-value").textContent())!;
    expect(secret).toMatch(/^whsec_/);
    const row = page.getByTestId("webhook-row").filter({ hasText: `127.0.0.99:${port}` });
    await expect(row.getByTestId("webhook-state")).toHaveText("enabled");
    await expect(row).toContainText("call.started, call.ended, queue.caller_joined");

    await row.getByRole("button", { name: `Ping http://127.0.0.99:${port}/hooks` }).click();
    const attempts = row.getByTestId("webhook-attempt");
    await expect(async () => {
      await row.getByRole("button", { name: "Refresh" }).click();
      await expect(attempts.first()).toContainText("delivered", { timeout: 1000 });
    }).toPass({ timeout: 15_000 });
    await expect(attempts.first()).toContainText("webhook.ping");
    await expect(attempts.first()).toContainText("204");
    expect(received).toHaveLength(1);
    expect(received[0].headers["webhook-signature"]).toMatch(/^v1,/);
    expect(JSON.parse(received[0].body).type).toBe("webhook.ping");
    await shot(page, "laptop-webhooks");

    // A replay delivers the same event (same id) again: a second attempt in the log.
    await attempts
      .first()
      .getByRole("button", { name: /^Replay webhook.ping/ })
      .click();
    await expect(async () => {
      await row.getByRole("button", { name: "Refresh" }).click();
      await expect(attempts).toHaveCount(2, { timeout: 1000 });
    }).toPass({ timeout: 15_000 });
    expect(received).toHaveLength(2);
    expect(received[1].headers["webhook-id"]).toBe(received[0].headers["webhook-id"]);
  } finally {
    receiver.close();
  }
});

test("a queue set up in the UI shows a waiting caller live on its wallboard, and the call its visit", async ({
  page,
}) => {
  test.setTimeout(120_000);
  await signIn(page, owner.email, owner.password);
  await nav(page, "Queues");
  await expect(page.getByText("No queues yet.")).toBeVisible();
  const form = page.getByRole("form", { name: "Add a queue" });
  await form.getByLabel("Name", { exact: true }).fill("Front desk line");
  await form.getByLabel("Strategy").selectOption("round_robin");
  await form.getByLabel("101 · manager1").check();
  // A bad value is refused by the API naming the field, and nothing is created.
  await form.getByLabel("Ring an agent for (s)").fill("1");
  await form.getByRole("button", { name: "Add queue" }).click();
  await expect(form.getByRole("alert")).toContainText("ring_timeout_seconds");
  await form.getByLabel("Ring an agent for (s)").fill("20");
  await form.getByRole("button", { name: "Add queue" }).click();
  const row = page.getByTestId("queue-row").filter({ hasText: "Front desk line" });
  await expect(row).toContainText("Round robin");
  await expect(row).toContainText("101 · manager1");
  const queueId = (await row.locator("code").textContent())!;
  // The agent pauses (nobody is at the phone), so the caller stays in line.
  const agent = page.getByTestId("agent-row").filter({ hasText: "manager1" });
  await expect(agent).toContainText("Available");
  await page.getByLabel("Reason for pausing").fill("at the front door");
  await agent.getByRole("button", { name: "Pause: 101 · manager1" }).click();
  await expect(agent).toContainText("Paused (at the front door)");
  await shot(page, "laptop-queues");

  await adminApi(
    "PUT",
    "/v1/dialplan",
    {
      nodes: {
        line: { type: "queue", queue: queueId, then: "nobody" },
        nobody: { type: "hangup", status: 480, reason: "nobody answered" },
      },
      numbers: { [e164]: "line" },
    },
    apiKey,
  );
  await row.getByRole("link", { name: "Wallboard" }).click();
  await expect(page.getByRole("heading", { name: "Front desk line: wallboard" })).toBeVisible();
  await expect(page.getByTestId("wallboard-live")).toHaveText(/^Live/);
  await expect(page.getByTestId("wallboard-waiting")).toHaveText("0");
  await expect(page.getByTestId("wallboard-agent")).toContainText("Paused (at the front door)");

  // A real caller waits 8 s in line: the page shows it without a reload, then shows it gone.
  const caller = run("bash", [join(here, "wait_in_queue.sh")], {
    env: { ...process.env, DEMO_NUMBER: e164, TEL_QUEUE_WAIT_MS: "8000" },
    timeout: 60_000,
  });
  const waiting = page.getByTestId("wallboard-caller");
  await expect(waiting).toHaveCount(1, { timeout: 5000 });
  await expect(waiting).toContainText("+15557654321");
  await expect(page.getByTestId("wallboard-waiting")).toHaveText("1");
  await shot(page, "laptop-wallboard");
  await caller.catch((failure) => {
    throw new Error(`the caller failed: ${failure.stdout ?? ""}${failure.stderr ?? ""}`);
  });
  await expect(waiting).toHaveCount(0, { timeout: 5000 });
  await expect(page.getByTestId("wallboard-waiting")).toHaveText("0");

  // The call's details say where it waited, how long, and how it ended.
  let queuedCall = "";
  await expect(async () => {
    const calls = await adminApi("GET", `/v1/calls?number=${encodeURIComponent(e164)}&limit=1`, undefined, apiKey);
    expect(calls.items[0].queue_visits[0].outcome).toBe("abandoned");
    queuedCall = calls.items[0].id;
  }).toPass({ timeout: 15_000 });
  await page.goto(`/calls/${encodeURIComponent(queuedCall)}`);
  await expect(page.getByTestId("queue-visit")).toContainText("Front desk line: hung up waiting after 0:0");
  await expect(page.getByTestId("queue-visit")).toContainText("0 offers, 0 missed");
  await shot(page, "laptop-call-details-queue");
});

test("reports show the calls by day, weekday and hour, employee and missed, and export CSV", async ({ page }) => {
  await signIn(page, owner.email, owner.password);
  await nav(page, "Reports");
  // The week up to today: today's bar and row count the calls of the tests before (three or more).
  const rows = page.getByTestId("report-row");
  await expect(rows).toHaveCount(7);
  const received = Number(await rows.last().locator("td").nth(1).textContent());
  expect(received).toBeGreaterThanOrEqual(3);
  await expect(page.getByRole("figure", { name: "Received calls per day, answered and missed" })).toBeVisible();
  await shot(page, "laptop-reports");

  await page.getByRole("button", { name: "Weekday × hour" }).click();
  await expect(page).toHaveURL(/report=distribution/);
  const busy = page.getByTestId("heat-cell-busy");
  await expect(busy.first()).toBeVisible();
  let total = 0;
  for (const cell of await busy.all()) total += Number(await cell.textContent());
  expect(total).toBe(received);
  await shot(page, "laptop-reports-heat-map");

  await page.getByRole("button", { name: "Employees" }).click();
  await expect(rows.filter({ hasText: "Manager One" })).toContainText("101");

  await page.getByRole("button", { name: "Missed calls" }).click();
  await expect(rows.first()).toBeVisible();
  await expect(page.getByTestId("report-period")).toContainText("missed");
  const downloading = page.waitForEvent("download");
  await page.getByRole("button", { name: "Export CSV" }).click();
  const download = await downloading;
  expect(download.suggestedFilename()).toMatch(/^missed-\d{4}-\d{2}-\d{2}-\d{4}-\d{2}-\d{2}\.csv$/);
  const csv = readFileSync((await download.path())!, "utf8").split("\r\n");
  expect(csv[0]).toContain("call_id,started_at,caller");

  // A period the API refuses (over a year) shows its error, naming the field.
  await page.getByLabel("From").fill("2020-01-01");
  await page.getByRole("button", { name: "Show" }).click();
  await expect(page.getByRole("alert")).toContainText(/from|366/);
});

test("on a phone the pages fit the screen", async ({ browser }) => {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  const page = await context.newPage();
  await signIn(page, owner.email, owner.password);
  for (const [path, name] of [
    ["/calls", "phone-call-log"],
    [`/calls/${encodeURIComponent(callId)}`, "phone-call-details"],
    ["/settings/numbers", "phone-numbers"],
    ["/settings/dial-plan", "phone-dial-plan"],
    ["/settings/sip-accounts", "phone-sip-accounts"],
    ["/queues", "phone-queues"],
    ["/settings/webhooks", "phone-webhooks"],
    ["/reports?report=distribution", "phone-reports"],
  ]) {
    await page.goto(path);
    await expect(page.getByRole("main")).not.toContainText("Loading");
    // Wide tables scroll inside their frame; the page itself never scrolls sideways.
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow, `${path} is wider than the phone`).toBeLessThanOrEqual(0);
    await shot(page, name);
  }
  await signOutAll(page.request);
  await context.close();
});

test("an agent sees the call log and none of the settings it may not change", async ({ page }) => {
  expect(apiKey).not.toBe("");
  const agent = { email: `reader-${suffix}@e2e.example.com`, password: `reader-${suffix}-long-enough` };
  // The person at manager1's phone: it sets that agent's queue state itself.
  const accounts = await adminApi("GET", "/v1/sip-accounts", undefined, apiKey);
  const manager1 = accounts.items.find((a: { username: string }) => a.username === "manager1");
  await adminApi("POST", "/v1/users", { ...agent, role: "agent", sip_account_id: manager1.id }, apiKey);
  await signIn(page, agent.email, agent.password);
  await expect(page.getByRole("navigation", { name: "Main" }).getByRole("link")).toHaveText([
    "Call log",
    "Voicemail",
    "Queues",
  ]);
  await expect(page.getByTestId("call-row").first()).toContainText(e164);
  await shot(page, "agent-call-log");
  // A settings page reached by its address reads, and the API refuses the change with its reason.
  await page.goto("/settings/numbers");
  await expect(page.getByTestId("number-row").first()).toBeVisible();
  const refused = await page.evaluate(async () => {
    const session = await (await fetch("/v1/session")).json();
    const response = await fetch("/v1/numbers", {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": session.csrf_token },
      body: JSON.stringify({ e164: "+15550000001" }),
    });
    return { status: response.status, body: await response.text() };
  });
  expect(refused.status).toBe(403);
  expect(refused.body).toContain("role agent may not POST /v1/numbers");

  // On the queues page it changes nothing but its own state: back from the pause the queue test set.
  await nav(page, "Queues");
  await expect(page.getByRole("form", { name: "Add a queue" })).toHaveCount(0);
  const own = page.getByTestId("agent-row").filter({ hasText: "manager1" });
  await expect(own).toContainText("Paused (at the front door)");
  await own.getByRole("button", { name: "Available: 101 · manager1" }).click();
  await expect(own).toContainText("Available");
  await expect(page.getByRole("button", { name: /^Edit / })).toHaveCount(0);
  await shot(page, "agent-queues");
});

test("another tenant's user sees none of this tenant's data", async ({ page }) => {
  const other = await adminApi("POST", "/v1/tenants", { name: `E2E Other ${suffix}` });
  createdTenants.push(other.id);
  const key = await adminApi("POST", `/v1/tenants/${other.id}/api-keys`, { name: "setup" });
  const otherUser = { email: `other-${suffix}@e2e.example.com`, password: `other-${suffix}-long-enough` };
  await adminApi("POST", "/v1/users", { ...otherUser, role: "owner" }, key.secret);
  const otherNumber = `+1555${String(Math.floor(Math.random() * 1e7)).padStart(7, "0")}`;
  await adminApi("POST", "/v1/numbers", { e164: otherNumber }, key.secret);

  await signIn(page, otherUser.email, otherUser.password);
  await expect(page.getByText("No calls yet")).toBeVisible();
  await expect(page.getByRole("main")).not.toContainText(e164);

  await nav(page, "Numbers");
  await expect(page.getByTestId("number-row")).toHaveCount(1);
  await expect(page.getByTestId("number-row")).toContainText(otherNumber);
  await expect(page.getByRole("main")).not.toContainText(e164);

  await nav(page, "SIP accounts");
  await expect(page.getByText("No SIP accounts yet.")).toBeVisible();
  await nav(page, "Carriers");
  await expect(page.getByText("No carriers yet.")).toBeVisible();
  await nav(page, "Users");
  await expect(page.getByTestId("user-row")).toHaveCount(1);
  await expect(page.getByRole("main")).not.toContainText(owner.email);

  // The first tenant's call, asked for by its id: not found, nothing shown.
  await page.goto(`/calls/${encodeURIComponent(callId)}`);
  await expect(page.getByRole("alert")).toContainText(/not found/i);
  await expect(page.getByTestId("call-disposition")).toHaveCount(0);

  // Signing out ends the session for good: the client routes go back to sign-in.
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.goto("/settings/numbers");
  await expect(page.getByRole("heading", { name: "Sign in to tel" })).toBeVisible();
});
