// The signed-in account, shared by every page of intake (the account pages, the unit's desk, the
// signed-in pages): the tokens live only in this tab's sessionStorage and go as a Bearer header.
// An expired access token is renewed once with the refresh token; a refused renewal signs out.
//
// A staff member signed in on the reports dashboard (another origin, so another sessionStorage)
// is handed over in the address's fragment, `#access_token=…`, which no browser sends to a server
// nor puts in a Referer: it is read and dropped from the address bar before anything else runs,
// and asked of intake's own /v1/me before the page trusts it. Only the office's roles are taken
// so (the dashboard is theirs): a link made by someone else cannot sign a unit's liaison in as
// another unit.
"use strict";

const session = (() => {
  const KEY = "smonth.account";
  const HANDOVER = /(?:^#|&)access_token=([^&]+)/;
  const OFFICE = ["staff", "admin"];

  function kept() {
    try {
      return JSON.parse(sessionStorage.getItem(KEY) || "null");
    } catch {
      return null;
    }
  }

  function keep(tokens) {
    sessionStorage.setItem(KEY, JSON.stringify(tokens));
    return tokens;
  }

  function forget() {
    sessionStorage.removeItem(KEY);
  }

  function post(path, body) {
    return fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body),
    });
  }

  // Taken now, at the script's first run, so that no later code (or a screenshot) sees it.
  const handedOver = (location.hash.match(HANDOVER) || [])[1];
  const dropHandover = () => {
    if (HANDOVER.test(location.hash)) history.replaceState(null, "", location.pathname + location.search);
  };
  dropHandover();
  // One that arrives on a page already open (same address, another fragment) is dropped unused.
  window.addEventListener("hashchange", dropHandover);

  // The handed-over token, kept as a sign-in's answer would be (without a refresh token: it
  // lasts as long as the dashboard's), once intake has said whose it is.
  async function adopt() {
    if (!handedOver) return kept();
    const token = decodeURIComponent(handedOver);
    const answer = await fetch("/v1/me", {
      headers: { Authorization: `Bearer ${token}`, Accept: "application/json" },
    }).catch(() => null);
    if (!answer || !answer.ok) return kept();
    const me = await answer.json();
    if (!OFFICE.includes(me.role)) return kept();
    return keep({ access_token: token, account: { id: me.sub, role: me.role, unit: me.unit, name: "" } });
  }

  async function renewed() {
    const tokens = kept();
    if (!tokens || !tokens.refresh_token) return null;
    const answer = await post("/v1/auth/refresh", { refresh_token: tokens.refresh_token }).catch(() => null);
    if (!answer || !answer.ok) return null;
    return keep(await answer.json());
  }

  // `send(accessToken)` answers `{ status, … }`; on a 401 the token is renewed once and the
  // request sent again. Still refused: signed out, `onSignedOut()` called, and "signed out" thrown.
  async function authorised(send, onSignedOut) {
    let answer = await send((kept() || {}).access_token);
    if (answer.status !== 401) return answer;
    const fresh = await renewed();
    if (fresh) answer = await send(fresh.access_token);
    if (answer.status !== 401) return answer;
    forget();
    onSignedOut();
    throw new Error("signed out");
  }

  async function signOut() {
    const tokens = kept() || {};
    forget();
    if (tokens.refresh_token) {
      await post("/v1/auth/sign-out", { refresh_token: tokens.refresh_token }).catch(() => undefined);
    }
    location.assign("/portal/sign-in");
  }

  return { kept, keep, adopt, authorised, signOut };
})();
