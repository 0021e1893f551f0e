import { useState } from "react";
import { api, type ApiKey, type Tenant } from "../api";
import { Field, formatTime } from "../components";
import { CreateForm, EditableTable, ListState, changed, useCollection } from "./shared";

// The operator's view: tenants, and a new tenant with its first dashboard user. The API creates
// users only with a tenant's key, so set-up makes a key, creates the owner with it and revokes it.
export function Tenants() {
  const list = useCollection<Tenant>("/v1/tenants");
  const [name, setName] = useState("");
  const [timezone, setTimezone] = useState(Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC");
  const [sipDomain, setSipDomain] = useState("");
  const [ownerEmail, setOwnerEmail] = useState("");
  const [ownerName, setOwnerName] = useState("");
  const [ownerPassword, setOwnerPassword] = useState("");
  const [done, setDone] = useState("");

  const create = async () => {
    setDone("");
    const body: Record<string, string> = { name, timezone };
    if (sipDomain.trim()) body.sip_domain = sipDomain.trim();
    const tenant = await api<Tenant>("POST", "/v1/tenants", { body });
    list.reload();
    if (ownerEmail) {
      const key = await api<ApiKey>("POST", `/v1/tenants/${tenant.id}/api-keys`, {
        body: { name: "dashboard set-up" },
      });
      try {
        await api("POST", "/v1/users", {
          bearer: key.secret,
          body: { email: ownerEmail.trim(), name: ownerName, role: "owner", password: ownerPassword },
        });
      } catch (failure) {
        throw new Error(`Tenant ${tenant.name} was created, but its owner was not: ${(failure as Error).message}`);
      } finally {
        await api("DELETE", `/v1/api-keys/${key.id}`, { bearer: key.secret }).catch(() => undefined);
      }
    }
    setDone(
      `Created ${tenant.name} (SIP domain ${tenant.sip_domain})${ownerEmail ? `; ${ownerEmail} can sign in now` : ""}.`,
    );
    setName("");
    setSipDomain("");
    setOwnerEmail("");
    setOwnerName("");
    setOwnerPassword("");
  };

  return (
    <section aria-labelledby="tenants-title">
      <h1 id="tenants-title">Tenants</h1>
      {done && (
        <p className="notice" role="status">
          {done}
        </p>
      )}
      <CreateForm title="Create a tenant" submitText="Create tenant" onSubmit={create}>
        <Field label="Company name" name="name" value={name} onChange={setName} required />
        <Field
          label="Time zone"
          name="timezone"
          value={timezone}
          onChange={setTimezone}
          hint="IANA name, e.g. Europe/Kyiv"
        />
        <Field
          label="SIP domain (optional)"
          name="sip_domain"
          value={sipDomain}
          onChange={setSipDomain}
          hint="Derived from the name when empty"
        />
        <Field label="Owner e-mail" name="owner_email" type="email" value={ownerEmail} onChange={setOwnerEmail} />
        <Field label="Owner name" name="owner_name" value={ownerName} onChange={setOwnerName} />
        <Field
          label="Owner password"
          name="owner_password"
          type="password"
          value={ownerPassword}
          onChange={setOwnerPassword}
          autoComplete="new-password"
          hint="At least 12 characters"
        />
      </CreateForm>
      <ListState list={list} what="tenants" empty="No tenants yet." />
      {list.data && list.data.length > 0 && (
        <EditableTable
          columns={["Name", "SIP domain", "Time zone", "Created"]}
          rows={list.data}
          rowTestId="tenant-row"
          name={(tenant) => tenant.name}
          cells={(tenant) => [tenant.name, tenant.sip_domain, tenant.timezone, formatTime(tenant.created_at)]}
          fields={(tenant) => [
            { name: "name", label: "Company name", value: tenant.name },
            { name: "timezone", label: "Time zone", value: tenant.timezone },
          ]}
          save={async (tenant, values, fields) => {
            await api("PATCH", `/v1/tenants/${tenant.id}`, { body: changed(fields, values) });
            list.reload();
          }}
          remove={(tenant) => list.remove(tenant, `the tenant ${tenant.name} with all its data`)}
        />
      )}
    </section>
  );
}
