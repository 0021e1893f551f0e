import { useEffect, useState } from "react";
import { api, listAll, type SipAccount, type Wallboard as Board } from "../api";
import { ErrorBox, Loading, formatSeconds, useLoad } from "../components";
import { Link } from "../router";
import { accountName, agentState } from "./Queues";

function percent(value: number | null): string {
  return value === null ? "—" : `${Math.round(value * 100)}%`;
}

// The queue's live board: the API's snapshot at once, then every change its event stream pushes
// (GET /v1/queues/{id}/wallboard/stream). EventSource reconnects by itself when a stream ends
// (the gateway closes each after 10 minutes) or the connection drops.
// The stream sends a board when something changes, not as times pass: the page counts waits and
// times in state up itself, from when the board arrived.
function useLiveBoard(id: string) {
  const [board, setBoard] = useState<{ board: Board; at: number } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [live, setLive] = useState(false);
  const [, setTick] = useState(0);
  useEffect(() => {
    let open = true;
    api<Board>("GET", `/v1/queues/${encodeURIComponent(id)}/wallboard`).then(
      (snapshot) => open && setBoard((shown) => shown ?? { board: snapshot, at: Date.now() }),
      (failure) => open && setError(failure),
    );
    const stream = new EventSource(`/v1/queues/${encodeURIComponent(id)}/wallboard/stream`);
    stream.addEventListener("wallboard", (event) => {
      setBoard({ board: JSON.parse((event as MessageEvent<string>).data) as Board, at: Date.now() });
      setLive(true);
      setError(null);
    });
    stream.onerror = () => {
      setLive(false);
      // Refused (the gateway's limit of streams, a session that ended): EventSource gives up.
      if (stream.readyState === EventSource.CLOSED) {
        setError(new Error("The live updates stopped (the server refused the stream). Reload the page to try again."));
      }
    };
    const ticker = setInterval(() => setTick((tick) => tick + 1), 1000);
    return () => {
      open = false;
      stream.close();
      clearInterval(ticker);
    };
  }, [id]);
  const elapsed = board ? Math.floor((Date.now() - board.at) / 1000) : 0;
  return { board: board?.board ?? null, elapsed, error, live };
}

export function Wallboard({ id }: { id: string }) {
  const { board, elapsed, error, live } = useLiveBoard(id);
  const accounts = useLoad(() => listAll<SipAccount>("/v1/sip-accounts"), []);
  return (
    <section aria-labelledby="wallboard-title">
      <p>
        <Link to="/queues">← Queues</Link>
      </p>
      <h1 id="wallboard-title">{board ? `${board.name}: wallboard` : "Wallboard"}</h1>
      <p className="muted" role="status" data-testid="wallboard-live">
        {live ? "Live: updates as callers and agents change." : "Connecting to the live updates…"}
      </p>
      <ErrorBox error={error} />
      {!board && !error && <Loading what="the wallboard" />}
      {board && (
        <>
          <dl className="tiles" aria-label="Today">
            <div>
              <dt>Waiting</dt>
              <dd data-testid="wallboard-waiting">{board.callers.length}</dd>
            </div>
            <div>
              <dt>Answered</dt>
              <dd data-testid="wallboard-answered">{board.answered}</dd>
            </div>
            <div>
              <dt>Abandoned</dt>
              <dd>{board.abandoned}</dd>
            </div>
            <div>
              <dt>Overflowed</dt>
              <dd>{board.overflowed}</dd>
            </div>
            <div>
              <dt>Service level ({board.service_level_seconds} s)</dt>
              <dd>{percent(board.service_level)}</dd>
            </div>
            <div>
              <dt>Average wait</dt>
              <dd>{formatSeconds(board.average_wait_seconds)}</dd>
            </div>
            <div>
              <dt>Abandon rate</dt>
              <dd>{percent(board.abandon_rate)}</dd>
            </div>
          </dl>
          <h2>Callers in line</h2>
          {board.callers.length === 0 ? (
            <p className="empty">Nobody is waiting.</p>
          ) : (
            <div className="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Position</th>
                    <th scope="col">Caller</th>
                    <th scope="col">State</th>
                    <th scope="col">Waiting</th>
                  </tr>
                </thead>
                <tbody>
                  {board.callers.map((caller) => (
                    <tr key={caller.call_id} data-testid="wallboard-caller">
                      <td>{caller.position || "next"}</td>
                      <td>{caller.caller}</td>
                      <td>{caller.state === "offered" ? "agents ringing" : "waiting"}</td>
                      <td>{formatSeconds(caller.waited_seconds + elapsed)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          <h2>Agents</h2>
          {board.agents.length === 0 ? (
            <p className="empty">The queue has no members.</p>
          ) : (
            <div className="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Agent</th>
                    <th scope="col">State</th>
                    <th scope="col">For</th>
                    <th scope="col">Calls today</th>
                  </tr>
                </thead>
                <tbody>
                  {board.agents.map((agent) => (
                    <tr key={agent.account_id} data-testid="wallboard-agent">
                      <td>{accountName(accounts.data, agent.account_id)}</td>
                      <td>{agentState(agent)}</td>
                      <td>{agent.seconds_in_state == null ? "—" : formatSeconds(agent.seconds_in_state + elapsed)}</td>
                      <td>{agent.calls_taken}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </>
      )}
    </section>
  );
}
