import { useState } from "react";
import { api, type Carrier } from "../api";
import { Field, formatTime } from "../components";
import { CreateForm, EditableTable, ListState, changed, useCollection } from "./shared";

// What sip-edge last said about the platform's registration to the carrier.
function registrationText(carrier: Carrier): string {
  const registration = carrier.registration;
  if (!registration) return "—";
  const who = registration.username;
  switch (registration.state) {
    case "registered":
      return `${who}: registered until ${formatTime(registration.registered_until ?? "")}`;
    case "failed":
      return `${who}: failed (${registration.reason})`;
    case "registering":
      return `${who}: registering…`;
    default:
      return `${who}: waiting for sip-edge`;
  }
}

export function Carriers() {
  const list = useCollection<Carrier>("/v1/carriers");
  const [name, setName] = useState("");
  const [addresses, setAddresses] = useState("");
  const [outboundUri, setOutboundUri] = useState("");
  const [callerId, setCallerId] = useState("");
  const [authUsername, setAuthUsername] = useState("");
  const [authPassword, setAuthPassword] = useState("");
  const [registerAs, setRegisterAs] = useState("");
  const [registerPassword, setRegisterPassword] = useState("");

  const create = async () => {
    const body: Record<string, unknown> = {
      name,
      addresses: addresses.split(/[\s,]+/).filter(Boolean),
      outbound_uri: outboundUri.trim(),
      caller_id: callerId.trim(),
    };
    if (authUsername || authPassword) {
      body.auth_username = authUsername.trim();
      body.auth_password = authPassword;
    }
    if (registerAs || registerPassword) {
      body.registration = { username: registerAs.trim(), password: registerPassword };
    }
    await api("POST", "/v1/carriers", { body });
    setName("");
    setAddresses("");
    setOutboundUri("");
    setCallerId("");
    setAuthUsername("");
    setAuthPassword("");
    setRegisterAs("");
    setRegisterPassword("");
    list.reload();
  };

  return (
    <section aria-labelledby="carriers-title">
      <h1 id="carriers-title">Carriers</h1>
      <p className="muted">SIP trunks: where inbound calls may come from and where outbound calls go.</p>
      <CreateForm title="Add a carrier" submitText="Add carrier" onSubmit={create}>
        <Field label="Name" name="name" value={name} onChange={setName} required />
        <Field
          label="Source addresses"
          name="addresses"
          value={addresses}
          onChange={setAddresses}
          placeholder="192.0.2.10, 198.51.100.0/24"
          hint="IPs or CIDR blocks, comma-separated"
        />
        <Field
          label="Outbound URI"
          name="outbound_uri"
          value={outboundUri}
          onChange={setOutboundUri}
          placeholder="sip:trunk.example.net"
        />
        <Field label="Caller ID" name="caller_id" value={callerId} onChange={setCallerId} placeholder="+380441234567" />
        <Field label="Digest user (optional)" name="auth_username" value={authUsername} onChange={setAuthUsername} />
        <Field
          label="Digest password"
          name="auth_password"
          type="password"
          value={authPassword}
          onChange={setAuthPassword}
          autoComplete="new-password"
        />
        <Field
          label="Register as (optional)"
          name="registration_username"
          value={registerAs}
          onChange={setRegisterAs}
          hint="For gateways and trunks that want the PBX to register to the outbound URI"
        />
        <Field
          label="Registration password"
          name="registration_password"
          type="password"
          value={registerPassword}
          onChange={setRegisterPassword}
          autoComplete="new-password"
        />
      </CreateForm>
      <ListState list={list} what="carriers" empty="No carriers yet." />
      {list.data && list.data.length > 0 && (
        <EditableTable
          columns={["Name", "Source addresses", "Outbound URI", "Caller ID", "Digest user", "Registration", "Added"]}
          rows={list.data}
          rowTestId="carrier-row"
          name={(carrier) => carrier.name}
          cells={(carrier) => [
            carrier.name,
            carrier.addresses.join(", ") || "—",
            carrier.outbound_uri || "inbound only",
            carrier.caller_id || "—",
            carrier.auth_username || "—",
            registrationText(carrier),
            formatTime(carrier.created_at),
          ]}
          fields={(carrier) => [
            { name: "name", label: "Name", value: carrier.name },
            { name: "addresses", label: "Source addresses", value: carrier.addresses.join(", ") },
            { name: "outbound_uri", label: "Outbound URI", value: carrier.outbound_uri },
            { name: "caller_id", label: "Caller ID", value: carrier.caller_id },
            {
              name: "auth_username",
              label: "Digest user",
              value: carrier.auth_username,
              hint: "Empty with an empty password: none",
            },
            {
              name: "auth_password",
              label: "Digest password",
              value: "",
              kind: "password",
              hint: "Needed to change the user",
            },
            {
              name: "registration_username",
              label: "Register as",
              value: carrier.registration?.username ?? "",
              hint: "Empty: the platform does not register",
            },
            {
              name: "registration_password",
              label: "Registration password",
              value: "",
              kind: "password",
              hint: "Empty keeps the stored one",
            },
          ]}
          save={async (carrier, values, fields) => {
            const body: Record<string, unknown> = changed(fields, values);
            if ("addresses" in body) body.addresses = values.addresses.split(/[\s,]+/).filter(Boolean);
            // The credentials change as a pair: both sent when either changed.
            if ("auth_username" in body || "auth_password" in body) {
              body.auth_username = values.auth_username.trim();
              body.auth_password = values.auth_password;
            }
            if ("registration_username" in body || "registration_password" in body) {
              delete body.registration_username;
              delete body.registration_password;
              const username = values.registration_username.trim();
              // The object replaces the settings: the domain and expiry set through the API are kept.
              body.registration = username
                ? {
                    username,
                    ...(carrier.registration
                      ? { domain: carrier.registration.domain, expires_seconds: carrier.registration.expires_seconds }
                      : {}),
                    ...(values.registration_password ? { password: values.registration_password } : {}),
                  }
                : null;
            }
            await api("PATCH", `/v1/carriers/${carrier.id}`, { body });
            list.reload();
          }}
          remove={(carrier) => list.remove(carrier, carrier.name)}
        />
      )}
    </section>
  );
}
