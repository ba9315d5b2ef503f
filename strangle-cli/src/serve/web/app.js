// The strangle dashboard: every action goes through the REST API (same validation, same
// token). No framework, no network beyond this server.
"use strict";

const $ = (s, root = document) => root.querySelector(s);
const $$ = (s, root = document) => Array.from(root.querySelectorAll(s));

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

const num = (v) => (v === null || v === undefined || v === "" ? null : Number(v));
function money(v, dp = 2) {
  const n = num(v);
  return n === null ? "–" : n.toFixed(dp);
}
function signed(v, dp = 2) {
  const n = num(v);
  if (n === null) return el("span", { text: "–" });
  return el("span", { class: n > 0 ? "pos" : n < 0 ? "neg" : "", text: (n > 0 ? "+" : "") + n.toFixed(dp) });
}
function ist(t) {
  if (!t) return "–";
  return new Date(t).toLocaleString("en-GB", { timeZone: "Asia/Kolkata", day: "2-digit", month: "short", hour: "2-digit", minute: "2-digit" });
}
function span(secs) {
  if (secs === null || secs === undefined) return "–";
  const neg = secs < 0;
  let s = Math.abs(Math.round(secs));
  const d = Math.floor(s / 86400); s -= d * 86400;
  const h = Math.floor(s / 3600); s -= h * 3600;
  const m = Math.floor(s / 60); s -= m * 60;
  const txt = (d ? d + "d " : "") + (d || h ? h + "h " : "") + m + "m " + (d ? "" : s + "s");
  return neg ? txt.trim() + " ago" : "in " + txt.trim();
}

// ---------------------------------------------------------------- API and token

class ApiError extends Error {
  constructor(status, message, fields) {
    super(message);
    this.status = status;
    this.fields = fields || [];
  }
}

let token = sessionStorage.getItem("strangle-token");
// The link `serve` prints carries its token once, in the fragment (never sent to a server):
// keep it for this tab, then take it out of the address bar and the history.
{
  const m = location.hash.match(/(?:^#|&)token=([0-9A-Za-z._~-]+)/);
  if (m) {
    token = m[1];
    sessionStorage.setItem("strangle-token", token);
    history.replaceState(null, "", location.pathname + location.search);
  }
}

async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token) headers.Authorization = "Bearer " + token;
  const r = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (r.status === 401) {
    askToken();
    throw new ApiError(401, "this server needs its API token");
  }
  if (r.status === 204) return null;
  const type = r.headers.get("content-type") || "";
  const data = type.includes("json") ? await r.json() : await r.text();
  if (!r.ok) throw new ApiError(r.status, (data && data.error) || r.statusText, data && data.fields);
  return data;
}

function askToken() {
  const d = $("#token-dialog");
  if (!d.open) d.showModal();
}

$("#token-form").addEventListener("submit", () => {
  token = $("#token-input").value.trim();
  sessionStorage.setItem("strangle-token", token);
  refresh();
});

function banner(msg) {
  const b = $("#banner");
  b.textContent = msg || "";
  b.hidden = !msg;
}

function confirmAction(text) {
  return new Promise((resolve) => {
    const d = $("#confirm-dialog");
    $("#confirm-text").textContent = text;
    d.returnValue = "";
    d.addEventListener("close", () => resolve(d.returnValue === "yes"), { once: true });
    d.showModal();
  });
}

// ---------------------------------------------------------------- panels and clock

const panels = ["config", "live", "history", "analytics"];
let current = "config";

function show(panel) {
  if (!panels.includes(panel)) panel = "config";
  current = panel;
  for (const p of panels) {
    $("#panel-" + p).hidden = p !== panel;
    $("#tab-" + p).setAttribute("aria-selected", String(p === panel));
  }
  if (location.hash !== "#" + panel) history.replaceState(null, "", "#" + panel);
  banner("");
  refresh();
}

function refresh() {
  const run = { config: loadProfiles, live: loadLive, history: loadSessions, analytics: loadAnalytics }[current];
  run().catch((e) => banner(e.message));
}

for (const b of $$("nav button")) b.addEventListener("click", () => show(b.dataset.panel));

// The simulated market's clock, when the server or the shown engine runs on one: its time
// at `seen` (page time) and its speed.
let simClock = null;

function noteMarketClock(marketTime, speed) {
  simClock = marketTime ? { at: new Date(marketTime).getTime(), seen: Date.now(), speed: speed || 1 } : null;
  tick();
}

function tick() {
  const now = new Date();
  $("#clock-ist").textContent = now.toLocaleTimeString("en-GB", { timeZone: "Asia/Kolkata" }) + " IST";
  $("#clock-utc").textContent = now.toLocaleTimeString("en-GB", { timeZone: "UTC" }) + " UTC";
  const badge = $("#sim-clock");
  if (simClock) {
    const market = simClock.at + (Date.now() - simClock.seen) * simClock.speed;
    // Shown whenever the simulated market is not simply the wall clock.
    const shown = simClock.speed !== 1 || Math.abs(market - Date.now()) > 60000;
    badge.hidden = !shown;
    badge.textContent = `Market ${new Date(market).toLocaleString("en-GB", { day: "2-digit", month: "short", hour: "2-digit", minute: "2-digit", second: "2-digit", timeZone: "Asia/Kolkata" })} IST · ${simClock.speed}×`;
    badge.title = "The simulated market's clock: engines, sessions and orders on it use this time.";
  } else badge.hidden = true;
}
setInterval(tick, 1000);
tick();

// ---------------------------------------------------------------- account risk

// The account risk governor (GET /api/risk): a banner on every panel while it is reducing or
// halted, with what tripped it, the day's figures and the operator's reset.
async function pollRisk() {
  const r = await api("GET", "/api/risk");
  const b = $("#risk-banner");
  b.hidden = r.state === "active";
  b.classList.toggle("reducing", r.state === "reducing");
  if (b.hidden) return;
  const since = r.governor.since ? ` since ${ist(r.governor.since)} IST` : "";
  const what = r.state === "halted"
    ? "every profile was flattened; no engine enters until an operator resets it"
    : "no engine enters; open strangles run their own exits";
  $("#risk-text").textContent = `Account risk ${r.state.toUpperCase()}${since}: ${r.why || ""} — ${what}. ` +
    `Day's PnL ${signed(r.day_pnl).textContent} USD, open ${signed(r.open_pnl).textContent} USD.`;
}

$("#risk-reset").addEventListener("click", async () => {
  if (!(await confirmAction("Reset the account risk governor? Entries are allowed again on every profile, and the day is counted again from its current PnL."))) return;
  try {
    await api("POST", "/api/risk/reset", {});
    banner("");
  } catch (e) { banner(e.message); }
  await pollRisk().catch((e) => banner(e.message));
});
setInterval(() => pollRisk().catch(() => {}), 3000);
pollRisk().catch(() => {});

// ---------------------------------------------------------------- configuration

// [path, label, kind, options]. Kinds: text, select, float, int, dec (exact decimal, sent as a
// string), limit (a decimal or "off"), bool, time. `opt`: empty means null.
const FIELDS = [
  ["Basics", [
    ["name", "Name", "text"],
    ["underlying", "Underlying", "select", { choices: ["BTC", "ETH"] }],
    ["strike_mode", "Strike mode", "select", { choices: ["delta", "premium"] }],
    ["pick_rule", "Pick rule", "select", { choices: ["closest_to_mid", "highest_delta"] }],
    ["contracts_per_leg", "Contracts per leg", "dec"],
    ["contract_size", "Contract size (underlying per contract)", "dec", { opt: true }],
  ]],
  ["Strikes", [
    ["delta_band.low", "Delta band low |Δ|", "float"],
    ["delta_band.high", "Delta band high |Δ|", "float"],
    ["premium_windows.call.min", "Call premium min (USD)", "dec", { opt: true, group: "premium_windows" }],
    ["premium_windows.call.max", "Call premium max (USD)", "dec", { opt: true, group: "premium_windows" }],
    ["premium_windows.put.min", "Put premium min (USD)", "dec", { opt: true, group: "premium_windows" }],
    ["premium_windows.put.max", "Put premium max (USD)", "dec", { opt: true, group: "premium_windows" }],
  ]],
  ["Liquidity", [
    ["liquidity.require_bid", "Require a bid", "bool"],
    ["liquidity.max_spread_pct", "Max spread (% of mid, or off)", "limit"],
    ["liquidity.min_open_interest", "Min open interest (contracts)", "dec", { opt: true }],
    ["liquidity.max_quote_age_secs", "Max quote age (s)", "int"],
  ]],
  ["Schedule (IST)", [
    ["entry_time", "Entry time", "time"],
    ["entry_window_minutes", "Entry window (min)", "int"],
    ["exit_time", "Exit time", "time"],
    ["late_entry", "Enter on a late start (after the window, before the exit)", "bool"],
    ["expiry_buffer_hours", "Expiry buffer (h)", "int"],
    ["exit_before_expiry_minutes", "Exit before expiry (min)", "int"],
  ]],
  ["Entry gates (empty: off)", [
    ["gates.weekdays", "Weekdays to enter (mon … sun, comma-separated)", "list"],
    ["gates.skip_dates", "Skip dates (one per line: YYYY-MM-DD reason)", "dates"],
    ["gates.min_hours_to_expiry", "Min hours to expiry", "int", { opt: true }],
    ["gates.max_hours_to_expiry", "Max hours to expiry", "int", { opt: true }],
    ["gates.min_atm_iv_pct", "Min ATM IV (%)", "dec", { opt: true }],
    ["gates.max_atm_iv_pct", "Max ATM IV (%)", "dec", { opt: true }],
    ["gates.max_pair_spread_pct", "Max pair spread (% of mids)", "dec", { opt: true }],
  ]],
  ["Risk", [
    ["max_loss_pct", "Max loss (% of premium, or off)", "limit"],
    ["max_profit_pct", "Max profit (% of premium, or off)", "limit"],
    ["trailing.step.every_pct", "Trailing step: every (+% profit)", "dec", { opt: true, group: "trailing.step" }],
    ["trailing.step.lock_pct", "Trailing step: lock (+%)", "dec", { opt: true, group: "trailing.step" }],
    ["exit_basis.max_profit", "Max profit judged on", "select", { choices: ["close_now", "mark"] }],
    ["exit_basis.trailing", "Trailing stop judged on", "select", { choices: ["close_now", "mark"] }],
    ["exit_basis.max_loss", "Max loss judged on", "select", { choices: ["mark", "close_now"] }],
  ]],
  ["Leg exits (each leg on its own premium; empty: off)", [
    ["leg_exit.stop_pct", "Leg stop (% of the leg's premium)", "dec", { opt: true }],
    ["leg_exit.target_pct", "Leg target (% of the leg's premium)", "dec", { opt: true }],
    ["leg_exit.on_stop", "When a leg's stop fires", "select", { choices: ["exit_all", "exit_leg", "exit_leg_and_move_other_to_cost"] }],
  ]],
  ["Re-entry after a stop (max 0: off)", [
    ["reentry.max_per_day", "Re-entries per day", "int"],
    ["reentry.cooldown_minutes", "Cooldown after the stop (min)", "int"],
    ["reentry.mode", "Re-enter with", "select", { choices: ["fresh", "same_strikes"] }],
  ]],
  ["Venue stop (rests at Delta while strangle is down)", [
    ["venue_stop.enabled", "Place a stop per short leg", "bool"],
    ["venue_stop.trigger", "Trigger on", "select", { choices: ["mark_price", "last_traded_price", "spot_price"] }],
    ["venue_stop.limit_offset_pct", "Limit above the stop (%)", "dec"],
  ]],
  ["Execution", [
    ["execution.limit_attempts", "Limit attempts", "int"],
    ["execution.fill_wait_secs", "Fill wait (s)", "int"],
    ["execution.reprice_step_ticks", "Reprice step (ticks)", "int"],
    ["execution.partial_fill_threshold_pct", "Partial fill threshold (%)", "dec"],
    ["execution.cancel_confirm_secs", "Cancel confirm (s)", "int"],
    ["execution.market_fallback", "Aggressive IOC fallback", "bool"],
    ["execution.ioc_ticks", "IOC ticks past the touch", "int"],
  ]],
  ["Fees", [
    ["fees.taker_rate_pct", "Taker rate (% of notional)", "dec"],
    ["fees.maker_rate_pct", "Maker rate (% of notional)", "dec"],
    ["fees.premium_cap_pct", "Cap (% of premium)", "dec"],
    ["fees.tax_pct", "Tax (%)", "dec"],
    ["fees.settlement_rate_pct", "Settlement fee (% of notional at expiry)", "dec"],
  ]],
];

let profiles = [];
let editing = null; // the stored profile being edited, or null for a new one

function getPath(obj, path) {
  return path.split(".").reduce((o, k) => (o === null || o === undefined ? undefined : o[k]), obj);
}
function setPath(obj, path, value) {
  const keys = path.split(".");
  let o = obj;
  for (const k of keys.slice(0, -1)) o = o[k] = o[k] && typeof o[k] === "object" ? o[k] : {};
  o[keys[keys.length - 1]] = value;
}

async function loadProfiles() {
  profiles = await api("GET", "/api/configs");
  // Which profiles have an engine now, and in which mode (every engine's heartbeat).
  const beats = await api("GET", "/api/trading/heartbeat").catch(() => ({ engines: [] }));
  const running = new Map(beats.engines.filter((h) => h.status === "running" || h.status === "stopping")
    .map((h) => [h.configuration_id, h]));
  const body = $("#profiles tbody");
  body.replaceChildren(...profiles.map((s) => {
    const p = s.profile;
    const hb = running.get(s.id);
    return el("tr", {},
      el("td", {}, el("button", { class: "quiet", "data-edit": s.id, onclick: () => openForm(s).catch((e) => banner(e.message)), text: p.name })),
      el("td", { text: p.underlying }),
      el("td", { text: p.strike_mode }),
      el("td", { text: `${p.delta_band.low} – ${p.delta_band.high}` }),
      el("td", {}, s.active ? el("span", { class: "tag active", text: "active" }) : "",
        hb ? [" ", el("span", { class: "tag" + (hb.mode === "live" ? " live" : " running"), "data-running": s.id,
          text: `${hb.status === "stopping" ? "stopping" : "running"} · ${hb.mode} · ${hb.phase}` })] : ""),
      el("td", {},
        el("button", { disabled: s.active, onclick: () => activate(s), text: "Set active" }), " ",
        el("button", { class: "danger", disabled: s.active, title: s.active ? "the active profile cannot be deleted" : null, onclick: () => remove(s), text: "Delete" })));
  }));
  if (!profiles.length) body.append(el("tr", {}, el("td", { colspan: 6, class: "hint", text: "No profile yet: create one." })));
}

function input(path, kind, value, opts) {
  const id = "f-" + path.replace(/[.\[\]]/g, "-");
  if (kind === "select") {
    return el("select", { id, "data-path": path, "data-kind": kind },
      opts.choices.map((c) => el("option", { value: c, selected: c === value, text: c })));
  }
  if (kind === "bool") return el("input", { id, type: "checkbox", "data-path": path, "data-kind": kind, checked: !!value });
  if (kind === "list") return el("input", { id, type: "text", "data-path": path, "data-kind": kind, value: (value || []).join(", ") });
  if (kind === "dates") {
    // A textarea's first content is its text, not a value attribute.
    return el("textarea", { id, rows: 3, "data-path": path, "data-kind": kind,
      text: (value || []).map((d) => `${d.date} ${d.reason || ""}`.trim()).join("\n") });
  }
  const type = kind === "time" ? "time" : kind === "text" ? "text" : "text";
  const inputmode = kind === "int" ? "numeric" : kind === "text" || kind === "time" ? null : "decimal";
  let v = value;
  if (kind === "limit" && value === null) v = "off";
  return el("input", { id, type, inputmode, "data-path": path, "data-kind": kind, "data-opt": opts.opt ? "1" : null,
    "data-group": opts.group || null, value: v === null || v === undefined ? "" : String(v) });
}

let formDefaults = {};

async function openForm(stored) {
  // The profile as stored now (another client may have changed it since the list was read).
  if (stored) stored = await api("GET", `/api/configs/${stored.id}`);
  editing = stored;
  // A new profile starts from the server's defaults, so nothing changes by omission; a field
  // emptied while editing goes back to its default.
  formDefaults = await api("GET", "/api/configs/defaults");
  const p = stored ? stored.profile : formDefaults;
  $("#form-title").textContent = stored ? `Edit ${p.name}` : "New profile";
  const root = $("#form-fields");
  root.replaceChildren(...FIELDS.map(([title, fields]) => el("fieldset", {}, el("legend", { text: title }),
    el("div", { class: "grid" }, fields.map(([path, label, kind, opts = {}]) => {
      const inp = input(path, kind, getPath(p, path), opts);
      return el("div", { class: "field", "data-field": path },
        el("label", { for: inp.id, text: label }), inp, el("p", { class: "error", "aria-live": "polite" }));
    })))));
  $("#tiers").replaceChildren();
  for (const t of (p.trailing && p.trailing.tiers) || []) addTier(t);
  previewTiers();
  clearErrors();
  $("#profile-form").hidden = false;
  $("#f-name").focus();
}

function addTier(t = { trigger_pct: "", lock_pct: "" }) {
  const row = el("div", { class: "tier" });
  const i = () => $$(".tier", $("#tiers")).indexOf(row);
  const field = (key, label) => {
    const inp = el("input", { type: "text", inputmode: "decimal", value: t[key] ?? "", "data-tier-key": key, "aria-label": label, oninput: previewTiers });
    return el("div", { class: "field", "data-tier-field": key }, el("label", { text: label }), inp, el("p", { class: "error" }));
  };
  row.append(field("trigger_pct", "At profit (%)"), field("lock_pct", "Lock (%)"),
    el("button", { type: "button", class: "quiet", "aria-label": "Remove tier", onclick: () => { row.remove(); previewTiers(); }, text: "Remove" }));
  row.index = i;
  $("#tiers").append(row);
}
$("#add-tier").addEventListener("click", () => { addTier(); previewTiers(); });

function tiers() {
  return $$(".tier", $("#tiers")).map((row) => ({
    trigger_pct: $("[data-tier-key=trigger_pct]", row).value.trim(),
    lock_pct: $("[data-tier-key=lock_pct]", row).value.trim(),
  }));
}
function previewTiers() {
  const t = tiers().filter((x) => x.trigger_pct !== "" || x.lock_pct !== "");
  $("#tier-preview").textContent = t.length
    ? t.map((x) => `at +${x.trigger_pct || "?"} % lock ${x.lock_pct === "0" ? "breakeven" : "+" + (x.lock_pct || "?") + " %"}`).join("; ")
    : "No tiers: no trailing stop.";
}

function collect() {
  const out = {};
  const groups = {};
  for (const inp of $$("#form-fields [data-path]")) {
    const { path, kind, opt, group } = inp.dataset;
    let v;
    if (kind === "bool") v = inp.checked;
    else if (kind === "select") v = inp.value;
    else if (kind === "list") v = inp.value.split(/[\s,]+/).filter((x) => x !== "");
    else if (kind === "dates") {
      // "2026-12-16 FOMC": the date, then the reason (the server checks both).
      v = inp.value.split("\n").map((l) => l.trim()).filter((l) => l !== "").map((l) => {
        const at = l.search(/\s/);
        return at < 0 ? { date: l, reason: "" } : { date: l.slice(0, at), reason: l.slice(at).trim() };
      });
    }
    else {
      const s = inp.value.trim();
      if (s === "") {
        // Empty: an optional field is cleared, any other takes the server's default.
        if (group) { groups[group] = groups[group] || false; continue; }
        if (!opt) {
          const d = getPath(formDefaults, path);
          if (d === undefined) continue;
          v = d;
        } else v = null;
      } else if (kind === "float") v = Number.isFinite(Number(s)) ? Number(s) : s;
      else if (kind === "int") v = /^\d+$/.test(s) ? Number(s) : s;
      else v = s;
    }
    if (group && v !== undefined && v !== null) groups[group] = true;
    setPath(out, path, v);
  }
  for (const [g, filled] of Object.entries(groups)) if (!filled) setPath(out, g, null);
  out.trailing = out.trailing || {};
  out.trailing.tiers = tiers().filter((x) => x.trigger_pct !== "" || x.lock_pct !== "");
  if (out.trailing.step === undefined) out.trailing.step = null;
  return out;
}

function clearErrors() {
  for (const f of $$("#profile-form .field")) {
    f.classList.remove("invalid");
    const e = $(".error", f);
    if (e) e.textContent = "";
  }
  $("#form-error").textContent = "";
}

function showErrors(fields) {
  const unplaced = [];
  for (const { field, message } of fields) {
    let box = $(`#form-fields [data-field="${CSS.escape(field)}"]`);
    const tier = /^trailing\.tiers\[(\d+)\](?:\.(\w+))?$/.exec(field);
    if (tier) {
      const row = $$(".tier", $("#tiers"))[Number(tier[1])];
      box = row && $(`[data-tier-field="${tier[2] || "trigger_pct"}"]`, row);
    }
    if (!box) box = $$("#form-fields [data-field]").find((f) => f.dataset.field.startsWith(field + "."));
    // An item of a list field (gates.weekdays[1], gates.skip_dates[0].date) is shown on the list.
    if (!box) box = $(`#form-fields [data-field="${CSS.escape(field.replace(/\[\d+\].*$/, ""))}"]`);
    if (box) {
      box.classList.add("invalid");
      const e = $(".error", box);
      e.textContent = e.textContent ? e.textContent + "; " + message : message;
    } else unplaced.push(`${field}: ${message}`);
  }
  $("#form-error").textContent = unplaced.join("\n") || "Please fix the fields marked in red.";
  const first = $("#profile-form .invalid input, #profile-form .invalid select, #profile-form .invalid textarea");
  if (first) first.focus();
}

$("#profile-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  clearErrors();
  const body = collect();
  try {
    // An edit changes the form's fields and keeps the rest of the profile (fees, exit basis).
    const saved = editing ? await api("PATCH", `/api/configs/${editing.id}`, body) : await api("POST", "/api/configs", body);
    $("#profile-form").hidden = true;
    editing = null;
    await loadProfiles();
    // Saved; what is valid but probably not meant is said, not refused.
    const warnings = (saved && saved.warnings) || [];
    banner(warnings.length ? `Saved ${saved.profile.name}, but: ` + warnings.map((w) => `${w.field}: ${w.message}`).join("; ") : "");
  } catch (e) {
    if (e.status === 422 && e.fields.length) showErrors(e.fields);
    else $("#form-error").textContent = e.message;
  }
});
$("#cancel-profile").addEventListener("click", () => { $("#profile-form").hidden = true; editing = null; });
$("#new-profile").addEventListener("click", () => openForm(null).catch((e) => banner(e.message)));

async function activate(s) {
  try { await api("POST", `/api/configs/${s.id}/activate`); await loadProfiles(); } catch (e) { banner(e.message); }
}
async function remove(s) {
  if (!(await confirmAction(`Delete profile "${s.profile.name}"? Its sessions stay in the ledger.`))) return;
  try { await api("DELETE", `/api/configs/${s.id}`); await loadProfiles(); } catch (e) { banner(e.message); }
}

// ---------------------------------------------------------------- live control

let liveTimer = null;
let liveMode = null; // the selected engine's mode, for confirmations

async function loadLive() {
  const list = await api("GET", "/api/configs");
  const sel = $("#live-profile");
  const keep = sel.value;
  sel.replaceChildren(...list.map((s) => el("option", { value: s.id, text: s.profile.name + (s.active ? " (active)" : "") })));
  const active = list.find((s) => s.active);
  sel.value = keep && list.some((s) => String(s.id) === keep) ? keep : active ? String(active.id) : list[0] ? String(list[0].id) : "";
  await pollLive();
  clearInterval(liveTimer);
  liveTimer = setInterval(() => { if (current === "live" && !$("#live-pause").checked) pollLive().catch((e) => banner(e.message)); }, 2000);
}
$("#live-profile").addEventListener("change", () => pollLive().catch((e) => banner(e.message)));

async function control(action) {
  const id = Number($("#live-profile").value);
  if (!id) return banner("Create a profile first.");
  const market = $("#live-market").value || undefined;
  const name = $("#live-profile").selectedOptions[0].textContent;
  if (action === "panic" && !(await confirmAction(`PANIC ${name}: cancel working orders and buy every leg back now (IOC past the ask)?`))) return;
  if (action !== "start" && action !== "panic" && liveMode === "live" && !(await confirmAction(`${action.toUpperCase()} ${name} on the LIVE market?`))) return;
  if (action === "start" && market === "live" && !(await confirmAction(`Start ${name} on the LIVE market? Real orders, real money.`))) return;
  const body = { action, configuration_id: id, market: action === "start" ? market : undefined };
  if (action === "start" && $("#sim-start").value) {
    // The input is IST wall time: 05:30 ahead of UTC.
    const [d, t] = $("#sim-start").value.split("T");
    const [y, mo, da] = d.split("-").map(Number), [h, mi] = t.split(":").map(Number);
    body.sim_start = new Date(Date.UTC(y, mo - 1, da, h, mi) - 330 * 60000).toISOString();
  }
  if (action === "start" && $("#sim-speed").value) body.sim_speed = Number($("#sim-speed").value);
  try {
    await api("POST", "/api/trading/control", body);
    banner("");
  } catch (e) { banner(e.message); }
  await pollLive();
}
for (const a of ["start", "stop", "restart", "panic"]) $("#act-" + a).addEventListener("click", () => control(a));

async function pollLive() {
  const id = $("#live-profile").value;
  const root = $("#live-state");
  if (!id) { root.replaceChildren(el("p", { class: "hint", text: "No profile yet." })); return; }
  const data = await api("GET", `/api/trading/runtime?configuration_id=${id}`);
  const r = data.engines[0];
  if (!r) return;
  const hb = r.heartbeat, s = r.state, sc = r.schedule, lim = r.limits;
  // The engine's own simulated clock if it has one, else the server's.
  if (hb.market_time) noteMarketClock(hb.market_time, hb.market_speed);
  else noteMarketClock(data.market_time, data.market_speed);
  liveMode = hb.mode;
  const running = hb.status === "running" || hb.status === "stopping";
  $("#act-start").disabled = running;
  for (const a of ["stop", "restart", "panic"]) $("#act-" + a).disabled = !running;
  const mode = hb.mode ? el("span", { class: "tag" + (hb.mode === "live" ? " live" : ""), text: hb.mode === "live" ? "LIVE — REAL MONEY" : hb.mode }) : "";
  const pnl = s && s.pnl;
  const card = (label, ...value) => el("div", { class: "card" }, label, el("b", {}, ...value));
  const cards = el("div", { class: "cards" },
    card("Status", el("span", { "data-status": hb.status, text: hb.status }), " ", mode),
    card("Phase", el("span", { id: "live-phase", text: hb.phase || "–" })),
    card("Next entry", !sc.next_entry ? "–"
      : sc.next_entry_rule === "late_start" ? "now (late start)"
      : sc.seconds_to_entry <= 0 ? "window open now" : `${ist(sc.next_entry)} (${span(sc.seconds_to_entry)})`,
      !sc.next_entry ? "" : el("span", { class: "rule", text: sc.next_entry_rule === "late_start"
        ? `started after the ${sc.entry_time_ist} IST window, before the ${sc.exit_time_ist} exit`
        : sc.next_entry_rule === "reentry"
        ? `re-entry after a stop: once its cooldown has passed, before the ${sc.exit_time_ist} IST exit`
        : `window ${sc.entry_time_ist} IST + ${sc.entry_window_minutes} min${sc.late_entry ? " · late start on" : ""}` })),
    card("Planned exit", sc.planned_exit ? `${ist(sc.planned_exit)} (${span(sc.seconds_to_exit)})` : `${sc.exit_time_ist} IST`),
    card("PnL at marks (USD)", pnl ? signed(pnl.net, 4) : "–", s && s.pnl_pct !== null && s.pnl_pct !== undefined ? el("small", {}, " ", signed(s.pnl_pct, 1), " %") : ""),
    card("Closing now (USD)", s && s.close_now_pnl ? signed(s.close_now_pnl.net, 4) : "–", s && s.close_now_pnl_pct !== null && s.close_now_pnl_pct !== undefined ? el("small", {}, " ", signed(s.close_now_pnl_pct, 1), " % · at the asks, exit fees in") : ""),
    card("Premium (USD)", pnl ? money(pnl.premium, 4) : "–"),
    card("Max loss / profit", `${lim.max_loss_usd !== null ? money(lim.max_loss_usd, 4) : lim.max_loss_pct === null ? "off" : lim.max_loss_pct + " %"} / ${lim.max_profit_usd !== null ? money(lim.max_profit_usd, 4) : lim.max_profit_pct === null ? "off" : lim.max_profit_pct + " %"}`),
    card("Trailing level", lim.trailing_level_pct !== null ? `${lim.trailing_level_pct} % (${money(lim.trailing_level_usd, 4)} USD)` : "not armed"),
    card("Spot", s && s.spot ? money(s.spot) : "–", s && s.entry_spot ? el("small", { text: ` entry ${money(s.entry_spot)} · low ${money(s.spot_low)} · high ${money(s.spot_high)}` }) : ""),
    card("Max profit / drawdown seen", s && s.max_profit_pct !== null ? `${money(s.max_profit_pct, 1)} % / ${money(s.max_drawdown_pct, 1)} %` : "–"));
  const legs = s && s.legs && s.legs.length
    ? el("table", { class: "list", id: "legs" },
      el("thead", {}, el("tr", {}, ["Leg", "Symbol", "Strike", "Δ at entry", "Open", "Entry", "Mark", "PnL USD", "From spot", "Venue stop", "Leg rule"].map((h) => el("th", { text: h })))),
      el("tbody", {}, s.legs.map((g) => el("tr", {},
        el("td", { text: g.kind }), el("td", { text: g.symbol }), el("td", { class: "num", text: g.strike }),
        el("td", { class: "num", text: g.entry_delta === null ? "–" : g.entry_delta.toFixed(3) }),
        el("td", { class: "num", text: g.open }), el("td", { class: "num", text: money(g.entry_price) }),
        el("td", { class: "num", text: money(g.mark) }), el("td", { class: "num" }, signed(g.pnl, 4)),
        el("td", { class: "num", text: g.distance_pct === null ? "–" : money(g.distance_pct, 2) + " %" }),
        el("td", { class: "num", title: "reduce-only stop resting at the venue", text: g.venue_stop === null || g.venue_stop === undefined ? "–" : money(g.venue_stop) }),
        el("td", { title: "a leg closed alone (leg_exit), or a leg whose stop moved to its cost", text: g.exit_reason ? `closed: ${g.exit_reason}` : g.stop_at_cost ? "stop at cost" : "–" })))))
    : el("p", { class: "hint", text: "No open strangle." });
  const notes = el("div", {},
    s && s.exit_reason ? el("p", {}, "Exit reason: ", el("b", { text: s.exit_reason })) : "",
    hb.no_entry_reason ? el("p", { class: "warn", id: "no-entry", text: "Not entering: " + hb.no_entry_reason }) : "",
    hb.entry_hold ? el("p", { class: "error", id: "entry-hold", text: "No new entries: " + hb.entry_hold }) : "",
    hb.stale_quotes ? el("p", { class: "warn", id: "stale-quotes", text: hb.stale_quotes }) : "",
    hb.quote_source ? el("p", { class: "hint", id: "quote-source", text: "Quotes from " + hb.quote_source }) : "",
    hb.rate_budget_left != null ? el("p", { class: hb.rate_budget_left < 2000 ? "warn" : "hint", id: "rate-budget", text: `Delta request budget left: ${hb.rate_budget_left} of 10000 units this 5-minute window` }) : "",
    hb.reconciliation ? el("p", { class: hb.reconciliation.differences.length ? "error" : "hint", id: "reconciliation",
      text: hb.reconciliation.differences.length
        ? `Session ${hb.reconciliation.session_id} differs from Delta's records: ${hb.reconciliation.differences.length} difference(s), see the audit trail (books_differ)`
        : `Session ${hb.reconciliation.session_id} agrees with Delta's fills and wallet (net ${money(num(hb.reconciliation.ledger_cash) - num(hb.reconciliation.ledger_fees))} USD)` }) : "",
    hb.last_error ? el("p", { class: "error", text: "Last error: " + hb.last_error }) : "",
    el("p", { class: "hint", text: `Updated ${ist(hb.updated_at || hb.server_time)} IST · session ${hb.session_id || "–"}` }));
  let chart = "";
  if (hb.session_id) {
    const m = await api("GET", `/api/trading/sessions/${encodeURIComponent(hb.session_id)}/marks?points=400`).catch(() => null);
    if (m) chart = pnlChart(`PnL of ${hb.session_id} (USD)`, m.marks, levelsOf(m, lim));
  }
  root.replaceChildren(cards, chart, legs, notes);
}

// An SVG chart of W×H with this accessible title and markup.
function svgOf(W, H, title, markup) {
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", title);
  svg.innerHTML = markup;
  return svg;
}

// Axis text size in the charts' own units: their viewBox scales with the page, so this stays
// readable at the width the charts are shown.
const AXIS_FONT = 15;

// The zero line (labelled "0" and the unit) and the y range's labels of a chart with left
// padding P; a range label that would sit on the zero label is left out.
function yAxis(P, W, sy, y0, y1, unit = "USD") {
  const label = (y, text) => `<text x="2" y="${(sy(y) + 5).toFixed(1)}" font-size="${AXIS_FONT}" fill="currentColor">${text}</text>`;
  const apart = (y) => Math.abs(sy(y) - sy(0)) > AXIS_FONT;
  return `<line x1="${P}" x2="${W - P}" y1="${sy(0)}" y2="${sy(0)}" stroke="currentColor" stroke-opacity=".45"/>`
    + `<text x="${W - P}" y="${(sy(0) - 4).toFixed(1)}" font-size="${AXIS_FONT}" text-anchor="end" fill="currentColor" fill-opacity=".7">0 ${unit}</text>`
    + (y1 !== 0 && apart(y1) ? label(y1, y1.toFixed(2)) : "")
    + (y0 !== 0 && apart(y0) ? label(y0, y0.toFixed(2)) : "");
}

// A session's PnL over time: net at the marks, what closing would realise, and the exit
// levels (max loss, max profit, trailing) as dashed lines, with a dated time axis.
function pnlChart(title, marks, levels) {
  const W = 900, H = 280, P = 64, B = 26;
  const box = el("div", { class: "chart wide", id: "pnl-chart" }, el("h3", { text: title }));
  if (!marks.length) return box.append(el("p", { class: "hint", text: "No mark recorded yet." })), box;
  const xs = marks.map((m) => new Date(m.at).getTime());
  const net = marks.map((m) => Number(m.pnl.net));
  const close = marks.map((m) => (m.close_now_net === null ? null : Number(m.close_now_net)));
  const lv = levels.filter((l) => l.value !== null && l.value !== undefined && Number.isFinite(Number(l.value)));
  const all = [0, ...net, ...close.filter((v) => v !== null), ...lv.map((l) => Number(l.value))];
  const y0 = Math.min(...all), y1 = Math.max(...all);
  const x0 = Math.min(...xs), x1 = Math.max(...xs);
  const sx = (x) => P + (x1 > x0 ? ((x - x0) / (x1 - x0)) * (W - 2 * P) : (W - 2 * P) / 2);
  const sy = (y) => H - B - (y1 > y0 ? ((y - y0) / (y1 - y0)) * (H - B - 14) : 0);
  const path = (ys) => ys.map((y, i) => (y === null ? "" : `${i && ys[i - 1] !== null ? "L" : "M"}${sx(xs[i]).toFixed(1)},${sy(y).toFixed(1)}`)).join(" ");
  const time = (ms) => new Date(ms).toLocaleString("en-GB", { day: "2-digit", month: "short", hour: "2-digit", minute: "2-digit", timeZone: "Asia/Kolkata" });
  const ticks = x1 > x0 ? [x0, (x0 + x1) / 2, x1] : [x0];
  const svg = svgOf(W, H, title, yAxis(P, W, sy, y0, y1)
    + ticks.map((x, i) => `<text x="${sx(x).toFixed(1)}" y="${H - 6}" font-size="${AXIS_FONT}" fill="currentColor" text-anchor="${ticks.length > 1 && i === 0 ? "start" : ticks.length > 1 && i === 2 ? "end" : "middle"}">${time(x)} IST</text>`).join("")
    + lv.map((l) => `<line x1="${P}" x2="${W - P}" y1="${sy(Number(l.value)).toFixed(1)}" y2="${sy(Number(l.value)).toFixed(1)}" stroke="${l.color}" stroke-dasharray="6 4" stroke-width="1.5"/>`
      + `<text x="${P + 4}" y="${(sy(Number(l.value)) - 4).toFixed(1)}" font-size="${AXIS_FONT}" fill="${l.color}">${l.label}</text>`).join("")
    + `<path d="${path(close)}" fill="none" stroke="var(--warn)" stroke-width="1.5"/>`
    + `<path d="${path(net)}" fill="none" stroke="var(--acc)" stroke-width="2"/>`
    + (marks.length <= 2 ? xs.map((x, i) => `<circle cx="${sx(x).toFixed(1)}" cy="${sy(net[i]).toFixed(1)}" r="4" fill="var(--acc)"/>`).join("") : ""));
  box.append(svg, el("p", { class: "hint legend" },
    el("span", { class: "key k-acc", text: "PnL at marks" }), " ", el("span", { class: "key k-warn", text: "closing now (asks, exit fees in)" }),
    lv.length ? " · dashed: " + lv.map((l) => `${l.label} ${money(l.value, 4)}`).join(", ") : ""));
  return box;
}

// The exit levels of a marks answer, for pnlChart.
function levelsOf(m, live) {
  const trailing = live ? live.trailing_level_usd
    : (() => { const t = [...m.marks].reverse().find((x) => x.trailing_level !== null); return t ? Number(m.premium) * Number(t.trailing_level) / 100 : null; })();
  return [
    { label: "max loss", value: live ? live.max_loss_usd : m.levels.max_loss_usd, color: "var(--bad)" },
    { label: "max profit", value: live ? live.max_profit_usd : m.levels.max_profit_usd, color: "var(--ok)" },
    { label: "trailing", value: trailing, color: "var(--warn)" },
  ];
}

// ---------------------------------------------------------------- history

const page = { offset: 0, limit: 20, total: 0 };

async function loadSessions() {
  const mode = $("#history-mode").value ? "&mode=" + encodeURIComponent($("#history-mode").value) : "";
  const p = await api("GET", `/api/trading/sessions?limit=${page.limit}&offset=${page.offset}${mode}`);
  page.total = p.total;
  const dur = (s) => (s.closed_at ? span((new Date(s.closed_at) - new Date(s.opened_at)) / 1000).replace("in ", "") : "open");
  $("#sessions tbody").replaceChildren(...p.items.map((s) => el("tr", { class: "clickable", tabindex: 0, "data-session": s.session_id,
    onclick: () => showSession(s.session_id), onkeydown: (e) => { if (e.key === "Enter") showSession(s.session_id); } },
    el("td", { text: s.session_id }), el("td", { text: s.profile }), el("td", { text: s.mode }),
    el("td", { text: ist(s.opened_at) }), el("td", { text: dur(s) }),
    el("td", { text: s.legs.map((g) => g.strike).join(" / ") }),
    el("td", { class: "num", text: money(s.pnl.fees, 4) }), el("td", { class: "num" }, signed(s.pnl.net, 4)),
    el("td", { text: s.exit_reason || s.state }))));
  if (!p.items.length) $("#sessions tbody").append(el("tr", {}, el("td", { colspan: 9, class: "hint", text: "No session recorded yet." })));
  $("#page-info").textContent = p.total ? `${page.offset + 1}–${Math.min(page.offset + page.limit, p.total)} of ${p.total}` : "";
  $("#prev-page").disabled = page.offset === 0;
  $("#next-page").disabled = page.offset + page.limit >= p.total;
}
$("#history-mode").addEventListener("change", () => { page.offset = 0; refresh(); });
$("#prev-page").addEventListener("click", () => { page.offset = Math.max(0, page.offset - page.limit); refresh(); });
$("#next-page").addEventListener("click", () => { page.offset += page.limit; refresh(); });

function table(headers, rows) {
  return el("table", { class: "list" }, el("thead", {}, el("tr", {}, headers.map((h) => el("th", { text: h })))),
    el("tbody", {}, rows.map((r) => el("tr", {}, r.map((c) => el("td", { text: c ?? "–" }))))));
}

async function showSession(id) {
  const [d, marks] = await Promise.all([api("GET", `/api/trading/sessions/${encodeURIComponent(id)}`),
    api("GET", `/api/trading/sessions/${encodeURIComponent(id)}/marks?points=600`)]);
  const s = d.session;
  $("#session-detail").replaceChildren(
    el("h2", { id: "detail-title", text: `Session ${s.session_id}` }),
    el("p", {}, `${s.profile} · ${s.mode} · opened ${ist(s.opened_at)} · closed ${ist(s.closed_at)} · exit ${s.exit_reason || s.state} · net `, signed(s.pnl.net, 4), " USD"),
    pnlChart("PnL over the session (USD)", marks.marks, levelsOf(marks, null)),
    el("h3", { text: "Legs" }),
    table(["Symbol", "Strike", "Δ at entry", "Sold", "Entry", "Bought", "Exit", "Fees"], s.legs.map((g) => [g.symbol, g.strike,
      g.entry_delta === null ? null : g.entry_delta.toFixed(3), g.book.sold, money(g.book.sold_value / g.book.sold || null),
      g.book.bought, g.book.bought === "0" ? null : money(g.book.bought_value / g.book.bought), money(g.book.fees, 4)])),
    el("h3", { text: "Orders" }),
    table(["Client order id", "Purpose", "Side", "Size", "Type", "Limit", "State", "Filled", "Reason"], d.orders.map((o) => [o.intent.request.client_order_id,
      o.intent.purpose, o.intent.request.side, o.intent.request.size, o.intent.request.order_type, o.intent.request.limit_price, o.state || "intent", o.filled_size, o.reason])),
    el("h3", { text: "Fills" }),
    table(["Time (IST)", "Symbol", "Side", "Size", "Price", "Fee"], d.fills.map((f) => [ist(f.timestamp), f.symbol, f.side, f.size, f.price, f.fee])));
  $("#detail-title").scrollIntoView({ block: "nearest" });
}

$("#export-csv").addEventListener("click", async () => {
  try {
    const mode = $("#history-mode").value ? "&mode=" + encodeURIComponent($("#history-mode").value) : "";
    const r = await fetch("/api/trading/sessions/export?format=csv" + mode, { headers: token ? { Authorization: "Bearer " + token } : {} });
    if (r.status === 401) return askToken();
    if (!r.ok) throw new Error((await r.json()).error);
    const url = URL.createObjectURL(await r.blob());
    const a = el("a", { href: url, download: "sessions.csv" });
    document.body.append(a);
    a.click();
    a.remove();
    URL.revokeObjectURL(url);
  } catch (e) { banner(e.message); }
});

// ---------------------------------------------------------------- analytics

// A date as the axes write it: "10 Mar" (IST), with the year when the range spans years.
function axisDate(ms, withYear) {
  const o = { day: "2-digit", month: "short", timeZone: "Asia/Kolkata" };
  if (withYear) o.year = "2-digit";
  return new Date(ms).toLocaleDateString("en-GB", o);
}

function lineChart(title, points, opts = {}) {
  // Drawn about as wide as it is shown (three to a row), so its text keeps its size.
  const W = 440, H = 230, P = 52, B = 24;
  const box = el("div", { class: "chart" }, el("h3", { text: title }));
  if (!points.length) return box.append(el("p", { class: "hint", text: "No closed session in range." })), box;
  const xs = points.map((p) => new Date(p.at).getTime()), ys = points.map((p) => Number(p.value));
  const x0 = Math.min(...xs), x1 = Math.max(...xs);
  const y0 = Math.min(0, ...ys), y1 = Math.max(opts.max ?? 0, ...ys);
  const sx = (x) => P + (x1 > x0 ? ((x - x0) / (x1 - x0)) * (W - 2 * P) : (W - 2 * P) / 2);
  const sy = (y) => H - B - (y1 > y0 ? ((y - y0) / (y1 - y0)) * (H - B - 14) : 0);
  const color = opts.color || "var(--acc)";
  const d = xs.map((x, i) => `${i ? "L" : "M"}${sx(x).toFixed(1)},${sy(ys[i]).toFixed(1)}`).join(" ");
  const years = new Date(x0).getUTCFullYear() !== new Date(x1).getUTCFullYear();
  // Dated x axis: first and last point, and the middle of the range when it is wide.
  const ticks = x1 > x0 ? [x0, (x0 + x1) / 2, x1] : [x0];
  const tick = (x, i) => `<text x="${sx(x).toFixed(1)}" y="${H - 6}" font-size="${AXIS_FONT}" fill="currentColor" text-anchor="${ticks.length > 1 && i === 0 ? "start" : ticks.length > 1 && i === ticks.length - 1 ? "end" : "middle"}">${axisDate(x, years)}</text>`;
  // One or two points: a stem from zero and the value, so a single session reads as a figure.
  const few = points.length <= 2
    ? xs.map((x, i) => `<line x1="${sx(x).toFixed(1)}" x2="${sx(x).toFixed(1)}" y1="${sy(0)}" y2="${sy(ys[i]).toFixed(1)}" stroke="${color}" stroke-width="6" stroke-opacity=".35"/>`
      + `<text x="${(sx(x) + 8).toFixed(1)}" y="${(sy(ys[i]) + 4).toFixed(1)}" font-size="${AXIS_FONT}" fill="currentColor">${ys[i].toFixed(2)}</text>`).join("")
    : "";
  const svg = svgOf(W, H, title, yAxis(P, W, sy, y0, y1, opts.unit)
    + ticks.map(tick).join("") + few
    + `<path d="${d}" fill="none" stroke="${color}" stroke-width="2"/>`
    + xs.map((x, i) => `<circle cx="${sx(x).toFixed(1)}" cy="${sy(ys[i]).toFixed(1)}" r="${few ? 4 : 2.5}" fill="${color}"><title>${axisDate(x, true)}: ${ys[i].toFixed(4)}</title></circle>`).join(""));
  box.append(svg);
  return box;
}

function barChart(title, buckets) {
  const W = 440, H = 230, P = 44;
  const box = el("div", { class: "chart" }, el("h3", { text: title }));
  if (!buckets.length) return box.append(el("p", { class: "hint", text: "No closed session in range." })), box;
  const max = Math.max(...buckets.map((b) => b.count), 1);
  const w = (W - 2 * P) / buckets.length;
  // A count axis: 0, the largest count and (when it differs) half of it, with grid lines.
  const counts = [...new Set([0, Math.round(max / 2), max])];
  const cy = (n) => H - P - (n / max) * (H - 2 * P);
  const axis = counts.map((n) => `<line x1="${P}" x2="${W - P}" y1="${cy(n).toFixed(1)}" y2="${cy(n).toFixed(1)}" stroke="currentColor" stroke-opacity=".15"/>`
    + `<text x="${P - 6}" y="${(cy(n) + 5).toFixed(1)}" font-size="${AXIS_FONT}" text-anchor="end" fill="currentColor">${n}</text>`).join("")
    + `<text x="2" y="${P - 16}" font-size="${AXIS_FONT}" fill="currentColor" fill-opacity=".7">sessions</text>`;
  const svg = svgOf(W, H, title, axis + buckets.map((b, i) => {
    const h = (b.count / max) * (H - 2 * P);
    const color = Number(b.to) <= 0 ? "var(--bad)" : "var(--ok)";
    return `<rect x="${(P + i * w + 1).toFixed(1)}" y="${(H - P - h).toFixed(1)}" width="${Math.max(w - 2, 1).toFixed(1)}" height="${h.toFixed(1)}" fill="${color}"><title>${Number(b.from).toFixed(2)} to ${Number(b.to).toFixed(2)} USD: ${b.count}</title></rect>`;
  }).join("") + `<text x="${P}" y="${H - 8}" font-size="${AXIS_FONT}" fill="currentColor">${Number(buckets[0].from).toFixed(2)} USD</text>`
    + `<text x="${W - P}" y="${H - 8}" font-size="${AXIS_FONT}" text-anchor="end" fill="currentColor">${Number(buckets[buckets.length - 1].to).toFixed(2)} USD</text>`);
  box.append(svg);
  return box;
}

// The analytics filter as a query string (mode, profile, dates).
function analyticsQuery() {
  const q = [];
  if ($("#range-mode").value) q.push("mode=" + encodeURIComponent($("#range-mode").value));
  if ($("#range-profile").value) q.push("profile=" + encodeURIComponent($("#range-profile").value));
  if ($("#range-from").value) q.push("from=" + $("#range-from").value + "T00:00:00Z");
  if ($("#range-to").value) q.push("to=" + $("#range-to").value + "T23:59:59Z");
  return q.join("&");
}

let lastAnalytics = null;

async function loadAnalytics() {
  const known = new Set($$("#range-profile option").map((o) => o.value));
  for (const s of await api("GET", "/api/configs")) {
    if (!known.has(s.profile.name)) $("#range-profile").append(el("option", { value: s.profile.name, text: s.profile.name }));
  }
  const q = analyticsQuery();
  const a = await api("GET", "/api/analytics/history" + (q ? "?" + q : ""));
  lastAnalytics = a;
  const range = $("#range-from").value || $("#range-to").value
    ? `from ${$("#range-from").value || "the first session"} to ${$("#range-to").value || "today"}` : "all time";
  $("#range-note").textContent = `${a.mode ? a.mode[0].toUpperCase() + a.mode.slice(1) : "All modes together"} sessions`
    + `${$("#range-profile").value ? " of " + $("#range-profile").value : ""}, ${range}.`;
  const kpi = (label, value) => el("div", { class: "kpi" }, label, el("b", {}, value));
  $("#kpis").replaceChildren(
    kpi("Net PnL (USD)", signed(a.net, 4)), kpi("Gross (USD)", signed(a.gross, 4)), kpi("Fees (USD)", money(a.fees, 4)),
    kpi("Sessions", String(a.sessions)), kpi("Win rate", a.win_rate_pct === null ? "–" : money(a.win_rate_pct, 1) + " %"),
    kpi("Streaks (win / loss)", `${a.longest_win_streak} / ${a.longest_loss_streak}`),
    kpi("Max drawdown (USD)", money(a.max_drawdown, 4)), kpi("Profitable days", `${a.profitable_days} / ${a.trading_days}`));
  $("#charts").replaceChildren(
    lineChart("Cumulative PnL (USD)", a.cumulative),
    lineChart("Drawdown (USD)", a.drawdown, { color: "var(--bad)" }),
    lineChart("Rolling win rate (%, 10 sessions)", a.rolling_win_rate, { max: 100, color: "var(--ok)", unit: "%" }),
    barChart("Sessions by net PnL", a.histogram));
}
$("#range").addEventListener("submit", (e) => { e.preventDefault(); refresh(); });
for (const b of $$(".presets button")) {
  b.addEventListener("click", () => {
    const days = b.dataset.days;
    const from = new Date(Date.now() - Number(days) * 86400000);
    $("#range-from").value = days ? from.toISOString().slice(0, 10) : "";
    $("#range-to").value = "";
    for (const o of $$(".presets button")) o.setAttribute("aria-pressed", String(o === b));
    refresh();
  });
}
for (const id of ["#range-mode", "#range-profile"]) $(id).addEventListener("change", () => refresh());

// The analytics shown, as CSV: the KPIs, then one row per point of the series.
$("#analytics-csv").addEventListener("click", () => {
  const a = lastAnalytics;
  if (!a) return;
  const kpis = ["sessions", "net", "gross", "fees", "win_rate_pct", "max_drawdown", "longest_win_streak", "longest_loss_streak", "profitable_days", "trading_days"];
  const lines = ["metric,value", `mode,${a.mode || "all"}`, ...kpis.map((k) => `${k},${a[k] ?? ""}`), "", "at,cumulative_pnl,drawdown"];
  const dd = new Map((a.drawdown || []).map((p) => [p.at, p.value]));
  for (const p of a.cumulative || []) lines.push(`${p.at},${p.value},${dd.get(p.at) ?? ""}`);
  const url = URL.createObjectURL(new Blob([lines.join("\n") + "\n"], { type: "text/csv" }));
  const link = el("a", { href: url, download: "analytics.csv" });
  document.body.append(link);
  link.click();
  link.remove();
  URL.revokeObjectURL(url);
});

// ---------------------------------------------------------------- start

show((location.hash || "#config").slice(1));
