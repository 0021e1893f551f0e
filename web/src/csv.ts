import type { CallRecord } from "./api";

// RFC 4180: fields with commas, quotes or line breaks are quoted, quotes doubled. A leading =, +,
// - or @ is prefixed with ' so that spreadsheets do not run caller-controlled text as a formula.
function field(value: unknown): string {
  let text = value === null || value === undefined ? "" : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = "'" + text;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

const columns: [string, (call: CallRecord) => unknown][] = [
  ["id", (c) => c.id],
  ["started_at", (c) => c.started_at],
  ["answered_at", (c) => c.answered_at],
  ["ended_at", (c) => c.ended_at],
  ["direction", (c) => c.direction],
  ["caller", (c) => c.caller],
  ["called", (c) => c.called],
  ["disposition", (c) => c.disposition],
  ["ring_seconds", (c) => c.ring_seconds],
  ["talk_seconds", (c) => c.talk_seconds],
  ["answered_by", (c) => c.answered_by],
  ["hangup_side", (c) => c.hangup_side],
  ["sip_status", (c) => c.sip_status],
  ["cause", (c) => c.cause],
];

export function callsCsv(calls: CallRecord[]): string {
  const lines = [columns.map(([name]) => name).join(",")];
  for (const call of calls) lines.push(columns.map(([, get]) => field(get(call))).join(","));
  return lines.join("\r\n") + "\r\n";
}

export function download(name: string, text: string, type: string) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
