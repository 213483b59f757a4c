// The demo page: draws the local Slack workspace as the chosen person sees it, from
// Block Kit, and sends that person's clicks, commands and modal submissions to the app.
// Everything from the server is put in the page as text nodes (never as HTML): lead
// fields are typed by strangers.
"use strict";

// Symbols every font has (a headless browser may have no emoji font).
const EMOJI = {
  warning: "⚠", rotating_light: "⚠", x: "✖", white_check_mark: "✔", stopwatch: "◷",
  no_entry: "✖", inbox_tray: "⇩", bell: "♪", hourglass: "◷",
};
const POLL_MS = 1000;

const state = {
  viewer: localStorage.getItem("viewer") || "U0CARA",
  place: JSON.parse(localStorage.getItem("place") || '{"kind":"channel","id":"C0HEALTHCARE"}'),
  data: null,
  drawn: "",
  conversationDrawn: "",
  modalDrawn: "",
  seen: JSON.parse(localStorage.getItem("seen") || "{}"),
};

const $ = (id) => document.getElementById(id);
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (value !== undefined && value !== null && value !== false) node.setAttribute(key, value);
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

// ------------------------------------------------------------------ server calls

async function post(path, body) {
  const answer = await fetch(path, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  });
  const json = await answer.json().catch(() => null);
  if (!answer.ok) console.warn(path, answer.status, json);
  setTimeout(refresh, 150);
  return json;
}

async function refresh() {
  const answer = await fetch(`/demo/state?as=${encodeURIComponent(state.viewer)}`);
  if (!answer.ok) return;
  const text = await answer.text();
  state.data = JSON.parse(text);
  if (text !== state.drawn) {
    state.drawn = text;
    draw();
  }
}

// ------------------------------------------------------------------ people and places

function person(id) {
  return (state.data?.people || []).find((p) => p.id === id);
}

function conversationOf(place) {
  if (place.kind === "channel") {
    return state.data.channels.find((c) => c.id === place.id)?.messages || [];
  }
  if (place.kind === "dm") return state.data.dms[place.user || state.viewer] || [];
  return [];
}

function placeKey(place) {
  return place.kind === "channel" ? place.id : place.kind === "dm" ? `D${place.user || state.viewer}` : "home";
}

function go(place) {
  state.place = place;
  localStorage.setItem("place", JSON.stringify(place));
  state.drawn = "";
  if (place.kind === "home") post("/demo/home", { as: state.viewer });
  draw();
}

function setViewer(id) {
  state.viewer = id;
  localStorage.setItem("viewer", id);
  state.drawn = "";
  state.modalDrawn = "";
  if (state.place.kind === "dm") state.place = { kind: "dm", user: id };
  refresh();
  if (state.place.kind === "home") post("/demo/home", { as: id });
}

// ------------------------------------------------------------------ drawing

function draw() {
  if (!state.data) return;
  drawConversation();
  drawSidebar();
  drawTitle();
  drawModal();
  tick();
}

// Redrawn only when what it shows changed: a redraw would close a select someone is using.
function drawConversation() {
  const box = $("conversation");
  const shown = state.place.kind === "home" ? state.data.home : conversationOf(state.place);
  const key = JSON.stringify([state.viewer, state.place, shown]);
  if (key === state.conversationDrawn) return;
  state.conversationDrawn = key;
  const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
  box.replaceChildren();
  if (state.place.kind === "home") {
    const home = state.data.home;
    box.append(home ? el("div", { class: "home blocks" }, ...blocks(home.blocks, { viewId: home.id }))
      : el("div", { class: "empty" }, "Opening the Home tab…"));
    return;
  }
  const messages = conversationOf(state.place);
  state.seen[placeKey(state.place)] = messages.length;
  localStorage.setItem("seen", JSON.stringify(state.seen));
  if (!messages.length) box.append(el("div", { class: "empty" }, "Nothing here yet. Send a lead →"));
  for (const message of messages) box.append(drawMessage(message));
  if (atBottom || !box.dataset.drawnOnce) box.scrollTop = box.scrollHeight;
  box.dataset.drawnOnce = "1";
}

function badge(count) {
  return count > 0 ? el("span", { class: "badge" }, String(count)) : null;
}

function drawSidebar() {
  const select = $("viewer");
  if (select.options.length !== state.data.people.length) {
    select.replaceChildren(...state.data.people.map((p) =>
      el("option", { value: p.id }, `${p.name} (${p.title})`)));
  }
  select.value = state.viewer;
  const unseen = (key, messages) => Math.max(0, messages.length - (state.seen[key] || 0));
  $("channels").replaceChildren(...state.data.channels.map((c) => el("li", {
    class: state.place.kind === "channel" && state.place.id === c.id ? "active" : "",
    onclick: () => go({ kind: "channel", id: c.id }),
  }, `# ${c.name}`, badge(unseen(c.id, c.messages)))));
  $("dms").replaceChildren(...state.data.people.map((p) => el("li", {
    class: state.place.kind === "dm" && (state.place.user || state.viewer) === p.id ? "active" : "",
    onclick: () => { setViewer(p.id); go({ kind: "dm", user: p.id }); },
  }, p.name, badge(unseen(`D${p.id}`, state.data.dms[p.id] || [])))));
  $("nav-home").className = state.place.kind === "home" ? "active" : "";
  $("nav-dm").className = state.place.kind === "dm" && (state.place.user || state.viewer) === state.viewer ? "active" : "";
}

function drawTitle() {
  const me = person(state.viewer);
  let title = "";
  if (state.place.kind === "channel") title = `# ${state.data.channels.find((c) => c.id === state.place.id)?.name}`;
  else if (state.place.kind === "dm") title = `Leadrouter ↔ ${person(state.place.user || state.viewer)?.name}`;
  else title = "Leadrouter: Home";
  $("title").replaceChildren(title, el("small", {}, `seen as ${me ? me.name : state.viewer}`));
}

function drawMessage(message) {
  const ctx = { channel: message.channel, ts: message.ts, ephemeral: !!message.is_ephemeral };
  const body = message.blocks?.length ? blocks(message.blocks, ctx)
    : [el("div", {}, ...mrkdwn(message.text || ""))];
  return el("div", { class: `message${message.is_ephemeral ? " ephemeral" : ""}`, "data-ts": message.ts },
    el("div", { class: "avatar" }, "LR"),
    el("div", {},
      el("div", { class: "who" }, "Leadrouter", el("small", {}, "APP"), el("small", {}, clock(message.ts))),
      el("div", { class: "blocks" }, ...body),
      message.is_ephemeral ? el("div", { class: "note" }, "Only visible to you") : null));
}

function clock(ts) {
  return new Date(parseFloat(ts) * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

// ------------------------------------------------------------------ Block Kit

function text(obj) {
  if (!obj) return [];
  return obj.type === "mrkdwn" ? mrkdwn(obj.text || "") : [document.createTextNode(emoji(obj.text || ""))];
}

function blocks(list, ctx) {
  return (list || []).map((block) => drawBlock(block, ctx)).filter(Boolean);
}

function drawBlock(block, ctx) {
  switch (block.type) {
    case "header": return el("div", { class: "header-block" }, ...text(block.text));
    case "divider": return el("hr", { class: "divider" });
    case "section": {
      const main = el("div", {}, ...(block.text ? [el("div", {}, ...text(block.text))] : []));
      if (block.fields) main.append(el("div", { class: "fields" }, ...block.fields.map((f) => el("div", {}, ...text(f)))));
      return el("div", { class: "section-block" }, main,
        block.accessory ? element(block.accessory, block.block_id, ctx) : null);
    }
    case "context":
      return el("div", { class: "context" }, ...(block.elements || []).map((e) =>
        e.type === "image" ? null : el("span", {}, ...text(e))));
    case "actions":
      return el("div", { class: "actions" }, ...(block.elements || []).map((e) => element(e, block.block_id, ctx)));
    case "input": return inputBlock(block, ctx);
    case "image": return el("div", { class: "context" }, `[image: ${block.alt_text || ""}]`);
    default: return el("div", { class: "context" }, `[${block.type} block]`);
  }
}

function act(ctx, actionId, selected) {
  const base = { as: state.viewer, action_id: actionId, selected };
  return post("/demo/click", ctx.viewId ? { ...base, view_id: ctx.viewId }
    : { ...base, channel: ctx.channel, ts: ctx.ts, ephemeral: ctx.ephemeral });
}

function element(e, blockId, ctx) {
  switch (e.type) {
    case "button": {
      const button = el("button", { class: `bk ${e.style || ""}`, "data-action": e.action_id, type: "button" }, ...text(e.text));
      button.addEventListener("click", async () => { button.disabled = true; await act(ctx, e.action_id); });
      return button;
    }
    case "overflow":
    case "static_select": {
      const select = el("select", { class: "bk", "data-action": e.action_id },
        el("option", { value: "" }, e.type === "overflow" ? "⋯" : (e.placeholder?.text || "Choose…")),
        ...(e.options || []).map((o) => el("option", { value: o.value }, o.text?.text || o.value)));
      select.addEventListener("change", () => select.value && act(ctx, e.action_id, select.value));
      return select;
    }
    case "users_select": {
      const select = peopleSelect(e, false);
      select.addEventListener("change", () => select.value && act(ctx, e.action_id, select.value));
      return select;
    }
    default: return el("span", { class: "context" }, `[${e.type}]`);
  }
}

function peopleSelect(e, multiple) {
  const initial = new Set(multiple ? e.initial_users || [] : [e.initial_user].filter(Boolean));
  return el("select", { class: "bk", "data-action": e.action_id, multiple: multiple ? "multiple" : false },
    multiple ? null : el("option", { value: "" }, e.placeholder?.text || "Choose a person"),
    ...state.data.people.map((p) => el("option", { value: p.id, selected: initial.has(p.id) ? "selected" : false }, p.name)));
}

function options(list, initial) {
  const chosen = new Set((initial || []).map((o) => o.value));
  return (list || []).map((o) => el("option", { value: o.value, selected: chosen.has(o.value) ? "selected" : false }, o.text?.text || o.value));
}

function inputBlock(block, ctx) {
  const e = block.element || {};
  let control;
  switch (e.type) {
    case "plain_text_input":
      control = e.multiline ? el("textarea", { class: "bk", rows: 4 }) : el("input", { class: "bk" });
      control.value = e.initial_value || "";
      break;
    case "number_input":
      control = el("input", { class: "bk", inputmode: "decimal" });
      control.value = e.initial_value || "";
      break;
    case "static_select":
      control = el("select", { class: "bk" }, el("option", { value: "" }, e.placeholder?.text || "Choose…"),
        ...options(e.options, e.initial_option ? [e.initial_option] : []));
      break;
    case "multi_static_select":
      control = el("select", { class: "bk", multiple: "multiple" }, ...options(e.options, e.initial_options));
      break;
    case "users_select": control = peopleSelect(e, false); break;
    case "multi_users_select": control = peopleSelect(e, true); break;
    case "conversations_select":
    case "channels_select": {
      const initial = e.initial_conversation || e.initial_channel;
      control = el("select", { class: "bk" }, el("option", { value: "" }, "Choose a channel"),
        ...state.data.channels.map((c) => el("option", { value: c.id, selected: c.id === initial ? "selected" : false }, `# ${c.name}`)));
      break;
    }
    case "datepicker":
      control = el("input", { class: "bk", type: "date" });
      control.value = e.initial_date || "";
      break;
    case "checkboxes":
      control = el("div", { class: "bk-checks" }, ...(e.options || []).map((o) => {
        const on = (e.initial_options || []).some((i) => i.value === o.value);
        return el("label", {}, el("input", { type: "checkbox", value: o.value, checked: on ? "checked" : false }), " ", ...text(o.text));
      }));
      break;
    default:
      control = el("div", { class: "hint" }, `(${e.type}: not available in the demo)`);
  }
  control.dataset.kind = e.type;
  control.dataset.block = block.block_id;
  control.dataset.action = e.action_id;
  const error = state.data.modal_errors?.[block.block_id];
  return el("div", { class: "input-block" },
    el("label", {}, ...text(block.label), block.optional ? el("span", { class: "hint" }, " (optional)") : null),
    control,
    block.hint ? el("div", { class: "hint" }, ...text(block.hint)) : null,
    error ? el("div", { class: "error" }, error) : null);
}

function inputValue(control) {
  const kind = control.dataset.kind;
  const picked = () => [...control.selectedOptions].map((o) => o.value).filter(Boolean);
  const option = (value) => ({ text: { type: "plain_text", text: value }, value });
  switch (kind) {
    case "plain_text_input": return { type: kind, value: control.value || null };
    case "number_input": return { type: kind, value: control.value || null };
    case "static_select": return { type: kind, selected_option: control.value ? option(control.value) : null };
    case "multi_static_select": return { type: kind, selected_options: picked().map(option) };
    case "users_select": return { type: kind, selected_user: control.value || null };
    case "multi_users_select": return { type: kind, selected_users: picked() };
    case "conversations_select": return { type: kind, selected_conversation: control.value || null };
    case "channels_select": return { type: kind, selected_channel: control.value || null };
    case "datepicker": return { type: kind, selected_date: control.value || null };
    case "checkboxes": return {
      type: kind, selected_options: [...control.querySelectorAll("input:checked")].map((i) => option(i.value)),
    };
    default: return null;
  }
}

// ------------------------------------------------------------------ modals

function drawModal() {
  const modal = state.data.modal;
  const key = modal ? JSON.stringify([modal.id, modal.hash, modal.blocks, state.data.modal_errors]) : "";
  if (key === state.modalDrawn) return;
  state.modalDrawn = key;
  const backdrop = $("modal-backdrop");
  backdrop.hidden = !modal;
  if (!modal) return;
  const ctx = { viewId: modal.id };
  const body = el("div", { class: "body" }, ...blocks(modal.blocks, ctx));
  const close = el("button", { class: "bk", type: "button" }, modal.close?.text || "Cancel");
  close.addEventListener("click", () => post("/demo/close", { view_id: modal.id }));
  const foot = el("div", { class: "foot" }, close);
  if (modal.submit) {
    const submit = el("button", { class: "bk primary", type: "button", id: "modal-submit" }, modal.submit.text);
    submit.addEventListener("click", async () => {
      const values = {};
      for (const control of body.querySelectorAll("[data-block]")) {
        const value = inputValue(control);
        if (!value) continue;
        (values[control.dataset.block] ||= {})[control.dataset.action] = value;
      }
      submit.disabled = true;
      await post("/demo/submit", { as: state.viewer, view_id: modal.id, values });
    });
    foot.append(submit);
  }
  $("modal").replaceChildren(el("div", { class: "title" }, ...text(modal.title)), body, foot);
}

// ------------------------------------------------------------------ mrkdwn

const INLINE = /(```[\s\S]+?```)|(`[^`\n]+`)|(<[^<>\n]+>)|((?<![\w*])\*[^*\n]+\*(?![\w*]))|((?<![\w])_[^_\n]+_(?![\w]))|((?<![\w~])~[^~\n]+~(?![\w~]))/;

function unescape(s) {
  return s.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
}

function emoji(s) {
  return s.replace(/:([a-z_+]+):/g, (all, name) => EMOJI[name] || all);
}

function plain(s) {
  const out = [];
  unescape(emoji(s)).split("\n").forEach((line, i) => {
    if (i) out.push(el("br"));
    if (line) out.push(document.createTextNode(line));
  });
  return out;
}

function mrkdwn(source) {
  const out = [];
  let rest = source;
  while (rest) {
    const m = INLINE.exec(rest);
    if (!m) { out.push(...plain(rest)); break; }
    out.push(...plain(rest.slice(0, m.index)));
    const token = m[0];
    if (m[1]) out.push(el("pre", {}, unescape(token.slice(3, -3))));
    else if (m[2]) out.push(el("code", {}, unescape(token.slice(1, -1))));
    else if (m[3]) out.push(special(token.slice(1, -1)));
    else if (m[4]) out.push(el("b", {}, ...mrkdwn(token.slice(1, -1))));
    else if (m[5]) out.push(el("i", {}, ...mrkdwn(token.slice(1, -1))));
    else out.push(el("s", {}, ...mrkdwn(token.slice(1, -1))));
    rest = rest.slice(m.index + token.length);
  }
  return out;
}

function special(inner) {
  const [target, label] = splitOnce(inner, "|");
  if (target.startsWith("@")) {
    const who = person(target.slice(1));
    return el("span", { class: "mention" }, `@${who ? who.name : label || target.slice(1)}`);
  }
  if (target.startsWith("#")) {
    const channel = state.data.channels.find((c) => c.id === target.slice(1));
    return el("span", { class: "mention" }, `#${channel ? channel.name : label || target.slice(1)}`);
  }
  if (target.startsWith("!date^")) {
    const [, ts, format] = target.split("^");
    return el("span", { class: "date", "data-ts": ts, "data-format": format || "{date_short} {time}" });
  }
  if (target.startsWith("!")) return el("b", {}, `@${label || target.slice(1).split("^")[0]}`);
  if (/^https?:\/\//i.test(target)) {
    return el("a", { href: target, target: "_blank", rel: "noopener noreferrer" }, unescape(label || target));
  }
  return document.createTextNode(unescape(label || target));
}

function splitOnce(s, sep) {
  const at = s.indexOf(sep);
  return at < 0 ? [s, ""] : [s.slice(0, at), s.slice(at + 1)];
}

// ------------------------------------------------------------------ live dates

function formatDate(date, format) {
  const d = { month: "short", day: "numeric" };
  return format
    .replace("{date_short_pretty}", date.toLocaleDateString([], d))
    .replace("{date_short}", date.toLocaleDateString([], d))
    .replace("{date_long_pretty}", date.toLocaleDateString([], { weekday: "long", ...d, year: "numeric" }))
    .replace("{date_long}", date.toLocaleDateString([], { weekday: "long", ...d, year: "numeric" }))
    .replace("{date_pretty}", date.toLocaleDateString([], { ...d, year: "numeric" }))
    .replace("{date_num}", date.toISOString().slice(0, 10))
    .replace("{date}", date.toLocaleDateString([], { ...d, year: "numeric" }))
    .replace("{time_secs}", date.toLocaleTimeString())
    .replace("{time}", date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }))
    .replace("{ago}", "");
}

function span(seconds) {
  const s = Math.abs(Math.round(seconds));
  if (s >= 3600) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return s >= 60 ? `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, "0")}s` : `${s}s`;
}

function tick() {
  const now = Date.now() / 1000;
  for (const node of document.querySelectorAll(".date[data-ts]")) {
    const ts = parseFloat(node.dataset.ts);
    const left = ts - now;
    const when = formatDate(new Date(ts * 1000), node.dataset.format);
    const live = Math.abs(left) < 86400
      ? el("span", { class: left >= 0 ? "left" : "ago" }, left >= 0 ? ` (in ${span(left)})` : ` (${span(left)} ago)`)
      : null;
    node.replaceChildren(when, live || "");
  }
}

// ------------------------------------------------------------------ the side panel

function newEmail() {
  $("lead-email").value = `jo.rivera.${Date.now().toString(36)}@northwind-health.example`;
}

$("lead-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const fields = Object.fromEntries(new FormData(event.target).entries());
  const reply = await post("/demo/lead", fields);
  const answer = reply?.answer || {};
  const lines = [`HTTP ${reply?.status}`];
  if (answer.id) {
    lines.push(`lead ${answer.id}: ${answer.status}, team ${answer.team}, ${answer.method}`);
    if (answer.owner) lines.push(`owner: ${person(answer.owner)?.name || answer.owner}`);
    lines.push(...(answer.decision?.reasons || []).map((r) => `· ${r}`));
  } else {
    lines.push(JSON.stringify(answer, null, 1));
  }
  $("result").textContent = lines.join("\n");
  newEmail();
});

$("samples").addEventListener("click", async () => {
  const reply = await post("/demo/samples", {});
  $("result").textContent = `${reply?.queued ?? 0} sample leads on their way (a few a second).`;
});

$("command-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = $("command");
  const channel = state.place.kind === "channel" ? state.place.id : `D${state.viewer}`;
  const reply = await post("/demo/command", { as: state.viewer, text: input.value, channel });
  if (reply?.answer && typeof reply.answer === "object" && reply.answer.text) {
    $("result").textContent = reply.answer.text;
  }
  input.value = "";
  if (state.place.kind !== "channel") go({ kind: "dm", user: state.viewer });
});

$("viewer").addEventListener("change", (event) => setViewer(event.target.value));
$("nav-home").addEventListener("click", () => go({ kind: "home" }));
$("nav-dm").addEventListener("click", () => go({ kind: "dm", user: state.viewer }));

newEmail();
refresh().then(() => { if (state.place.kind === "home") post("/demo/home", { as: state.viewer }); });
setInterval(refresh, POLL_MS);
setInterval(tick, 1000);
