// The CSV export's encoding, without a browser: RFC 4180 quoting and the spreadsheet-formula guard.
import { expect, test } from "@playwright/test";
import type { CallRecord } from "../src/api";
import { callsCsv } from "../src/csv";

const call = (fields: Partial<CallRecord>): CallRecord => ({
  id: "c1",
  direction: "inbound",
  caller: "+15551230000",
  called: "+15550001000",
  started_at: "2026-11-27T10:00:00Z",
  answered_at: null,
  ended_at: "2026-11-27T10:00:05Z",
  ring_seconds: 5,
  talk_seconds: 0,
  disposition: "no_answer",
  hangup_side: "caller",
  sip_status: 487,
  cause: "",
  answered_by: "",
  ...fields,
});

test("fields with commas, quotes and line breaks are quoted and quotes doubled", () => {
  const lines = callsCsv([call({ cause: 'busy, "really"\nnow' })]).split("\r\n");
  expect(lines[0].split(",")).toHaveLength(14);
  expect(lines[1]).toContain(`,"busy, ""really""\nnow"`);
  expect(lines[1]).toContain(",,"); // answered_at: null is an empty field
});

test("values a spreadsheet would run as formulas are written as text", () => {
  const line = callsCsv([call({ caller: '=HYPERLINK("x")', called: "@SUM(A1)", answered_by: "-1+2" })]).split(
    "\r\n",
  )[1];
  expect(line).toContain(`"'=HYPERLINK(""x"")"`);
  expect(line).toContain(",'@SUM(A1),");
  expect(line).toContain(",'-1+2,");
});
