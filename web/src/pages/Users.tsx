import { useState } from "react";
import { api, listAll, type SipAccount, type User } from "../api";
import { Field, Select, formatTime, useLoad } from "../components";
import { accountName } from "./Queues";
import { CreateForm, EditableTable, ListState, changed, useCollection } from "./shared";

export function Users() {
  const list = useCollection<User>("/v1/users");
  const [email, setEmail] = useState("");
  const [name, setName] = useState("");
  const [role, setRole] = useState("agent");
  const [password, setPassword] = useState("");
  const [account, setAccount] = useState("");
  const accounts = useLoad(() => listAll<SipAccount>("/v1/sip-accounts"), []);
  // A user may be the person at one SIP account (a queue agent's phone): it then sets that agent's
  // own queue state itself.
  const accountOptions: [string, string][] = [
    ["", "None"],
    ...(accounts.data ?? []).map((a): [string, string] => [a.id, accountName(accounts.data, a.id)]),
  ];

  const create = async () => {
    await api("POST", "/v1/users", {
      body: { email: email.trim(), name, role, password, sip_account_id: account },
    });
    setEmail("");
    setName("");
    setPassword("");
    setAccount("");
    list.reload();
  };

  return (
    <section aria-labelledby="users-title">
      <h1 id="users-title">Users</h1>
      <p className="muted">People who sign in to this dashboard.</p>
      <CreateForm title="Add a user" submitText="Add user" onSubmit={create}>
        <Field label="E-mail" name="email" type="email" value={email} onChange={setEmail} required />
        <Field label="Name" name="name" value={name} onChange={setName} />
        <Select
          label="Role"
          name="role"
          value={role}
          onChange={setRole}
          options={[
            ["owner", "Owner"],
            ["admin", "Admin"],
            ["agent", "Agent"],
          ]}
        />
        <Field
          label="Password"
          name="password"
          type="password"
          value={password}
          onChange={setPassword}
          required
          autoComplete="new-password"
        />
        <Select
          label="SIP account (queue agent)"
          name="sip_account_id"
          value={account}
          onChange={setAccount}
          options={accountOptions}
        />
      </CreateForm>
      <ListState list={list} what="users" empty="No users yet." />
      {list.data && list.data.length > 0 && (
        <EditableTable
          columns={["E-mail", "Name", "Role", "SIP account", "Added"]}
          rows={list.data}
          rowTestId="user-row"
          name={(user) => user.email}
          cells={(user) => [
            user.email,
            user.name || "—",
            user.role,
            user.sip_account_id ? accountName(accounts.data, user.sip_account_id) : "—",
            formatTime(user.created_at),
          ]}
          fields={(user) => [
            { name: "name", label: "Name", value: user.name },
            {
              name: "role",
              label: "Role",
              value: user.role,
              kind: "select",
              options: [
                ["owner", "Owner"],
                ["admin", "Admin"],
                ["agent", "Agent"],
              ],
            },
            { name: "password", label: "New password", value: "", kind: "password", hint: "Empty: unchanged" },
            {
              name: "sip_account_id",
              label: "SIP account (queue agent)",
              value: user.sip_account_id ?? "",
              kind: "select",
              options: accountOptions,
            },
          ]}
          save={async (user, values, fields) => {
            await api("PATCH", `/v1/users/${user.id}`, { body: changed(fields, values) });
            list.reload();
          }}
          remove={(user) => list.remove(user, user.email)}
        />
      )}
    </section>
  );
}
