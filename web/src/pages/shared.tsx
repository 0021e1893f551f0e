import { useState, type FormEvent, type ReactNode } from "react";
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

export function ListState(props: {
  loading: boolean;
  error: unknown;
  count: number | undefined;
  what: string;
  empty: string;
}) {
  if (props.error) return <ErrorBox error={props.error} />;
  if (props.loading && props.count === undefined) return <Loading what={props.what} />;
  if (props.count === 0) return <Empty>{props.empty}</Empty>;
  return null;
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
