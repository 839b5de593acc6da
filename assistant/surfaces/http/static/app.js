// incident-assistant chat page: plain JS, no build step. Talks to /v1/diagnose (SSE), /v1/incidents, /readyz.
"use strict";

const KEY_STORAGE = "incident-assistant.api-key";
const $ = (selector) => document.querySelector(selector);

const state = {
  history: [], // earlier turns (questions and answers), oldest first
  busy: false,
  knownIds: new Set(), // incident ids retrieved in this conversation
};

// ---------------------------------------------------------------- helpers

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "text") node.textContent = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function apiKey() {
  return localStorage.getItem(KEY_STORAGE) || "";
}

class ApiError extends Error {
  constructor(status, error) {
    super((error && error.message) || `HTTP ${status}`);
    this.status = status;
    this.hint = (error && error.hint) || "";
  }
}

async function api(path, options = {}) {
  const headers = new Headers(options.headers || {});
  const key = apiKey();
  if (key) headers.set("Authorization", `Bearer ${key}`);
  const response = await fetch(path, { ...options, headers });
  if (!response.ok) {
    let error = null;
    try {
      error = (await response.json()).error;
    } catch (_) {
      error = null;
    }
    if (response.status === 401) askForKey();
    throw new ApiError(response.status, error);
  }
  return response;
}

function percent(x) {
  const pct = Math.round((x || 0) * 100);
  return pct === 0 && x > 0 ? "<1%" : `${pct}%`;
}

function verdictText(seen) {
  const pct = Math.round((seen.confidence || 0) * 100);
  const yes = seen.level === "incident" ? "Same incident seen before" : "Known kind of problem";
  const label = { yes, maybe: "Maybe seen before", no: "Not seen before" }[seen.verdict];
  const kind = seen.verdict === "yes" && seen.kind
    ? ` · ${seen.kind.subtype.replaceAll("_", " ")}, ${seen.kind.incidents} past` : "";
  return `${label}${kind} · ${pct}%`;
}

function setBadge(node, seen) {
  node.hidden = false;
  node.dataset.verdict = seen.verdict;
  node.textContent = verdictText(seen);
  node.title = `Confidence that the top match is the same problem: ${Math.round(seen.confidence * 100)}%`;
}

// ---------------------------------------------------------------- text rendering (safe: no innerHTML)

const CITATION = /\[([A-Za-z][\w.:-]*-[\w.:-]+(?:\s*,\s*[A-Za-z][\w.:-]*-[\w.:-]+)*)\]/g;

function citationButton(id) {
  return el("button", { type: "button", class: "citation", "data-id": id, onclick: () => openIncident(id) }, id);
}

function inline(text, allowed) {
  // citations, **bold** and `code` inside one line
  const out = [];
  const pattern = new RegExp(`${CITATION.source}|\\*\\*([^*]+)\\*\\*|\`([^\`]+)\``, "g");
  let last = 0;
  for (const m of text.matchAll(pattern)) {
    if (m.index > last) out.push(text.slice(last, m.index));
    if (m[1] !== undefined) {
      const ids = m[1].split(",").map((s) => s.trim());
      if (allowed && !ids.every((id) => allowed.has(id))) {
        out.push(m[0]);
      } else {
        ids.forEach((id) => out.push(citationButton(id)));
      }
    } else if (m[2] !== undefined) {
      out.push(el("strong", {}, m[2]));
    } else {
      out.push(el("code", {}, m[3]));
    }
    last = m.index + m[0].length;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

function renderText(container, text, allowed) {
  // paragraphs, bullet lists and headings from plain text; everything else is literal text
  container.replaceChildren();
  let list = null;
  let para = [];
  const flush = () => {
    if (para.length) container.append(el("p", {}, inline(para.join(" "), allowed)));
    para = [];
  };
  for (const raw of text.split("\n")) {
    const line = raw.trimEnd();
    const bullet = line.match(/^\s*(?:[-*•]|\d+[.)])\s+(.*)$/);
    if (bullet) {
      flush();
      if (!list) {
        list = el("ul");
        container.append(list);
      }
      list.append(el("li", {}, inline(bullet[1], allowed)));
      continue;
    }
    list = null;
    if (!line.trim()) {
      flush();
      continue;
    }
    const heading = line.match(/^#{1,6}\s+(.*)$/);
    if (heading) {
      flush();
      container.append(el("p", {}, el("strong", {}, heading[1])));
      continue;
    }
    para.push(line.trim());
  }
  flush();
}

// ---------------------------------------------------------------- similar incidents panel

function matchReasons(m) {
  // what the query and the incident share, and what in the incident contradicts the query (when known)
  const reasons = m.reasons || {};
  const shared = reasons.shared || [];
  const against = reasons.contradictions || [];
  if (!shared.length && !against.length && m.same_problem == null) return null;
  return el(
    "div",
    { class: "reasons" },
    m.same_problem != null
      ? el("p", { class: "same-problem", title: "Probability that this is the same problem" },
          `same problem: ${percent(m.same_problem)}`)
      : null,
    shared.length
      ? el("ul", { class: "shared" }, shared.map((s) => el("li", {}, el("q", {}, s.query), " ↔ ", s.label)))
      : null,
    against.length ? el("ul", { class: "contradictions" }, against.map((c) => el("li", {}, c))) : null,
  );
}

function reasonsText(m) {
  const reasons = m.reasons || {};
  const lines = (reasons.shared || []).map((s) => `    shares: "${s.query}" ↔ ${s.label}`);
  return lines.concat((reasons.contradictions || []).map((c) => `    but: ${c}`));
}

function setVerdictReason(node, seen) {
  node.hidden = !seen.reason;
  node.textContent = seen.reason || "";
}

function matchFix(m) {
  // what fixed it last time, and whether it held: the first thing a "yes" is good for
  if (!m.fix) return null;
  return el("p", { class: "match-fix" },
    el("strong", {}, "Fixed by: "), m.fix,
    m.outcome ? el("span", { class: "match-outcome" }, ` — ${m.outcome}`) : null);
}

function renderMatches(diagnosis) {
  const list = $("#matches");
  list.replaceChildren();
  const cited = new Set(diagnosis.citations || []);
  if (!diagnosis.matches.length) {
    list.append(el("li", { class: "placeholder" }, "Nothing in the incident history looks like this."));
  }
  for (const m of diagnosis.matches) {
    const pct = Math.max(2, Math.round(m.score * 100));
    const bar = el("div", { class: "bar" }, el("span"));
    bar.firstChild.style.width = `${pct}%`;
    list.append(
      el(
        "li",
        { class: "match", "data-id": m.id, "data-cited": cited.has(m.id) ? "true" : "false" },
        el(
          "button",
          { type: "button", onclick: () => openIncident(m.id), title: "Open incident" },
          el(
            "div",
            { class: "match-top" },
            el("span", { class: "match-id" }, m.id),
            el("span", { class: "match-score", title: "Fused rank score (1.0 = top in both searches)" },
              `score ${m.score.toFixed(2)}`),
          ),
          el("div", { class: "match-title" }, m.title),
          bar,
          el(
            "p",
            { class: "tags" },
            el("span", { class: "tag" }, m.category || "uncategorised"),
            el("span", { class: "tag" }, m.subtype || "—"),
            el("span", { class: "tag", title: "Best query–passage cosine similarity" },
              `sim ${m.similarity.toFixed(2)}`),
            cited.has(m.id) ? el("span", { class: "tag cited-tag" }, "cited") : null,
            m.draft ? el("span", { class: "tag draft-tag", title: "An unreviewed draft label: check it first" },
              "draft") : null,
          ),
        ),
        matchFix(m),
        matchReasons(m),
      ),
    );
  }
  setBadge($("#seen-badge"), diagnosis.seen_before);
  setVerdictReason($("#seen-reason"), diagnosis.seen_before);
}

function renderTurnMatches(container, diagnosis) {
  // the similar incidents at the top of the answer, for phones (the side panel sits below the thread)
  container.replaceChildren();
  if (!diagnosis.matches.length) return;
  container.append(
    el("p", { class: "turn-matches-head" }, `Similar incidents (${diagnosis.matches.length})`),
    el(
      "ol",
      {},
      diagnosis.matches.map((m) =>
        el(
          "li",
          {},
          el("button", { type: "button", class: "turn-match", "data-id": m.id, onclick: () => openIncident(m.id) },
            el("span", { class: "match-id" }, m.id), " ", m.title),
        ),
      ),
    ),
  );
}

// ---------------------------------------------------------------- structured answer

function idChips(ids) {
  return ids.map((id) => citationButton(id));
}

function renderStructured(container, d) {
  container.replaceChildren();
  const section = (title, ...body) => el("section", {}, el("h3", {}, title), ...body);
  if (d.hypotheses && d.hypotheses.length) {
    container.append(
      section(
        "Likely causes",
        el(
          "ol",
          {},
          d.hypotheses.map((h) =>
            el("li", {}, h.cause, el("span", { class: "confidence", title: "confidence" }, percent(h.confidence)), " ",
              idChips(h.incident_ids)),
          ),
        ),
      ),
    );
  }
  if (d.evidence_to_check && d.evidence_to_check.length) {
    container.append(section("Check", el("ul", {}, d.evidence_to_check.map((e) => el("li", {}, inline(e))))));
  }
  if (d.next_steps && d.next_steps.length) {
    container.append(section("Next steps", el("ul", {}, d.next_steps.map((s) => el("li", {}, inline(s))))));
  }
  if (d.resolutions && d.resolutions.length) {
    container.append(
      section(
        "What fixed it before",
        el("ul", {}, d.resolutions.map((r) => el("li", {}, citationButton(r.incident_id), " ", r.action))),
      ),
    );
  }
}

function answerAsText(d) {
  // the whole answer, ready to paste into the incident channel
  const verdict = verdictText(d.seen_before) + (d.seen_before.reason ? ` — ${d.seen_before.reason}` : "");
  const lines = [verdict, "", d.summary.trim()];
  const section = (title, items) => {
    if (items.length) lines.push("", title, ...items);
  };
  section("Likely causes:", d.hypotheses.map((h, i) =>
    `${i + 1}. ${h.cause} (${percent(h.confidence)}) [${h.incident_ids.join(", ")}]`));
  section("Check:", d.evidence_to_check.map((e) => `- ${e}`));
  section("Next steps:", d.next_steps.map((s) => `- ${s}`));
  section("What fixed it before:", d.resolutions.map((r) => `- [${r.incident_id}] ${r.action}`));
  section("Similar incidents:", d.matches.flatMap((m) => [
    `- ${m.id} (score ${m.score.toFixed(2)}, ${m.category || "?"}/${m.subtype || "?"}): ${m.title}`,
    ...reasonsText(m),
  ]));
  return lines.join("\n");
}

async function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) {
    await navigator.clipboard.writeText(text);
    return;
  }
  const area = el("textarea", { class: "visually-hidden" });
  area.value = text;
  document.body.append(area);
  area.select();
  document.execCommand("copy");
  area.remove();
}

// ---------------------------------------------------------------- asking

async function* sseEvents(response) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true }).replace(/\r\n/g, "\n");
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      let event = "message";
      const data = [];
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) event = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
      }
      if (data.length) yield { event, data: data.join("\n") };
    }
  }
}

function showError(answer, error) {
  answer.dataset.state = "error";
  answer.replaceChildren(
    el("p", { class: "error" }, error.message || String(error)),
    error.hint ? el("p", { class: "muted" }, error.hint) : null,
  );
}

async function ask(query) {
  if (state.busy || !query.trim()) return;
  state.busy = true;
  $("#ask").disabled = true;
  $("#intro")?.remove();

  const turn = $("#turn-template").content.firstElementChild.cloneNode(true);
  turn.querySelector(".question").textContent = query;
  const answer = turn.querySelector(".answer");
  const copy = turn.querySelector(".copy");
  $("#thread").append(turn);
  turn.scrollIntoView({ behavior: "smooth", block: "start" });

  let text = "";
  let diagnosis = null;
  try {
    const response = await api("/v1/diagnose", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "text/event-stream" },
      body: JSON.stringify({ query, history: state.history, stream: true }),
    });
    for await (const { event, data } of sseEvents(response)) {
      if (event === "token") {
        text += JSON.parse(data).text;
        answer.dataset.chunks = String(Number(answer.dataset.chunks || 0) + 1);
        renderText(answer, text, null);
        answer.append(el("span", { class: "cursor", "aria-hidden": "true" }));
      } else if (event === "diagnosis") {
        diagnosis = JSON.parse(data);
      } else if (event === "error") {
        const error = JSON.parse(data).error;
        throw new ApiError(500, error);
      }
    }
    if (!diagnosis) throw new Error("the answer stream ended early; try again");
  } catch (error) {
    showError(answer, error);
    finish();
    return;
  }

  diagnosis.matches.forEach((m) => state.knownIds.add(m.id));
  const allowed = new Set([...(diagnosis.citations || []), ...diagnosis.matches.map((m) => m.id)]);
  renderText(answer, diagnosis.summary, allowed);
  answer.dataset.state = "done";
  setBadge(turn.querySelector(".badge.seen"), diagnosis.seen_before);
  setVerdictReason(turn.querySelector(".verdict-reason"), diagnosis.seen_before);
  renderTurnMatches(turn.querySelector(".turn-matches"), diagnosis);
  const backend = turn.querySelector(".backend");
  backend.textContent = diagnosis.fallback_reason
    ? `${diagnosis.backend} (fallback: ${diagnosis.fallback_reason})`
    : diagnosis.backend;
  renderStructured(turn.querySelector(".structured"), diagnosis);
  const cited = turn.querySelector(".cited");
  if (diagnosis.citations && diagnosis.citations.length) {
    cited.replaceChildren(el("span", { class: "muted" }, "Cited:"), ...diagnosis.citations.map(citationButton));
  }
  renderMatches(diagnosis);

  copy.disabled = false;
  copy.addEventListener("click", async () => {
    try {
      await copyText(answerAsText(diagnosis));
      copy.textContent = "Copied ✓";
    } catch (_) {
      copy.textContent = "Copy failed";
    }
    setTimeout(() => (copy.textContent = "Copy"), 1600);
  });

  state.history.push(query, diagnosis.summary);
  finish();
}

function finish() {
  state.busy = false;
  $("#ask").disabled = false;
  $("#query").focus();
}

// ---------------------------------------------------------------- incident detail

const KIND_TITLE = { symptom: "Symptoms", evidence: "Root cause and evidence", resolution: "Resolution" };
const PAGE_TITLE = document.title;

function incidentFacts(incident) {
  const facts = [];
  if (incident.severity) facts.push(el("span", { class: "fact severity", "data-severity": incident.severity },
    `severity ${incident.severity}`));
  if (incident.started) {
    const date = new Date(incident.started);
    const shown = Number.isNaN(date.getTime()) ? incident.started : date.toISOString().slice(0, 16).replace("T", " ") + " UTC";
    facts.push(el("span", { class: "fact started" }, shown));
  }
  if (incident.duration) facts.push(el("span", { class: "fact duration" }, `lasted ${incident.duration}`));
  return facts;
}

function incidentSummary(incident) {
  // what an on-call engineer reads first: the cause and what fixed it
  const parts = [];
  if (incident.root_cause) {
    parts.push(el("section", { class: "passage lead root-cause" }, el("h3", {}, "Root cause"), el("p", {}, incident.root_cause)));
  }
  if (incident.fixes && incident.fixes.length) {
    parts.push(el("section", { class: "passage lead fix" }, el("h3", {}, "What fixed it"),
      el("ol", {}, incident.fixes.map((f) => el("li", {}, f)))));
  }
  return parts;
}

async function openIncident(id) {
  const dialog = $("#detail");
  $("#detail-id").textContent = id;
  $("#detail-facts").replaceChildren();
  $("#detail-title").textContent = "Loading…";
  $("#detail-tags").replaceChildren();
  $("#detail-body").replaceChildren();
  if (!dialog.open) dialog.showModal();
  try {
    const incident = await (await api(`/v1/incidents/${encodeURIComponent(id)}`)).json();
    $("#detail-title").textContent = incident.title;
    document.title = `${incident.id}: ${incident.title} · incident-assistant`;
    $("#detail-facts").replaceChildren(...incidentFacts(incident));
    $("#detail-tags").replaceChildren(
      el("span", { class: "tag" }, incident.category || "uncategorised"),
      el("span", { class: "tag" }, incident.subtype || "—"),
      el("span", { class: "tag mono" }, incident.file),
    );
    $("#detail-body").replaceChildren(
      ...incidentSummary(incident),
      ...incident.passages.map((p) =>
        el("section", { class: "passage" }, el("h3", {}, KIND_TITLE[p.kind] || p.kind), el("pre", {}, p.text)),
      ),
      el(
        "details",
        { class: "passage" },
        el("summary", { class: "muted" }, "Label JSON"),
        el("pre", {}, JSON.stringify(incident.label, null, 2)),
      ),
    );
  } catch (error) {
    $("#detail-title").textContent = "Could not open this incident";
    $("#detail-body").replaceChildren(
      el("p", { class: "error" }, error.message),
      error.hint ? el("p", { class: "muted" }, error.hint) : null,
    );
  }
}

// ---------------------------------------------------------------- status and API key

async function checkStatus() {
  const status = $("#status");
  const text = $("#status-text");
  try {
    const response = await fetch("/readyz");
    const body = await response.json();
    status.dataset.state = body.status;
    if (body.status === "ready") {
      text.textContent = `${body.index.incidents} incidents indexed`;
      status.title = body.warning || `index ${body.index.build_id}, encoder ${body.index.encoder}`;
      return;
    }
    text.textContent = body.status === "loading" ? "loading index…" : "index not ready";
    status.title = `${body.reason}${body.hint ? ` — ${body.hint}` : ""}`;
  } catch (_) {
    status.dataset.state = "failed";
    text.textContent = "server unreachable";
  }
  setTimeout(checkStatus, 3000);
}

function askForKey() {
  $("#key-button").hidden = false;
  const dialog = $("#key-dialog");
  if (!dialog.open) {
    $("#key-input").value = apiKey();
    dialog.showModal();
  }
}

// ---------------------------------------------------------------- wiring

function autosize(area) {
  if (!area.value) {
    area.style.height = ""; // an empty box keeps its CSS height, however long the placeholder
    return;
  }
  area.style.height = "auto";
  area.style.height = `${Math.min(area.scrollHeight, 220)}px`;
}

function init() {
  const form = $("#ask-form");
  const query = $("#query");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = query.value.trim();
    if (!text) return;
    query.value = "";
    autosize(query);
    ask(text);
  });
  query.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  query.addEventListener("input", () => autosize(query));
  document.querySelectorAll(".example").forEach((button) =>
    button.addEventListener("click", () => {
      query.value = button.textContent;
      form.requestSubmit();
    }),
  );
  $("#detail-close").addEventListener("click", () => $("#detail").close());
  $("#detail").addEventListener("close", () => (document.title = PAGE_TITLE));
  $("#detail").addEventListener("click", (event) => {
    if (event.target === event.currentTarget) event.currentTarget.close();
  });
  $("#key-button").addEventListener("click", askForKey);
  $("#key-cancel").addEventListener("click", () => $("#key-dialog").close());
  $("#key-form").addEventListener("submit", () => {
    localStorage.setItem(KEY_STORAGE, $("#key-input").value.trim());
  });
  $("#new-chat").addEventListener("click", () => window.location.assign("/"));
  if (apiKey()) $("#key-button").hidden = false;

  const deepLink = window.location.pathname.match(/^\/incidents\/([^/]+)$/);
  if (deepLink) openIncident(decodeURIComponent(deepLink[1]));
  checkStatus();
  query.focus();
}

document.addEventListener("DOMContentLoaded", init);
