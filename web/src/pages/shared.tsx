import { useState, type FormEvent, type ReactNode } from "react";
import { api, listAll } from "../api";
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

export function ListState(props: { loading: boolean; error: unknown; count: number | undefined; what: string; empty: string }) {
  if (props.error) return <ErrorBox error={props.error} />;
  if (props.loading && props.count === undefined) return <Loading what={props.what} />;
  if (props.count === 0) return <Empty>{props.empty}</Empty>;
  return null;
}
