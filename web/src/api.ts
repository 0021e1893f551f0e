// The public REST API (/v1), called from the same origin with the session cookie. Nothing here
// knows more than the API's documented routes and error bodies.

export class ApiError extends Error {
  constructor(
    public status: number,
    public code: string,
    message: string,
    public field?: string,
  ) {
    super(message);
  }
}

export interface Page<T> {
  items: T[];
  next_page_token: string;
}

export interface SessionInfo {
  kind: "user" | "admin";
  csrf_token: string;
  expires_at: string;
  tenant_id?: string;
  user?: { id: string; email: string; name: string; role: string; sip_account_id?: string };
}

let csrfToken = "";
let onSessionLost: () => void = () => {};

export function setCsrfToken(token: string) {
  csrfToken = token;
}
// Called when an API call answers 401 for the session: the app goes back to sign-in.
export function setSessionLostHandler(handler: () => void) {
  onSessionLost = handler;
}

interface Options {
  body?: unknown;
  // An API key to use instead of the session (the admin's tenant set-up does this).
  bearer?: string;
  headers?: Record<string, string>;
}

export async function api<T>(method: string, path: string, options: Options = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  Object.assign(headers, options.headers);
  if (options.bearer) headers["Authorization"] = `Bearer ${options.bearer}`;
  else if (method !== "GET" && csrfToken) headers["X-CSRF-Token"] = csrfToken;
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      credentials: "same-origin",
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
  } catch {
    throw new ApiError(0, "network", "The server cannot be reached. Check your connection and retry.");
  }
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  let parsed: unknown = undefined;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!response.ok) {
    const error = (parsed as { error?: { code?: string; message?: string; field?: string } })?.error;
    const failure = new ApiError(
      response.status,
      error?.code ?? "http_" + response.status,
      describe(response.status, error?.message, error?.field, response.headers.get("Retry-After")),
      error?.field,
    );
    if (response.status === 401 && !options.bearer && path !== "/v1/sessions" && path !== "/v1/session") {
      onSessionLost();
    }
    throw failure;
  }
  return parsed as T;
}

// The API's message as a sentence; one that starts with a field's name keeps it as it is spelt.
function describe(
  status: number,
  message: string | undefined,
  field: string | undefined,
  retryAfter: string | null,
): string {
  let text = `The server answered ${status}`;
  if (message) text = field && message.startsWith(field) ? message : message.charAt(0).toUpperCase() + message.slice(1);
  if (status === 429 && retryAfter) return `${text} (retry in ${retryAfter} s)`;
  return text;
}

// All pages of a list, newest first, up to `maxItems`.
export async function listAll<T>(path: string, maxItems = 10000): Promise<T[]> {
  const items: T[] = [];
  let token = "";
  const separator = path.includes("?") ? "&" : "?";
  do {
    const page = await api<Page<T>>(
      "GET",
      `${path}${separator}limit=200${token ? `&page_token=${encodeURIComponent(token)}` : ""}`,
    );
    items.push(...page.items);
    token = page.next_page_token;
  } while (token && items.length < maxItems);
  return items.slice(0, maxItems);
}

export interface Tenant {
  id: string;
  name: string;
  sip_domain: string;
  sip_registrar?: string;
  timezone: string;
  created_at: string;
}
export interface User {
  id: string;
  email: string;
  name: string;
  role: string;
  sip_account_id?: string;
  created_at: string;
}
export interface NumberRoute {
  kind: "none" | "extensions" | "external";
  extensions: string[];
  external: string;
  ring_timeout_seconds: number;
}
export interface PhoneNumber {
  id: string;
  e164: string;
  channels: number;
  label: string;
  route: NumberRoute;
  created_at: string;
}
export interface SipAccount {
  id: string;
  username: string;
  extension: string;
  display_name: string;
  outbound_allowed: boolean;
  password?: string;
  created_at: string;
}
export interface Carrier {
  id: string;
  name: string;
  addresses: string[];
  outbound_uri: string;
  caller_id: string;
  auth_username: string;
  // Present when the platform registers to the carrier; the password is never shown.
  registration?: {
    username: string;
    domain: string;
    expires_seconds: number;
    state: "" | "registering" | "registered" | "failed";
    reason: string;
    registered_until?: string;
  };
  created_at: string;
}
export interface ApiKey {
  id: string;
  name: string;
  prefix: string;
  secret?: string;
  created_at: string;
  revoked_at?: string;
}
export interface CallLeg {
  id: string;
  target_kind: string;
  target: string;
  extension: string;
  created_at: string | null;
  ringing_at: string | null;
  answered_at: string | null;
  ended_at: string | null;
  sip_status: number;
  end_reason: string;
  media: { packets_in: number; packets_out: number; bytes_in: number; bytes_out: number };
}
export interface CallRecord {
  id: string;
  direction: string;
  caller: string;
  called: string;
  started_at: string | null;
  answered_at: string | null;
  ended_at: string | null;
  ring_seconds: number;
  talk_seconds: number;
  disposition: string;
  hangup_side: string;
  sip_status: number;
  cause: string;
  answered_by: string;
  legs?: CallLeg[];
  route?: RouteStep[];
  queue_visits?: QueueVisit[];
  recording?: CallRecording | null;
  voicemail?: CallVoicemail | null;
}
export interface CallRecording {
  duration_ms: number;
  bytes: number;
  expired: boolean;
  url: string | null;
  channels?: number;
  voicemail?: boolean;
}
export interface CallVoicemail {
  box: string;
  heard: boolean;
  heard_at: string | null;
}
export interface DialPlan {
  version: number;
  updated_at: string | null;
  plan: unknown;
}
export interface CallPreview {
  plan_version: number;
  at: string;
  time_zone: string;
  path: {
    node: string;
    type: string;
    outcome: string;
    detail: string;
    steps?: { targets: string[]; ring_seconds: number }[];
  }[];
}
// One step of a call's way through the dial plan (docs/dialplan.md).
export interface RouteStep {
  node: string;
  type: string;
  outcome: string;
  detail: string;
  plan_version: number;
  account_id?: string;
  at?: string | null;
}
// A call's time in one of the tenant's queues.
export interface QueueVisit {
  queue_id: string;
  joined_at: string | null;
  outcome: "waiting" | "answered" | "abandoned" | "overflowed";
  wait_seconds: number;
  account_id: string;
  offers: number;
  missed: number;
  overflow_reason: string;
}
export const queueStrategies: [string, string][] = [
  ["longest_idle", "Longest idle agent"],
  ["ring_all", "Ring all"],
  ["round_robin", "Round robin"],
  ["fewest_calls", "Fewest calls"],
  ["linear", "Linear (in member order)"],
];
export interface QueueMember {
  account_id: string;
  penalty: number;
}
export interface Queue {
  id: string;
  name: string;
  strategy: string;
  members: QueueMember[];
  ring_timeout_seconds: number;
  ring_at_once: number;
  wrapup_seconds: number;
  max_wait_seconds: number;
  max_callers: number;
  music_prompt: string;
  pause_after_misses: number;
  retry_seconds: number;
  service_level_seconds: number;
  announce_every_seconds: number;
  created_at: string;
  updated_at: string;
}
export interface Agent {
  account_id: string;
  state: "available" | "ringing" | "on_call" | "wrap_up" | "paused" | "logged_out";
  reason: string;
  calls_taken: number;
  misses: number;
  since_ms: number;
  seconds_in_state?: number | null;
  penalty?: number;
}
export interface Wallboard {
  queue_id: string;
  name: string;
  callers: { call_id: string; caller: string; position: number; state: string; waited_seconds: number }[];
  agents: Agent[];
  answered: number;
  abandoned: number;
  overflowed: number;
  service_level: number | null;
  service_level_seconds: number;
  average_wait_seconds: number;
  average_abandoned_wait_seconds: number;
  abandon_rate: number | null;
}
// The event types a webhook subscription can take (docs/webhooks.md).
export const webhookEventTypes = [
  "call.started",
  "call.ringing",
  "call.answered",
  "call.ended",
  "call.missed",
  "recording.ready",
  "voicemail.received",
  "queue.caller_joined",
  "queue.caller_abandoned",
  "webhook.disabled",
];
export interface WebhookSubscription {
  id: string;
  url: string;
  description: string;
  event_types: string[];
  numbers: string[];
  extensions: string[];
  enabled: boolean;
  disabled_reason: string;
  failing_since: string | null;
  secret?: string;
  previous_secret_expires_at: string | null;
  created_at: string;
}
export interface WebhookAttempt {
  event_id: string;
  event_type: string;
  call_id: string | null;
  sequence: number;
  attempt: number;
  attempted_at: string;
  status_code: number | null;
  latency_ms: number;
  error: string;
  response_excerpt: string;
  outcome: "delivered" | "retrying" | "given_up" | "superseded";
  next_attempt_at: string | null;
}
