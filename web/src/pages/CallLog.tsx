import { useState, type FormEvent } from "react";
import { api, listAll, type CallRecord, type Page } from "../api";
import { callsCsv, download } from "../csv";
import {
  Empty,
  ErrorBox,
  Field,
  Loading,
  Pager,
  Select,
  errorText,
  formatSeconds,
  formatTime,
  useLoad,
} from "../components";
import { Link, useRouter } from "../router";

const filterNames = ["from", "to", "direction", "disposition", "number", "extension"] as const;
type Filters = Record<(typeof filterNames)[number], string>;
// A CSV export is built in the browser from the API's pages; beyond this it asks for filters.
const exportLimit = 10000;

// The API's query from the form: days become the local day's bounds as RFC 3339 times.
function apiQuery(filters: Filters): URLSearchParams {
  const query = new URLSearchParams();
  if (filters.from) query.set("from", new Date(`${filters.from}T00:00:00`).toISOString());
  if (filters.to) {
    const end = new Date(`${filters.to}T00:00:00`);
    end.setDate(end.getDate() + 1);
    query.set("to", end.toISOString());
  }
  for (const name of ["direction", "disposition", "number", "extension"] as const) {
    if (filters[name].trim()) query.set(name, filters[name].trim());
  }
  return query;
}

export function CallLog() {
  const { location, navigate } = useRouter();
  // The filters live in the address, so a filtered view can be reloaded, bookmarked and shared.
  const applied = Object.fromEntries(filterNames.map((n) => [n, location.search.get(n) ?? ""])) as Filters;
  const [form, setForm] = useState<Filters>(applied);
  const [tokens, setTokens] = useState<string[]>([""]);
  const [exporting, setExporting] = useState(false);
  const [exportError, setExportError] = useState<unknown>(null);
  const [exportNotice, setExportNotice] = useState("");
  const query = apiQuery(applied).toString();
  const token = tokens[tokens.length - 1];

  const { data, error, loading, reload } = useLoad(() => {
    const page = new URLSearchParams(query);
    page.set("limit", "50");
    if (token) page.set("page_token", token);
    return api<Page<CallRecord>>("GET", `/v1/calls?${page}`);
  }, [query, token]);

  const apply = (event: FormEvent) => {
    event.preventDefault();
    const search = new URLSearchParams();
    for (const name of filterNames) if (form[name].trim()) search.set(name, form[name].trim());
    setTokens([""]);
    navigate(`/calls${search.toString() ? `?${search}` : ""}`);
  };

  const exportCsv = async () => {
    setExporting(true);
    setExportError(null);
    try {
      const calls = await listAll<CallRecord>(`/v1/calls${query ? `?${query}` : ""}`, exportLimit);
      setExportNotice(
        calls.length >= exportLimit
          ? `Exported the newest ${exportLimit.toLocaleString()} calls only; narrow the filters (e.g. the days) for the rest.`
          : "",
      );
      download(`calls-${new Date().toISOString().slice(0, 10)}.csv`, callsCsv(calls), "text/csv");
    } catch (failure) {
      setExportError(failure);
    } finally {
      setExporting(false);
    }
  };

  const set = (name: keyof Filters) => (value: string) => setForm({ ...form, [name]: value });
  return (
    <section aria-labelledby="calls-title">
      <div className="title-row">
        <h1 id="calls-title">Call log</h1>
        <div className="actions">
          <button type="button" className="secondary" onClick={reload}>
            Refresh
          </button>
          <button type="button" onClick={exportCsv} disabled={exporting}>
            {exporting ? "Exporting…" : "Export CSV"}
          </button>
        </div>
      </div>
      {exportError ? (
        <div className="error" role="alert">
          Export failed: {errorText(exportError)}
        </div>
      ) : null}
      {exportNotice ? (
        <p className="notice" role="status">
          {exportNotice}
        </p>
      ) : null}
      <form className="filters" onSubmit={apply} aria-label="Filters">
        <Field label="From (day)" name="from" type="date" value={form.from} onChange={set("from")} />
        <Field label="To (day)" name="to" type="date" value={form.to} onChange={set("to")} />
        <Select
          label="Direction"
          name="direction"
          value={form.direction}
          onChange={set("direction")}
          options={[
            ["", "Any"],
            ["inbound", "Inbound"],
            ["outbound", "Outbound"],
            ["internal", "Internal"],
          ]}
        />
        <Select
          label="Disposition"
          name="disposition"
          value={form.disposition}
          onChange={set("disposition")}
          options={[
            ["", "Any"],
            ["answered", "Answered"],
            ["busy", "Busy"],
            ["no_answer", "No answer"],
            ["failed", "Failed"],
            ["cancelled", "Cancelled"],
          ]}
        />
        <Field label="Number" name="number" value={form.number} onChange={set("number")} placeholder="+15550001000" />
        <Field
          label="Extension"
          name="extension"
          value={form.extension}
          onChange={set("extension")}
          placeholder="101"
        />
        <div className="filter-buttons">
          <button type="submit">Apply</button>
          <button
            type="button"
            className="secondary"
            onClick={() => {
              setForm(Object.fromEntries(filterNames.map((n) => [n, ""])) as Filters);
              setTokens([""]);
              navigate("/calls");
            }}
          >
            Clear
          </button>
        </div>
      </form>
      <ErrorBox error={error} />
      {loading && !data ? <Loading what="calls" /> : null}
      {data && data.items.length === 0 && !error ? (
        <Empty>
          {query ? "No calls match these filters." : "No calls yet. Calls appear here a second after they end."}
        </Empty>
      ) : null}
      {data && data.items.length > 0 ? (
        <div className="table-wrap">
          <table aria-busy={loading}>
            <caption className="visually-hidden">Calls, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Started</th>
                <th scope="col">Direction</th>
                <th scope="col">From</th>
                <th scope="col">To</th>
                <th scope="col">Result</th>
                <th scope="col">Ringing</th>
                <th scope="col">Talk</th>
                <th scope="col">Answered by</th>
              </tr>
            </thead>
            <tbody>
              {data.items.map((call) => (
                <tr key={call.id} data-testid="call-row">
                  <td>
                    <Link to={`/calls/${encodeURIComponent(call.id)}`}>{formatTime(call.started_at)}</Link>
                  </td>
                  <td>{call.direction}</td>
                  <td>{call.caller}</td>
                  <td>{call.called}</td>
                  <td>
                    <span className={`badge ${call.disposition}`}>{call.disposition.replace("_", " ")}</span>
                  </td>
                  <td>{formatSeconds(call.ring_seconds)}</td>
                  <td>{formatSeconds(call.talk_seconds)}</td>
                  <td>{call.answered_by || "—"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <Pager tokens={tokens} setTokens={setTokens} next={data?.next_page_token} />
    </section>
  );
}
