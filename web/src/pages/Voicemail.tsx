import { useState } from "react";
import { api, type CallRecord, type Page } from "../api";
import { Empty, ErrorBox, Field, Loading, Pager, errorText, formatSeconds, formatTime, useLoad } from "../components";
import { Link } from "../router";

// The tenant's voicemail messages (GET /v1/voicemails): each a missed call that left a message,
// played here with the session like any API call, and marked heard or new (PATCH /v1/voicemails).
export function Voicemail() {
  const [box, setBox] = useState("");
  const [applied, setApplied] = useState({ box: "", unheard: false });
  const [tokens, setTokens] = useState<string[]>([""]);
  const [markError, setMarkError] = useState<unknown>(null);
  const token = tokens[tokens.length - 1];

  const { data, error, loading, reload } = useLoad(() => {
    const query = new URLSearchParams({ limit: "50" });
    if (applied.box) query.set("box", applied.box);
    if (applied.unheard) query.set("unheard", "true");
    if (token) query.set("page_token", token);
    return api<Page<CallRecord>>("GET", `/v1/voicemails?${query}`);
  }, [applied.box, applied.unheard, token]);

  const mark = async (call: CallRecord, heard: boolean) => {
    setMarkError(null);
    try {
      await api("PATCH", `/v1/voicemails/${encodeURIComponent(call.id)}`, { body: { heard } });
      reload();
    } catch (failure) {
      setMarkError(failure);
    }
  };

  return (
    <section aria-labelledby="voicemail-title">
      <div className="title-row">
        <h1 id="voicemail-title">Voicemail</h1>
        <div className="actions">
          <button type="button" className="secondary" onClick={reload}>
            Refresh
          </button>
        </div>
      </div>
      <form
        className="filters"
        aria-label="Voicemail filters"
        onSubmit={(event) => {
          event.preventDefault();
          setTokens([""]);
          setApplied({ ...applied, box: box.trim() });
        }}
      >
        <Field label="Box" name="box" value={box} onChange={setBox} placeholder="sales" />
        <div className="field checkbox">
          <input
            id="field-unheard"
            type="checkbox"
            checked={applied.unheard}
            onChange={(event) => {
              setTokens([""]);
              setApplied({ ...applied, unheard: event.target.checked });
            }}
          />
          <label htmlFor="field-unheard">New only</label>
        </div>
        <div className="filter-buttons">
          <button type="submit">Apply</button>
        </div>
      </form>
      <ErrorBox error={error} />
      {markError ? (
        <div className="error" role="alert">
          Could not mark the message: {errorText(markError)}
        </div>
      ) : null}
      {loading && !data ? <Loading what="messages" /> : null}
      {data && data.items.length === 0 && !error ? (
        <Empty>
          {applied.box || applied.unheard
            ? "No messages match."
            : "No messages yet. Callers leave them where the dial plan sends them to a voicemail node."}
        </Empty>
      ) : null}
      {data && data.items.length > 0 ? (
        <div className="table-wrap">
          <table aria-busy={loading}>
            <caption className="visually-hidden">Voicemail messages, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Received</th>
                <th scope="col">From</th>
                <th scope="col">Box</th>
                <th scope="col">Length</th>
                <th scope="col">Message</th>
                <th scope="col">State</th>
              </tr>
            </thead>
            <tbody>
              {data.items.map((call) => (
                <tr key={call.id} data-testid="voicemail-row">
                  <td>
                    <Link to={`/calls/${encodeURIComponent(call.id)}`}>{formatTime(call.started_at)}</Link>
                  </td>
                  <td>{call.caller}</td>
                  <td>{call.voicemail?.box}</td>
                  <td>{call.recording ? formatSeconds(Math.round(call.recording.duration_ms / 1000)) : "—"}</td>
                  <td>
                    {call.recording?.url ? (
                      <audio
                        controls
                        preload="none"
                        src={call.recording.url}
                        aria-label={`Message from ${call.caller}`}
                      />
                    ) : (
                      <span className="muted">deleted after the retention period</span>
                    )}
                  </td>
                  <td>
                    <span data-testid="voicemail-state">{call.voicemail?.heard ? "Heard" : "New"}</span>{" "}
                    <button
                      type="button"
                      className="small secondary"
                      onClick={() => void mark(call, !call.voicemail?.heard)}
                    >
                      {call.voicemail?.heard ? "Mark new" : "Mark heard"}
                    </button>
                  </td>
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
