import { useState } from "react";
import { api, type User } from "../api";
import { Field, Select, formatTime } from "../components";
import { CreateForm, EditableTable, ListState, changed, useCollection } from "./shared";

export function Users() {
  const list = useCollection<User>("/v1/users");
  const [email, setEmail] = useState("");
  const [name, setName] = useState("");
  const [role, setRole] = useState("agent");
  const [password, setPassword] = useState("");

  const create = async () => {
    await api("POST", "/v1/users", { body: { email: email.trim(), name, role, password } });
    setEmail("");
    setName("");
    setPassword("");
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
      </CreateForm>
      <ListState list={list} what="users" empty="No users yet." />
      {list.data && list.data.length > 0 && (
        <EditableTable
          columns={["E-mail", "Name", "Role", "Added"]}
          rows={list.data}
          rowTestId="user-row"
          name={(user) => user.email}
          cells={(user) => [user.email, user.name || "—", user.role, formatTime(user.created_at)]}
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
