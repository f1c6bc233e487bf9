// clipvg serve: the editor page. Plain JavaScript, no build step.
// The picture is clipvg's own SVG, drawn live by the browser; boxes are drawn on an overlay SVG in the
// same canvas coordinates; edits run on the server and stream their progress over server-sent events.
"use strict";

const SVG_NS = "http://www.w3.org/2000/svg";
const INKSCAPE_NS = "http://www.inkscape.org/namespaces/inkscape";
const COLORS = ["#e6194b", "#2e9d4a", "#4363d8", "#f58231", "#911eb4", "#0aa5b8", "#d6299a", "#7a8a00"];
const MIN_BOX = 2; // px of canvas: a smaller drag is a click, not a box
const DONE = ["finished", "stopped", "cancelled", "failed", "interrupted"];
const RECONNECT_MAX = 15000; // ms: the longest wait between tries to reach a server that went away

// Every element the script touches, looked up once (before any SVG is inserted into the page).
const $ = {};
for (const id of ["file", "rounds", "max-size", "example", "open-example", "server-status", "stage", "picture",
  "overlay", "placeholder", "layer-list", "prompt", "roi-list", "roi-empty", "change", "region-only", "iterations",
  "patches", "seed", "start", "stop", "continue", "progress", "progress-text", "loss-line", "message", "dl-svg",
  "dl-png", "dl-pdf", "dl-zip", "version-list", "interrupted", "interrupted-text", "resume", "keep-note"]) {
  $[id] = document.getElementById(id);
}

const state = {
  info: null,
  doc: null,        // the document's metadata from the server
  version: null,    // the selected version's index
  rois: [],         // {x, y, w, h, prompt} in canvas pixels
  selected: -1,     // index of the selected box
  job: null,        // the last job state seen
  events: null,     // the EventSource of the watched job
  reconnect: null,  // the timer of the next try to reach the server again
  losses: [],
  hiddenLayers: new Set(),
  drag: null,
};

// ---------------------------------------------------------------------------------------------------
// Server calls

async function api(path, options = {}) {
  const response = await fetch(path, { credentials: "same-origin", ...options });
  let body = null;
  try { body = await response.json(); } catch (error) { body = null; }
  if (!response.ok) {
    throw new Error((body && body.error) || `${response.status} ${response.statusText}`);
  }
  return body;
}

function postJSON(path, data) {
  return api(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(data) });
}

function docPath(suffix = "") {
  return `/api/documents/${state.doc.id}${suffix}`;
}

function showMessage(text, kind = "error") {
  $.message.textContent = text || "";
  $.message.className = kind;
}

// ---------------------------------------------------------------------------------------------------
// Opening pictures

async function openFile(file) {
  if (!file) return;
  showMessage("");
  const limit = state.info ? state.info.max_upload_bytes : Infinity;
  if (file.size > limit) {
    showMessage(`${file.name} is ${(file.size / 1048576).toFixed(1)} MB; this server accepts up to ` +
      `${(limit / 1048576).toFixed(0)} MB.`);
    return;
  }
  const query = new URLSearchParams({ name: file.name, rounds: $.rounds.value, max_size: $["max-size"].value });
  try {
    opened(await api(`/api/documents?${query}`, { method: "POST", body: file }));
  } catch (error) {
    showMessage(`Cannot open ${file.name}: ${error.message}`);
  }
}

async function openExample() {
  const name = $.example.value;
  if (!name) return;
  showMessage("");
  const query = new URLSearchParams({ rounds: $.rounds.value, max_size: $["max-size"].value });
  try {
    opened(await api(`/api/examples/${encodeURIComponent(name)}?${query}`, { method: "POST" }));
  } catch (error) {
    showMessage(`Cannot open the example: ${error.message}`);
  }
}

function detach() {
  // Stop following the current job (it goes on on the server) before showing another document.
  if (state.events) state.events.close();
  state.events = null;
  clearTimeout(state.reconnect);
  state.job = null;
  state.losses = [];
  $.progress.max = 1;
  $.progress.value = 0;
  $["progress-text"].textContent = "Idle.";
  drawLosses();
}

function opened(answer) {
  detach();
  state.rois = [];
  state.selected = -1;
  state.hiddenLayers.clear();
  setDocument(answer.document);
  if (answer.job) watch(answer.job);
}

async function loadDocument(id) {
  try {
    const doc = await api(`/api/documents/${encodeURIComponent(id)}`);
    setDocument(doc, readHash().v);
    if (doc.job && !DONE.includes(doc.job.status)) watch(doc.job);
    else if (doc.job && doc.job.status === "interrupted") showJob(doc.job);
  } catch (error) {
    showMessage(`Cannot reopen the last picture: ${error.message}`);
    history.replaceState(null, "", location.pathname + location.search);
  }
}

function setDocument(doc, version) {
  state.doc = doc;
  // in the address from the start (a photo still vectorizing too), so a reload finds it again
  if (!doc.versions.length) history.replaceState(null, "", `#doc=${doc.id}`);
  $["keep-note"].textContent = doc.expires ? `This document is kept on the server until ` +
    `${new Date(doc.expires * 1000).toLocaleString()} (${keptFor()} after its last change).` : "";
  const width = doc.width || 1, height = doc.height || 1;
  $.stage.classList.toggle("empty", !doc.versions.length);
  $.stage.style.setProperty("--ratio", String(width / height));
  $.overlay.setAttribute("viewBox", `0 0 ${width} ${height}`);
  renderHistory();
  if (doc.versions.length) {
    const wanted = Number.isInteger(version) && version < doc.versions.length ? version : doc.versions.length - 1;
    selectVersion(wanted);
  } else {
    $.picture.replaceChildren();
    $["layer-list"].replaceChildren();
    updateButtons();
  }
  renderRois();
}

// ---------------------------------------------------------------------------------------------------
// The picture and its layers

function showSvg(text) {
  const parsed = new DOMParser().parseFromString(text, "image/svg+xml");
  const root = parsed.documentElement;
  if (root.namespaceURI !== SVG_NS || root.localName !== "svg" || parsed.querySelector("parsererror")) {
    showMessage("The server sent a picture the browser cannot read.");
    return;
  }
  const svg = document.importNode(root, true);
  svg.setAttribute("width", "100%");
  svg.setAttribute("height", "100%");
  svg.setAttribute("preserveAspectRatio", "xMidYMid meet");
  $.picture.replaceChildren(svg);
  $.stage.classList.remove("empty");
  renderLayers(svg);
}

function layerGroups(svg) {
  return Array.from(svg.children).filter((node) => node.localName === "g");
}

function layerName(group) {
  return group.getAttributeNS(INKSCAPE_NS, "label") || group.getAttribute("inkscape:label") || group.id || "layer";
}

function renderLayers(svg) {
  const items = [];
  for (const group of layerGroups(svg)) {
    const name = layerName(group);
    const hidden = state.hiddenLayers.has(name);
    group.style.display = hidden ? "none" : "";
    const box = document.createElement("input");
    box.type = "checkbox";
    box.checked = !hidden;
    box.dataset.layer = name;
    box.addEventListener("change", () => {
      if (box.checked) state.hiddenLayers.delete(name); else state.hiddenLayers.add(name);
      const current = $.picture.querySelector("svg");
      if (current) for (const g of layerGroups(current)) g.style.display = state.hiddenLayers.has(layerName(g)) ? "none" : "";
    });
    const label = document.createElement("label");
    label.append(box, ` ${name} (${group.children.length})`);
    const item = document.createElement("li");
    item.append(label);
    items.push(item);
  }
  $["layer-list"].replaceChildren(...items);
}

async function selectVersion(index) {
  state.version = index;
  history.replaceState(null, "", `#doc=${state.doc.id}&v=${index}`);
  for (const button of $["version-list"].querySelectorAll("button")) {
    button.classList.toggle("selected", Number(button.dataset.version) === index);
  }
  for (const [fmt, id] of [["svg", "dl-svg"], ["png", "dl-png"], ["pdf", "dl-pdf"], ["zip", "dl-zip"]]) {
    $[id].href = docPath(`/versions/${index}/${fmt}`);
    $[id].classList.remove("disabled");
  }
  updateButtons();
  try {
    const response = await fetch(docPath(`/versions/${index}/svg`), { credentials: "same-origin" });
    if (!response.ok) throw new Error(`${response.status}`);
    if (state.version === index) showSvg(await response.text());
  } catch (error) {
    showMessage(`Cannot load version ${index}: ${error.message}`);
  }
}

function describeVersion(entry) {
  if (entry.kind === "source") return { label: `v${entry.index} · original`, title: entry.title || "" };
  const status = entry.status === "finished" ? "" : ` · ${entry.status}`;
  return { label: `v${entry.index} · ${entry.steps}/${entry.total} steps${status}`, title: entry.title || "" };
}

function renderHistory() {
  const items = state.doc.versions.map((entry) => {
    const button = document.createElement("button");
    button.type = "button";
    button.dataset.version = entry.index;
    const image = document.createElement("img");
    image.alt = `version ${entry.index}`;
    image.src = docPath(`/versions/${entry.index}/svg`);
    const { label, title } = describeVersion(entry);
    const labelNode = document.createElement("span");
    labelNode.className = "label";
    labelNode.textContent = label;
    const titleNode = document.createElement("span");
    titleNode.className = "title";
    titleNode.textContent = title;
    titleNode.title = title;
    button.append(image, labelNode, titleNode);
    button.classList.toggle("selected", entry.index === state.version);
    button.addEventListener("click", () => selectVersion(entry.index));
    const item = document.createElement("li");
    item.append(button);
    return item;
  });
  $["version-list"].replaceChildren(...items);
}

// ---------------------------------------------------------------------------------------------------
// Boxes (regions of interest), drawn with the mouse on the overlay

function canvasSize() {
  return { width: (state.doc && state.doc.width) || 1, height: (state.doc && state.doc.height) || 1 };
}

function toCanvas(event) {
  const point = $.overlay.createSVGPoint();
  point.x = event.clientX;
  point.y = event.clientY;
  const p = point.matrixTransform($.overlay.getScreenCTM().inverse());
  const { width, height } = canvasSize();
  return { x: Math.min(Math.max(p.x, 0), width), y: Math.min(Math.max(p.y, 0), height) };
}

function pixelsPerUnit() {
  const matrix = $.overlay.getScreenCTM();
  return matrix ? Math.abs(matrix.a) || 1 : 1;
}

function svgElement(name, attributes) {
  const node = document.createElementNS(SVG_NS, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  return node;
}

function renderRois() {
  const unit = 1 / pixelsPerUnit();
  const handle = 10 * unit;
  const nodes = state.rois.map((roi, index) => {
    const color = COLORS[index % COLORS.length];
    const group = svgElement("g", { class: "roi" + (index === state.selected ? " selected" : ""), "data-roi": index });
    group.append(svgElement("rect", { class: "box", x: roi.x, y: roi.y, width: roi.w, height: roi.h, stroke: color }));
    const label = svgElement("text", { x: roi.x + 4 * unit, y: roi.y + 14 * unit, fill: color, "font-size": 13 * unit });
    label.textContent = String(index + 1);
    group.append(label);
    group.append(svgElement("rect", { class: "handle", x: roi.x + roi.w - handle / 2, y: roi.y + roi.h - handle / 2,
      width: handle, height: handle, stroke: color }));
    return group;
  });
  $.overlay.replaceChildren(...nodes);
  renderRoiList();
}

function renderRoiList() {
  const list = $["roi-list"];
  const focused = document.activeElement && document.activeElement.dataset.roiPrompt;
  const items = state.rois.map((roi, index) => {
    const item = document.createElement("li");
    item.classList.toggle("selected", index === state.selected);
    const swatch = document.createElement("span");
    swatch.className = "swatch";
    swatch.textContent = String(index + 1);
    swatch.style.background = COLORS[index % COLORS.length];
    const input = document.createElement("input");
    input.type = "text";
    input.placeholder = "what this box should show";
    input.value = roi.prompt;
    input.dataset.roiPrompt = String(index);
    input.setAttribute("aria-label", `prompt of box ${index + 1}`);
    input.addEventListener("input", () => { roi.prompt = input.value; });
    input.addEventListener("focus", () => selectRoi(index, false));
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "icon";
    remove.textContent = "×";
    remove.title = `delete box ${index + 1}`;
    remove.addEventListener("click", () => deleteRoi(index));
    const size = document.createElement("span");
    size.className = "muted";
    size.textContent = `${Math.round(roi.w)}×${Math.round(roi.h)}`;
    item.append(swatch, input, size, remove);
    return item;
  });
  list.replaceChildren(...items);
  $["roi-empty"].hidden = state.rois.length > 0;
  if (focused !== undefined) {
    const again = list.querySelector(`input[data-roi-prompt="${focused}"]`);
    if (again) again.focus();
  }
}

function selectRoi(index, rerender = true) {
  if (state.selected === index) return;
  state.selected = index;
  if (rerender) { renderRois(); return; }
  for (const group of $.overlay.querySelectorAll(".roi")) {
    group.classList.toggle("selected", Number(group.dataset.roi) === index);
  }
  for (const [i, item] of Array.from($["roi-list"].children).entries()) item.classList.toggle("selected", i === index);
}

function deleteRoi(index) {
  if (index < 0 || index >= state.rois.length) return;
  state.rois.splice(index, 1);
  state.selected = -1;
  renderRois();
}

function onPointerDown(event) {
  if (!state.doc || !state.doc.versions.length || event.button !== 0) return;
  if (document.activeElement && document.activeElement !== document.body) document.activeElement.blur();
  const p = toCanvas(event);
  const group = event.target.closest ? event.target.closest("[data-roi]") : null;
  const index = group ? Number(group.dataset.roi) : -1;
  if (index >= 0 && event.target.classList.contains("handle")) {
    state.drag = { mode: "resize", index, start: p, original: { ...state.rois[index] } };
  } else if (index >= 0) {
    state.drag = { mode: "move", index, start: p, original: { ...state.rois[index] } };
  } else {
    state.rois.push({ x: p.x, y: p.y, w: 0, h: 0, prompt: "" });
    state.drag = { mode: "new", index: state.rois.length - 1, start: p };
  }
  state.selected = state.drag.index;
  $.overlay.setPointerCapture(event.pointerId);
  renderRois();
  event.preventDefault();
}

function onPointerMove(event) {
  const drag = state.drag;
  if (!drag) return;
  const p = toCanvas(event);
  const roi = state.rois[drag.index];
  const { width, height } = canvasSize();
  if (drag.mode === "new") {
    roi.x = Math.min(drag.start.x, p.x);
    roi.y = Math.min(drag.start.y, p.y);
    roi.w = Math.abs(p.x - drag.start.x);
    roi.h = Math.abs(p.y - drag.start.y);
  } else if (drag.mode === "move") {
    const o = drag.original;
    roi.x = Math.min(Math.max(o.x + p.x - drag.start.x, 0), width - o.w);
    roi.y = Math.min(Math.max(o.y + p.y - drag.start.y, 0), height - o.h);
  } else {
    const o = drag.original;
    roi.w = Math.max(MIN_BOX, Math.min(o.w + p.x - drag.start.x, width - o.x));
    roi.h = Math.max(MIN_BOX, Math.min(o.h + p.y - drag.start.y, height - o.y));
  }
  renderRois();
}

function onPointerUp(event) {
  const drag = state.drag;
  if (!drag) return;
  state.drag = null;
  try { $.overlay.releasePointerCapture(event.pointerId); } catch (error) { /* already released */ }
  const roi = state.rois[drag.index];
  for (const key of ["x", "y", "w", "h"]) roi[key] = Math.round(roi[key]);
  if (drag.mode === "new" && (roi.w < MIN_BOX || roi.h < MIN_BOX)) {
    deleteRoi(drag.index);
    return;
  }
  renderRois();
  if (drag.mode === "new") {
    const input = $["roi-list"].querySelector(`input[data-roi-prompt="${drag.index}"]`);
    if (input) input.focus();
  }
}

function onKey(event) {
  const tag = (event.target.tagName || "").toLowerCase();
  if (["input", "textarea", "select"].includes(tag)) return;
  if ((event.key === "Delete" || event.key === "Backspace") && state.selected >= 0) {
    deleteRoi(state.selected);
    event.preventDefault();
  }
}

// ---------------------------------------------------------------------------------------------------
// Edits: start, stop, continue, and their live progress

function jobActive() {
  return state.job && ["queued", "running"].includes(state.job.status);
}

function selectedEntry() {
  return state.doc && state.version !== null ? state.doc.versions[state.version] : null;
}

function updateButtons() {
  const active = jobActive();
  const entry = selectedEntry();
  $.start.disabled = active || !entry;
  $.stop.disabled = !active || (state.job && state.job.stop_requested);
  $.stop.textContent = state.job && state.job.status === "queued" ? "Cancel" : "Stop";
  $.continue.disabled = active || !entry || !entry.checkpoint;
  const interrupted = Boolean(state.job && state.job.status === "interrupted" && state.doc &&
    state.job.document === state.doc.id);
  $.interrupted.hidden = !interrupted;
  if (interrupted) {
    $["interrupted-text"].textContent = `Interrupted at step ${state.job.step} of ${state.job.total} ` +
      "(the server stopped); resume continues from there.";
  }
}

async function startEdit() {
  showMessage("");
  const request = {
    version: state.version,
    prompt: $.prompt.value,
    rois: state.rois.map(({ x, y, w, h, prompt }) => ({ x, y, w, h, prompt })),
    change: $.change.value,
    region_only: $["region-only"].checked,
    iterations: Number($.iterations.value),
    patches: Number($.patches.value),
    seed: Number($.seed.value),
  };
  if (!request.prompt.trim() && !request.rois.length) {
    showMessage("Write a prompt, or draw a box and give it one.");
    return;
  }
  try {
    watch(await postJSON(docPath("/edits"), request));
  } catch (error) {
    showMessage(error.message);
  }
}

async function continueEdit() {
  showMessage("");
  try {
    watch(await postJSON(docPath(`/versions/${state.version}/continue`), { iterations: Number($.iterations.value) }));
  } catch (error) {
    showMessage(error.message);
  }
}

async function stopJob() {
  if (!state.job) return;
  try {
    showJob(await api(`/api/jobs/${state.job.id}/stop`, { method: "POST" }));
  } catch (error) {
    showMessage(error.message);
  }
}

async function resumeJob() {
  if (!state.job) return;
  showMessage("");
  try {
    watch(await api(`/api/jobs/${state.job.id}/resume`, { method: "POST" }));
  } catch (error) {
    showMessage(error.message);
  }
}

function watch(job) {
  if (state.events) state.events.close();
  clearTimeout(state.reconnect);
  state.losses = [];
  showJob(job);
  const events = new EventSource(`/api/jobs/${job.id}/events`);
  state.events = events;
  events.addEventListener("state", (event) => showJob(JSON.parse(event.data)));
  events.addEventListener("open", () => { if (state.events === events) showMessage(""); });
  events.addEventListener("error", () => {
    // The browser retries by itself while the server is unreachable; when it gives up (the server
    // answered with an error) the page keeps asking, less and less often, until it answers again.
    if (state.events !== events) return;
    showMessage("Lost the connection to the server; reconnecting…", "info");
    if (events.readyState === EventSource.CLOSED) {
      state.events = null;
      reconnect(job, 1000);
    }
  });
  events.addEventListener("svg", (event) => {
    if (state.events === events) showSvg(JSON.parse(event.data).svg);
  });
  events.addEventListener("end", async () => {
    events.close();
    if (state.events !== events) return;
    state.events = null;
    await finished(state.job);
  });
}

function reconnect(job, delay) {
  clearTimeout(state.reconnect);
  state.reconnect = setTimeout(async () => {
    if (!state.doc || state.doc.id !== job.document) return;
    let answer;
    try {
      answer = await fetch(`/api/jobs/${job.id}`, { credentials: "same-origin" });
    } catch (error) {
      reconnect(job, Math.min(delay * 2, RECONNECT_MAX));  // still unreachable
      return;
    }
    showMessage("");
    if (answer.ok) {
      const current = await answer.json();
      if (DONE.includes(current.status)) { showJob(current); await finished(current); } else watch(current);
    } else {
      await loadDocument(job.document);  // the server forgot the job: show what the document says
    }
  }, delay);
}

async function finished(job) {
  if (job.kind === "vectorize" && job.status !== "finished") {
    // a photo that could not be vectorized leaves no document behind
    state.doc = null;
    history.replaceState(null, "", location.pathname + location.search);
    setDocumentEmpty();
    showMessage(job.status === "cancelled" ? "Cancelled; the photo was not kept." : (job.message || "Vectorizing failed."));
    return;
  }
  try {
    const doc = await api(`/api/documents/${job.document}`);
    if (!state.doc || state.doc.id !== doc.id) return;
    const version = job.version !== null && job.version !== undefined ? job.version : state.version;
    setDocument(doc, version);
  } catch (error) {
    showMessage(error.message);
  }
  if (job.status === "failed") showMessage(job.message || "The job failed.");
  else if (job.status === "stopped" && job.kind === "edit") showMessage(`Stopped at step ${job.step}; the result is kept as v${job.version}.`, "info");
  else if (job.status === "cancelled") showMessage("Cancelled.", "info");
}

function setDocumentEmpty() {
  $.picture.replaceChildren();
  $["layer-list"].replaceChildren();
  $["version-list"].replaceChildren();
  $.stage.classList.add("empty");
  $["keep-note"].textContent = "";
  state.rois = [];
  renderRois();
  updateButtons();
}

function keptFor() {
  const days = state.info ? state.info.keep_days : 0;
  if (!days) return "for ever";
  return days >= 1 ? `${days} day${days === 1 ? "" : "s"}` : `${Math.round(days * 24 * 60)} minutes`;
}

function formatSeconds(seconds) {
  if (seconds === null || seconds === undefined || !isFinite(seconds)) return "…";
  const s = Math.round(seconds);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

function showJob(job) {
  state.job = job;
  if (Array.isArray(job.losses)) {
    state.losses.length = Math.min(state.losses.length, job.losses_from);
    state.losses.push(...job.losses);
  }
  let text;
  if (job.status === "queued") {
    text = `Waiting in the queue: place ${job.position} of ${job.queued}.`;
    $.progress.removeAttribute("value");
  } else if (job.status === "running" && job.kind === "vectorize") {
    text = "Vectorizing the photo…";
    $.progress.removeAttribute("value");
  } else if (job.status === "running") {
    text = job.total ? `Step ${job.step} / ${job.total} · ETA ${formatSeconds(job.eta)}` : "Loading the model…";
    if (job.stop_requested) text += " · stopping after this step";
    $.progress.max = Math.max(job.total, 1);
    $.progress.value = job.step;
  } else if (job.status === "interrupted") {
    text = `Edit interrupted at step ${job.step} / ${job.total}.`;
    $.progress.max = Math.max(job.total, 1);
    $.progress.value = job.step;
  } else {
    text = `${job.kind === "vectorize" ? "Vectorizing" : "Edit"} ${job.status}` +
      (job.kind === "edit" && job.total ? ` at step ${job.step} / ${job.total}` : "") +
      (job.elapsed ? ` in ${formatSeconds(job.elapsed)}` : "") + ".";
    $.progress.max = Math.max(job.total, 1);
    $.progress.value = job.status === "finished" ? $.progress.max : job.step;
  }
  const loss = state.losses.length ? ` · loss ${state.losses[state.losses.length - 1].toFixed(4)}` : "";
  $["progress-text"].textContent = text + (job.kind === "edit" ? loss : "");
  drawLosses();
  updateButtons();
}

function drawLosses() {
  const values = state.losses;
  if (values.length < 2) { $["loss-line"].setAttribute("points", ""); return; }
  const low = Math.min(...values), high = Math.max(...values);
  const span = high - low || 1;
  const points = values.map((v, i) => `${(i / (values.length - 1)) * 200},${58 - ((v - low) / span) * 56}`);
  $["loss-line"].setAttribute("points", points.join(" "));
}

// ---------------------------------------------------------------------------------------------------
// Server status, start-up

async function refreshStatus() {
  try {
    const info = await api("/api/info");
    state.info = info;
    const weights = info.clip_weights === null ? "random weights" : String(info.clip_weights).split("/").pop();
    const model = String(info.clip_model).split("/").pop();
    const queue = `${info.queue.running} running, ${info.queue.waiting} waiting`;
    const error = info.model.status === "failed" ? " · model failed to load" : "";
    $["server-status"].textContent = `${model} (${weights}) on ${info.devices.join(", ")} · model ${info.model.status}` +
      `${error} · queue: ${queue}`;
  } catch (error) {
    $["server-status"].textContent = `server unreachable: ${error.message}`;
  }
}

function readHash() {
  const params = new URLSearchParams(location.hash.slice(1));
  const v = params.get("v");
  return { doc: params.get("doc"), v: v === null ? undefined : Number(v) };
}

async function init() {
  await refreshStatus();
  setInterval(refreshStatus, 5000);
  if (state.info) {
    const d = state.info.defaults;
    $.iterations.value = d.iterations;
    $.patches.value = d.patches;
    $.seed.value = d.seed;
    $.rounds.value = d.rounds;
    $["max-size"].value = d.max_size;
    $.prompt.value = d.prompt || "";
    $.iterations.max = state.info.limits.iterations;
    $["keep-note"].textContent = `Pictures you open are kept on the server for ${keptFor()} after their last change.`;
    $.patches.max = state.info.limits.patches;
    for (const example of state.info.examples) {
      const option = document.createElement("option");
      option.value = example.name;
      option.textContent = example.title;
      $.example.append(option);
    }
  }
  $.file.addEventListener("change", () => { openFile($.file.files[0]); $.file.value = ""; });
  $["open-example"].addEventListener("click", openExample);
  $.overlay.addEventListener("pointerdown", onPointerDown);
  $.overlay.addEventListener("pointermove", onPointerMove);
  $.overlay.addEventListener("pointerup", onPointerUp);
  $.overlay.addEventListener("pointercancel", onPointerUp);
  document.addEventListener("keydown", onKey);
  window.addEventListener("resize", () => renderRois());
  $.start.addEventListener("click", startEdit);
  $.stop.addEventListener("click", stopJob);
  $.continue.addEventListener("click", continueEdit);
  $.resume.addEventListener("click", resumeJob);
  $.stage.addEventListener("dragover", (event) => { event.preventDefault(); $.stage.classList.add("dragover"); });
  $.stage.addEventListener("dragleave", () => $.stage.classList.remove("dragover"));
  $.stage.addEventListener("drop", (event) => {
    event.preventDefault();
    $.stage.classList.remove("dragover");
    if (event.dataTransfer.files.length) openFile(event.dataTransfer.files[0]);
  });
  const { doc } = readHash();
  if (doc) await loadDocument(doc);
  document.body.dataset.ready = "true";
}

init();
