import { api, listAll, type CallRecord, type Queue, type QueueVisit, type SipAccount } from "../api";
import { ErrorBox, Loading, formatSeconds, formatTime, useLoad } from "../components";
import { Link } from "../router";
import { accountName } from "./Queues";

const outcomes: Record<QueueVisit["outcome"], string> = {
  waiting: "still waiting",
  answered: "answered",
  abandoned: "hung up waiting",
  overflowed: "sent on",
};

// The queues the call waited in: how long, and who answered or why the queue sent it on.
function QueueVisits({ visits }: { visits: QueueVisit[] }) {
  const names = useLoad(() => Promise.all([listAll<Queue>("/v1/queues"), listAll<SipAccount>("/v1/sip-accounts")]), []);
  const queueName = (id: string) => names.data?.[0].find((q) => q.id === id)?.name ?? id;
  return (
    <>
      <h2>Queues</h2>
      <ol className="route" data-testid="queue-visits">
        {visits.map((visit, index) => (
          <li key={index} data-testid="queue-visit">
            <strong>{queueName(visit.queue_id)}</strong>: {outcomes[visit.outcome]}
            {visit.outcome !== "waiting" && ` after ${formatSeconds(visit.wait_seconds)}`}
            {visit.account_id && ` by ${accountName(names.data?.[1], visit.account_id)}`}
            {visit.overflow_reason && ` (${visit.overflow_reason.replace("_", " ")})`}
            <span className="detail">
              {" "}
              — joined {formatTime(visit.joined_at)}; {visit.offers} offer{visit.offers === 1 ? "" : "s"},{" "}
              {visit.missed} missed
            </span>
          </li>
        ))}
      </ol>
    </>
  );
}

export function CallDetails({ id }: { id: string }) {
  const {
    data: call,
    error,
    loading,
  } = useLoad(() => api<CallRecord>("GET", `/v1/calls/${encodeURIComponent(id)}`), [id]);
  return (
    <section aria-labelledby="call-title">
      <p>
        <Link to="/calls">← Call log</Link>
      </p>
      <h1 id="call-title">Call details</h1>
      <ErrorBox error={error} />
      {loading && <Loading what="the call" />}
      {call && (
        <>
          <dl className="facts">
            <dt>Call id</dt>
            <dd>
              <code>{call.id}</code>
            </dd>
            <dt>Direction</dt>
            <dd>{call.direction}</dd>
            <dt>From</dt>
            <dd>{call.caller}</dd>
            <dt>To</dt>
            <dd>{call.called}</dd>
            <dt>Result</dt>
            <dd data-testid="call-disposition">{call.disposition.replace("_", " ")}</dd>
            <dt>Answered by</dt>
            <dd>{call.answered_by || "—"}</dd>
            <dt>Started</dt>
            <dd>{formatTime(call.started_at)}</dd>
            <dt>Answered</dt>
            <dd>{formatTime(call.answered_at)}</dd>
            <dt>Ended</dt>
            <dd>{formatTime(call.ended_at)}</dd>
            <dt>Ringing / talk</dt>
            <dd>
              {formatSeconds(call.ring_seconds)} / {formatSeconds(call.talk_seconds)}
            </dd>
            <dt>Hung up by</dt>
            <dd>{call.hangup_side || "—"}</dd>
            <dt>SIP status</dt>
            <dd>
              {call.sip_status || "—"} {call.cause}
            </dd>
          </dl>
          <h2>Legs</h2>
          {call.legs && call.legs.length > 0 ? (
            <div className="table-wrap">
              <table>
                <caption className="visually-hidden">The call's legs</caption>
                <thead>
                  <tr>
                    <th scope="col">Target</th>
                    <th scope="col">Extension</th>
                    <th scope="col">Created</th>
                    <th scope="col">Answered</th>
                    <th scope="col">Ended</th>
                    <th scope="col">SIP status</th>
                    <th scope="col">End reason</th>
                    <th scope="col">Packets in/out</th>
                  </tr>
                </thead>
                <tbody>
                  {call.legs.map((leg) => (
                    <tr key={leg.id} data-testid="leg-row">
                      <td>
                        {leg.target_kind}: {leg.target}
                      </td>
                      <td>{leg.extension || "—"}</td>
                      <td>{formatTime(leg.created_at)}</td>
                      <td>{formatTime(leg.answered_at)}</td>
                      <td>{formatTime(leg.ended_at)}</td>
                      <td>{leg.sip_status || "—"}</td>
                      <td>{leg.end_reason || "—"}</td>
                      <td>
                        {leg.media.packets_in} / {leg.media.packets_out}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          ) : (
            <p className="empty">No legs: nobody was dialled for this call.</p>
          )}
          {call.recording && (
            <>
              <h2>{call.voicemail ? `Voicemail message (box ${call.voicemail.box})` : "Recording"}</h2>
              {call.recording.url ? (
                <p>
                  {/* The browser sends the session cookie with the request, as with every API call. */}
                  <audio controls preload="none" src={call.recording.url} data-testid="recording-player" />{" "}
                  <span className="detail">
                    {Math.round(call.recording.duration_ms / 1000)} s,{" "}
                    {call.recording.voicemail ? "the caller alone" : "caller left, callee right"} ·{" "}
                    <a href={call.recording.url} download>
                      Download
                    </a>
                  </span>
                </p>
              ) : (
                <p className="empty">
                  {Math.round(call.recording.duration_ms / 1000)} s, deleted after the retention period.
                </p>
              )}
            </>
          )}
          {call.queue_visits && call.queue_visits.length > 0 && <QueueVisits visits={call.queue_visits} />}
          {call.route && call.route.length > 0 && (
            <>
              <h2>Route through the dial plan</h2>
              <ol className="route" data-testid="call-route">
                {call.route.map((step, index) => (
                  <li key={index} data-testid="route-step">
                    <strong>{step.node}</strong> {step.type}: {step.outcome}
                    {step.detail && <span className="detail"> — {step.detail}</span>}
                  </li>
                ))}
              </ol>
            </>
          )}
        </>
      )}
    </section>
  );
}
