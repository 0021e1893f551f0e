import { useState, type FormEvent } from "react";
import { api, type SessionInfo } from "../api";
import { ErrorBox, Field } from "../components";

// Dashboard users sign in with e-mail and password; the operator with the admin key.
export function SignIn({ onSignedIn, notice }: { onSignedIn: (session: SessionInfo) => void; notice: string }) {
  const [operator, setOperator] = useState(false);
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [adminKey, setAdminKey] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const body = operator ? { admin_key: adminKey } : { email, password };
      onSignedIn(await api<SessionInfo>("POST", "/v1/sessions", { body }));
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  return (
    <main id="main" className="sign-in">
      <h1>Sign in to tel</h1>
      {notice && (
        <p className="notice" role="status">
          {notice}
        </p>
      )}
      <form onSubmit={submit} aria-describedby="sign-in-error">
        {operator ? (
          <Field label="Admin key" name="admin_key" type="password" value={adminKey} onChange={setAdminKey} required />
        ) : (
          <>
            <Field
              label="E-mail"
              name="email"
              type="email"
              value={email}
              onChange={setEmail}
              required
              autoComplete="username"
            />
            <Field
              label="Password"
              name="password"
              type="password"
              value={password}
              onChange={setPassword}
              required
              autoComplete="current-password"
            />
          </>
        )}
        <div id="sign-in-error">
          <ErrorBox error={error} />
        </div>
        <button type="submit" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
      <button
        type="button"
        className="link"
        onClick={() => {
          setOperator(!operator);
          setError(null);
        }}
      >
        {operator ? "Sign in as a tenant user" : "Operator sign-in (admin key)"}
      </button>
    </main>
  );
}
