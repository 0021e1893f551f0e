import { useState } from "react";
import { api, type ApiKey } from "../api";
import { Field, Secret, formatTime } from "../components";
import { CreateForm, ListState, useCollection } from "./shared";

export function ApiKeys() {
  const list = useCollection<ApiKey>("/v1/api-keys");
  const [name, setName] = useState("");
  const [created, setCreated] = useState<ApiKey | null>(null);

  const create = async () => {
    setCreated(await api<ApiKey>("POST", "/v1/api-keys", { body: { name } }));
    setName("");
    list.reload();
  };
  const revoke = async (key: ApiKey) => {
    if (!window.confirm(`Revoke ${key.name || key.prefix}? Clients using it stop working at once.`)) return;
    list.setActionError(null);
    try {
      await api("DELETE", `/v1/api-keys/${key.id}`);
      list.reload();
    } catch (failure) {
      list.setActionError(failure);
    }
  };

  return (
    <section aria-labelledby="keys-title">
      <h1 id="keys-title">API keys</h1>
      <p className="muted">
        For CRMs and scripts: send as <code>Authorization: Bearer &lt;key&gt;</code>.
      </p>
      {created?.secret && (
        <div className="card" role="status">
          <p>The key is shown only now.</p>
          <Secret label={created.name || "New key"} value={created.secret} />
        </div>
      )}
      <CreateForm title="Create a key" submitText="Create key" onSubmit={create}>
        <Field label="Name" name="name" value={name} onChange={setName} placeholder="CRM" />
      </CreateForm>
      <ListState list={list} what="API keys" empty="No API keys." />
      {list.data && list.data.length > 0 && (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Prefix</th>
                <th scope="col">Created</th>
                <th scope="col">Status</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.data.map((key) => (
                <tr key={key.id} data-testid="key-row">
                  <td>{key.name || "—"}</td>
                  <td>
                    <code>{key.prefix}</code>
                  </td>
                  <td>{formatTime(key.created_at)}</td>
                  <td>{key.revoked_at ? `revoked ${formatTime(key.revoked_at)}` : "active"}</td>
                  <td className="row-actions">
                    {!key.revoked_at && (
                      <button
                        type="button"
                        className="small danger"
                        onClick={() => revoke(key)}
                        aria-label={`Revoke ${key.name || key.prefix}`}
                      >
                        Revoke
                      </button>
                    )}
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
