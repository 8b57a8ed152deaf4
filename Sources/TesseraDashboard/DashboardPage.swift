/// The dashboard's one page and its script, served as they are: no build step, nothing fetched
/// from elsewhere. The script opens `/events`, keeps the run's state, and draws every chart on a
/// canvas itself (1-2-5 ticks, TensorBoard's debiased exponential smoothing with the raw curve
/// faint behind, an optional log scale for losses). It writes what it shows into the page's
/// `data-` attributes (`data-points`, `data-ranks`, `data-run`), which the tests read.
enum DashboardPage {
    static let html = #"""
    <!doctype html>
    <html lang="en">
    <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>Tessera dashboard</title>
    <style>
      :root { --ink:#1d2330; --muted:#6b7280; --line:#e5e7eb; --card:#ffffff; --page:#f4f5f7; --accent:#2563eb; --slow:#dc2626; }
      * { box-sizing: border-box; }
      body { margin:0; font:14px/1.45 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; color:var(--ink); background:var(--page); }
      header { background:#111827; color:#f9fafb; padding:14px 24px; display:flex; align-items:center; gap:18px; flex-wrap:wrap; }
      header h1 { font-size:20px; margin:0; font-weight:600; letter-spacing:.2px; }
      header .task { color:#9ca3af; }
      .pill { padding:2px 10px; border-radius:999px; font-size:12px; font-weight:600; background:#374151; }
      .pill.running { background:#065f46; color:#d1fae5; }
      .pill.finished { background:#1e3a8a; color:#dbeafe; }
      .pill.stopped { background:#7c2d12; color:#ffedd5; }
      header .facts { margin-left:auto; color:#d1d5db; display:flex; gap:18px; }
      header .facts b { color:#fff; font-weight:600; }
      nav { padding:8px 24px; background:#1f2937; display:none; gap:8px; flex-wrap:wrap; }
      nav a { color:#d1d5db; text-decoration:none; padding:3px 10px; border-radius:6px; }
      nav a.current { background:#374151; color:#fff; }
      main { padding:18px 24px 40px; max-width:1500px; margin:0 auto; }
      section { margin-bottom:26px; }
      section > h2 { font-size:13px; text-transform:uppercase; letter-spacing:.08em; color:var(--muted); margin:0 0 10px; font-weight:600; }
      .grid { display:grid; grid-template-columns:repeat(auto-fill, minmax(400px, 1fr)); gap:14px; }
      .card { background:var(--card); border:1px solid var(--line); border-radius:10px; padding:12px 14px; box-shadow:0 1px 2px rgba(0,0,0,.04); }
      .card h3 { margin:0 0 4px; font-size:14px; font-weight:600; display:flex; justify-content:space-between; gap:8px; }
      .card h3 .latest { color:var(--muted); font-weight:500; font-variant-numeric:tabular-nums; }
      .card h3 .kind { color:var(--muted); font-weight:500; font-size:11px; margin-left:6px; text-transform:lowercase; }
      canvas { width:100%; height:200px; display:block; }
      .controls { display:flex; gap:18px; align-items:center; color:var(--muted); margin-bottom:12px; flex-wrap:wrap; }
      .controls input[type=range] { width:140px; vertical-align:middle; }
      table { border-collapse:collapse; width:100%; font-variant-numeric:tabular-nums; }
      th, td { text-align:left; padding:5px 8px; border-bottom:1px solid var(--line); }
      th { color:var(--muted); font-weight:600; font-size:12px; }
      tr.slowest td { color:var(--slow); font-weight:600; }
      .images { display:grid; grid-template-columns:repeat(auto-fill, minmax(440px, 1fr)); gap:14px; }
      .images img { max-width:100%; display:block; margin:0 auto; border-radius:6px; background:#fff; }
      .images img.small { width:100%; image-rendering:pixelated; }
      .images .caption { color:var(--muted); font-size:12px; margin-top:4px; }
      pre { margin:0; max-height:420px; overflow:auto; font:12px/1.5 ui-monospace, "DejaVu Sans Mono", monospace; }
      .empty { color:var(--muted); }
      .two { display:grid; grid-template-columns:1fr 1fr; gap:14px; }
      @media (max-width: 900px) { .two { grid-template-columns:1fr; } }
    </style>
    </head>
    <body data-points="0" data-ranks="0" data-run="">
    <header>
      <h1 id="run-name">Tessera</h1><span class="task" id="task"></span>
      <span class="pill" id="status">connecting</span>
      <div class="facts">
        <span>step <b id="step">–</b></span>
        <span><b id="point-count">0</b> points</span>
        <span id="updated">–</span>
      </div>
    </header>
    <nav id="runs"></nav>
    <main>
      <div class="controls">
        <label>smoothing <input type="range" id="smoothing" min="0" max="0.99" step="0.01" value="0.6"> <span id="smoothing-value">0.60</span></label>
        <label><input type="checkbox" id="log-losses"> log scale for losses</label>
      </div>
      <div id="metric-sections"><p class="empty">Waiting for the first logged metrics…</p></div>
      <section id="ranks-section" style="display:none">
        <h2 id="ranks-title">Ranks: step time and allreduce wait</h2>
        <div class="two">
          <div class="card"><h3>Latest log interval <span class="latest" id="slowest-label"></span></h3><canvas id="rank-bars"></canvas></div>
          <div class="card"><h3>Step time per rank (ms)</h3><canvas id="rank-lines"></canvas></div>
        </div>
        <div class="card" style="margin-top:14px"><table id="rank-table"></table></div>
      </section>
      <section id="images-section" style="display:none"><h2>Images</h2><div class="images" id="images"></div></section>
      <section class="two">
        <div><h2>Checkpoints</h2><div class="card"><table id="checkpoints"><tr><td class="empty">none yet</td></tr></table></div></div>
        <div><h2>Recipe</h2><div class="card"><pre id="recipe" class="empty">not known yet</pre></div></div>
      </section>
    </main>
    <script src="/dashboard.js"></script>
    </body>
    </html>
    """#

    static let script = #"""
    "use strict";
    const palette = ["#2563eb", "#ea580c", "#16a34a", "#9333ea", "#0891b2", "#db2777", "#ca8a04", "#4b5563"];
    const state = { run: null, metrics: {}, ranks: [], images: [], checkpoints: [], recipe: null, finished: false,
                    ended: false, lastEvent: null };
    let source = null;
    const $ = (id) => document.getElementById(id);

    function niceStep(span, count) {
      const raw = span / Math.max(count, 1), power = Math.pow(10, Math.floor(Math.log10(raw)));
      for (const factor of [1, 2, 5, 10]) if (factor * power >= raw) return factor * power;
      return 10 * power;
    }
    function ticks(low, high, count) {
      if (!(high > low)) return [low];
      const step = niceStep(high - low, count), out = [];
      for (let value = Math.ceil(low / step - 1e-9) * step; value <= high + step * 1e-9; value += step) out.push(Math.abs(value) < step * 1e-9 ? 0 : value);
      return out;
    }
    function format(value) {
      if (value === null || value === undefined || !isFinite(value)) return "–";
      const size = Math.abs(value);
      if (size !== 0 && (size >= 1e5 || size < 1e-4)) return value.toExponential(2);
      if (size >= 100) return value.toFixed(0);
      return String(Number(value.toPrecision(4)));
    }
    function smooth(points, weight) {
      // TensorBoard's exponential moving average, debiased so the first points are not pulled to 0.
      let last = 0, count = 0;
      return points.map(([x, y]) => {
        if (y === null || !isFinite(y)) return [x, y];
        last = last * weight + (1 - weight) * y; count += 1;
        return [x, weight === 0 ? y : last / (1 - Math.pow(weight, count))];
      });
    }

    // Draws series [{name, points: [[x, y]], color, raw}] on a canvas with 1-2-5 ticks.
    function drawChart(canvas, series, options) {
      const ratio = window.devicePixelRatio || 1, width = canvas.clientWidth || 340, height = canvas.clientHeight || 200;
      canvas.width = width * ratio; canvas.height = height * ratio;
      const context = canvas.getContext("2d");
      context.setTransform(ratio, 0, 0, ratio, 0, 0);
      context.clearRect(0, 0, width, height);
      const log = options && options.log;
      const all = series.flatMap((s) => s.points).filter(([, y]) => y !== null && isFinite(y) && (!log || y > 0));
      if (all.length === 0) { context.fillStyle = "#9ca3af"; context.fillText("no points yet", 12, 20); return; }
      let xLow = Math.min(...all.map((p) => p[0])), xHigh = Math.max(...all.map((p) => p[0]));
      let yLow = Math.min(...all.map((p) => p[1])), yHigh = Math.max(...all.map((p) => p[1]));
      if (xHigh === xLow) { xHigh = xLow + 1; }
      const transform = log ? Math.log10 : (v) => v;
      let tLow = transform(yLow), tHigh = transform(yHigh);
      if (tHigh === tLow) { const pad = Math.abs(tLow) * 0.05 || 0.5; tLow -= pad; tHigh += pad; }
      else { const pad = (tHigh - tLow) * 0.06; tLow -= pad; tHigh += pad; }
      // Values that cannot go below zero (losses, rates, times) keep their axis at or above it.
      if (!log && yLow >= 0 && tLow < 0) tLow = 0;
      const left = 54, right = 12, top = 8, bottom = 24, plotWidth = width - left - right, plotHeight = height - top - bottom;
      const px = (x) => left + (x - xLow) / (xHigh - xLow) * plotWidth;
      const py = (y) => top + (1 - (transform(y) - tLow) / (tHigh - tLow)) * plotHeight;
      context.font = "11px system-ui, sans-serif"; context.lineWidth = 1;
      context.strokeStyle = "#eef0f3"; context.fillStyle = "#6b7280"; context.textAlign = "right"; context.textBaseline = "middle";
      const yTicks = log ? ticks(Math.floor(tLow), Math.ceil(tHigh), 4).filter((t) => t >= tLow && t <= tHigh && Number.isInteger(t)).map((t) => Math.pow(10, t))
                         : ticks(tLow, tHigh, 4);
      for (const value of yTicks) {
        const y = py(value); if (y < top - 1 || y > top + plotHeight + 1) continue;
        context.beginPath(); context.moveTo(left, y); context.lineTo(left + plotWidth, y); context.stroke();
        context.fillText(format(value), left - 6, y);
      }
      context.textAlign = "center"; context.textBaseline = "top";
      for (const value of ticks(xLow, xHigh, Math.max(2, Math.floor(plotWidth / 70)))) {
        const x = px(value);
        context.beginPath(); context.moveTo(x, top); context.lineTo(x, top + plotHeight); context.stroke();
        context.fillText(format(value), x, top + plotHeight + 5);
      }
      context.strokeStyle = "#9ca3af"; context.strokeRect(left, top, plotWidth, plotHeight);
      context.save(); context.beginPath(); context.rect(left, top, plotWidth, plotHeight); context.clip();
      for (const s of series) {
        context.strokeStyle = s.color; context.globalAlpha = s.raw ? 0.22 : 1; context.lineWidth = s.raw ? 1 : 1.8;
        context.beginPath(); let pen = false;
        for (const [x, y] of s.points) {
          if (y === null || !isFinite(y) || (log && y <= 0)) { pen = false; continue; }
          if (pen) context.lineTo(px(x), py(y)); else context.moveTo(px(x), py(y));
          pen = true;
        }
        if (s.points.length === 1 && pen) { context.arc(px(s.points[0][0]), py(s.points[0][1]), 2.5, 0, 7); }
        context.stroke();
      }
      context.restore(); context.globalAlpha = 1;
      // The legend sits under the plot's top edge on the right, only for several named series.
      const named = series.filter((s) => !s.raw && s.label);
      if (named.length > 1) {
        context.textAlign = "left"; context.textBaseline = "middle";
        let x = left + 6;
        for (const s of named) {
          context.fillStyle = s.color; context.fillRect(x, top + 8, 10, 3);
          context.fillStyle = "#374151"; context.fillText(s.label, x + 14, top + 10);
          x += 22 + context.measureText(s.label).width;
        }
      }
    }

    function sectionOf(name) {
      if (name.startsWith("policy_lag") || name.startsWith("dropped_") || name.startsWith("weights_") || name.includes("actor")) return "Actor–learner";
      if (name.includes("loss") || name.includes("perplexity") || name.includes("nll") || name.includes("bits_per")) return "Losses";
      if (name === "learning_rate" || name.includes("per_second") || name.includes("nfe") || name.endsWith("_seconds")) return "Schedule and throughput";
      return "Quality";
    }
    const sectionOrder = ["Losses", "Quality", "Actor–learner", "Schedule and throughput"];
    const cards = {};

    function renderMetrics() {
      const names = Object.keys(state.metrics).sort((a, b) =>
        sectionOrder.indexOf(sectionOf(a)) - sectionOrder.indexOf(sectionOf(b)) || a.localeCompare(b));
      const container = $("metric-sections");
      if (names.length === 0) { container.innerHTML = '<p class="empty">Waiting for the first logged metrics…</p>'; for (const k in cards) delete cards[k]; return; }
      // One grid for every metric, losses first: rebuilt only when the set of names changes.
      if (names.join("|") !== Object.keys(cards).join("|")) {
        container.innerHTML = '<section><h2>Metrics</h2><div class="grid"></div></section>'; for (const k in cards) delete cards[k];
        const grid = container.querySelector(".grid");
        for (const name of names) {
          const card = document.createElement("div"); card.className = "card"; card.dataset.metric = name;
          card.innerHTML = '<h3><span><span class="name"></span> <span class="kind"></span></span><span class="latest"></span></h3><canvas></canvas>';
          card.querySelector(".name").textContent = name;
          card.querySelector(".kind").textContent = sectionOf(name);
          grid.appendChild(card);
          cards[name] = card;
        }
      }
      const weight = Number($("smoothing").value), logLosses = $("log-losses").checked;
      let total = 0;
      names.forEach((name, index) => {
        const points = state.metrics[name], card = cards[name], color = palette[index % palette.length];
        total += points.length;
        card.dataset.points = points.length;
        const last = points.length ? points[points.length - 1] : null;
        card.querySelector(".latest").textContent = last ? format(last[1]) + " @ " + last[0] : "";
        const series = weight > 0 && points.length > 2
          ? [{ points, color, raw: true }, { points: smooth(points, weight), color }]
          : [{ points, color }];
        drawChart(card.querySelector("canvas"), series, { log: logLosses && sectionOf(name) === "Losses" });
      });
      document.body.dataset.points = total;
      $("point-count").textContent = total;
      const steps = names.flatMap((n) => state.metrics[n].map((p) => p[0]));
      $("step").textContent = steps.length ? Math.max(...steps) : "–";
    }

    function renderRanks() {
      const records = state.ranks, section = $("ranks-section");
      if (records.length === 0) { section.style.display = "none"; document.body.dataset.ranks = 0; return; }
      section.style.display = "";
      const latest = records[records.length - 1], count = latest.step_seconds.length;
      document.body.dataset.ranks = count;
      const compute = latest.step_seconds.map((s, r) => Math.max(0, s - latest.allreduce_seconds[r]));
      const slowest = latest.slowest;
      $("slowest-label").textContent = count > 1 ? "slowest: rank " + slowest + " (step " + latest.step + ")" : "step " + latest.step;
      $("rank-bars").style.height = (60 + 30 * count) + "px";
      $("ranks-title").textContent = count > 1 ? "Ranks: step time and allreduce wait" : "Step time (one process)";
      drawBars($("rank-bars"), compute, latest.allreduce_seconds, count > 1 ? slowest : -1);
      const lines = [];
      for (let rank = 0; rank < count; rank++) {
        lines.push({ label: "rank " + rank, color: palette[rank % palette.length],
                     points: records.filter((r) => r.step_seconds.length === count).map((r) => [r.step, r.step_seconds[rank] * 1000]) });
      }
      drawChart($("rank-lines"), lines, {});
      let rows = "<tr><th>rank</th><th>step (ms)</th><th>compute (ms)</th><th>allreduce wait (ms)</th><th></th></tr>";
      for (let rank = 0; rank < count; rank++) {
        const mark = count > 1 && rank === slowest;
        rows += '<tr data-rank="' + rank + '" data-step-ms="' + (latest.step_seconds[rank] * 1000).toFixed(3) + '"' + (mark ? ' class="slowest"' : "") + "><td>" + rank +
                "</td><td>" + format(latest.step_seconds[rank] * 1000) + "</td><td>" + format(compute[rank] * 1000) + "</td><td>" +
                (count > 1 ? format(latest.allreduce_seconds[rank] * 1000) : "–") + "</td><td>" + (mark ? "slowest" : "") + "</td></tr>";
      }
      $("rank-table").innerHTML = rows;
    }

    // One horizontal bar per rank: compute, then the allreduce wait, in milliseconds.
    function drawBars(canvas, compute, allreduce, slowest) {
      const ratio = window.devicePixelRatio || 1, width = canvas.clientWidth || 340, height = canvas.clientHeight || 200;
      canvas.width = width * ratio; canvas.height = height * ratio;
      const context = canvas.getContext("2d"); context.setTransform(ratio, 0, 0, ratio, 0, 0); context.clearRect(0, 0, width, height);
      const total = compute.map((c, r) => (c + allreduce[r]) * 1000), high = Math.max(...total, 1e-6);
      const left = 70, right = 16, top = 8, bottom = 44, rowHeight = Math.min(30, (height - top - bottom) / compute.length);
      const scale = (width - left - right) / high;
      context.font = "11px system-ui, sans-serif"; context.textBaseline = "middle";
      context.strokeStyle = "#eef0f3"; context.fillStyle = "#6b7280"; context.textAlign = "center";
      for (const value of ticks(0, high, 4)) {
        const x = left + value * scale; context.beginPath(); context.moveTo(x, top); context.lineTo(x, top + rowHeight * compute.length); context.stroke();
        context.fillText(format(value) + " ms", x, top + rowHeight * compute.length + 10);
      }
      compute.forEach((c, rank) => {
        const y = top + rank * rowHeight + 4, h = rowHeight - 8;
        context.fillStyle = rank === slowest ? "#dc2626" : "#2563eb"; context.fillRect(left, y, c * 1000 * scale, h);
        context.fillStyle = "#cbd5e1"; context.fillRect(left + c * 1000 * scale, y, allreduce[rank] * 1000 * scale, h);
        context.fillStyle = rank === slowest ? "#dc2626" : "#374151"; context.textAlign = "right";
        context.fillText("rank " + rank + (rank === slowest ? " ◆" : ""), left - 8, y + h / 2);
      });
      context.textAlign = "left";
      const legendY = height - 12;
      context.fillStyle = "#2563eb"; context.fillRect(left, legendY - 4, 10, 8); context.fillStyle = "#374151"; context.fillText("compute", left + 14, legendY);
      context.fillStyle = "#cbd5e1"; context.fillRect(left + 80, legendY - 4, 10, 8); context.fillStyle = "#374151"; context.fillText("allreduce wait", left + 94, legendY);
      if (slowest >= 0) { context.fillStyle = "#dc2626"; context.fillRect(left + 190, legendY - 4, 10, 8); context.fillStyle = "#374151"; context.fillText("slowest rank", left + 204, legendY); }
    }

    function renderImages() {
      const section = $("images-section"), box = $("images");
      if (state.images.length === 0) { section.style.display = "none"; return; }
      section.style.display = "";
      box.innerHTML = "";
      for (const image of state.images) {
        const figure = document.createElement("div"); figure.className = "card";
        const img = document.createElement("img");
        img.src = "/runs/" + encodeURIComponent(state.run) + "/images/" + encodeURIComponent(image.name) + "?v=" + image.modified;
        img.alt = image.name;
        // Sample grids and heatmaps are a few pixels a cell: enlarge them without blurring.
        img.onload = () => { if (img.naturalWidth < 300) img.className = "small"; };
        const caption = document.createElement("div"); caption.className = "caption";
        caption.textContent = image.name + " · " + new Date(image.modified * 1000).toLocaleTimeString();
        figure.appendChild(img); figure.appendChild(caption); box.appendChild(figure);
      }
    }

    function renderCheckpoints() {
      const table = $("checkpoints");
      if (state.checkpoints.length === 0) { table.innerHTML = '<tr><td class="empty">none yet</td></tr>'; return; }
      let rows = "<tr><th>step</th><th>file</th><th>size</th><th>written</th><th></th></tr>";
      for (const c of state.checkpoints) {
        const size = c.bytes >= 1048576 ? (c.bytes / 1048576).toFixed(1) + " MiB" : (c.bytes / 1024).toFixed(1) + " KiB";
        rows += "<tr><td>" + c.step + "</td><td>" + c.name + "</td><td>" + size + "</td><td>" +
                new Date(c.modified * 1000).toLocaleTimeString() + "</td><td>" + (c.best ? "★ best" : "") + "</td></tr>";
      }
      table.innerHTML = rows;
    }

    function renderHeader() {
      const recipe = state.recipe || "";
      const name = (recipe.match(/^name:\s*"?([^"\n]+)"?/m) || [])[1] || state.run || "Tessera";
      const task = (recipe.match(/^task:\s*"?([^"\n]+)"?/m) || [])[1] || (recipe ? "classification" : "");
      $("run-name").textContent = name; document.title = name + " · Tessera";
      $("task").textContent = task;
      document.body.dataset.run = name;
      const status = $("status");
      const [text, kind] = state.finished ? ["finished", "finished"] : state.ended ? ["server stopped", "stopped"]
                         : source && source.readyState === 1 ? ["live", "running"] : ["reconnecting", ""];
      status.textContent = text; status.className = "pill " + kind;
      $("recipe").textContent = recipe || "not known yet"; $("recipe").className = recipe ? "" : "empty";
      $("updated").textContent = state.lastEvent ? "updated " + state.lastEvent.toLocaleTimeString() : "–";
    }

    function renderAll() { renderHeader(); renderMetrics(); renderRanks(); renderImages(); renderCheckpoints(); }

    function applySnapshot(data) {
      state.metrics = data.metrics || {}; state.ranks = data.ranks || []; state.images = data.images || [];
      state.checkpoints = data.checkpoints || []; state.recipe = data.recipe; state.finished = !!data.finished;
      renderAll();
    }
    function applyUpdate(data) {
      if (data.restarted) state.metrics = {};
      for (const [name, points] of Object.entries(data.metrics || {})) state.metrics[name] = (state.metrics[name] || []).concat(points);
      if (data.ranksRestarted) state.ranks = [];
      state.ranks = state.ranks.concat(data.ranks || []);
      for (const image of data.images || []) { state.images = state.images.filter((i) => i.name !== image.name); state.images.push(image); }
      state.images.sort((a, b) => b.modified - a.modified);
      if (data.checkpoints) state.checkpoints = data.checkpoints;
      if (data.recipe) state.recipe = data.recipe;
      if (data.finished !== undefined) state.finished = data.finished;
      renderAll();
    }

    function connect(run) {
      state.run = run;
      if (source) source.close();
      source = new EventSource("/events?run=" + encodeURIComponent(run));
      source.addEventListener("snapshot", (event) => { state.lastEvent = new Date(); state.ended = false; applySnapshot(JSON.parse(event.data)); });
      source.addEventListener("update", (event) => { state.lastEvent = new Date(); applyUpdate(JSON.parse(event.data)); });
      source.addEventListener("end", () => { state.ended = true; source.close(); renderHeader(); });
      source.onopen = renderHeader;
      source.onerror = renderHeader;
    }

    async function start() {
      $("smoothing").addEventListener("input", () => { $("smoothing-value").textContent = Number($("smoothing").value).toFixed(2); renderMetrics(); });
      $("log-losses").addEventListener("change", renderMetrics);
      window.addEventListener("resize", () => { renderMetrics(); renderRanks(); });
      const response = await fetch("/api/runs"), runs = (await response.json()).runs;
      const wanted = new URLSearchParams(location.search).get("run");
      const run = runs.some((r) => r.name === wanted) ? wanted : runs[0].name;
      if (runs.length > 1) {
        const nav = $("runs"); nav.style.display = "flex";
        for (const r of runs) {
          const link = document.createElement("a"); link.href = "?run=" + encodeURIComponent(r.name); link.textContent = r.name;
          if (r.name === run) link.className = "current";
          nav.appendChild(link);
        }
      }
      connect(run);
    }
    start();
    """#
}
