// Coalition Assistant chat page: streams answers from POST /chat/stream, shows citation chips and
// sources, opens the cited paragraph in a source viewer, sends feedback. No libraries, no CDN.
"use strict";

const $ = (sel, root = document) => root.querySelector(sel);
const thread = $("#thread");
const form = $("#ask");
const box = $("#question");
const statusLine = $("#status");
const viewer = $("#viewer");
let turns = [];   // {role, content} turns of this conversation, sent with each question
const documentsCache = new Map();

function apiKey() { return sessionStorage.getItem("coalition-api-key") || ""; }

function headers() {
  const h = { "Content-Type": "application/json" };
  if (apiKey()) h["X-API-Key"] = apiKey();
  return h;
}

async function problem(response) {
  if (response.status === 401) {
    $("#keybox").hidden = false;
    $("#apikey").focus();
  }
  try { return (await response.json()).detail || response.statusText; } catch { return response.statusText; }
}

function el(tag, attrs = {}, text = "") {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text) node.textContent = text;
  return node;
}

// Answer text with [n] markers turned into buttons that open the cited passage.
function renderText(target, text, citations) {
  target.textContent = "";
  const byN = new Map(citations.map((c) => [c.n, c]));
  let last = 0;
  for (const m of text.matchAll(/\[(\d{1,2})\]/g)) {
    target.append(text.slice(last, m.index));
    const c = byN.get(Number(m[1]));
    if (c) {
      const chip = el("button", { type: "button", class: "chip", "aria-label": `Source ${c.n}: ${c.locator}` }, String(c.n));
      chip.addEventListener("click", () => openSource(c));
      target.append(chip);
    } else {
      target.append(m[0]);
    }
    last = m.index + m[0].length;
  }
  target.append(text.slice(last));
}

function renderSources(list, citations) {
  list.textContent = "";
  for (const c of citations) {
    const item = el("li", { value: String(c.n) });
    const link = el("button", { type: "button", class: "source" }, `${c.locator} — ${c.title}`);
    link.addEventListener("click", () => openSource(c));
    item.append(link, el("q", {}, c.quote));
    list.append(item);
  }
}

function copyText(result) {
  const lines = [result.answer, "", "Sources:"];
  for (const c of result.citations) lines.push(`[${c.n}] ${c.locator} — ${c.title}: "${c.quote}"${c.url ? " " + c.url : ""}`);
  return lines.join("\n");
}

async function copy(text) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    const area = el("textarea");
    area.value = text;
    document.body.append(area);
    area.select();
    document.execCommand("copy");
    area.remove();
  }
}

async function sendFeedback(card, result, rating, comment = "") {
  const note = $(".note", card);
  const response = await fetch("/feedback", {
    method: "POST", headers: headers(),
    body: JSON.stringify({ answer_id: result.answer_id, rating, comment }),
  });
  if (!response.ok) { note.textContent = `Feedback not saved: ${await problem(response)}`; return; }
  for (const b of card.querySelectorAll(".rate")) b.setAttribute("aria-pressed", String(b.dataset.rating === rating));
  note.textContent = comment ? "Comment saved — thank you." : "Thanks for the feedback.";
  const commentForm = $(".comment", card);
  commentForm.hidden = rating !== "down" || Boolean(comment);
  if (!commentForm.hidden) $("input", commentForm).focus();
}

function answerCard() {
  const card = $("#answer-template").content.firstElementChild.cloneNode(true);
  $(".label", card).textContent = "Answering…";
  $(".actions", card).hidden = true;
  thread.append(card);
  return card;
}

function finish(card, result) {
  card.classList.toggle("abstained", result.abstained);
  $(".label", card).textContent = result.abstained ? "Not in the documents" : `Answer · ${result.citations.length} source${result.citations.length === 1 ? "" : "s"}`;
  renderText($(".text", card), result.answer, result.citations);
  renderSources($(".sources", card), result.citations);
  $(".actions", card).hidden = false;
  for (const b of card.querySelectorAll(".rate")) b.addEventListener("click", () => sendFeedback(card, result, b.dataset.rating));
  $(".copy", card).addEventListener("click", async () => {
    await copy(copyText(result));
    $(".note", card).textContent = "Copied with sources.";
  });
  $(".comment", card).addEventListener("submit", (event) => {
    event.preventDefault();
    const comment = $("input", event.target).value.trim();
    if (comment) sendFeedback(card, result, "down", comment);
  });
}

// Reads text/event-stream from a fetch response and calls onEvent(name, data) for each event.
async function readEvents(response, onEvent) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      const name = (block.match(/^event: (.*)$/m) || [])[1] || "message";
      const data = block.split("\n").filter((l) => l.startsWith("data: ")).map((l) => l.slice(6)).join("\n");
      onEvent(name, JSON.parse(data));
    }
  }
}

async function ask(question) {
  thread.append(el("li", { class: "turn question" }, question));
  const card = answerCard();
  const send = $("#send");
  send.disabled = true;
  statusLine.textContent = "Looking through the documents…";
  try {
    const response = await fetch("/chat/stream", {
      method: "POST", headers: headers(), body: JSON.stringify({ question, history: turns.slice(-8) }),
    });
    if (!response.ok) throw new Error(await problem(response));
    let result = null;
    const text = $(".text", card);
    await readEvents(response, (name, data) => {
      if (name === "delta") text.textContent += data.text;
      if (name === "done") result = data;
    });
    if (!result) throw new Error("the answer stream ended early");
    finish(card, result);
    turns.push({ role: "user", content: question }, { role: "assistant", content: result.answer });
    statusLine.textContent = result.abstained ? "The documents don't answer that." : "Answered.";
  } catch (error) {
    card.classList.add("error");
    $(".label", card).textContent = "Error";
    $(".text", card).textContent = `Sorry, no answer: ${error.message}`;
    statusLine.textContent = "";
  } finally {
    send.disabled = false;
  }
}

function highlight(paragraph, quote) {
  const text = paragraph.textContent;
  const at = quote ? text.indexOf(quote) : -1;
  if (at < 0) return false;
  paragraph.textContent = "";
  paragraph.append(text.slice(0, at), el("mark", {}, quote), text.slice(at + quote.length));
  return true;
}

async function loadDocument(docId) {
  if (!documentsCache.has(docId)) {
    const response = await fetch(`/documents/${encodeURIComponent(docId)}`, { headers: headers() });
    if (!response.ok) throw new Error(await problem(response));
    documentsCache.set(docId, await response.json());
  }
  return documentsCache.get(docId);
}

// Opens the document at the cited passage, with the quoted span highlighted.
async function openSource(citation) {
  let doc;
  try { doc = await loadDocument(citation.doc_id); } catch (error) { statusLine.textContent = `Cannot open the source: ${error.message}`; return; }
  $("#viewer-title").textContent = doc.title;
  $("#viewer-meta").textContent = [doc.symbol, doc.publisher, doc.date].filter(Boolean).join(" · ");
  const body = $("#viewer-body");
  body.textContent = "";
  let target = null;
  for (const p of doc.passages) {
    const section = el("section", { id: p.id, class: "passage", tabindex: "-1" });
    section.append(el("h3", {}, p.locator));
    const para = el("p", {}, p.text);
    section.append(para);
    if (p.id === citation.chunk_id) {
      section.classList.add("cited");
      highlight(para, citation.quote);
      target = section;
    }
    body.append(section);
  }
  viewer.hidden = false;
  $("main").classList.add("with-viewer");
  const where = target || body.firstElementChild;
  if (where) { where.scrollIntoView({ block: "start" }); where.focus({ preventScroll: true }); }
  window.history.replaceState(null, "", `?doc=${encodeURIComponent(citation.doc_id)}#${citation.chunk_id || ""}`);
}

function closeViewer() {
  viewer.hidden = true;
  $("main").classList.remove("with-viewer");
  window.history.replaceState(null, "", "/");
  box.focus();
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const question = box.value.trim();
  if (!question) { statusLine.textContent = "Type a question first."; return; }
  box.value = "";
  ask(question);
});
box.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); form.requestSubmit(); }
});
$("#new").addEventListener("click", () => { turns = []; thread.textContent = ""; statusLine.textContent = "New conversation."; box.focus(); });
$("#viewer-close").addEventListener("click", closeViewer);
document.addEventListener("keydown", (event) => { if (event.key === "Escape" && !viewer.hidden) closeViewer(); });
$("#apikey").addEventListener("change", (event) => { sessionStorage.setItem("coalition-api-key", event.target.value); showAudience(); });

// Which documents this caller's answers come from (public < partner < staff), from GET /audience.
const AUDIENCE_NOTES = { public: "public documents", partner: "public and partner documents", staff: "all documents, staff-only included" };
async function showAudience() {
  const line = $("#audience");
  try {
    const response = await fetch("/audience", { headers: headers() });
    if (!response.ok) { line.hidden = true; if (response.status === 401) await problem(response); return; }
    const { audience } = await response.json();
    line.textContent = `Audience: ${audience} — answers from ${AUDIENCE_NOTES[audience] || audience}`;
    line.dataset.audience = audience;
    line.hidden = false;
  } catch { line.hidden = true; }
}
showAudience();

// Deep links from Slack and elsewhere: /?doc=<doc_id>#<passage id>
const params = new URLSearchParams(window.location.search);
if (params.get("doc")) openSource({ doc_id: params.get("doc"), chunk_id: decodeURIComponent(window.location.hash.slice(1)), quote: "" });

// ---- Practices view: GET /practices with filters; facet counts; each record opens its source. ----
const practiceForm = $("#practice-form");
const selects = { country: $("#p-country"), region: $("#p-region"), theme: $("#p-theme"), funder: $("#p-funder") };
const THEME_NAMES = {
  inequality: "Inequality, discrimination and exclusion", labour_rights: "Labour rights and human dignity",
  employment: "Productive employment and enterprise", social_protection: "Protection and resilience",
  just_transitions: "Just transitions, trade and investment", social_dialogue: "Social dialogue",
};
let practicesLoaded = false;

function showView(name) {
  const practices = name === "practices";
  $("#view-practices").hidden = !practices;
  $("#view-ask").hidden = practices;
  $("#tab-practices").setAttribute("aria-pressed", String(practices));
  $("#tab-ask").setAttribute("aria-pressed", String(!practices));
  if (practices && !practicesLoaded) { practicesLoaded = true; findPractices(true); }
  (practices ? $("#p-q") : box).focus();
}

function fillSelects(facets) {
  for (const [name, select] of Object.entries(selects)) {
    const values = Object.keys(facets[name] || {}).sort();
    for (const value of values) {
      const option = el("option", { value }, name === "theme" ? THEME_NAMES[value] || value : value);
      select.append(option);
    }
  }
}

function renderFacets(facets) {
  const holder = $("#p-facets");
  holder.textContent = "";
  for (const name of ["kind", "country", "theme", "funder", "decade"]) {
    const counts = facets[name] || {};
    if (!Object.keys(counts).length) continue;
    const group = el("div");
    group.append(el("h3", {}, name));
    const list = el("ul");
    for (const [value, count] of Object.entries(counts)) {
      const label = `${name === "theme" ? THEME_NAMES[value] || value : value} (${count})`;
      const button = el("button", { type: "button", class: "facet secondary" }, label);
      if (selects[name] || name === "kind") {
        button.addEventListener("click", () => { (selects[name] || $("#p-kind")).value = value; findPractices(); });
      } else {
        button.disabled = true;
      }
      const entry = el("li");
      entry.append(button);
      list.append(entry);
    }
    group.append(list);
    holder.append(group);
  }
}

function renderRecord(hit) {
  const r = hit.record;
  const item = el("li", { class: "record" });
  item.append(el("h3", {}, r.title));
  const facts = [r.kind.replace("_", " "), r.countries.join(", "), r.year_from ? `${r.year_from}–${r.year_to}` : "",
    r.funder ? `funded by ${r.funder}` : "", r.amount ? `${r.currency} ${Math.round(r.amount).toLocaleString("en")}` : "",
    Object.keys(r.themes).map((t) => THEME_NAMES[t] || t).join("; ")].filter(Boolean).join(" · ");
  item.append(el("p", { class: "facts" }, facts), el("p", {}, r.summary));
  const source = el("button", { type: "button", class: "source secondary" }, `Source: ${r.locator}`);
  source.addEventListener("click", () => openSource({ doc_id: r.doc_id, chunk_id: r.chunk_ids[0], quote: r.summary.replace(/…$/, "") }));
  item.append(source);
  return item;
}

async function findPractices(first = false) {
  const params = new URLSearchParams({ limit: "50" });
  for (const [key, value] of new FormData(practiceForm).entries()) if (String(value).trim()) params.set(key, String(value).trim());
  const status = $("#p-status");
  status.textContent = "Searching…";
  const response = await fetch(`/practices?${params}`, { headers: headers() });
  if (!response.ok) { status.textContent = `No results: ${await problem(response)}`; return; }
  const body = await response.json();
  if (first) fillSelects(body.facets);
  renderFacets(body.facets);
  const list = $("#p-results");
  list.textContent = "";
  for (const hit of body.hits) list.append(renderRecord(hit));
  status.textContent = body.total ? `${body.total} practice record${body.total === 1 ? "" : "s"} found.` : "No practices match these filters.";
}

practiceForm.addEventListener("submit", (event) => { event.preventDefault(); findPractices(); });
practiceForm.addEventListener("reset", () => setTimeout(() => findPractices(), 0));
$("#tab-ask").addEventListener("click", () => showView("ask"));
$("#tab-practices").addEventListener("click", () => showView("practices"));
