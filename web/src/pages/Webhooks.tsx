import { useState } from "react";
import { api, webhookEventTypes, type WebhookAttempt, type WebhookSubscription } from "../api";
import { ErrorBox, Field, Secret, formatTime, useLoad } from "../components";
import { CreateForm, ListState, useCollection } from "./shared";

// A comma- or space-separated list as the API takes it.
function listOf(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .map((item) => item.trim())
    .filter(Boolean);
}

function EventTypes(props: { name: string; value: string[]; onChange: (value: string[]) => void }) {
  return (
    <fieldset className="members">
      <legend>Events</legend>
      {webhookEventTypes.map((type) => {
        const id = `${props.name}-${type}`;
        return (
          <div className="member" key={type}>
            <input
              id={id}
              type="checkbox"
              checked={props.value.includes(type)}
              onChange={(e) =>
                props.onChange(e.target.checked ? [...props.value, type] : props.value.filter((t) => t !== type))
              }
            />
            <label htmlFor={id}>{type}</label>
          </div>
        );
      })}
    </fieldset>
  );
}

// The delivery log of one subscription (every attempt, newest first), with a replay per event.
// `sent`: changes when the page sent something (a ping): the log is read again.
function Deliveries({ subscription, sent }: { subscription: WebhookSubscription; sent: number }) {
  const attempts = useLoad(
    () =>
      api<{ items: WebhookAttempt[] }>("GET", `/v1/webhooks/${subscription.id}/attempts?limit=50`).then(
        (page) => page.items,
      ),
    [subscription.id, sent],
  );
  const [notice, setNotice] = useState("");
  const [error, setError] = useState<unknown>(null);
  const replay = async (eventId: string) => {
    setError(null);
    try {
      await api("POST", `/v1/webhooks/${subscription.id}/replay`, { body: { event_id: eventId } });
      setNotice(`Event ${eventId} queued again.`);
      attempts.reload();
    } catch (failure) {
      setError(failure);
    }
  };
  return (
    <div className="card" aria-label={`Deliveries to ${subscription.url}`} role="region">
      <div className="row-actions">
        <h3>Delivery log</h3>
        <button type="button" className="small secondary" onClick={attempts.reload}>
          Refresh
        </button>
      </div>
      {notice && (
        <p role="status" className="muted">
          {notice}
        </p>
      )}
      <ErrorBox error={error} />
      <ListState
        list={{ ...attempts, actionError: null }}
        what="the delivery log"
        empty="Nothing sent yet. Send a ping to try the endpoint."
      />
      {attempts.data && attempts.data.length > 0 && (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Event</th>
                <th scope="col">Try</th>
                <th scope="col">Outcome</th>
                <th scope="col">Answer</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {attempts.data.map((attempt) => (
                <tr key={`${attempt.event_id}-${attempt.attempted_at}`} data-testid="webhook-attempt">
                  <td>{formatTime(attempt.attempted_at)}</td>
                  <td>
                    {attempt.event_type}
                    {attempt.sequence > 0 && <span className="muted"> #{attempt.sequence}</span>}
                  </td>
                  <td>{attempt.attempt}</td>
                  <td>
                    {attempt.outcome.replace("_", " ")}
                    {attempt.next_attempt_at && (
                      <span className="muted"> (next {formatTime(attempt.next_attempt_at)})</span>
                    )}
                  </td>
                  <td>
                    {attempt.status_code ?? "—"} {attempt.error && <span className="detail">{attempt.error}</span>}
                    <span className="muted"> {attempt.latency_ms} ms</span>
                  </td>
                  <td className="row-actions">
                    <button
                      type="button"
                      className="small secondary"
                      onClick={() => replay(attempt.event_id)}
                      aria-label={`Replay ${attempt.event_type} ${attempt.event_id}`}
                    >
                      Replay
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

export function Webhooks() {
  const list = useCollection<WebhookSubscription>("/v1/webhooks");
  const [url, setUrl] = useState("");
  const [description, setDescription] = useState("");
  const [types, setTypes] = useState<string[]>(["call.started", "call.ended"]);
  const [numbers, setNumbers] = useState("");
  const [extensions, setExtensions] = useState("");
  const [secret, setSecret] = useState<{ url: string; value: string } | null>(null);
  const [open, setOpen] = useState("");
  const [notice, setNotice] = useState("");
  const [pings, setPings] = useState(0);

  const create = async () => {
    const created = await api<WebhookSubscription>("POST", "/v1/webhooks", {
      body: {
        url: url.trim(),
        description,
        event_types: types,
        numbers: listOf(numbers),
        extensions: listOf(extensions),
      },
    });
    setSecret({ url: created.url, value: created.secret ?? "" });
    setUrl("");
    setDescription("");
    setNumbers("");
    setExtensions("");
    list.reload();
  };

  // A row action: its error goes above the list, its result in the notice.
  const act = async (action: () => Promise<void>) => {
    list.setActionError(null);
    setNotice("");
    try {
      await action();
    } catch (failure) {
      list.setActionError(failure);
    }
  };
  const ping = (s: WebhookSubscription) =>
    act(async () => {
      await api("POST", `/v1/webhooks/${s.id}/ping`, { body: {} });
      setNotice(`Ping queued for ${s.url}: see its delivery log.`);
      setOpen(s.id);
      setPings((count) => count + 1);
    });
  const rotate = (s: WebhookSubscription) =>
    act(async () => {
      if (!window.confirm(`Make a new secret for ${s.url}? The old one keeps signing for a day.`)) return;
      const rotated = await api<{ secret: string }>("POST", `/v1/webhooks/${s.id}/rotate-secret`, { body: {} });
      setSecret({ url: s.url, value: rotated.secret });
      list.reload();
    });
  const toggle = (s: WebhookSubscription) =>
    act(async () => {
      await api("PATCH", `/v1/webhooks/${s.id}`, { body: { enabled: !s.enabled } });
      list.reload();
    });

  return (
    <section aria-labelledby="webhooks-title">
      <h1 id="webhooks-title">Webhooks</h1>
      <p className="muted">
        Calls and queue events are POSTed to your endpoint as signed JSON (Standard Webhooks), retried until delivered,
        in order per call. How to verify the signature: the platform's <code>docs/webhooks.md</code>.
      </p>
      {secret && (
        <div className="card" role="status" aria-live="polite" data-testid="webhook-secret">
          <h2>Signing secret for {secret.url}</h2>
          <p>It is shown only now. Keep it where your endpoint verifies signatures.</p>
          <Secret label="Secret" value={secret.value} />
        </div>
      )}
      <CreateForm title="Add a webhook" submitText="Add webhook" onSubmit={create}>
        <Field
          label="Endpoint URL"
          name="url"
          value={url}
          onChange={setUrl}
          required
          placeholder="https://crm.example.com/hooks/tel"
        />
        <Field label="Description" name="description" value={description} onChange={setDescription} />
        <Field
          label="Only these numbers"
          name="numbers"
          value={numbers}
          onChange={setNumbers}
          hint="E.164, comma-separated; empty: all"
        />
        <Field
          label="Only these extensions"
          name="extensions"
          value={extensions}
          onChange={setExtensions}
          hint="comma-separated; empty: all"
        />
        <EventTypes name="new-webhook" value={types} onChange={setTypes} />
      </CreateForm>
      {notice && (
        <p role="status" className="muted">
          {notice}
        </p>
      )}
      <ListState list={list} what="webhooks" empty="No webhooks yet." />
      {list.data?.map((s) => (
        <div className="card" key={s.id} data-testid="webhook-row">
          <div className="row-actions">
            <h2>
              <code>{s.url}</code>
            </h2>
            <span data-testid="webhook-state">
              {s.enabled ? "enabled" : `disabled${s.disabled_reason ? ` (${s.disabled_reason})` : ""}`}
            </span>
          </div>
          <p className="detail">
            {s.description && <>{s.description} · </>}
            {s.event_types.join(", ")}
            {s.numbers.length > 0 && <> · numbers {s.numbers.join(", ")}</>}
            {s.extensions.length > 0 && <> · extensions {s.extensions.join(", ")}</>}
            {s.failing_since && <> · failing since {formatTime(s.failing_since)}</>}
          </p>
          <div className="row-actions">
            <button
              type="button"
              className="small secondary"
              onClick={() => setOpen(open === s.id ? "" : s.id)}
              aria-label={`${open === s.id ? "Hide deliveries" : "Deliveries"} of ${s.url}`}
            >
              {open === s.id ? "Hide deliveries" : "Deliveries"}
            </button>
            <button type="button" className="small secondary" onClick={() => ping(s)} aria-label={`Ping ${s.url}`}>
              Ping
            </button>
            <button
              type="button"
              className="small secondary"
              onClick={() => rotate(s)}
              aria-label={`New secret for ${s.url}`}
            >
              New secret
            </button>
            <button
              type="button"
              className="small secondary"
              onClick={() => toggle(s)}
              aria-label={`${s.enabled ? "Disable" : "Enable"} ${s.url}`}
            >
              {s.enabled ? "Disable" : "Enable"}
            </button>
            <button
              type="button"
              className="small danger"
              onClick={() => list.remove(s, s.url)}
              aria-label={`Delete ${s.url}`}
            >
              Delete
            </button>
          </div>
          {open === s.id && <Deliveries subscription={s} sent={pings} />}
        </div>
      ))}
    </section>
  );
}
