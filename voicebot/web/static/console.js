// voicebot console: htmx settings, the live wallboard (server-sent events), Chart.js charts,
// the two channels of a call recording.
"use strict";
htmx.config.responseHandling = [
  { code: "204", swap: false },
  { code: "[2345]..", swap: true },
];

const charts = {};
function chart(id, type, labels, values, color) {
  const el = typeof id === "string" ? document.getElementById(id) : id;
  if (!el) return;
  const key = el.id || el.dataset.q;
  const data = { labels, datasets: [{ data: values, backgroundColor: color, borderColor: color }] };
  if (charts[key]) { charts[key].data = data; charts[key].update("none"); return; }
  charts[key] = new Chart(el, {
    type, data,
    options: { animation: false, responsive: true, maintainAspectRatio: false,
               plugins: { legend: { display: false } } },
  });
}

function get(obj, path) { return path.split(".").reduce((o, k) => (o == null ? o : o[k]), obj); }

function esc(s) {
  return String(s ?? "").replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
}

function showBoard(board) {
  document.querySelectorAll("[data-k]").forEach((el) => {
    const v = get(board, el.dataset.k);
    if (v === undefined) return;
    if (v === null) { el.textContent = "–"; return; }
    el.textContent = el.hasAttribute("data-pct")
      ? (v * 100).toFixed(el.dataset.k === "drop_rate" ? 1 : 0) + "%" : v;
  });
  const drop = document.querySelector("[data-drop]");
  if (drop) drop.classList.toggle("over", board.drop_rate > board.drop_cap);
  const outcomes = Object.entries(board.outcomes);
  chart("outcomes", "bar", outcomes.map((o) => o[0]), outcomes.map((o) => o[1]), "#3b7dd8");
  const list = (id, obj) => {
    const el = document.getElementById(id);
    if (!el) return;
    const items = Object.entries(obj).map(([k, v]) => `<li>${esc(k)}: ${esc(v)}</li>`);
    el.innerHTML = items.join("") || "<li>none</li>";
  };
  list("sip", board.sip_failures);
  list("contacts", board.contacts);
  const body = document.querySelector("#recent tbody");
  if (body) {  // rebuilt only when a row changed: a selection or a hovered link survives a tick
    const rows = board.recent.map((r) =>
      `<tr><td><a href="/calls/${r.id}">#${r.id}</a></td><td class="phone">${esc(r.phone)}</td>` +
      `<td>${esc(r.state)}</td><td>${esc(r.outcome)}</td><td>${Math.round(r.duration_s)}</td></tr>`).join("");
    if (rows !== body.dataset.rows) { body.innerHTML = rows; body.dataset.rows = rows; }
  }
  const fresh = board.version !== undefined && board.version !== window.voicebotVersion;
  window.voicebotVersion = board.version;
  if (board.last_event_at && fresh) {  // event-to-screen lag of a new call event (benchmark)
    const lag = Date.now() / 1000 - board.last_event_at;
    (window.voicebotLags = window.voicebotLags || []).push(lag);
    window.voicebotUpdates = (window.voicebotUpdates || 0) + 1;
    const el = document.getElementById("lag");
    if (el) el.textContent = `updated ${lag.toFixed(2)} s after the last call event`;
  }
}

function wallboard() {
  const root = document.getElementById("wallboard");
  if (!root) return;
  showBoard(JSON.parse(document.getElementById("board-data").textContent));
  const source = new EventSource(`/api/campaigns/${encodeURIComponent(root.dataset.campaign)}/live`);
  source.onmessage = (e) => showBoard(JSON.parse(e.data));
}

function report() {
  const el = document.getElementById("report-data");
  if (!el) return;
  const d = JSON.parse(el.textContent);
  const outcomes = Object.entries(d.outcomes);
  chart("r-outcomes", "bar", outcomes.map((o) => o[0]), outcomes.map((o) => o[1]), "#3b7dd8");
  const hours = Object.entries(d.by_hour);
  chart("r-hours", "line", hours.map((h) => h[0].padStart(2, "0")),
        hours.map((h) => (h[1].attempts ? h[1].answered / h[1].attempts : 0)), "#2a9d8f");
  const lat = d.latency_ms;
  chart("r-latency", "bar", ["p50", "p95", "p99"], [lat.p50, lat.p95, lat.p99], "#8d5fd3");
  document.querySelectorAll(".r-question").forEach((c) => {
    const counts = Object.entries(d.questions[c.dataset.q]);
    chart(c, "bar", counts.map((x) => x[0]), counts.map((x) => x[1]), "#e9a23b");
  });
}

async function channels() {
  const canvas = document.getElementById("channels");
  if (!canvas) return;
  try {
    const data = await (await fetch(canvas.dataset.src)).arrayBuffer();
    const audio = await new OfflineAudioContext(2, 8000, 8000).decodeAudioData(data);
    const ctx = canvas.getContext("2d");
    const w = (canvas.width = canvas.clientWidth || 600), h = canvas.height;
    const colours = ["#2f6fd0", "#d1495b"];
    for (let ch = 0; ch < Math.min(2, audio.numberOfChannels); ch++) {
      const samples = audio.getChannelData(ch), step = Math.max(1, Math.floor(samples.length / w));
      const mid = h / 4 + (ch * h) / 2;
      ctx.fillStyle = colours[ch];
      for (let x = 0; x < w; x++) {
        let peak = 0;
        for (let i = x * step; i < (x + 1) * step && i < samples.length; i++) peak = Math.max(peak, Math.abs(samples[i]));
        ctx.fillRect(x, mid - (peak * h) / 4, 1, Math.max(1, (peak * h) / 2));
      }
      ctx.fillText(ch ? "caller" : "bot", 4, mid - h / 4 + 12);
    }
    canvas.dataset.drawn = String(audio.numberOfChannels);
  } catch (e) {
    canvas.dataset.drawn = "error";
  }
}

wallboard();
report();
channels();
