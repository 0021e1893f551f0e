import { Fragment, useState, type FormEvent, type ReactNode } from "react";
import { ApiError, api, listAll } from "../api";
import { Empty, ErrorBox, Loading, useLoad } from "../components";

// A settings page's list: every row of the tenant (newest first), its delete action and reload.
export function useCollection<T extends { id: string }>(collection: string) {
  const state = useLoad(() => listAll<T>(collection), [collection]);
  const [actionError, setActionError] = useState<unknown>(null);
  const remove = async (item: T, what: string) => {
    if (!window.confirm(`Delete ${what}?`)) return;
    setActionError(null);
    try {
      await api("DELETE", `${collection}/${encodeURIComponent(item.id)}`);
      state.reload();
    } catch (failure) {
      setActionError(failure);
    }
  };
  return { ...state, actionError, setActionError, remove };
}

// A create form that posts, shows the API's error (naming the field) and reports the result.
export function CreateForm(props: {
  title: string;
  submitText: string;
  onSubmit: () => Promise<void>;
  children: ReactNode;
}) {
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await props.onSubmit();
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="card create" onSubmit={submit} aria-label={props.title}>
      <h2>{props.title}</h2>
      <div className="grid">{props.children}</div>
      <ErrorBox error={error} />
      <button type="submit" disabled={busy}>
        {busy ? "Saving…" : props.submitText}
      </button>
    </form>
  );
}

// A list's state above its table: the last failed row action, then loading, load error or empty.
export function ListState(props: {
  list: { loading: boolean; error: unknown; data: unknown[] | undefined | null; actionError: unknown };
  what: string;
  empty: string;
}) {
  const { list } = props;
  const count = list.data?.length;
  let state: ReactNode = null;
  if (list.error) state = <ErrorBox error={list.error} />;
  else if (list.loading && count === undefined) state = <Loading what={props.what} />;
  else if (count === 0) state = <Empty>{props.empty}</Empty>;
  return (
    <>
      <ErrorBox error={list.actionError} />
      {state}
    </>
  );
}

export interface EditField {
  name: string;
  label: string;
  value: string;
  kind?: "text" | "password" | "select" | "checkbox";
  options?: [string, string][];
  hint?: string;
}

// An edit form for one row: each field starts at the row's value; saving hands the values (as
// strings, "true"/"false" for checkboxes) to the page, which PATCHes what changed.
export function EditForm(props: {
  title: string;
  fields: EditField[];
  onSave: (values: Record<string, string>) => Promise<void>;
  onCancel: () => void;
}) {
  const [values, setValues] = useState<Record<string, string>>(
    Object.fromEntries(props.fields.map((field) => [field.name, field.value])),
  );
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const set = (name: string, value: string) => setValues({ ...values, [name]: value });
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await props.onSave(values);
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="edit" onSubmit={submit} aria-label={props.title}>
      <h3>{props.title}</h3>
      <div className="grid">
        {props.fields.map((field) => {
          const id = `edit-${field.name}`;
          const invalid = error instanceof ApiError && error.field === field.name;
          if (field.kind === "checkbox") {
            return (
              <div className="field checkbox" key={field.name}>
                <input
                  id={id}
                  type="checkbox"
                  checked={values[field.name] === "true"}
                  onChange={(e) => set(field.name, String(e.target.checked))}
                />
                <label htmlFor={id}>{field.label}</label>
              </div>
            );
          }
          return (
            <div className="field" key={field.name}>
              <label htmlFor={id}>{field.label}</label>
              {field.kind === "select" ? (
                <select id={id} value={values[field.name]} onChange={(e) => set(field.name, e.target.value)}>
                  {(field.options ?? []).map(([value, text]) => (
                    <option key={value} value={value}>
                      {text}
                    </option>
                  ))}
                </select>
              ) : (
                <input
                  id={id}
                  type={field.kind === "password" ? "password" : "text"}
                  autoComplete={field.kind === "password" ? "new-password" : "off"}
                  value={values[field.name]}
                  aria-invalid={invalid || undefined}
                  onChange={(e) => set(field.name, e.target.value)}
                />
              )}
              {field.hint && <small className="muted">{field.hint}</small>}
            </div>
          );
        })}
      </div>
      <ErrorBox error={error} />
      <div className="row-actions">
        <button type="submit" disabled={busy}>
          {busy ? "Saving…" : "Save"}
        </button>
        <button type="button" className="secondary" onClick={props.onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

// The fields whose value differs from the row's, as a PATCH body.
export function changed(fields: EditField[], values: Record<string, string>): Record<string, string> {
  const body: Record<string, string> = {};
  for (const field of fields) if (values[field.name] !== field.value) body[field.name] = values[field.name];
  return body;
}

// A settings table: a row per item with Edit (its form opens under the row), the page's own
// actions, and Delete. The page says what a row shows, which fields edit it and what a save sends.
export function EditableTable<T extends { id: string }>(props: {
  columns: string[];
  rows: T[];
  rowTestId: string;
  name: (row: T) => string; // in the buttons' labels and the edit form's title
  cells: (row: T) => ReactNode[];
  fields: (row: T) => EditField[];
  save: (row: T, values: Record<string, string>, fields: EditField[]) => Promise<void>;
  remove: (row: T) => void;
  actions?: (row: T) => ReactNode;
}) {
  const [editing, setEditing] = useState("");
  return (
    <div className="table-wrap">
      <table>
        <thead>
          <tr>
            {props.columns.map((column) => (
              <th scope="col" key={column}>
                {column}
              </th>
            ))}
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {props.rows.map((row) => {
            const name = props.name(row);
            const fields = props.fields(row);
            return (
              <Fragment key={row.id}>
                <tr data-testid={props.rowTestId}>
                  {props.cells(row).map((cell, index) => (
                    <td key={index}>{cell}</td>
                  ))}
                  <td className="row-actions">
                    <button
                      type="button"
                      className="small secondary"
                      onClick={() => setEditing(row.id)}
                      aria-label={`Edit ${name}`}
                    >
                      Edit
                    </button>
                    {props.actions?.(row)}
                    <button
                      type="button"
                      className="small danger"
                      onClick={() => props.remove(row)}
                      aria-label={`Delete ${name}`}
                    >
                      Delete
                    </button>
                  </td>
                </tr>
                {editing === row.id && (
                  <tr>
                    <td colSpan={props.columns.length + 1}>
                      <EditForm
                        title={`Edit ${name}`}
                        fields={fields}
                        onCancel={() => setEditing("")}
                        onSave={async (values) => {
                          await props.save(row, values, fields);
                          setEditing("");
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
  );
}
