import { useState, type FormEvent, type ReactNode } from "react";
import { api, listAll, queueStrategies, type Agent, type Queue, type SipAccount } from "../api";
import { ErrorBox, Field, Select, useLoad } from "../components";
import { Link } from "../router";
import { ListState, useCollection } from "./shared";

// The numeric settings of a queue, with the API's defaults and what each means.
const numbers: [keyof Queue, string, string][] = [
  ["ring_timeout_seconds", "Ring an agent for (s)", "5 to 120"],
  ["ring_at_once", "Agents rung at once", "1 to 20 (ring all rings every free agent)"],
  ["wrapup_seconds", "Wrap-up after a call (s)", "0 to 3600"],
  ["max_wait_seconds", "Maximum wait (s)", "0: none; 10 to 86400, then the plan's overflow"],
  ["max_callers", "Maximum callers waiting", "0: no limit; at most 10000"],
  ["announce_every_seconds", "Announce position every (s)", "0: never; 5 to 600"],
  ["pause_after_misses", "Pause an agent after misses", "0: never; at most 100"],
  ["retry_seconds", "Rest after a miss (s)", "1 to 300: no offer meanwhile"],
  ["service_level_seconds", "Service level (s)", "5 to 600: answered within this counts"],
];
const defaults: Record<string, string> = {
  ring_timeout_seconds: "15",
  ring_at_once: "1",
  wrapup_seconds: "0",
  max_wait_seconds: "0",
  max_callers: "0",
  announce_every_seconds: "0",
  pause_after_misses: "0",
  retry_seconds: "5",
  service_level_seconds: "20",
};

export function accountName(accounts: SipAccount[] | undefined, id: string): string {
  const account = accounts?.find((a) => a.id === id);
  return account ? `${account.extension} · ${account.username}` : id;
}

// Creates a queue (no `queue`) or edits one: every setting, and the members with their penalties.
function QueueForm(props: { queue?: Queue; accounts: SipAccount[]; onSaved: () => void; onCancel?: () => void }) {
  const { queue, accounts } = props;
  const [name, setName] = useState(queue?.name ?? "");
  const [strategy, setStrategy] = useState(queue?.strategy ?? "longest_idle");
  const [music, setMusic] = useState(queue?.music_prompt ?? "");
  const [values, setValues] = useState<Record<string, string>>(
    Object.fromEntries(numbers.map(([key]) => [key, queue ? String(queue[key]) : defaults[key]])),
  );
  // Penalty by member account id; an account not in it is no member.
  const [members, setMembers] = useState<Record<string, string>>(
    Object.fromEntries((queue?.members ?? []).map((m) => [m.account_id, String(m.penalty)])),
  );
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const title = queue ? `Edit ${queue.name}` : "Add a queue";

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    const body: Record<string, unknown> = { name: name.trim(), strategy, music_prompt: music.trim() };
    for (const [key] of numbers) body[key] = Number(values[key] || "0");
    // In the order the accounts are listed: the linear strategy rings members in this order.
    body.members = accounts
      .filter((a) => a.id in members)
      .map((a) => ({ account_id: a.id, penalty: Number(members[a.id] || "0") }));
    try {
      await api(queue ? "PUT" : "POST", queue ? `/v1/queues/${queue.id}` : "/v1/queues", { body });
      if (!queue) {
        setName("");
        setMembers({});
      }
      props.onSaved();
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className={queue ? "edit" : "card create"} onSubmit={submit} aria-label={title}>
      {queue ? <h3>{title}</h3> : <h2>{title}</h2>}
      <div className="grid">
        <Field label="Name" name="name" value={name} onChange={setName} required placeholder="Sales" error={error} />
        <Select label="Strategy" name="strategy" value={strategy} onChange={setStrategy} options={queueStrategies} />
        {numbers.map(([key, label, hint]) => (
          <Field
            key={key}
            label={label}
            name={key}
            type="number"
            value={values[key]}
            hint={hint}
            error={error}
            onChange={(value) => setValues({ ...values, [key]: value })}
          />
        ))}
        <Field
          label="Music on hold (prompt name)"
          name="music_prompt"
          value={music}
          onChange={setMusic}
          hint="empty: a ringing tone"
          error={error}
        />
      </div>
      <fieldset className="members">
        <legend>Members (lower penalty is offered first)</legend>
        {accounts.length === 0 && <p className="empty">Add SIP accounts first: agents are SIP accounts.</p>}
        {accounts.map((account) => {
          const id = `member-${queue?.id ?? "new"}-${account.id}`;
          const member = account.id in members;
          return (
            <div className="member" key={account.id}>
              <input
                id={id}
                type="checkbox"
                checked={member}
                onChange={(e) => {
                  const next = { ...members };
                  if (e.target.checked) next[account.id] = "0";
                  else delete next[account.id];
                  setMembers(next);
                }}
              />
              <label htmlFor={id}>{accountName(accounts, account.id)}</label>
              {member && (
                <input
                  type="number"
                  min={0}
                  aria-label={`Penalty of ${account.username}`}
                  value={members[account.id]}
                  onChange={(e) => setMembers({ ...members, [account.id]: e.target.value })}
                />
              )}
            </div>
          );
        })}
      </fieldset>
      <ErrorBox error={error} />
      <div className="row-actions">
        <button type="submit" disabled={busy}>
          {busy ? "Saving…" : queue ? "Save" : "Add queue"}
        </button>
        {props.onCancel && (
          <button type="button" className="secondary" onClick={props.onCancel}>
            Cancel
          </button>
        )}
      </div>
    </form>
  );
}

const stateNames: Record<Agent["state"], string> = {
  available: "Available",
  ringing: "Ringing",
  on_call: "On a call",
  wrap_up: "Wrap-up",
  paused: "Paused",
  logged_out: "Logged out",
};

// What an agent's own state can be set to, and the button that sets it.
const agentActions: [Agent["state"], string][] = [
  ["available", "Available"],
  ["paused", "Pause"],
  ["logged_out", "Log out"],
];

export function agentState(agent: Agent): string {
  return stateNames[agent.state] + (agent.reason ? ` (${agent.reason})` : "");
}

// The agents' own states: available, paused with a reason, or logged out (the calls set the rest).
// `queues`: read again when they change (a new member is a new agent). Owners and admins set any
// agent's state; a user linked to a SIP account (`ownAccount`) sets its own.
function Agents(props: { accounts: SipAccount[]; canChange: boolean; ownAccount: string; queues: unknown }) {
  const { accounts, canChange, ownAccount, queues } = props;
  const mayChange = (agent: Agent) => canChange || agent.account_id === ownAccount;
  const agents = useLoad(() => listAll<Agent>("/v1/agents"), [queues]);
  const [error, setError] = useState<unknown>(null);
  const [pauseReason, setPauseReason] = useState("break");
  const set = async (agent: Agent, state: string) => {
    const reason = state === "paused" ? pauseReason.trim() : "";
    setError(null);
    try {
      await api("PUT", `/v1/agents/${agent.account_id}/state`, { body: { state, reason } });
      agents.reload();
    } catch (failure) {
      setError(failure);
    }
  };
  return (
    <>
      <h2>Agents</h2>
      {(canChange || ownAccount) && (
        <div className="narrow">
          <Field
            label="Reason for pausing"
            name="reason"
            value={pauseReason}
            onChange={setPauseReason}
            hint="shown on the wallboard"
            error={error}
          />
        </div>
      )}
      <ErrorBox error={error} />
      <ListState
        list={{ ...agents, actionError: null }}
        what="agents"
        empty="No agents yet: make SIP accounts members of a queue."
      />
      {agents.data && agents.data.length > 0 && (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Agent</th>
                <th scope="col">State</th>
                <th scope="col">Calls today</th>
                <th scope="col">Missed in a row</th>
                {(canChange || ownAccount) && (
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                )}
              </tr>
            </thead>
            <tbody>
              {agents.data.map((agent) => (
                <tr key={agent.account_id} data-testid="agent-row">
                  <td>{accountName(accounts, agent.account_id)}</td>
                  <td>{agentState(agent)}</td>
                  <td>{agent.calls_taken}</td>
                  <td>{agent.misses}</td>
                  {(canChange || ownAccount) && (
                    <td className="row-actions">
                      {mayChange(agent) &&
                        agentActions.map(([state, action]) => (
                          <button
                            key={state}
                            type="button"
                            className="small secondary"
                            disabled={agent.state === state}
                            aria-label={`${action}: ${accountName(accounts, agent.account_id)}`}
                            onClick={() => set(agent, state)}
                          >
                            {action}
                          </button>
                        ))}
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}

export function Queues({ canChange, ownAccount }: { canChange: boolean; ownAccount: string }) {
  const list = useCollection<Queue>("/v1/queues");
  const accounts = useLoad(() => listAll<SipAccount>("/v1/sip-accounts"), []);
  const [editing, setEditing] = useState("");
  const strategyName = (value: string) => queueStrategies.find(([v]) => v === value)?.[1] ?? value;
  return (
    <section aria-labelledby="queues-title">
      <h1 id="queues-title">Queues</h1>
      <p className="muted">
        Send callers to a queue with a dial plan node{" "}
        <code>{'{"type": "queue", "queue": "<id>", "then": "<node>"}'}</code>; they wait in line for the next free
        agent.
      </p>
      {canChange && accounts.data && <QueueForm accounts={accounts.data} onSaved={list.reload} />}
      <ListState list={list} what="queues" empty="No queues yet." />
      {list.data && list.data.length > 0 && (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Strategy</th>
                <th scope="col">Members</th>
                <th scope="col">Id (for the dial plan)</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.data.map((queue) => (
                <QueueRow
                  key={queue.id}
                  queue={queue}
                  strategy={strategyName(queue.strategy)}
                  members={queue.members.map((m) => accountName(accounts.data, m.account_id)).join(", ") || "—"}
                  canChange={canChange}
                  editing={editing === queue.id}
                  setEditing={(on) => setEditing(on ? queue.id : "")}
                  remove={() => list.remove(queue, queue.name)}
                  form={
                    accounts.data && (
                      <QueueForm
                        queue={queue}
                        accounts={accounts.data}
                        onSaved={() => {
                          setEditing("");
                          list.reload();
                        }}
                        onCancel={() => setEditing("")}
                      />
                    )
                  }
                />
              ))}
            </tbody>
          </table>
        </div>
      )}
      {accounts.data && (
        <Agents accounts={accounts.data} canChange={canChange} ownAccount={ownAccount} queues={list.data} />
      )}
    </section>
  );
}

function QueueRow(props: {
  queue: Queue;
  strategy: string;
  members: string;
  canChange: boolean;
  editing: boolean;
  setEditing: (on: boolean) => void;
  remove: () => void;
  form: ReactNode;
}) {
  const { queue } = props;
  return (
    <>
      <tr data-testid="queue-row">
        <td>{queue.name}</td>
        <td>{props.strategy}</td>
        <td>{props.members}</td>
        <td>
          <code>{queue.id}</code>
        </td>
        <td className="row-actions">
          <Link to={`/queues/${queue.id}`}>Wallboard</Link>
          {props.canChange && (
            <>
              <button
                type="button"
                className="small secondary"
                onClick={() => props.setEditing(true)}
                aria-label={`Edit ${queue.name}`}
              >
                Edit
              </button>
              <button type="button" className="small danger" onClick={props.remove} aria-label={`Delete ${queue.name}`}>
                Delete
              </button>
            </>
          )}
        </td>
      </tr>
      {props.editing && (
        <tr>
          <td colSpan={5}>{props.form}</td>
        </tr>
      )}
    </>
  );
}
