import { Fragment, useState } from "react";
import { api, type User } from "../api";
import { ErrorBox, Field, Select, formatTime } from "../components";
import { CreateForm, EditForm, ListState, changed, useCollection, type EditField } from "./shared";

export function Users() {
  const list = useCollection<User>("/v1/users");
  const [email, setEmail] = useState("");
  const [name, setName] = useState("");
  const [role, setRole] = useState("agent");
  const [password, setPassword] = useState("");
  const [editing, setEditing] = useState("");

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
      <ErrorBox error={list.actionError} />
      <ListState
        loading={list.loading}
        error={list.error}
        count={list.data?.length}
        what="users"
        empty="No users yet."
      />
      {list.data && list.data.length > 0 && (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">E-mail</th>
                <th scope="col">Name</th>
                <th scope="col">Role</th>
                <th scope="col">Added</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.data.map((user) => {
                const fields: EditField[] = [
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
                ];
                return (
                  <Fragment key={user.id}>
                    <tr data-testid="user-row">
                      <td>{user.email}</td>
                      <td>{user.name || "—"}</td>
                      <td>{user.role}</td>
                      <td>{formatTime(user.created_at)}</td>
                      <td className="row-actions">
                        <button
                          type="button"
                          className="small secondary"
                          onClick={() => setEditing(user.id)}
                          aria-label={`Edit ${user.email}`}
                        >
                          Edit
                        </button>
                        <button
                          type="button"
                          className="small danger"
                          onClick={() => list.remove(user, user.email)}
                          aria-label={`Delete ${user.email}`}
                        >
                          Delete
                        </button>
                      </td>
                    </tr>
                    {editing === user.id && (
                      <tr>
                        <td colSpan={5}>
                          <EditForm
                            title={`Edit ${user.email}`}
                            fields={fields}
                            onCancel={() => setEditing("")}
                            onSave={async (values) => {
                              await api("PATCH", `/v1/users/${user.id}`, { body: changed(fields, values) });
                              setEditing("");
                              list.reload();
                            }}
                          />
                        </td>
                      </tr>
                    )}
                  </Fragment>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
