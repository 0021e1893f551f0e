import { useState } from "react";
import { api, type SipAccount, type Tenant } from "../api";
import { Field, Secret, formatTime } from "../components";
import { CreateForm, EditableTable, ListState, changed, useCollection } from "./shared";

// 20 random characters from the browser's CSPRNG, for a password reset.
function newPassword(): string {
  const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
  const bytes = crypto.getRandomValues(new Uint8Array(20));
  return Array.from(bytes, (b) => alphabet[b % alphabet.length]).join("");
}

// What to put into a softphone: shown once, right after the password is set.
function Credentials({ account, password, tenant }: { account: SipAccount; password: string; tenant: Tenant | null }) {
  return (
    <div className="card credentials" role="status" aria-live="polite" data-testid="sip-credentials">
      <h2>Softphone settings for {account.username}</h2>
      <p>The password is shown only now. Put these into the phone:</p>
      <dl className="facts">
        <dt>User name</dt>
        <dd>
          <code>{account.username}</code>
        </dd>
        <dt>Domain (realm)</dt>
        <dd>
          <code>{tenant?.sip_domain ?? "…"}</code>
        </dd>
        <dt>Extension</dt>
        <dd>{account.extension}</dd>
        <dt>Registrar / outbound proxy</dt>
        <dd data-testid="sip-registrar">
          {tenant?.sip_registrar ? (
            <code>{tenant.sip_registrar}</code>
          ) : (
            "the platform's SIP address, as your operator gives it"
          )}{" "}
          (UDP or TCP)
        </dd>
      </dl>
      <Secret label="Password" value={password} />
    </div>
  );
}

export function SipAccounts({ tenant }: { tenant: Tenant | null }) {
  const list = useCollection<SipAccount>("/v1/sip-accounts");
  const [username, setUsername] = useState("");
  const [extension, setExtension] = useState("");
  const [displayName, setDisplayName] = useState("");
  const [outbound, setOutbound] = useState(true);
  const [shown, setShown] = useState<{ account: SipAccount; password: string } | null>(null);

  const create = async () => {
    const account = await api<SipAccount>("POST", "/v1/sip-accounts", {
      body: {
        username: username.trim(),
        extension: extension.trim(),
        display_name: displayName,
        outbound_allowed: outbound,
      },
    });
    setShown({ account, password: account.password ?? "" });
    setUsername("");
    setExtension("");
    setDisplayName("");
    list.reload();
  };

  const resetPassword = async (account: SipAccount) => {
    if (!window.confirm(`Set a new password for ${account.username}? Its phones must be updated.`)) return;
    list.setActionError(null);
    const password = newPassword();
    try {
      const updated = await api<SipAccount>("PATCH", `/v1/sip-accounts/${account.id}`, { body: { password } });
      setShown({ account: updated, password });
    } catch (failure) {
      list.setActionError(failure);
    }
  };

  return (
    <section aria-labelledby="sip-title">
      <h1 id="sip-title">SIP accounts</h1>
      {shown && <Credentials account={shown.account} password={shown.password} tenant={tenant} />}
      <CreateForm title="Add a SIP account" submitText="Add account" onSubmit={create}>
        <Field label="User name" name="username" value={username} onChange={setUsername} required placeholder="alice" />
        <Field
          label="Extension"
          name="extension"
          value={extension}
          onChange={setExtension}
          required
          placeholder="101"
        />
        <Field
          label="Display name"
          name="display_name"
          value={displayName}
          onChange={setDisplayName}
          placeholder="Alice Smith"
        />
        <div className="field checkbox">
          <input
            id="field-outbound"
            type="checkbox"
            checked={outbound}
            onChange={(e) => setOutbound(e.target.checked)}
          />
          <label htmlFor="field-outbound">May call outside</label>
        </div>
      </CreateForm>
      <ListState list={list} what="SIP accounts" empty="No SIP accounts yet." />
      {list.data && list.data.length > 0 && (
        <EditableTable
          columns={["User name", "Extension", "Display name", "Outbound", "Added"]}
          rows={list.data}
          rowTestId="sip-row"
          name={(account) => account.username}
          cells={(account) => [
            <>
              {account.username}
              <span className="muted">@{tenant?.sip_domain ?? ""}</span>
            </>,
            account.extension,
            account.display_name || "—",
            account.outbound_allowed ? "allowed" : "no",
            formatTime(account.created_at),
          ]}
          fields={(account) => [
            { name: "extension", label: "Extension", value: account.extension },
            { name: "display_name", label: "Display name", value: account.display_name },
            {
              name: "outbound_allowed",
              label: "May call outside",
              value: String(account.outbound_allowed),
              kind: "checkbox",
            },
          ]}
          save={async (account, values, fields) => {
            const body: Record<string, unknown> = changed(fields, values);
            if ("outbound_allowed" in body) body.outbound_allowed = values.outbound_allowed === "true";
            await api("PATCH", `/v1/sip-accounts/${account.id}`, { body });
            list.reload();
          }}
          remove={(account) => list.remove(account, account.username)}
          actions={(account) => (
            <button
              type="button"
              className="small secondary"
              onClick={() => resetPassword(account)}
              aria-label={`New password for ${account.username}`}
            >
              New password
            </button>
          )}
        />
      )}
    </section>
  );
}
