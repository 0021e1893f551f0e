import { useEffect, useState, type FormEvent } from "react";
import { api } from "../api";
import { ErrorBox, Loading, useLoad } from "../components";
import { download } from "../csv";
import { Link, useRouter } from "../router";

// GET /v1/reports/{report} as JSON: typed columns, rows, and some reports' summary.
interface Report {
  report: string;
  from: string;
  to: string;
  timezone: string;
  columns: { name: string; type: string }[];
  rows: Record<string, string | number | boolean | null>[];
  summary?: Record<string, number>;
  truncated?: boolean;
}

const reports: [string, string][] = [
  ["incoming", "Incoming by day"],
  ["distribution", "Weekday × hour"],
  ["employees", "Employees"],
  ["missed", "Missed calls"],
  ["ads", "Ads (call tracking)"],
  ["categories", "Categories"],
];
const weekdays = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

function cellText(value: string | number | boolean | null, type: string): string {
  if (value === null || value === undefined) return "—";
  if (typeof value === "boolean") return value ? "yes" : "no";
  if (type === "decimal" && typeof value === "number") return value.toFixed(2);
  if (type === "time" && typeof value === "string") return new Date(value).toLocaleString();
  return String(value);
}

function label(name: string): string {
  return name.replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase());
}

// Any report's rows as a table, its columns as the API names them.
function ReportTable({ report }: { report: Report }) {
  if (report.rows.length === 0) return <p className="empty">No calls in this period.</p>;
  return (
    <div className="table-wrap">
      <table data-testid="report-table">
        <thead>
          <tr>
            {report.columns.map((column) => (
              <th scope="col" key={column.name}>
                {label(column.name)}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {report.rows.map((row, index) => (
            <tr key={index} data-testid="report-row">
              {report.columns.map((column) => (
                <td key={column.name}>
                  {column.name === "call_id" && typeof row.call_id === "string" ? (
                    <Link to={`/calls/${row.call_id}`}>{row.call_id.slice(0, 8)}</Link>
                  ) : (
                    cellText(row[column.name], column.type)
                  )}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

// Calls per day as stacked bars: answered below, missed above.
function DailyBars({ report }: { report: Report }) {
  const most = Math.max(1, ...report.rows.map((row) => Number(row.received ?? 0)));
  return (
    <figure className="bars" aria-label="Received calls per day, answered and missed">
      {report.rows.map((row) => {
        const answered = Number(row.answered ?? 0);
        const missed = Number(row.missed ?? 0);
        return (
          <div className="bar" key={String(row.day)} title={`${row.day}: ${answered} answered, ${missed} missed`}>
            <div className="stack">
              <span className="missed" style={{ height: `${(missed / most) * 100}%` }} />
              <span className="answered" style={{ height: `${(answered / most) * 100}%` }} />
            </div>
            <small>{String(row.day).slice(5)}</small>
          </div>
        );
      })}
      <figcaption className="muted">
        <span className="key answered" /> answered <span className="key missed" /> missed
      </figcaption>
    </figure>
  );
}

// Received calls per weekday and hour: the darker the cell, the more calls.
function HeatMap({ report }: { report: Report }) {
  const most = Math.max(1, ...report.rows.map((row) => Number(row.received ?? 0)));
  const at = (weekday: number, hour: number) =>
    report.rows.find((row) => row.weekday === weekday && row.hour === hour) ?? { received: 0, missed: 0 };
  return (
    <div className="table-wrap">
      <table className="heat" aria-label="Received calls by weekday and hour">
        <thead>
          <tr>
            <th scope="col">
              <span className="visually-hidden">Weekday</span>
            </th>
            {Array.from({ length: 24 }, (_, hour) => (
              <th scope="col" key={hour}>
                {hour}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {weekdays.map((name, index) => (
            <tr key={name}>
              <th scope="row">{name}</th>
              {Array.from({ length: 24 }, (_, hour) => {
                const cell = at(index + 1, hour);
                const received = Number(cell.received ?? 0);
                return (
                  <td
                    key={hour}
                    data-testid={received > 0 ? "heat-cell-busy" : undefined}
                    title={`${name} ${hour}:00: ${received} received, ${cell.missed ?? 0} missed`}
                    style={{ background: `rgba(31, 78, 121, ${received === 0 ? 0 : 0.15 + (0.85 * received) / most})` }}
                  >
                    {received || ""}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function Reports() {
  const { location, navigate } = useRouter();
  const report = location.search.get("report") ?? "incoming";
  // Without a period in the address, the API's default: the week up to the tenant's today.
  const from = location.search.get("from") ?? "";
  const to = location.search.get("to") ?? "";
  const unprocessed = location.search.get("unprocessed") === "true";
  const [fromInput, setFrom] = useState(from);
  const [toInput, setTo] = useState(to);
  const query = new URLSearchParams();
  if (from) query.set("from", from);
  if (to) query.set("to", to);
  if (report === "missed" && unprocessed) query.set("unprocessed", "true");
  const path = `/v1/reports/${report}?${query}`;
  const data = useLoad(() => api<Report>("GET", path), [path]);
  const [exportError, setExportError] = useState<unknown>(null);
  // The period shown is the one the report covers.
  useEffect(() => {
    if (!data.data) return;
    setFrom(data.data.from);
    setTo(data.data.to);
  }, [data.data]);

  const show = (changes: Record<string, string>) => {
    const next = new URLSearchParams({ report, ...changes });
    if (!next.has("from") && from) next.set("from", from);
    if (!next.has("to") && to) next.set("to", to);
    if (next.get("report") !== "missed") next.delete("unprocessed");
    navigate(`/reports?${next}`);
  };
  const apply = (event: FormEvent) => {
    event.preventDefault();
    show({ from: fromInput, to: toInput });
  };
  const exportCsv = async () => {
    setExportError(null);
    try {
      const response = await fetch(`${path}&format=csv`, { credentials: "same-origin" });
      if (!response.ok) throw new Error(`The server answered ${response.status}`);
      download(
        `${report}-${data.data?.from ?? "from"}-${data.data?.to ?? "to"}.csv`,
        await response.text(),
        "text/csv",
      );
    } catch (failure) {
      setExportError(failure);
    }
  };

  return (
    <section aria-labelledby="reports-title">
      <h1 id="reports-title">Reports</h1>
      <nav className="tabs" aria-label="Reports">
        {reports.map(([name, text]) => (
          <button
            key={name}
            type="button"
            className={name === report ? "small" : "small secondary"}
            aria-pressed={name === report}
            onClick={() => show({ report: name })}
          >
            {text}
          </button>
        ))}
      </nav>
      <form className="card filters" onSubmit={apply} aria-label="Period">
        <div className="field">
          <label htmlFor="report-from">From</label>
          <input id="report-from" type="date" value={fromInput} onChange={(e) => setFrom(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="report-to">To</label>
          <input id="report-to" type="date" value={toInput} onChange={(e) => setTo(e.target.value)} />
        </div>
        {report === "missed" && (
          <div className="field checkbox">
            <input
              id="report-unprocessed"
              type="checkbox"
              checked={unprocessed}
              onChange={(e) => show({ unprocessed: String(e.target.checked) })}
            />
            <label htmlFor="report-unprocessed">Only calls nobody called back</label>
          </div>
        )}
        <div className="row-actions">
          <button type="submit">Show</button>
          <button type="button" className="secondary" onClick={exportCsv}>
            Export CSV
          </button>
        </div>
      </form>
      <ErrorBox error={data.error || exportError} />
      {data.loading && !data.data && <Loading what="the report" />}
      {data.data && (
        <>
          <p className="muted" data-testid="report-period">
            {data.data.from} to {data.data.to} ({data.data.timezone})
            {data.data.summary &&
              ` · ${Object.entries(data.data.summary)
                .map(([name, value]) => `${label(name).toLowerCase()} ${value}`)
                .join(", ")}`}
            {data.data.truncated && " · only the first rows are shown"}
          </p>
          {report === "incoming" && <DailyBars report={data.data} />}
          {report === "distribution" ? <HeatMap report={data.data} /> : <ReportTable report={data.data} />}
        </>
      )}
    </section>
  );
}
