import { useState } from "react";
import { api, type Tenant } from "../api";
import { Loading } from "../components";
import { EditForm, changed, type EditField } from "./shared";

// The tenant itself: its name and time zone (editable), its SIP domain and where phones register.
export function Company({ tenant, onChanged }: { tenant: Tenant | null; onChanged: (tenant: Tenant) => void }) {
  const [editing, setEditing] = useState(false);
  if (!tenant) return <Loading what="the company" />;
  const fields: EditField[] = [
    { name: "name", label: "Company name", value: tenant.name },
    { name: "timezone", label: "Time zone", value: tenant.timezone, hint: "IANA name, e.g. Europe/Kyiv" },
  ];
  return (
    <section aria-labelledby="company-title">
      <h1 id="company-title">Company</h1>
      <dl className="facts" data-testid="company">
        <dt>Name</dt>
        <dd>{tenant.name}</dd>
        <dt>Time zone</dt>
        <dd>{tenant.timezone}</dd>
        <dt>SIP domain</dt>
        <dd>
          <code>{tenant.sip_domain}</code> (fixed: phones' passwords depend on it)
        </dd>
        <dt>Phones register at</dt>
        <dd>{tenant.sip_registrar ? <code>{tenant.sip_registrar}</code> : "ask your operator"}</dd>
        <dt>Tenant id</dt>
        <dd>
          <code>{tenant.id}</code>
        </dd>
      </dl>
      {editing ? (
        <div className="card">
          <EditForm
            title="Edit the company"
            fields={fields}
            onCancel={() => setEditing(false)}
            onSave={async (values) => {
              onChanged(await api<Tenant>("PATCH", `/v1/tenants/${tenant.id}`, { body: changed(fields, values) }));
              setEditing(false);
            }}
          />
        </div>
      ) : (
        <button type="button" className="secondary" onClick={() => setEditing(true)}>
          Edit
        </button>
      )}
    </section>
  );
}
