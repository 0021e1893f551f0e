import { useCallback, useEffect, useRef, useState } from "react";
import { api, setCsrfToken, setSessionLostHandler, type SessionInfo, type Tenant } from "./api";
import { Loading } from "./components";
import { Link, useRouter } from "./router";
import { SignIn } from "./pages/SignIn";
import { CallLog } from "./pages/CallLog";
import { CallDetails } from "./pages/CallDetails";
import { Numbers } from "./pages/Numbers";
import { SipAccounts } from "./pages/SipAccounts";
import { Users } from "./pages/Users";
import { Carriers } from "./pages/Carriers";
import { ApiKeys } from "./pages/ApiKeys";
import { Tenants } from "./pages/Tenants";
import { Company } from "./pages/Company";
import { DialPlanPage } from "./pages/DialPlan";
import { Voicemail } from "./pages/Voicemail";
import { Queues } from "./pages/Queues";
import { Wallboard } from "./pages/Wallboard";
import { Webhooks } from "./pages/Webhooks";
import { Reports } from "./pages/Reports";

const tenantPages: [string, string][] = [
  ["/calls", "Call log"],
  ["/voicemail", "Voicemail"],
  ["/queues", "Queues"],
  ["/reports", "Reports"],
  ["/settings/numbers", "Numbers"],
  ["/settings/dial-plan", "Dial plan"],
  ["/settings/sip-accounts", "SIP accounts"],
  ["/settings/users", "Users"],
  ["/settings/carriers", "Carriers"],
  ["/settings/webhooks", "Webhooks"],
  ["/settings/api-keys", "API keys"],
  ["/settings/company", "Company"],
];

// What the API lets each role do (the gateway enforces it): owners everything, admins everything
// but users and API keys, agents read the call log and listen to voicemail.
function pagesFor(role: string): [string, string][] {
  if (role === "owner") return tenantPages;
  if (role === "admin") return tenantPages.filter(([to]) => to !== "/settings/users" && to !== "/settings/api-keys");
  return tenantPages.filter(([to]) => to === "/calls" || to === "/voicemail" || to === "/queues");
}

export function App() {
  const { location, navigate } = useRouter();
  const [session, setSession] = useState<SessionInfo | null | undefined>(undefined);
  const [tenant, setTenant] = useState<Tenant | null>(null);
  const [notice, setNotice] = useState("");

  const adopt = useCallback((info: SessionInfo | null) => {
    setCsrfToken(info?.csrf_token ?? "");
    setSession(info);
    setTenant(null);
    if (info?.kind === "user" && info.tenant_id) {
      api<Tenant>("GET", `/v1/tenants/${info.tenant_id}`).then(setTenant, () => setTenant(null));
    }
  }, []);

  useEffect(() => {
    setSessionLostHandler(() => {
      setNotice("Your session has ended. Please sign in again.");
      adopt(null);
    });
    api<SessionInfo>("GET", "/v1/session").then(adopt, () => adopt(null));
  }, [adopt]);

  // Each kind of session has its home; pages of the other kind are not offered.
  useEffect(() => {
    if (session === undefined) return;
    const path = location.path;
    if (session === null) {
      if (path !== "/sign-in") navigate("/sign-in");
    } else if (session.kind === "admin") {
      if (!path.startsWith("/admin")) navigate("/admin/tenants");
    } else if (path === "/" || path === "/sign-in" || path.startsWith("/admin")) {
      navigate("/calls");
    }
  }, [session, location.path, navigate]);

  // After a client-side navigation, screen readers and keyboards start at the new page's content.
  const firstPath = useRef(location.path);
  useEffect(() => {
    if (location.path === firstPath.current) return;
    firstPath.current = "";
    document.getElementById("main")?.focus({ preventScroll: true });
  }, [location.path]);

  if (session === undefined) return <Loading what="the dashboard" />;
  if (session === null) {
    return (
      <SignIn
        notice={notice}
        onSignedIn={(info) => {
          setNotice("");
          adopt(info);
        }}
      />
    );
  }

  const signOut = async () => {
    try {
      await api("DELETE", "/v1/sessions");
    } finally {
      adopt(null);
      navigate("/sign-in");
    }
  };

  const path = location.path;
  const role = session.user?.role ?? "";
  const pages: [string, string][] = session.kind === "admin" ? [["/admin/tenants", "Tenants"]] : pagesFor(role);
  let page;
  if (session.kind === "admin") page = <Tenants />;
  else if (path.startsWith("/calls/")) page = <CallDetails id={decodeURIComponent(path.slice("/calls/".length))} />;
  else if (path === "/voicemail") page = <Voicemail />;
  else if (path === "/queues")
    page = <Queues canChange={role === "owner" || role === "admin"} ownAccount={session.user?.sip_account_id ?? ""} />;
  else if (path === "/reports") page = <Reports />;
  else if (path.startsWith("/queues/")) page = <Wallboard id={decodeURIComponent(path.slice("/queues/".length))} />;
  else if (path === "/settings/numbers") page = <Numbers />;
  else if (path === "/settings/dial-plan") page = <DialPlanPage />;
  else if (path === "/settings/sip-accounts") page = <SipAccounts tenant={tenant} />;
  else if (path === "/settings/users") page = <Users />;
  else if (path === "/settings/carriers") page = <Carriers />;
  else if (path === "/settings/webhooks") page = <Webhooks />;
  else if (path === "/settings/api-keys") page = <ApiKeys />;
  else if (path === "/settings/company") page = <Company tenant={tenant} onChanged={setTenant} />;
  else page = <CallLog />;

  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <div className="brand">
          <strong>tel</strong>
          <span className="muted" data-testid="who">
            {session.kind === "admin" ? "Operator" : `${tenant?.name ?? ""} · ${session.user?.email ?? ""}`}
          </span>
        </div>
        <nav aria-label="Main">
          {pages.map(([to, text]) => (
            <Link
              key={to}
              to={to}
              current={path === to || ((to === "/calls" || to === "/queues") && path.startsWith(to))}
            >
              {text}
            </Link>
          ))}
        </nav>
        <button type="button" className="secondary" onClick={signOut}>
          Sign out
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        {page}
      </main>
    </>
  );
}
