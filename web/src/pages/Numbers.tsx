import { useState } from "react";
import { api, type NumberRoute, type PhoneNumber } from "../api";
import { ErrorBox, Field, Select, formatTime } from "../components";
import { CreateForm, ListState, useCollection } from "./shared";

function routeText(route: NumberRoute): string {
  if (route.kind === "extensions") return `rings ${route.extensions.join(", ")} (${route.ring_timeout_seconds} s)`;
  if (route.kind === "external") return `forwards to ${route.external} (${route.ring_timeout_seconds} s)`;
  return "not routed";
}

function routeBody(kind: string, extensions: string, external: string, ringTimeout: string) {
  return {
    kind,
    extensions: kind === "extensions" ? extensions.split(/[\s,]+/).filter(Boolean) : [],
    external: kind === "external" ? external.trim() : "",
    ring_timeout_seconds: Number(ringTimeout) || 30,
  };
}

function RouteFields(props: {
  kind: string;
  setKind: (v: string) => void;
  extensions: string;
  setExtensions: (v: string) => void;
  external: string;
  setExternal: (v: string) => void;
  ringTimeout: string;
  setRingTimeout: (v: string) => void;
  prefix: string;
}) {
  return (
    <>
      <Select
        label="Route"
        name={`${props.prefix}route.kind`}
        value={props.kind}
        onChange={props.setKind}
        options={[
          ["none", "Not routed"],
          ["extensions", "Ring extensions"],
          ["external", "Forward to a number or SIP URI"],
        ]}
      />
      {props.kind === "extensions" && (
        <Field
          label="Extensions"
          name={`${props.prefix}route.extensions`}
          value={props.extensions}
          onChange={props.setExtensions}
          placeholder="101, 102"
          hint="Rung in parallel"
        />
      )}
      {props.kind === "external" && (
        <Field
          label="Forward to"
          name={`${props.prefix}route.external`}
          value={props.external}
          onChange={props.setExternal}
          placeholder="+380441234567 or sip:desk@pbx.example.com"
        />
      )}
      {props.kind !== "none" && (
        <Field
          label="Ring timeout (s)"
          name={`${props.prefix}route.ring_timeout_seconds`}
          type="number"
          value={props.ringTimeout}
          onChange={props.setRingTimeout}
        />
      )}
    </>
  );
}

function EditRoute({ number, onDone }: { number: PhoneNumber; onDone: () => void }) {
  const [kind, setKind] = useState<string>(number.route.kind);
  const [extensions, setExtensions] = useState(number.route.extensions.join(", "));
  const [external, setExternal] = useState(number.route.external);
  const [ringTimeout, setRingTimeout] = useState(String(number.route.ring_timeout_seconds || 30));
  const [label, setLabel] = useState(number.label);
  const [channels, setChannels] = useState(String(number.channels));
  const [error, setError] = useState<unknown>(null);
  const save = async () => {
    setError(null);
    try {
      await api("PATCH", `/v1/numbers/${number.id}`, {
        body: { label, channels: Number(channels), route: routeBody(kind, extensions, external, ringTimeout) },
      });
      onDone();
    } catch (failure) {
      setError(failure);
    }
  };
  return (
    <div className="edit" aria-label={`Edit ${number.e164}`} role="group">
      <div className="grid">
        <Field label="Label" name="edit-label" value={label} onChange={setLabel} />
        <Field label="Channels" name="edit-channels" type="number" value={channels} onChange={setChannels} />
        <RouteFields
          prefix="edit-"
          {...{ kind, setKind, extensions, setExtensions, external, setExternal, ringTimeout, setRingTimeout }}
        />
      </div>
      <ErrorBox error={error} />
      <button type="button" onClick={save}>
        Save
      </button>{" "}
      <button type="button" className="secondary" onClick={onDone}>
        Cancel
      </button>
    </div>
  );
}

export function Numbers() {
  const list = useCollection<PhoneNumber>("/v1/numbers");
  const [e164, setE164] = useState("");
  const [label, setLabel] = useState("");
  const [channels, setChannels] = useState("2");
  const [kind, setKind] = useState("extensions");
  const [extensions, setExtensions] = useState("");
  const [external, setExternal] = useState("");
  const [ringTimeout, setRingTimeout] = useState("30");
  const [editing, setEditing] = useState("");

  const create = async () => {
    await api("POST", "/v1/numbers", {
      body: {
        e164: e164.trim(),
        label,
        channels: Number(channels),
        route: routeBody(kind, extensions, external, ringTimeout),
      },
    });
    setE164("");
    setLabel("");
    list.reload();
  };

  return (
    <section aria-labelledby="numbers-title">
      <h1 id="numbers-title">Numbers</h1>
      <CreateForm title="Add a number" submitText="Add number" onSubmit={create}>
        <Field
          label="Number (E.164)"
          name="e164"
          value={e164}
          onChange={setE164}
          required
          placeholder="+380441234567"
        />
        <Field label="Label" name="label" value={label} onChange={setLabel} placeholder="Main line" />
        <Field
          label="Channels"
          name="channels"
          type="number"
          value={channels}
          onChange={setChannels}
          hint="Concurrent calls"
        />
        <RouteFields
          prefix=""
          {...{ kind, setKind, extensions, setExtensions, external, setExternal, ringTimeout, setRingTimeout }}
        />
      </CreateForm>
      <ListState list={list} what="numbers" empty="No numbers yet: add the first one above." />
      {list.data && list.data.length > 0 && (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Number</th>
                <th scope="col">Label</th>
                <th scope="col">Channels</th>
                <th scope="col">Route</th>
                <th scope="col">Added</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.data.map((number) => (
                <tr key={number.id} data-testid="number-row">
                  <td>{number.e164}</td>
                  <td>{number.label || "—"}</td>
                  <td>{number.channels}</td>
                  <td>
                    {editing === number.id ? (
                      <EditRoute
                        number={number}
                        onDone={() => {
                          setEditing("");
                          list.reload();
                        }}
                      />
                    ) : (
                      routeText(number.route)
                    )}
                  </td>
                  <td>{formatTime(number.created_at)}</td>
                  <td className="row-actions">
                    <button
                      type="button"
                      className="small secondary"
                      onClick={() => setEditing(number.id)}
                      aria-label={`Edit ${number.e164}`}
                    >
                      Edit
                    </button>
                    <button
                      type="button"
                      className="small danger"
                      onClick={() => list.remove(number, number.e164)}
                      aria-label={`Delete ${number.e164}`}
                    >
                      Delete
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
