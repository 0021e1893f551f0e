import { useEffect, useState, type FormEvent } from "react";
import { api, ApiError, type CallPreview, type DialPlan } from "../api";
import { ErrorBox, Field, Loading, useLoad } from "../components";

// The tenant's dial plan (docs/dialplan.md) as its JSON document: edited whole and saved over the
// version it was read at (a concurrent save elsewhere is reported, not overwritten), with the
// server's check naming the bad node, and a preview of what a call to a number does at a time.
export function DialPlanPage() {
  const { data, error, loading, reload } = useLoad(() => api<DialPlan>("GET", "/v1/dialplan"), []);
  const [text, setText] = useState("");
  const [saveError, setSaveError] = useState<unknown>(null);
  const [saved, setSaved] = useState("");
  useEffect(() => {
    if (data) setText(JSON.stringify(data.plan, null, 2));
  }, [data]);

  const save = async (event: FormEvent) => {
    event.preventDefault();
    setSaveError(null);
    setSaved("");
    let plan: unknown;
    try {
      plan = JSON.parse(text);
    } catch (failure) {
      setSaveError(new ApiError(400, "invalid_argument", `The plan is not valid JSON: ${String(failure)}`));
      return;
    }
    try {
      const result = await api<DialPlan>("PUT", "/v1/dialplan", {
        body: plan,
        headers: { "If-Match": `"${data?.version ?? 0}"` },
      });
      setSaved(`Saved as version ${result.version}.`);
      reload();
    } catch (failure) {
      if (failure instanceof ApiError && failure.status === 412) {
        setSaveError(
          new ApiError(412, failure.code, "Someone saved the plan meanwhile: reload it, then apply your change again."),
        );
      } else {
        setSaveError(failure);
      }
    }
  };

  return (
    <section aria-labelledby="plan-title">
      <h1 id="plan-title">Dial plan</h1>
      <p className="muted">
        Schedules, forwarding schemes and what each number does; numbers not listed keep their own route.
      </p>
      <ErrorBox error={error} />
      {loading && !data && <Loading what="the dial plan" />}
      {data && (
        <form className="card" aria-label="Edit the dial plan" onSubmit={save}>
          <p data-testid="plan-version">
            Version {data.version}
            {data.updated_at ? `, saved ${new Date(data.updated_at).toLocaleString()}` : ""}
          </p>
          <label htmlFor="plan-document">Plan (JSON)</label>
          <textarea
            id="plan-document"
            className="code"
            rows={24}
            spellCheck={false}
            value={text}
            onChange={(event) => setText(event.target.value)}
          />
          <ErrorBox error={saveError} />
          {saved && (
            <p role="status" data-testid="plan-saved">
              {saved}
            </p>
          )}
          <button type="submit">Save</button>
        </form>
      )}
      <Preview />
    </section>
  );
}

function Preview() {
  const [number, setNumber] = useState("");
  const [at, setAt] = useState("");
  const [preview, setPreview] = useState<CallPreview | null>(null);
  const [error, setError] = useState<unknown>(null);
  const run = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    setPreview(null);
    const query = new URLSearchParams({ number });
    if (at) query.set("at", new Date(at).toISOString().replace(/\.\d{3}Z$/, "Z"));
    try {
      setPreview(await api<CallPreview>("GET", `/v1/dialplan/preview?${query}`));
    } catch (failure) {
      setError(failure);
    }
  };
  return (
    <>
      <h2>What happens to a call</h2>
      <form className="card" aria-label="Preview a call" onSubmit={run}>
        <Field label="Number (E.164)" name="number" value={number} onChange={setNumber} required error={error} />
        <Field
          label="At"
          name="at"
          type="datetime-local"
          value={at}
          onChange={setAt}
          hint="In your browser's time; empty: now"
          error={error}
        />
        <button type="submit" className="secondary">
          Preview
        </button>
        <ErrorBox error={error} />
      </form>
      {preview && (
        <ol className="route" data-testid="preview-path">
          {preview.path.map((step, index) => (
            <li key={index} data-testid="preview-step">
              <strong>{step.node || "number's own route"}</strong> {step.type}: {step.outcome}
              {step.detail && <span className="detail"> — {step.detail}</span>}
              {step.steps && (
                <ul>
                  {step.steps.map((ring, ringIndex) => (
                    <li key={ringIndex}>
                      rings {ring.targets.join(", ")} for {ring.ring_seconds} s
                    </li>
                  ))}
                </ul>
              )}
            </li>
          ))}
        </ol>
      )}
    </>
  );
}
