// Slack mrkdwn → DOM nodes. Text arrives escaped the way Slack escapes it
// (&amp; &lt; &gt;); everything becomes text nodes or elements built here,
// never markup parsed from a message, so a caller's text cannot inject HTML.
"use strict";

const Mrkdwn = (() => {
  const ENTITY = /&(amp|lt|gt);/g;
  const CHARS = { amp: "&", lt: "<", gt: ">" };
  const decode = (s) => String(s).replace(ENTITY, (_, n) => CHARS[n]);

  // <…> control sequences, `code`, *bold*, _italic_, ~strike~. Emphasis
  // needs a non-word character (or the edge) on its outer sides, as in Slack.
  const INLINE = new RegExp(
    [
      "<([^<>\\n]+)>",
      "`([^`\\n]+)`",
      "(?<![\\p{L}\\p{N}*])\\*(?!\\s)([^*\\n]+?)(?<!\\s)\\*(?![\\p{L}\\p{N}*])",
      "(?<![\\p{L}\\p{N}_])_(?!\\s)([^_\\n]+?)(?<!\\s)_(?![\\p{L}\\p{N}_])",
      "(?<![\\p{L}\\p{N}~])~(?!\\s)([^~\\n]+?)(?<!\\s)~(?![\\p{L}\\p{N}~])",
    ].join("|"),
    "gu",
  );

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  const SAFE_URL = /^(https?:|mailto:|tel:)/i;

  function link(url, label) {
    url = decode(url);
    if (!SAFE_URL.test(url)) return document.createTextNode(label ? decode(label) : url);
    const a = el("a", "", label ? decode(label) : url);
    a.href = url;
    a.target = "_blank";
    a.rel = "noopener noreferrer";
    return a;
  }

  // A control sequence: mention, channel, special mention, date, link.
  function control(inner, ctx) {
    const bar = inner.indexOf("|");
    const head = bar < 0 ? inner : inner.slice(0, bar);
    const label = bar < 0 ? "" : inner.slice(bar + 1);
    switch (head[0]) {
      case "@": {
        const id = head.slice(1);
        const name = label ? decode(label) : (ctx.names && ctx.names[id]) || id;
        return el("span", "mention", "@" + name);
      }
      case "#":
        return el("span", "mention", "#" + (label ? decode(label) : head.slice(1)));
      case "!": {
        if (head.startsWith("!date^")) return el("span", "date", formatDate(head, label, ctx));
        if (head.startsWith("!subteam^")) return el("span", "mention", decode(label) || "@group");
        const word = head.slice(1);
        if (["channel", "here", "everyone"].includes(word)) return el("span", "mention broadcast", "@" + word);
        return document.createTextNode(label ? decode(label) : "");
      }
    }
    return link(head, label);
  }

  const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
  const DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
  const ordinal = (n) => n + (n % 10 === 1 && n !== 11 ? "st" : n % 10 === 2 && n !== 12 ? "nd" : n % 10 === 3 && n !== 13 ? "rd" : "th");
  const pad = (n) => String(n).padStart(2, "0");
  const dayKey = (d) => d.getFullYear() * 10000 + d.getMonth() * 100 + d.getDate();

  // <!date^unix^format|fallback>, in the reader's own time zone; "today"
  // and friends are relative to the demo clock (ctx.now).
  function formatDate(head, fallback, ctx) {
    const parts = head.split("^");
    const unix = Number(parts[1]);
    if (!Number.isFinite(unix)) return decode(fallback);
    const d = new Date(unix * 1000);
    const now = ctx.now ? new Date(ctx.now) : new Date();
    const date = () => `${MONTHS[d.getMonth()]} ${ordinal(d.getDate())}, ${d.getFullYear()}`;
    const short = () => `${MONTHS[d.getMonth()].slice(0, 3)} ${d.getDate()}, ${d.getFullYear()}`;
    const long = () => `${DAYS[d.getDay()]}, ${date()}`;
    const pretty = (plain) => {
      const diff = Math.round((dayKey(d) === dayKey(now) ? 0 : (new Date(d.getFullYear(), d.getMonth(), d.getDate()) - new Date(now.getFullYear(), now.getMonth(), now.getDate())) / 86400000));
      if (diff === 0) return "Today";
      if (diff === -1) return "Yesterday";
      if (diff === 1) return "Tomorrow";
      return plain();
    };
    // 24-hour, as the demo clock shows time (Slack follows each reader's setting).
    const time = (secs) => `${pad(d.getHours())}:${pad(d.getMinutes())}${secs ? ":" + pad(d.getSeconds()) : ""}`;
    const ago = () => {
      const s = Math.round((now - d) / 1000);
      const abs = Math.abs(s);
      const [n, unit] = abs < 60 ? [abs, "second"] : abs < 3600 ? [Math.round(abs / 60), "minute"] : abs < 86400 ? [Math.round(abs / 3600), "hour"] : [Math.round(abs / 86400), "day"];
      const words = `${n} ${unit}${n === 1 ? "" : "s"}`;
      return s >= 0 ? words + " ago" : "in " + words;
    };
    const tokens = {
      date_num: () => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`,
      date: date,
      date_short: short,
      date_long: long,
      date_pretty: () => pretty(date),
      date_short_pretty: () => pretty(short),
      date_long_pretty: () => pretty(long),
      time: () => time(false),
      time_secs: () => time(true),
      ago: ago,
    };
    return (parts[2] || "{date_short} {time}").replace(/\{(\w+)\}/g, (m, name) => (tokens[name] ? tokens[name]() : m));
  }

  function inline(text, parent, ctx) {
    let last = 0;
    for (const m of text.matchAll(INLINE)) {
      if (m.index > last) parent.append(decode(text.slice(last, m.index)));
      if (m[1] !== undefined) parent.append(control(m[1], ctx));
      else if (m[2] !== undefined) parent.append(el("code", "", decode(m[2])));
      else {
        const tag = m[3] !== undefined ? "strong" : m[4] !== undefined ? "em" : "s";
        const e = el(tag);
        inline(m[3] ?? m[4] ?? m[5], e, ctx);
        parent.append(e);
      }
      last = m.index + m[0].length;
    }
    if (last < text.length) parent.append(decode(text.slice(last)));
  }

  // lines renders mrkdwn without code blocks: lines separated by <br>,
  // runs of "> " lines grouped in a <blockquote>.
  function lines(text, frag, ctx) {
    let quote = null;
    let first = true;
    for (const line of text.split("\n")) {
      const q = /^(?:>|&gt;) ?(.*)$/.exec(line);
      if (q) {
        if (!quote) {
          quote = el("blockquote");
          frag.append(quote);
        } else {
          quote.append(el("br"));
        }
        inline(q[1], quote, ctx);
        first = false;
        continue;
      }
      if (!first && !quote) frag.append(el("br"));
      quote = null;
      inline(line, frag, ctx);
      first = false;
    }
  }

  // render turns mrkdwn into a fragment. ```fenced``` text is preformatted
  // and left unformatted, as in Slack.
  function render(text, ctx) {
    ctx = ctx || {};
    const frag = document.createDocumentFragment();
    const parts = String(text ?? "").split("```");
    if (parts.length % 2 === 0) {
      const last = parts.pop(); // an unclosed fence is text
      parts.push(parts.pop() + "```" + last);
    }
    parts.forEach((part, i) => {
      if (i % 2 === 1) {
        frag.append(el("pre", "pre", decode(part.replace(/^\n/, "").replace(/\n$/, ""))));
        return;
      }
      if (i > 0) part = part.replace(/^\n/, "");
      if (i < parts.length - 1) part = part.replace(/\n$/, "");
      if (part !== "") lines(part, frag, ctx);
    });
    return frag;
  }

  // plain is a plain_text object's text: only entities are decoded.
  const plain = (text) => decode(text ?? "");

  return { render, plain, decode, formatDate };
})();
