// The sandbox page: renders what Ringback posted to the Slack stand-in and
// texted through the Twilio stand-in, and sends what people do to the
// sandbox API, which signs it and posts it to Ringback's real endpoints.
// Every message is built from DOM nodes (see mrkdwn.js); nothing received
// is ever parsed as HTML.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }

  const S = {
    user: localStorage.getItem("ringback.sandbox.user") || "",
    channel: localStorage.getItem("ringback.sandbox.channel") || "",
    state: null,
    expanded: new Set(), // thread parents shown open
    hidden: new Set(), // dismissed ephemerals
    modal: null, // {id, hash, values: {block: {action: value}}, errors: {}, sig}
    renderedChannel: "",
    renderedSig: "",
    renderedCount: 0,
    line: "",
  };

  // --- talking to the sandbox ---

  async function api(path, body) {
    const res = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    let data = {};
    try {
      data = await res.json();
    } catch (_) {
      /* an empty answer */
    }
    if (!res.ok) throw new Error(data.error || `${res.status} ${res.statusText}`);
    return data;
  }

  let fetching = false;
  let again = false;
  async function refresh() {
    if (fetching) {
      again = true;
      return;
    }
    fetching = true;
    try {
      do {
        again = false;
        const asked = S.user;
        // Only what changed since the version this page has: a busy day's
        // full state is about 450 KB, a card's change a few.
        const since = S.state && S.version && S.stateUser === asked ? S.version : 0;
        const res = await fetch("/sandbox/state?user=" + encodeURIComponent(asked) + "&since=" + since);
        if (!res.ok) throw new Error(res.statusText);
        const st = await res.json();
        if (!S.user) S.user = st.me.id; // the sandbox's first person
        if (asked && asked !== S.user) {
          again = true; // the person changed while this was on its way
          continue;
        }
        const merged = since ? merge(S.state, st) : st;
        if (!merged) {
          S.version = 0; // something new to this page: take it all
          again = true;
          continue;
        }
        S.state = merged;
        S.version = st.version;
        S.stateUser = st.me.id;
        render();
      } while (again);
    } catch (e) {
      toast("The demo server is not answering: " + e.message, true);
    } finally {
      fetching = false;
    }
  }

  // merge applies a delta to the state the page has: each channel's
  // changed messages replace their old selves, in the channel's order.
  // null: the delta names a channel or message this page never had.
  function merge(old, d) {
    const channels = [];
    for (const ch of d.channels) {
      const prev = old.channels.find((c) => c.id === ch.id);
      if (!prev) return null;
      const byTS = new Map(prev.messages.map((m) => [m.ts, m]));
      for (const m of ch.messages) byTS.set(m.ts, m);
      const messages = (ch.order || []).map((ts) => byTS.get(ts));
      if (messages.some((m) => !m)) return null;
      channels.push({ ...ch, messages, partial: false });
    }
    let phones = d.phones;
    if (d.phones_same) {
      phones = old.phones;
    } else if (d.phone_order) {
      const byNumber = new Map(old.phones.map((p) => [p.number, p]));
      for (const p of d.phones) byNumber.set(p.number, p);
      phones = d.phone_order.map((n) => byNumber.get(n));
      if (phones.some((p) => !p)) return null;
    }
    return { ...d, channels, phones };
  }

  let pending = null;
  function scheduleRefresh() {
    if (pending) return;
    pending = setTimeout(() => {
      pending = null;
      refresh();
    }, 60);
  }

  function connect() {
    if (!window.EventSource) {
      setInterval(refresh, 1000);
      return;
    }
    const es = new EventSource("/sandbox/events");
    es.addEventListener("change", scheduleRefresh);
    // EventSource reconnects by itself; a slow poll covers the gaps.
    setInterval(scheduleRefresh, 5000);
  }

  let toastTimer = null;
  function toast(text, bad) {
    const t = $("toast");
    t.textContent = text;
    t.className = "show" + (bad ? " bad" : "");
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => (t.className = ""), bad ? 6000 : 2500);
  }

  // --- helpers ---

  const names = () => (S.state && S.state.names) || {};
  const mctx = () => ({ names: names(), now: S.state && S.state.clock.now });
  const me = () => (S.state && S.state.me) || {};

  function tsDate(ts) {
    return new Date(Number(String(ts).split(".")[0]) * 1000);
  }
  // Times are 24-hour, as the demo clock and the business show them.
  function hhmm(d) {
    return String(d.getHours()).padStart(2, "0") + ":" + String(d.getMinutes()).padStart(2, "0");
  }
  function initials(name) {
    return (name || "?")
      .split(/\s+/)
      .map((w) => w[0])
      .join("")
      .slice(0, 2)
      .toUpperCase();
  }
  function avatar(userID) {
    const isBot = userID === "U0RINGBOT" || !names()[userID];
    const a = el("div", "avatar" + (isBot ? " bot" : ""), isBot ? "R" : initials(names()[userID]));
    a.setAttribute("aria-hidden", "true");
    return a;
  }
  function textObject(t) {
    if (!t) return document.createTextNode("");
    if (t.type === "mrkdwn") {
      const span = el("span", "mrkdwn");
      span.append(Mrkdwn.render(t.text, mctx()));
      return span;
    }
    return el("span", "plain", Mrkdwn.plain(t.text));
  }
  const digitsTail = (n) => String(n || "").replace(/\D/g, "").slice(-9);

  // --- Block Kit ---

  // ctx: {kind: "message", channel, ts} or {kind: "view"}.
  function renderBlocks(blocks, ctx) {
    const frag = document.createDocumentFragment();
    for (const b of blocks || []) frag.append(renderBlock(b, ctx));
    return frag;
  }

  function renderBlock(b, ctx) {
    switch (b.type) {
      case "header":
        return el("div", "b-header", Mrkdwn.plain(b.text && b.text.text));
      case "section": {
        const d = el("div", "b-section");
        const main = el("div", "b-section-main");
        if (b.text) {
          const t = el("div", "b-text");
          t.append(textObject(b.text));
          main.append(t);
        }
        if (b.fields) {
          const grid = el("div", "b-fields");
          for (const f of b.fields) {
            const cell = el("div", "b-field");
            cell.append(textObject(f));
            grid.append(cell);
          }
          main.append(grid);
        }
        d.append(main);
        if (b.accessory) d.append(renderElement(b.accessory, b.block_id, ctx));
        if (b.block_id) d.dataset.blockId = b.block_id;
        return d;
      }
      case "context": {
        const d = el("div", "b-context");
        for (const e of b.elements || []) {
          if (e.type === "image") d.append(image(e.image_url, e.alt_text, "ctx-img"));
          else d.append(textObject(e));
        }
        return d;
      }
      case "actions": {
        const d = el("div", "b-actions");
        if (b.block_id) d.dataset.blockId = b.block_id;
        for (const e of b.elements || []) d.append(renderElement(e, b.block_id, ctx));
        return d;
      }
      case "divider":
        return el("hr", "b-divider");
      case "image": {
        const f = el("figure", "b-image");
        if (b.title) f.append(el("figcaption", "", Mrkdwn.plain(b.title.text)));
        // A Slack file (the digest's chart) is served by the sandbox.
        const url = b.slack_file && b.slack_file.id ? "/sandbox/files/" + encodeURIComponent(b.slack_file.id) : b.image_url;
        f.append(image(url, b.alt_text));
        return f;
      }
      case "input":
        return renderInput(b);
    }
    return el("div", "b-unknown", `[${b.type} block]`);
  }

  function image(url, alt, cls) {
    if (!/^https?:|^data:image\/|^\/sandbox\/files\//i.test(url || "")) return el("span", "b-unknown", alt || "[image]");
    const img = el("img", cls || "");
    img.src = url;
    img.alt = alt || "";
    img.loading = "lazy";
    return img;
  }

  function options(e) {
    const out = [];
    for (const o of e.options || []) out.push({ group: "", o });
    for (const g of e.option_groups || []) for (const o of g.options || []) out.push({ group: Mrkdwn.plain(g.label && g.label.text), o });
    return out;
  }

  function selectElement(e, value) {
    const sel = el("select", "b-select");
    const ph = el("option", "", Mrkdwn.plain((e.placeholder && e.placeholder.text) || "Choose…"));
    ph.value = "";
    ph.disabled = true;
    sel.append(ph);
    const groups = {};
    for (const { group, o } of options(e)) {
      const opt = el("option", "", Mrkdwn.plain(o.text && o.text.text));
      opt.value = o.value;
      if (group) {
        if (!groups[group]) {
          groups[group] = el("optgroup");
          groups[group].label = group;
          sel.append(groups[group]);
        }
        groups[group].append(opt);
      } else sel.append(opt);
    }
    sel.value = value || "";
    if (!value) ph.selected = true;
    return sel;
  }

  // pickerChoices are what a users, conversations or channels select offers:
  // the sandbox's workspace.
  function pickerChoices(type) {
    if (type === "users_select") return S.state.users.map((u) => ({ value: u.id, label: u.real_name }));
    return S.state.channels.filter((c) => c.kind !== "dm").map((c) => ({ value: c.id, label: "#" + c.name }));
  }
  const PICKERS = { users_select: "initial_user", conversations_select: "initial_conversation", channels_select: "initial_channel" };

  function pickerElement(e, value) {
    return selectElement({ placeholder: e.placeholder, options: pickerChoices(e.type).map((c) => ({ value: c.value, text: { text: c.label } })) }, value);
  }

  function renderElement(e, blockID, ctx) {
    const tag = (node) => {
      node.dataset.actionId = e.action_id || "";
      node.dataset.blockId = blockID || "";
      return node;
    };
    switch (e.type) {
      case "button": {
        const btn = tag(el("button", "btn" + (e.style ? " " + e.style : ""), Mrkdwn.plain(e.text && e.text.text)));
        btn.type = "button";
        if (e.url) {
          btn.addEventListener("click", () => window.open(e.url, "_blank", "noopener"));
          return btn;
        }
        btn.addEventListener("click", async () => {
          if (e.confirm && !(await confirmDialog(e.confirm))) return;
          act(ctx, blockID, e, e.value || "", Mrkdwn.plain(e.text && e.text.text), btn);
        });
        return btn;
      }
      case "static_select":
      case "overflow": {
        const initial = e.initial_option ? e.initial_option.value : "";
        const sel = tag(selectElement(e, initial));
        if (e.type === "overflow") sel.classList.add("overflow");
        sel.addEventListener("change", () => act(ctx, blockID, e, sel.value, sel.selectedOptions[0] ? sel.selectedOptions[0].textContent : "", sel));
        return sel;
      }
      case "users_select":
      case "conversations_select":
      case "channels_select": {
        const sel = tag(pickerElement(e, e[PICKERS[e.type]] || ""));
        sel.addEventListener("change", () => act(ctx, blockID, e, sel.value, sel.selectedOptions[0] ? sel.selectedOptions[0].textContent : "", sel));
        return sel;
      }
      case "image":
        return image(e.image_url, e.alt_text, "accessory-img");
    }
    return el("span", "b-unknown", `[${e.type}]`);
  }

  // act sends a click on element e (a button, or a select's choice).
  async function act(ctx, blockID, e, value, text, node) {
    if (node) node.disabled = true;
    try {
      let res;
      if (ctx.kind === "view") {
        res = await viewAction(blockID, e.action_id, value);
      } else if (ctx.kind === "home") {
        res = await api("/sandbox/api/slack/view/action", { user: S.user, view_id: ctx.viewId, block_id: blockID, action_id: e.action_id, value, values: {} });
      } else {
        res = await api("/sandbox/api/slack/action", { user: S.user, channel: ctx.channel, ts: ctx.ts, block_id: blockID, action_id: e.action_id, type: e.type, value, text });
      }
      if (res && res.status && res.status !== 200) toast(`Ringback answered ${res.status} to the click`, true);
    } catch (e) {
      toast(e.message, true);
    } finally {
      if (node) node.disabled = false;
      scheduleRefresh();
    }
  }

  function confirmDialog(c) {
    return new Promise((resolve) => {
      const overlay = el("div", "overlay confirm");
      const box = el("div", "modal small");
      box.setAttribute("role", "alertdialog");
      box.append(el("h3", "", Mrkdwn.plain(c.title && c.title.text) || "Are you sure?"));
      const body = el("div", "modal-body");
      body.append(textObject(c.text));
      box.append(body);
      const foot = el("footer");
      const no = el("button", "btn", Mrkdwn.plain(c.deny && c.deny.text) || "Cancel");
      const yes = el("button", "btn " + (c.style || "primary"), Mrkdwn.plain(c.confirm && c.confirm.text) || "Yes");
      no.type = yes.type = "button";
      yes.id = "confirm-yes";
      const done = (v) => {
        overlay.remove();
        resolve(v);
      };
      no.onclick = () => done(false);
      yes.onclick = () => done(true);
      foot.append(no, yes);
      box.append(foot);
      overlay.append(box);
      document.body.append(overlay);
      yes.focus();
    });
  }

  // --- modals ---

  function renderInput(b) {
    const d = el("div", "b-input");
    d.dataset.blockId = b.block_id || "";
    const label = el("label", "b-label", Mrkdwn.plain(b.label && b.label.text));
    if (b.optional) label.append(el("span", "optional", " (optional)"));
    d.append(label);
    const e = b.element || {};
    const aid = e.action_id || "";
    const vals = (S.modal && S.modal.values[b.block_id]) || {};
    let field;
    if (e.type === "static_select" || e.type in PICKERS) {
      const initial = aid in vals ? vals[aid] : e.type in PICKERS ? e[PICKERS[e.type]] || "" : e.initial_option ? e.initial_option.value : "";
      field = e.type in PICKERS ? pickerElement(e, initial) : selectElement(e, initial);
      field.addEventListener("change", () => {
        setValue(b.block_id, aid, field.value);
        clearError(b.block_id);
        if (b.dispatch_action) viewAction(b.block_id, aid, field.value).catch((err) => toast(err.message, true));
      });
    } else if (e.type === "plain_text_input") {
      field = el(e.multiline ? "textarea" : "input", "b-text-input");
      if (!e.multiline) field.type = "text";
      if (e.placeholder) field.placeholder = Mrkdwn.plain(e.placeholder.text);
      if (e.max_length) field.maxLength = e.max_length;
      field.value = aid in vals ? vals[aid] : e.initial_value || "";
      field.addEventListener("input", () => {
        setValue(b.block_id, aid, field.value);
        clearError(b.block_id);
      });
    } else if (e.type === "radio_buttons") {
      // Slack's radio buttons: one choice, shown side by side (the Reply
      // modal's "Send at 08:00" / "Send now" in the caller's quiet hours).
      field = el("div", "b-radios");
      const current = aid in vals ? vals[aid] : e.initial_option ? e.initial_option.value : "";
      for (const o of e.options || []) {
        const item = el("label", "b-radio");
        const input = el("input");
        input.type = "radio";
        input.name = "radio-" + (b.block_id || aid);
        input.value = o.value;
        input.checked = o.value === current;
        input.addEventListener("change", () => {
          setValue(b.block_id, aid, o.value);
          clearError(b.block_id);
        });
        item.append(input, el("span", "", " " + Mrkdwn.plain(o.text && o.text.text)));
        field.append(item);
      }
    } else {
      field = el("div", "b-unknown", `[${e.type} input]`);
    }
    field.dataset.blockId = b.block_id || "";
    field.dataset.actionId = aid;
    field.id = "input-" + (b.block_id || aid);
    label.htmlFor = field.id;
    d.append(field);
    if (b.hint) d.append(el("div", "hint", Mrkdwn.plain(b.hint.text)));
    const err = el("div", "field-error");
    err.dataset.errorFor = b.block_id || "";
    if (S.modal && S.modal.errors[b.block_id]) {
      err.textContent = S.modal.errors[b.block_id];
      d.classList.add("has-error");
    }
    d.append(err);
    return d;
  }

  function setValue(block, action, value) {
    if (!S.modal) return;
    S.modal.values[block] = S.modal.values[block] || {};
    S.modal.values[block][action] = value;
  }
  function clearError(block) {
    if (!S.modal || !S.modal.errors[block]) return;
    delete S.modal.errors[block];
    const d = document.querySelector(`#modal .b-input[data-block-id="${CSS.escape(block)}"]`);
    if (d) {
      d.classList.remove("has-error");
      d.querySelector(".field-error").textContent = "";
    }
  }

  // collect reads every input of the open modal, as Slack keeps its state.
  function collect() {
    const out = {};
    for (const f of document.querySelectorAll("#modal [data-action-id].b-select, #modal [data-action-id].b-text-input")) {
      const b = f.dataset.blockId;
      out[b] = out[b] || {};
      out[b][f.dataset.actionId] = f.value;
    }
    return out;
  }

  function viewAction(blockID, actionID, value) {
    return api("/sandbox/api/slack/view/action", { user: S.user, view_id: S.modal.id, block_id: blockID, action_id: actionID, value, values: collect() });
  }

  function renderModal() {
    const v = S.state.view;
    const root = $("modal-root");
    if (!v) {
      if (S.modal) {
        S.modal = null;
        root.replaceChildren();
      }
      return;
    }
    if (!S.modal || S.modal.id !== v.id) S.modal = { id: v.id, hash: "", values: {}, errors: {}, general: "", sig: "" };
    const sig = v.hash + "|" + JSON.stringify(S.modal.errors) + "|" + S.modal.general;
    if (S.modal.sig === sig && root.firstChild) return;
    S.modal.sig = sig;
    S.modal.hash = v.hash;
    const view = v.view || {};
    const focused = document.activeElement && document.activeElement.id;

    const overlay = el("div", "overlay");
    overlay.id = "modal";
    const box = el("div", "modal");
    box.setAttribute("role", "dialog");
    box.setAttribute("aria-modal", "true");
    box.dataset.viewId = v.id;
    box.dataset.callbackId = v.callback_id || "";
    const head = el("header");
    head.append(el("h3", "", Mrkdwn.plain(view.title && view.title.text)));
    const x = el("button", "x", "×");
    x.type = "button";
    x.setAttribute("aria-label", "Close");
    x.onclick = closeModal;
    head.append(x);
    box.append(head);
    const body = el("div", "modal-body");
    body.append(renderBlocks(view.blocks, { kind: "view" }));
    box.append(body);
    const general = el("div", "modal-error", S.modal.general || S.modal.errors[""] || "");
    box.append(general);
    const foot = el("footer");
    const cancel = el("button", "btn", Mrkdwn.plain((view.close && view.close.text) || "Cancel"));
    cancel.type = "button";
    cancel.id = "modal-cancel";
    cancel.onclick = closeModal;
    foot.append(cancel);
    if (view.submit) {
      const submit = el("button", "btn primary", Mrkdwn.plain(view.submit.text));
      submit.type = "button";
      submit.id = "modal-submit";
      submit.onclick = () => submitModal(submit);
      foot.append(submit);
    }
    box.append(foot);
    overlay.append(box);
    root.replaceChildren(overlay);
    if (focused && $(focused)) $(focused).focus();
  }

  async function submitModal(btn) {
    const m = S.modal;
    if (!m) return;
    m.values = collect();
    btn.disabled = true;
    try {
      const res = await api("/sandbox/api/slack/view/submit", { user: S.user, view_id: m.id, values: m.values });
      if (res.closed) {
        S.modal = null;
        $("modal-root").replaceChildren();
      } else if (res.errors) {
        m.errors = res.errors;
        m.sig = "";
        renderModal();
      }
    } catch (e) {
      m.general = e.message;
      m.sig = "";
      renderModal();
    } finally {
      btn.disabled = false;
      scheduleRefresh();
    }
  }

  async function closeModal() {
    if (!S.modal) return;
    const id = S.modal.id;
    S.modal = null;
    $("modal-root").replaceChildren();
    try {
      await api("/sandbox/api/slack/view/close", { user: S.user, view_id: id });
    } catch (e) {
      toast(e.message, true);
    }
    scheduleRefresh();
  }

  // --- the workspace ---

  function currentChannel() {
    const chans = S.state.channels;
    return chans.find((c) => c.id === S.channel) || chans[0];
  }

  function renderSidebar() {
    const st = S.state;
    $("ws-name").textContent = st.business;
    const sel = $("user");
    const want = st.users.map((u) => u.id).join(",");
    if (sel.dataset.users !== want) {
      sel.replaceChildren();
      for (const u of st.users) {
        const o = el("option", "", `${u.real_name} — ${u.manager ? "manager" : "staff"}`);
        o.value = u.id;
        sel.append(o);
      }
      sel.dataset.users = want;
    }
    sel.value = st.me.id;
    $("user-role").textContent = st.me.manager
      ? "Manager: may release others' cases, reassign, approve templates and manage opt-outs."
      : "Staff: a member of every line's channel; works cases.";

    const cur = S.channel === "home" ? { id: "home" } : currentChannel();
    const item = (c, label) => {
      const li = el("li", c.id === cur.id ? "active" : "");
      const b = el("button", "", label);
      b.type = "button";
      b.dataset.channel = c.id;
      b.onclick = () => {
        S.channel = c.id;
        localStorage.setItem("ringback.sandbox.channel", c.id);
        render();
      };
      li.append(b);
      const n = c.messages ? c.messages.length : 0;
      if (n) li.append(el("span", "count", String(n)));
      return li;
    };
    $("channels").replaceChildren(...st.channels.filter((c) => c.kind !== "dm").map((c) => item(c, "# " + c.name)));
    $("dms").replaceChildren(...st.channels.filter((c) => c.kind === "dm").map((c) => item(c, "● " + c.name)));
    const home = item({ id: "home" }, "🏠 Ringback · Home");
    home.querySelector("button").onclick = openHome;
    $("apps").replaceChildren(home);
  }

  // openHome shows Ringback's App Home tab: opening it sends Slack's
  // app_home_opened event, and Ringback publishes the view afresh.
  async function openHome() {
    S.channel = "home";
    render();
    try {
      const res = await api("/sandbox/api/slack/home", { user: S.user });
      if (res.status !== 200) toast(`Ringback answered ${res.status}`, true);
    } catch (err) {
      toast(err.message, true);
    }
    scheduleRefresh();
  }

  function renderHome() {
    const v = S.state.home;
    $("channel-title").textContent = "Ringback · Home";
    $("channel-sub").textContent = "The App Home tab, as Ringback publishes it for you";
    const sig = JSON.stringify(["home", S.user, v && v.hash]);
    const box = $("messages");
    if (S.renderedChannel === "home" && S.renderedSig === sig) return;
    S.renderedChannel = "home";
    S.renderedSig = sig;
    const home = el("div", "home");
    home.dataset.viewId = v ? v.id : "";
    if (v) {
      home.append(renderBlocks((v.view || {}).blocks, { kind: "home", viewId: v.id }));
    } else {
      const empty = el("div", "empty");
      empty.append(el("div", "empty-title", "Opening Home…"));
      empty.append(el("div", "", "Ringback publishes this tab when you open it."));
      home.append(empty);
    }
    box.replaceChildren(home);
  }

  function renderChannel() {
    if (S.channel === "home") return renderHome();
    const ch = currentChannel();
    S.channel = ch.id;
    $("channel-title").textContent = (ch.kind === "dm" ? "" : "#") + ch.name;
    $("channel-sub").textContent =
      ch.kind === "line"
        ? `${ch.line} line · ${ch.number} · a card per missed call`
        : ch.kind === "digest"
          ? "Weekly digest and supervisor escalations"
          : ch.kind === "dm"
            ? "Ringback's direct messages to you"
            : "";
    const ephs = S.state.ephemerals.filter((e) => e.channel === ch.id && !S.hidden.has(e.ts + e.source));
    const sig = JSON.stringify([ch.messages.map(msgID), ephs, [...S.expanded], S.state.names]);
    const box = $("messages");
    if (S.renderedChannel === ch.id && S.renderedSig === sig) return;
    const switched = S.renderedChannel !== ch.id;
    const nearBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 120;
    const keep = box.scrollTop;
    S.renderedChannel = ch.id;
    S.renderedSig = sig;

    const items = [...ch.messages.map((m) => ({ ts: m.ts, m })), ...ephs.map((e) => ({ ts: e.ts, e }))];
    items.sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0));
    const nodes = items.map((it) => (it.m ? drawnMessage(ch, it.m) : ephemeralNode(it.e)));
    if (!nodes.length) {
      const empty = el("div", "empty");
      empty.append(el("div", "empty-title", "Nothing here yet."));
      empty.append(el("div", "", ch.kind === "line" ? "Call this line from the phone on the right: a card appears here within a second." : "Ringback posts here when there is something to say."));
      nodes.push(empty);
    }
    box.replaceChildren(...nodes);
    // Follow new messages when at the bottom, as Slack does; a card that
    // changed or a thread opened keeps the view where it is.
    const pinned = switched || (nearBottom && items.length > S.renderedCount);
    S.renderedCount = items.length;
    box.scrollTop = pinned ? box.scrollHeight : keep;
    // Images (the digest's chart) take room once loaded: stay at the bottom.
    if (pinned) for (const img of box.querySelectorAll("img")) img.addEventListener("load", () => (box.scrollTop = box.scrollHeight), { once: true });
  }

  // Messages the page has drawn, by message object: a delta keeps the
  // objects of unchanged messages, so a change draws only its own card,
  // however many the channel holds.
  const drawn = new WeakMap();
  const msgIDs = new WeakMap();
  let lastMsgID = 0;
  function msgID(m) {
    let id = msgIDs.get(m);
    if (id === undefined) msgIDs.set(m, (id = ++lastMsgID));
    return id;
  }
  function drawnMessage(ch, m) {
    const open = S.expanded.has(m.ts);
    const d = drawn.get(m);
    if (d && d.open === open && d.channel === ch.id) return d.node;
    const node = messageNode(ch, m);
    drawn.set(m, { node, open, channel: ch.id });
    return node;
  }

  function meta(userID, ts, extra) {
    const m = el("div", "meta");
    const isBot = userID === "U0RINGBOT" || !names()[userID];
    m.append(el("span", "author", isBot ? "Ringback" : names()[userID]));
    if (isBot) m.append(el("span", "app-badge", "APP"));
    const t = el("time", "time", hhmm(tsDate(ts)));
    t.dateTime = tsDate(ts).toISOString();
    m.append(t);
    if (extra) m.append(extra);
    return m;
  }

  function messageNode(ch, msg) {
    const row = el("div", "msg");
    row.dataset.ts = msg.ts;
    row.dataset.channel = ch.id;
    row.append(avatar(msg.user));
    const body = el("div", "body");
    body.append(meta(msg.user, msg.ts, msg.updates ? el("span", "edited", "(edited)") : null));
    const content = el("div", "blocks");
    if (msg.blocks && msg.blocks.length) content.append(renderBlocks(msg.blocks, { kind: "message", channel: ch.id, ts: msg.ts }));
    else content.append(Mrkdwn.render(msg.text, mctx()));
    body.append(content);
    if (msg.files && msg.files.length) body.append(filesNode(msg.files));
    const replies = msg.replies || [];
    if (replies.length) {
      const open = S.expanded.has(msg.ts);
      const last = replies[replies.length - 1];
      const toggle = el("button", "thread-toggle", `${replies.length} ${replies.length === 1 ? "reply" : "replies"}`);
      toggle.type = "button";
      toggle.append(el("span", "thread-last", open ? " · hide thread" : ` · last reply ${hhmm(tsDate(last.ts))}`));
      toggle.setAttribute("aria-expanded", String(open));
      toggle.onclick = () => {
        if (S.expanded.has(msg.ts)) S.expanded.delete(msg.ts);
        else S.expanded.add(msg.ts);
        renderChannel();
      };
      body.append(toggle);
      if (open) {
        const thread = el("div", "thread");
        for (const r of replies) {
          const rr = el("div", "reply");
          rr.dataset.ts = r.ts;
          rr.append(avatar(r.user));
          const rb = el("div", "body");
          rb.append(meta(r.user, r.ts));
          const rc = el("div", "blocks");
          if (r.blocks && r.blocks.length) rc.append(renderBlocks(r.blocks, { kind: "message", channel: ch.id, ts: r.ts }));
          else rc.append(Mrkdwn.render(r.text, mctx()));
          rb.append(rc);
          rr.append(rb);
          thread.append(rr);
        }
        body.append(thread);
      }
    }
    row.append(body);
    return row;
  }

  // filesNode shows shared files: images inline (the digest's chart),
  // anything else as a link.
  function filesNode(files) {
    const box = el("div", "files");
    for (const f of files) {
      const fig = el("figure", "file");
      fig.append(el("figcaption", "", f.title || f.name));
      if (/^image\/(png|jpeg|gif|webp)/.test(f.type)) {
        const img = image(f.url, f.title || f.name, "file-img");
        fig.append(img);
      } else {
        const a = el("a", "", f.name || f.id);
        a.href = f.url;
        a.download = f.name || f.id;
        fig.append(a);
      }
      box.append(fig);
    }
    return box;
  }

  function ephemeralNode(e) {
    const row = el("div", "msg ephemeral");
    row.dataset.ts = e.ts;
    row.append(avatar("U0RINGBOT"));
    const body = el("div", "body");
    body.append(meta("U0RINGBOT", e.ts, el("span", "only-you", "Only visible to you")));
    if (e.typed) body.append(el("div", "typed", e.typed));
    const content = el("div", "blocks");
    if (e.blocks && e.blocks.length) content.append(renderBlocks(e.blocks, { kind: "message", channel: e.channel, ts: e.ts }));
    else content.append(Mrkdwn.render(e.text, mctx()));
    body.append(content);
    const dismiss = el("button", "link", "Dismiss");
    dismiss.type = "button";
    dismiss.onclick = () => {
      S.hidden.add(e.ts + e.source);
      renderChannel();
    };
    body.append(dismiss);
    row.append(body);
    return row;
  }

  // --- the phone ---

  function renderPhone() {
    const st = S.state;
    const lineSel = $("phone-line");
    if (!lineSel.options.length) {
      for (const l of st.lines) {
        const o = el("option", "", `${l.name} · ${l.label}`);
        o.value = l.number;
        lineSel.append(o);
      }
      S.line = st.lines.length ? st.lines[0].number : "";
    }
    const number = $("phone-number").value;
    const withheld = $("phone-withheld").checked;
    const line = st.lines.find((l) => l.number === lineSel.value) || st.lines[0];
    $("screen-head").textContent = withheld ? "Number withheld: no texts" : `${st.business} · ${line.name} ${line.label}`;

    const known = $("phone-known");
    const others = st.phones.filter((p) => p.number && digitsTail(p.number) !== digitsTail(number));
    const want = others.map((p) => p.number + p.messages.length).join(",");
    if (known.dataset.sig !== want) {
      known.dataset.sig = want;
      const first = el("option", "", others.length ? `Other phones (${others.length})…` : "Other phones…");
      first.value = "";
      known.replaceChildren(first, ...others.slice(0, 60).map((p) => {
        const o = el("option", "", `${p.label} · ${p.messages.length} texts`);
        o.value = p.number;
        return o;
      }));
    }

    const phone = withheld ? null : st.phones.find((p) => p.number && digitsTail(p.number) === digitsTail(number));
    const list = $("sms-list");
    const msgs = phone ? phone.messages.filter((m) => m.line === line.number) : [];
    const sig = JSON.stringify([msgs, withheld, line.number]);
    if (list.dataset.sig !== sig) {
      list.dataset.sig = sig;
      const nodes = msgs.map((m) => {
        const b = el("div", "bubble " + m.dir);
        b.dataset.sid = m.sid || "";
        b.append(bubbleText(m.body, m.dir === "out"));
        const info = el("div", "bubble-info");
        const at = hhmm(new Date(m.at));
        if (m.dir === "out") {
          const delivered = m.status.startsWith("delivered") || m.status === "read";
          const tick = el("span", "ticks" + (delivered ? " delivered" : ""), delivered ? "✓✓" : m.status.startsWith("failed") || m.status.startsWith("undelivered") ? "✕" : "✓");
          tick.title = m.status;
          info.append(at + " · ", tick, " " + m.status);
        } else if (m.dir === "carrier") {
          info.append(at + " · the carrier's automatic reply, not Ringback's");
        } else {
          info.append(at + (m.status === "received" ? " · delivered to Ringback" : " · " + m.status));
        }
        b.append(info);
        return b;
      });
      if (!nodes.length) nodes.push(el("div", "screen-empty", withheld ? "A withheld number gets no text-back." : "No texts with this line yet. Call and hang up: Ringback texts back within a second."));
      list.replaceChildren(...nodes);
      list.scrollTop = list.scrollHeight;
    }
    $("sms-text").disabled = withheld;
    $("sms-send").disabled = withheld;

    const calls = withheld ? (st.phones.find((p) => !p.number) || { calls: [] }).calls : phone ? phone.calls : [];
    const log = $("call-log");
    log.replaceChildren(
      ...calls
        .slice(-4)
        .reverse()
        .map((c) => {
          const l = st.lines.find((x) => x.number === c.to);
          const words = c.status === "completed" ? `answered (${c.duration}s)` : c.status.replace("-", " ");
          return el("div", "call" + (c.result === 200 ? "" : " bad"), `📞 ${hhmm(new Date(c.at))} → ${l ? l.name : c.to} · ${words}${c.result === 200 ? "" : ` · Ringback answered ${c.result}`}`);
        }),
    );
  }

  // pickerURL is the callback picker link a text of Ringback's carries,
  // when it is this demo's own /c/ page; null for any other word. The
  // demo's PUBLIC_URL is 127.0.0.1, so a loopback host on this page's port
  // is this demo too, opened at the page's own origin.
  function pickerURL(word) {
    let u;
    try {
      u = new URL(word);
    } catch (_) {
      return null;
    }
    if (u.protocol !== "http:" && u.protocol !== "https:") return null;
    if (!/^\/c\/[A-Za-z0-9_-]+$/.test(u.pathname) || u.search || u.hash || u.username || u.password) return null;
    const loopback = ["127.0.0.1", "localhost", "[::1]"];
    const own = u.origin === location.origin || (loopback.includes(u.hostname) && loopback.includes(location.hostname) && u.port === location.port);
    return own ? new URL(u.pathname, location.origin) : null;
  }

  // bubbleText builds a text's body as text nodes; in Ringback's own texts
  // a link to this demo's picker becomes a link that opens it on the phone.
  // The body comes from outside and is never parsed as markup.
  function bubbleText(body, linkable) {
    const div = el("div", "bubble-text");
    if (!linkable) {
      div.textContent = body;
      return div;
    }
    let last = 0;
    for (const m of body.matchAll(/https?:\/\/[^\s<>"']+/g)) {
      const word = m[0].replace(/[.,;:!?)]+$/, "");
      const u = pickerURL(word);
      if (!u) continue;
      div.append(document.createTextNode(body.slice(last, m.index)));
      const a = el("a", "picker-link", word);
      a.href = u.href;
      a.rel = "noopener noreferrer";
      a.addEventListener("click", (e) => {
        e.preventDefault();
        openPicker(u.href);
      });
      div.append(a);
      last = m.index + word.length;
    }
    div.append(document.createTextNode(body.slice(last)));
    return div;
  }

  // openPicker shows the caller's browser over the page at a phone's
  // width (360 px), with the picker page loaded from Ringback as the
  // caller's phone would load it.
  function openPicker(href) {
    closePicker();
    const sheet = el("div", "picker-sheet");
    sheet.id = "picker-sheet";
    const phone = el("div", "picker-phone");
    phone.setAttribute("role", "dialog");
    phone.setAttribute("aria-modal", "true");
    phone.setAttribute("aria-label", "The caller's phone: callback picker");
    const bar = el("div", "picker-bar");
    // The token is the caller's; the bar shows where the page is, not it.
    const addr = el("span", "picker-addr", `🔒 ${new URL(href).host}/c/…`);
    const done = el("button", "btn picker-close", "Close");
    done.type = "button";
    done.id = "picker-close";
    done.setAttribute("aria-label", "Close the caller's browser");
    done.addEventListener("click", closePicker);
    bar.append(addr, done);
    const frame = el("iframe", "picker-frame");
    frame.id = "picker-frame";
    frame.title = "Callback picker, as the caller sees it";
    frame.setAttribute("sandbox", "allow-forms allow-same-origin");
    frame.referrerPolicy = "no-referrer";
    frame.src = href;
    phone.append(bar, frame);
    sheet.append(phone);
    sheet.addEventListener("click", (e) => {
      if (e.target === sheet) closePicker();
    });
    document.body.append(sheet);
    done.focus();
  }

  function closePicker() {
    const sheet = $("picker-sheet");
    if (sheet) sheet.remove();
  }

  function renderClock() {
    const c = S.state.clock;
    $("clock-now").textContent = c.local;
    $("clock-tz").textContent = c.timezone + " · Ringback's clock: reminders, escalations and the digest follow it";
  }

  // busyWhile disables btn while fn runs; a failure is shown as a toast,
  // and the state is refreshed after.
  async function busyWhile(btn, fn) {
    btn.disabled = true;
    try {
      await fn();
    } catch (err) {
      toast(err.message, true);
    } finally {
      btn.disabled = false;
      scheduleRefresh();
    }
  }

  function renderFailNext() {
    const b = $("fail-next-btn");
    b.classList.toggle("armed", !!S.state.fail_next);
    b.textContent = S.state.fail_next ? "⚠️ Next delivery fails (armed)" : "⚠️ Fail the next delivery";
  }

  function renderBusy() {
    const b = S.state.busy_day;
    $("busy-btn").disabled = b.running;
    const p = $("busy-progress");
    if (!b.total) {
      p.textContent = "";
      return;
    }
    const verb = b.running ? `Replaying ${b.day}: ${b.done}/${b.total}` : `Replayed ${b.day}`;
    p.textContent = `${verb} · ${b.calls} calls (${b.missed} missed) · ${b.texts} texts${b.errors ? ` · ${b.errors} refused` : ""}`;
  }

  function render() {
    if (!S.state) return;
    renderSidebar();
    renderChannel();
    renderPhone();
    renderClock();
    renderBusy();
    renderFailNext();
    renderModal();
    $("app").dataset.ready = "1";
  }

  // --- wiring ---

  function wire() {
    $("user").addEventListener("change", (e) => {
      S.user = e.target.value;
      localStorage.setItem("ringback.sandbox.user", S.user);
      S.modal = null;
      S.renderedSig = "";
      $("modal-root").replaceChildren();
      refresh();
      if (S.channel === "home") openHome(); // the Home tab is each person's own
    });
    $("composer").addEventListener("submit", async (e) => {
      e.preventDefault();
      const input = $("command-text");
      await busyWhile($("command-send"), async () => {
        const res = await api("/sandbox/api/slack/command", { user: S.user, channel: currentChannel().id, text: input.value });
        if (res.status !== 200) toast(`Ringback answered ${res.status}`, true);
        input.value = "";
      });
    });
    $("call-btn").addEventListener("click", async (e) => {
      await busyWhile(e.currentTarget, async () => {
        const c = await api("/sandbox/api/phone/call", { from: $("phone-number").value, withheld: $("phone-withheld").checked, line: $("phone-line").value });
        if (c.from) $("phone-number").value = c.from; // the call log below shows it
      });
    });
    $("voicemail-btn").addEventListener("click", async (e) => {
      await busyWhile(e.currentTarget, async () => {
        await api("/sandbox/api/phone/voicemail", { from: $("phone-number").value, line: $("phone-line").value });
        toast("Voicemail left: recording and transcript sent");
      });
    });
    $("fail-next-btn").addEventListener("click", async (e) => {
      await busyWhile(e.currentTarget, async () => {
        await api("/sandbox/api/phone/fail-next", {});
        toast("The next text Ringback sends will come back undelivered");
      });
    });
    $("sms-form").addEventListener("submit", async (e) => {
      e.preventDefault();
      const input = $("sms-text");
      if (!input.value.trim()) return;
      await busyWhile($("sms-send"), async () => {
        const m = await api("/sandbox/api/phone/sms", { from: $("phone-number").value, line: $("phone-line").value, body: input.value });
        $("phone-number").value = m.phone;
        input.value = "";
      });
    });
    for (const id of ["phone-number", "phone-withheld", "phone-line"]) $(id).addEventListener("input", () => S.state && renderPhone());
    $("phone-known").addEventListener("change", (e) => {
      if (!e.target.value) return;
      $("phone-number").value = e.target.value;
      $("phone-withheld").checked = false;
      // Show the line that phone last texted with.
      const p = S.state.phones.find((x) => x.number === e.target.value);
      const last = p && p.messages.length ? p.messages[p.messages.length - 1] : null;
      if (last && S.state.lines.some((l) => l.number === last.line)) $("phone-line").value = last.line;
      e.target.value = "";
      renderPhone();
    });
    for (const b of document.querySelectorAll(".clock-buttons button")) {
      b.addEventListener("click", async () => {
        try {
          const c = await api("/sandbox/api/clock", b.dataset.to ? { to: b.dataset.to } : { advance: b.dataset.advance });
          toast("Demo clock: " + c.local);
        } catch (err) {
          toast(err.message, true);
        }
        scheduleRefresh();
      });
    }
    $("busy-btn").addEventListener("click", async () => {
      try {
        await api("/sandbox/api/busyday", {});
      } catch (err) {
        toast(err.message, true);
      }
      scheduleRefresh();
    });
    document.addEventListener("keydown", (e) => {
      if (e.key === "Escape" && $("picker-sheet")) {
        closePicker();
        return;
      }
      if (e.key === "Escape" && S.modal && !document.querySelector(".overlay.confirm")) closeModal();
    });
  }

  wire();
  refresh();
  connect();
})();
