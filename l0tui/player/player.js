// The recording player of `l0tui export --format html`.
//
// It reads the recording from the page's JSON block, folds it once with the rules
// of the Python fold (l0core.fold.apply_event, described in docs/format.md) into
// per-field change arrays, then answers any seq with binary searches: a seek costs
// O(log n) plus drawing what is visible. Stream text is hostile: it only ever
// reaches the page through textContent, never as markup.
(function () {
  "use strict";

  var ROW = 20;                      // event list row height, px (matches --row)
  var SPEEDS = [0.25, 0.5, 1, 2, 4, 8, 16, 32, 64];
  var UNIFORM_EVENTS_PER_SECOND = 20;
  var CONTENT_TAIL = 2000;           // chars of content shown in the state table
  var ATTEMPT_TAIL = 4000;           // chars of the current attempt shown
  var EARLIER_TAIL = 600;            // chars of each earlier attempt shown
  var FIELDS = ["content", "tokenCount", "checkpoint", "violations", "driftDetected",
    "retryAttempts", "networkRetryCount", "fallbackIndex", "completed", "error",
    "startTs", "endTs"];
  var COLOURS = {
    START: "#4fa3ff", TOKEN: "#5d636b", CHECKPOINT: "#6fc2c9", GUARDRAIL: "#ffb454",
    DRIFT: "#c792ea", RETRY: "#ffb454", FALLBACK: "#c792ea", CONTINUATION: "#4fa3ff",
    COMPLETE: "#7fd962", ERROR: "#ff6b6b"
  };

  // ───────────────────────────── the index ─────────────────────────────

  function History(initial) {
    this.seqs = [];
    this.vals = [];
    this.initial = initial;
  }

  // The index of the last entry with seqs[i] <= seq, or -1.
  function lastAtOrBefore(seqs, seq) {
    var lo = 0, hi = seqs.length;
    while (lo < hi) {
      var mid = (lo + hi) >>> 1;
      if (seqs[mid] <= seq) { lo = mid + 1; } else { hi = mid; }
    }
    return lo - 1;
  }

  function sameValue(a, b) {
    if (a === b) { return true; }
    if (a === null || b === null || typeof a !== "object" || typeof b !== "object") {
      return false;
    }
    return JSON.stringify(a) === JSON.stringify(b);
  }

  function buildIndex(data) {
    var n = data.count;
    var kinds = data.kinds;
    var legend = data.legend;
    var typeOf = {}, letterOf = {}, rankOf = {};
    legend.forEach(function (k) {
      typeOf[k.code] = k.type; letterOf[k.type] = k.letter; rankOf[k.code] = k.rank;
    });

    var events = new Array(n);      // wire objects of non-TOKEN events, by seq
    data.events.forEach(function (pair) { events[pair[0]] = pair[1]; });

    var ts = new Float64Array(n);
    var rank = new Uint8Array(n);
    var tokOrd = new Int32Array(n + 1); // TOKEN events with seq < i
    var landmarks = [];
    var t = data.firstTs;
    var ord = 0;
    for (var s = 0; s < n; s++) {
      var c = kinds[s];
      t = s === 0 ? data.firstTs : t + data.gaps[s];
      if (c !== "t") { t = events[s].ts; landmarks.push(s); }
      ts[s] = t;
      rank[s] = rankOf[c];
      tokOrd[s] = ord;
      if (c === "t") { ord++; }
    }
    tokOrd[n] = ord;

    var values = data.tokens;
    var tokIndex = new Float64Array(values.length);
    var breaks = data.indexBreaks;
    var b = 0, idx = -1;
    for (var i = 0; i < values.length; i++) {
      if (b < breaks.length && breaks[b] === i) { idx = breaks[b + 1]; b += 2; } else { idx++; }
      tokIndex[i] = idx;
    }
    var text = values.join("");
    var tokOff = new Float64Array(values.length + 1);
    var off = 0;
    for (i = 0; i < values.length; i++) { tokOff[i] = off; off += values[i].length; }
    tokOff[values.length] = off;

    function tokenText(a, bEnd) {  // TOKEN values with a <= seq < bEnd, joined
      return text.substring(tokOff[tokOrd[a]], tokOff[tokOrd[bEnd]]);
    }

    // The fold, once. Content is versions (a base string, then token text);
    // every other field is a history of (seq, value) kept only where it changed.
    var versions = [{ seq: -1, base: "", from: 0 }];
    var contentSeqs = [];
    var tokenCount = new History(0);
    var violationSeqs = [], violationCounts = [], violations = [];
    var hist = {
      checkpoint: new History(""), driftDetected: new History(false),
      retryAttempts: new History(0), networkRetryCount: new History(0),
      fallbackIndex: new History(0), completed: new History(false),
      error: new History(null), startTs: new History(0), endTs: new History(0)
    };
    var cur = {
      checkpoint: "", driftDetected: false, retryAttempts: 0, networkRetryCount: 0,
      fallbackIndex: 0, completed: false, error: null, startTs: 0, endTs: 0
    };
    var tc = 0;
    function set(seq, name, value) {
      if (!sameValue(cur[name], value)) {
        cur[name] = value;
        hist[name].seqs.push(seq);
        hist[name].vals.push(value);
      }
    }
    function setTokenCount(seq, value) {
      if (value !== tc) { tc = value; tokenCount.seqs.push(seq); tokenCount.vals.push(value); }
    }
    function contentBefore(seq) {  // the fold's content after seq - 1
      var v = versions[versions.length - 1];
      return v.base + text.substring(tokOff[v.from], tokOff[tokOrd[seq]]);
    }
    function setContent(seq, value) {
      if (value !== contentBefore(seq)) {
        versions.push({ seq: seq, base: value, from: tokOrd[seq + 1] });
        contentSeqs.push(seq);
      }
    }
    for (s = 0; s < n; s++) {
      if (kinds[s] === "t") {
        var k = tokOrd[s];
        if (values[k].length > 0) { contentSeqs.push(s); }
        setTokenCount(s, tokIndex[k] + 1);
        continue;
      }
      var ev = events[s];
      switch (ev.type) {
        case "START": set(s, "startTs", ev.ts); break;
        case "CHECKPOINT": set(s, "checkpoint", ev.content); break;
        case "GUARDRAIL":
          if (ev.result.violations.length > 0) {
            Array.prototype.push.apply(violations, ev.result.violations);
            violationSeqs.push(s);
            violationCounts.push(violations.length);
          }
          break;
        case "DRIFT": if (ev.result.detected) { set(s, "driftDetected", true); } break;
        case "RETRY":
          if (ev.countsTowardLimit) { set(s, "retryAttempts", cur.retryAttempts + 1); }
          else { set(s, "networkRetryCount", cur.networkRetryCount + 1); }
          break;
        case "FALLBACK": set(s, "fallbackIndex", ev.to); break;
        case "CONTINUATION": setContent(s, ev.checkpoint); break;
        case "COMPLETE":
          setContent(s, ev.content);
          setTokenCount(s, ev.tokenCount);
          set(s, "completed", true);
          set(s, "endTs", ev.ts);
          break;
        case "ERROR": set(s, "error", ev.error); set(s, "endTs", ev.ts); break;
        default: break;
      }
    }
    var versionSeqs = versions.map(function (v) { return v.seq; });

    function contentAt(seq) {
      var v = versions[lastAtOrBefore(versionSeqs, seq)];
      return v.base + text.substring(tokOff[v.from], tokOff[tokOrd[seq + 1]]);
    }
    function valueAt(field, seq) {
      if (field === "content") { return contentAt(seq); }
      if (field === "violations") {
        var j = lastAtOrBefore(violationSeqs, seq);
        return j < 0 ? [] : violations.slice(0, violationCounts[j]);
      }
      var h = field === "tokenCount" ? tokenCount : hist[field];
      var i2 = lastAtOrBefore(h.seqs, seq);
      return i2 < 0 ? h.initial : h.vals[i2];
    }
    function changesOf(field) {
      if (field === "content") { return contentSeqs; }
      if (field === "violations") { return violationSeqs; }
      return field === "tokenCount" ? tokenCount.seqs : hist[field].seqs;
    }
    function lastChanged(field, seq) {
      var seqs = changesOf(field);
      var i3 = lastAtOrBefore(seqs, seq);
      return i3 < 0 ? null : seqs[i3];
    }
    function stateAt(seq) {
      var out = {};
      FIELDS.forEach(function (f) { out[f] = valueAt(f, seq); });
      return out;
    }

    // Attempts: the rules of l0core.timeline.attempts.split_attempts.
    function tokensBetween(a, bEnd) { return tokOrd[bEnd] - tokOrd[a]; }
    var attempts = [];
    (function () {
      if (n <= 0) { return; }
      var rows = [];
      var cur2 = { start: 0, by: "start", resumed: "", outcome: "running", reason: null,
        fallback: 0 };
      landmarks.forEach(function (seq) {
        var e = events[seq];
        var isRetry = e.type === "RETRY", isFallback = e.type === "FALLBACK";
        var isContinuation = e.type === "CONTINUATION";
        if (isRetry || isFallback || (isContinuation && tokensBetween(cur2.start, seq) > 0)) {
          if (cur2.outcome === "running" || cur2.outcome === "completed") {
            cur2.outcome = isFallback ? "fell_back" : "retried";
            cur2.reason = isRetry ? e.reason : null;
          }
          cur2.end = seq - 1;
          rows.push(cur2);
          var by = isRetry ? "retry" : (isFallback ? "fallback" : "continuation");
          cur2 = { start: seq, by: by, resumed: "", outcome: "running", reason: null,
            fallback: isFallback ? e.to : cur2.fallback };
        }
        if (isContinuation) { cur2.resumed = e.checkpoint; }
        else if (e.type === "COMPLETE") { cur2.outcome = "completed"; cur2.reason = null; }
        else if (e.type === "ERROR") { cur2.outcome = "errored"; cur2.reason = e.error.message; }
      });
      cur2.end = n - 1;
      rows.push(cur2);
      rows.forEach(function (r, i4) {
        attempts.push({
          number: i4 + 1, startSeq: r.start, endSeq: r.end, startedBy: r.by,
          resumedFrom: r.resumed, tokenCount: tokensBetween(r.start, r.end + 1),
          outcome: r.outcome, reason: r.reason, fallbackIndex: r.fallback
        });
      });
    })();
    var attemptStarts = attempts.map(function (a) { return a.startSeq; });

    return {
      n: n, streamId: data.streamId, source: data.source, legend: legend,
      typeOf: typeOf, letterOf: letterOf, kinds: kinds, rank: rank, ts: ts,
      events: events, tokens: values, tokIndex: tokIndex, tokOrd: tokOrd,
      landmarks: landmarks, attempts: attempts, attemptStarts: attemptStarts,
      tokenText: tokenText, valueAt: valueAt, lastChanged: lastChanged, stateAt: stateAt,
      kindAt: function (seq) { return typeOf[kinds[seq]]; },
      eventAt: function (seq) {
        if (kinds[seq] !== "t") { return events[seq]; }
        var k2 = tokOrd[seq];
        return { type: "TOKEN", ts: ts[seq], value: values[k2], index: tokIndex[k2] };
      },
      relMs: function (seq) { return ts[seq] - ts[0]; }
    };
  }

  // ───────────────────────────── the page ─────────────────────────────

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function fmtMs(ms) {
    if (!isFinite(ms)) { return "?"; }
    if (Math.abs(ms) < 1000) { return "+" + Math.round(ms) + "ms"; }
    return "+" + (ms / 1000).toFixed(ms < 10000 ? 2 : 1) + "s";
  }

  function fmtTs(tsValue) {
    if (typeof tsValue !== "number" || !isFinite(tsValue) || tsValue === 0) { return ""; }
    var d = new Date(tsValue);
    return isNaN(d.getTime()) ? "" : d.toISOString().replace("T", " ").replace("Z", " UTC");
  }

  function clip(textValue, limit) {
    return textValue.length <= limit ? textValue : textValue.slice(0, limit - 1) + "…";
  }

  function summary(ev) {
    switch (ev.type) {
      case "TOKEN": return JSON.stringify(ev.value) + "  #" + ev.index;
      case "START": {
        var o = ev.options || {};
        return (o.model ? "model " + o.model : "") + (o.prompt ? "  " + JSON.stringify(clip(o.prompt, 80)) : "");
      }
      case "CHECKPOINT": return "at " + ev.at + "  " + JSON.stringify(clip(ev.content, 60));
      case "GUARDRAIL": {
        var vs = ev.result.violations || [];
        return vs.length + " violation(s)" + (vs.length ? ": " + vs.map(function (v) {
          return String(v && v.rule !== undefined ? v.rule : "?");
        }).join(", ") : "") + (ev.result.shouldRetry ? "  retry" : "") +
          (ev.result.shouldHalt ? "  halt" : "");
      }
      case "DRIFT":
        return (ev.result.detected ? "detected " : "none ") + (ev.result.types || []).join(",") +
          "  conf " + ev.result.confidence;
      case "RETRY":
        return "attempt " + ev.attempt + "  " + ev.reason +
          (ev.countsTowardLimit ? "" : "  (network, not counted)");
      case "FALLBACK": return "to model #" + ev.to;
      case "CONTINUATION": return "from checkpoint (" + ev.checkpoint.length + " chars) at " + ev.at;
      case "COMPLETE": return ev.tokenCount + " tokens, " + ev.content.length + " chars";
      case "ERROR": return (ev.error.name || "") + ": " + (ev.error.message || "") +
        (ev.failureType ? "  [" + ev.failureType + "]" : "");
      default: return "";
    }
  }

  function Player(rec) {
    this.rec = rec;
    this.seq = 0;
    this.playing = false;
    this.speed = 1;
    this.pacing = "recorded";
    this.anchorWall = 0;
    this.anchorSeq = 0;
    this.anchorPos = 0;
    this.shownFirst = -1;
    this.shownLast = -1;
    this.rowPool = [];
    this.build();
  }

  Player.prototype.build = function () {
    var self = this, rec = this.rec;
    var body = document.body;

    var top = el("header", "top");
    top.appendChild(el("h1", null, rec.streamId));
    top.appendChild(el("span", "meta", rec.n.toLocaleString("en-US") + " events · " +
      rec.attempts.length + " attempt(s) · from " + rec.source));
    var legend = el("div", "legend");
    rec.legend.slice().sort(function (a, b) { return b.rank - a.rank; }).forEach(function (k) {
      var item = el("span");
      var letter = el("b", "k-" + k.type, k.letter);
      item.appendChild(letter);
      item.appendChild(document.createTextNode(k.type.toLowerCase()));
      legend.appendChild(item);
    });
    top.appendChild(legend);
    body.appendChild(top);

    var controls = el("div", "controls");
    this.playButton = el("button", "play", "▶ play");
    this.playButton.type = "button";
    this.playButton.title = "play / pause (space)";
    this.playButton.addEventListener("click", function () { self.toggle(); });
    controls.appendChild(this.playButton);
    var stepBack = el("button", null, "◀");
    stepBack.type = "button"; stepBack.title = "previous event (←)";
    stepBack.addEventListener("click", function () { self.pause(); self.seek(self.seq - 1); });
    var stepFwd = el("button", null, "▶|");
    stepFwd.type = "button"; stepFwd.title = "next event (→)";
    stepFwd.addEventListener("click", function () { self.pause(); self.seek(self.seq + 1); });
    controls.appendChild(stepBack);
    controls.appendChild(stepFwd);
    controls.appendChild(el("label", null, "speed"));
    this.speedSelect = el("select", "speed");
    SPEEDS.forEach(function (sp) {
      var opt = el("option", null, sp + "x");
      opt.value = String(sp);
      if (sp === 1) { opt.selected = true; }
      self.speedSelect.appendChild(opt);
    });
    this.speedSelect.addEventListener("change", function () {
      self.setSpeed(parseFloat(self.speedSelect.value));
    });
    controls.appendChild(this.speedSelect);
    controls.appendChild(el("label", null, "pacing"));
    this.pacingSelect = el("select", "pacing");
    [["recorded", "recorded timing"], ["uniform", "uniform (20 events/s)"]].forEach(function (p) {
      var opt = el("option", null, p[1]);
      opt.value = p[0];
      self.pacingSelect.appendChild(opt);
    });
    this.pacingSelect.addEventListener("change", function () {
      self.setPacing(self.pacingSelect.value);
    });
    controls.appendChild(this.pacingSelect);
    this.where = el("span", "where");
    controls.appendChild(this.where);
    this.when = el("span", "when");
    controls.appendChild(this.when);
    controls.appendChild(el("span", "keys",
      "← → step · [ ] non-token events · space play"));
    body.appendChild(controls);

    var scrub = el("div", "scrub");
    this.slider = el("input", "slider");
    this.slider.type = "range";
    this.slider.min = "0";
    this.slider.max = String(Math.max(0, rec.n - 1));
    this.slider.step = "1";
    this.slider.value = "0";
    this.slider.setAttribute("aria-label", "seq");
    this.slider.addEventListener("input", function () {
      self.seek(parseInt(self.slider.value, 10), true);
    });
    scrub.appendChild(this.slider);
    this.minimap = el("div", "minimap");
    this.minimap.title = "drag to seek";
    this.canvas = el("canvas");
    this.minimap.appendChild(this.canvas);
    this.mark = el("div", "mark");
    this.minimap.appendChild(this.mark);
    var dragging = false;
    function seekFromPointer(e) {
      var box = self.minimap.getBoundingClientRect();
      var x = Math.min(Math.max(0, e.clientX - box.left), box.width - 1);
      self.seek(Math.floor(x / box.width * rec.n), true);
    }
    this.minimap.addEventListener("pointerdown", function (e) {
      dragging = true;
      self.minimap.setPointerCapture(e.pointerId);
      seekFromPointer(e);
    });
    this.minimap.addEventListener("pointermove", function (e) { if (dragging) { seekFromPointer(e); } });
    this.minimap.addEventListener("pointerup", function () { dragging = false; });
    this.minimap.addEventListener("pointercancel", function () { dragging = false; });
    scrub.appendChild(this.minimap);
    body.appendChild(scrub);

    var main = el("div", "main");
    // events
    var evPane = el("section", "pane events-pane");
    var evHead = el("h2", null, "events");
    this.evCount = el("span", "count");
    evHead.appendChild(this.evCount);
    evPane.appendChild(evHead);
    this.list = el("div", "events");
    this.list.tabIndex = 0;
    this.spacer = el("div", "spacer");
    this.spacer.style.height = (rec.n * ROW) + "px";
    this.list.appendChild(this.spacer);
    this.list.addEventListener("scroll", function () { self.renderRows(); });
    this.list.addEventListener("click", function (e) {
      var row = e.target.closest ? e.target.closest(".row") : null;
      if (row && row.dataset.seq) { self.pause(); self.seek(parseInt(row.dataset.seq, 10)); }
    });
    evPane.appendChild(this.list);
    main.appendChild(evPane);
    // state
    var stPane = el("section", "pane state-pane");
    stPane.appendChild(el("h2", null, "state at the cursor"));
    var stScroll = el("div", "scroll");
    var table = el("table", "state");
    var tbody = el("tbody");
    this.stateRows = {};
    FIELDS.forEach(function (f) {
      var tr = el("tr");
      tr.dataset.field = f;
      tr.appendChild(el("td", "name", f));
      var td = el("td", "value");
      var more = el("span", "more");
      var v = el("span", "v");
      var note = el("span", "note");
      td.appendChild(more);
      td.appendChild(v);
      td.appendChild(note);
      tr.appendChild(td);
      var ch = el("td", "changed");
      tr.appendChild(ch);
      tbody.appendChild(tr);
      self.stateRows[f] = { tr: tr, v: v, note: note, more: more, changed: ch, last: undefined };
    });
    table.appendChild(tbody);
    stScroll.appendChild(table);
    stPane.appendChild(stScroll);
    stPane.appendChild(el("div", "detail-title", "event at the cursor"));
    this.detail = el("pre", "detail");
    stPane.appendChild(this.detail);
    main.appendChild(stPane);
    // content
    var ctPane = el("section", "pane content-pane");
    var ctHead = el("h2", null, "content by attempt");
    ctHead.appendChild(el("span", "count", "resumed checkpoint text is underlined"));
    ctPane.appendChild(ctHead);
    this.content = el("div", "scroll attempts");
    ctPane.appendChild(this.content);
    main.appendChild(ctPane);
    body.appendChild(main);

    document.addEventListener("keydown", function (e) { self.onKey(e); });
    window.addEventListener("resize", function () { self.drawMinimap(); self.renderRows(true); });
  };

  Player.prototype.onKey = function (e) {
    var tag = e.target && e.target.tagName;
    if (tag === "SELECT" || e.ctrlKey || e.metaKey || e.altKey) { return; }
    var rec = this.rec, s = this.seq, to = null;
    // On the slider the browser's own keys move it (and fire "input").
    if (tag === "INPUT" && /^(Arrow|Page|Home|End)/.test(e.key)) { return; }
    switch (e.key) {
      case "ArrowRight": to = s + (e.shiftKey ? 10 : 1); break;
      case "ArrowLeft": to = s - (e.shiftKey ? 10 : 1); break;
      case "ArrowDown": to = s + 1; break;
      case "ArrowUp": to = s - 1; break;
      case "PageDown": to = s + 100; break;
      case "PageUp": to = s - 100; break;
      case "Home": to = 0; break;
      case "End": to = rec.n - 1; break;
      case "]": {
        var i = lastAtOrBefore(rec.landmarks, s) + 1;
        if (i < rec.landmarks.length) { to = rec.landmarks[i]; }
        break;
      }
      case "[": {
        var j = lastAtOrBefore(rec.landmarks, s - 1);
        if (j >= 0) { to = rec.landmarks[j]; }
        break;
      }
      case " ":
        e.preventDefault();
        this.toggle();
        return;
      default: return;
    }
    e.preventDefault();
    if (to !== null) { this.pause(); this.seek(to); }
  };

  // ── playback (the rules of l0tui.playback.Player) ──

  Player.prototype.position = function (now) {
    var elapsed = Math.max(0, now - this.anchorWall) / 1000 * this.speed;
    if (this.pacing === "uniform") { return this.anchorPos + elapsed * UNIFORM_EVENTS_PER_SECOND; }
    return this.anchorPos + elapsed * 1000;
  };

  Player.prototype.targetSeq = function (now) {
    var rec = this.rec, pos = this.position(now);
    if (this.pacing === "uniform") { return Math.floor(pos + 1e-9); }
    var lo = this.anchorSeq, hi = rec.n - 1;
    if (rec.relMs(hi) <= pos) { return hi; }
    while (lo < hi) {
      var mid = (lo + hi + 1) >>> 1;
      if (rec.relMs(mid) <= pos + 1e-9) { lo = mid; } else { hi = mid - 1; }
    }
    return lo;
  };

  Player.prototype.anchor = function (seq) {
    this.anchorWall = performance.now();
    this.anchorSeq = seq;
    this.anchorPos = this.pacing === "uniform" ? seq : this.rec.relMs(seq);
  };

  Player.prototype.toggle = function () { if (this.playing) { this.pause(); } else { this.play(); } };

  Player.prototype.play = function () {
    var self = this;
    if (this.rec.n === 0) { return; }
    if (this.seq >= this.rec.n - 1) { this.seek(0); }
    this.playing = true;
    this.anchor(this.seq);
    this.playButton.textContent = "❚❚ pause";
    function frame() {
      if (!self.playing) { return; }
      var target = self.targetSeq(performance.now());
      if (target >= self.rec.n - 1) { target = self.rec.n - 1; self.pause(); }
      if (target !== self.seq) { self.seek(target, false, true); }
      if (self.playing) { requestAnimationFrame(frame); }
    }
    requestAnimationFrame(frame);
  };

  Player.prototype.pause = function () {
    this.playing = false;
    this.playButton.textContent = "▶ play";
  };

  Player.prototype.setSpeed = function (speed) {
    var seq = this.playing ? this.targetSeq(performance.now()) : this.seq;
    this.speed = SPEEDS.indexOf(speed) >= 0 ? speed : 1;
    if (this.playing) { this.anchor(seq); }
  };

  Player.prototype.setPacing = function (pacing) {
    var seq = this.playing ? this.targetSeq(performance.now()) : this.seq;
    this.pacing = pacing === "uniform" ? "uniform" : "recorded";
    if (this.playing) { this.anchor(seq); }
  };

  // ── drawing ──

  Player.prototype.seek = function (seq, fromScrubber, fromPlayback) {
    var rec = this.rec;
    if (rec.n === 0) { return; }
    seq = Math.max(0, Math.min(rec.n - 1, seq | 0));
    if (this.playing && !fromPlayback) { this.anchor(seq); }
    this.seq = seq;
    if (String(seq) !== this.slider.value) { this.slider.value = String(seq); }
    this.render(fromScrubber);
  };

  Player.prototype.render = function () {
    var rec = this.rec, seq = this.seq;
    this.where.textContent = "";
    this.where.appendChild(document.createTextNode("seq "));
    this.where.appendChild(el("b", "seq-now", seq));
    this.where.appendChild(document.createTextNode(" of 0.." + (rec.n - 1) + " · "));
    this.where.appendChild(el("span", "k-" + rec.kindAt(seq), rec.kindAt(seq)));
    this.when.textContent = fmtMs(rec.relMs(seq)) + "  " + fmtTs(rec.ts[seq]);
    this.mark.style.left = ((seq + 0.5) / rec.n * 100) + "%";
    this.evCount.textContent = (seq + 1).toLocaleString("en-US") + " / " + rec.n.toLocaleString("en-US");
    this.scrollToCursor();
    this.renderRows(true);
    this.renderState();
    this.renderContent();
    this.detail.textContent = JSON.stringify(rec.eventAt(seq), function (key, v) {
      return typeof v === "string" && v.length > 2 * CONTENT_TAIL
        ? v.slice(0, CONTENT_TAIL) + "… (" + v.length.toLocaleString("en-US") + " chars)" : v;
    }, 2);
  };

  Player.prototype.scrollToCursor = function () {
    var list = this.list, top = this.seq * ROW, h = list.clientHeight;
    if (top < list.scrollTop || top + ROW > list.scrollTop + h) {
      list.scrollTop = Math.max(0, top - Math.floor(h / 2) + ROW);
    }
  };

  Player.prototype.renderRows = function (force) {
    var rec = this.rec, list = this.list;
    var first = Math.max(0, Math.floor(list.scrollTop / ROW) - 4);
    var last = Math.min(rec.n - 1, Math.ceil((list.scrollTop + list.clientHeight) / ROW) + 4);
    if (!force && first === this.shownFirst && last === this.shownLast) { return; }
    this.shownFirst = first;
    this.shownLast = last;
    var need = last - first + 1;
    while (this.rowPool.length < need) {
      var row = el("div", "row");
      row.appendChild(el("span", "seq"));
      row.appendChild(el("span", "letter"));
      row.appendChild(el("span", "kind"));
      row.appendChild(el("span", "ms"));
      row.appendChild(el("span", "sum"));
      this.spacer.appendChild(row);
      this.rowPool.push(row);
    }
    for (var i = 0; i < this.rowPool.length; i++) {
      var r = this.rowPool[i];
      if (i >= need) { r.hidden = true; continue; }
      var s = first + i;
      var kind = rec.kindAt(s);
      r.hidden = false;
      r.style.top = (s * ROW) + "px";
      r.dataset.seq = String(s);
      r.className = s === this.seq ? "row at" : "row";
      var cells = r.childNodes;
      cells[0].textContent = String(s);
      cells[1].textContent = rec.letterOf[kind];
      cells[1].className = "letter k-" + kind;
      cells[2].textContent = kind;
      cells[2].className = "kind k-" + kind;
      cells[3].textContent = fmtMs(rec.relMs(s));
      cells[4].textContent = clip(summary(rec.eventAt(s)), 240);
    }
  };

  Player.prototype.renderState = function () {
    var rec = this.rec, seq = this.seq, self = this;
    FIELDS.forEach(function (f) {
      var row = self.stateRows[f];
      var value = rec.valueAt(f, seq);
      var changed = rec.lastChanged(f, seq);
      row.tr.className = changed === seq ? "fresh" : "";
      if (f === "content") {
        var shown = value.length > CONTENT_TAIL ? value.slice(value.length - CONTENT_TAIL) : value;
        row.more.textContent = value.length > CONTENT_TAIL
          ? "… " + (value.length - CONTENT_TAIL).toLocaleString("en-US") + " chars before\n" : "";
        if (row.last !== shown) { row.v.textContent = shown; row.last = shown; }
        row.v.dataset.length = String(value.length);
        row.note.textContent = value.length.toLocaleString("en-US") + " chars";
      } else if (typeof value === "string" && value.length > CONTENT_TAIL) {
        // A long checkpoint: its tail, as JSON, like the content (a huge text is slow to lay out).
        var tail = JSON.stringify(value.slice(value.length - CONTENT_TAIL));
        row.more.textContent = "… " + (value.length - CONTENT_TAIL).toLocaleString("en-US") +
          " chars before\n";
        if (row.last !== tail) { row.v.textContent = tail; row.last = tail; }
        row.v.dataset.length = String(value.length);
        row.note.textContent = value.length.toLocaleString("en-US") + " chars";
      } else {
        var json = JSON.stringify(value);
        row.more.textContent = "";
        delete row.v.dataset.length;
        if (row.last !== json) { row.v.textContent = json; row.last = json; }
        row.note.textContent = (f === "startTs" || f === "endTs") ? fmtTs(value)
          : (f === "violations" ? value.length + " violation(s)" : "");
      }
      var cell = row.changed;
      var wanted = changed === null ? "never" : String(changed);
      if (cell.dataset.seq !== wanted) {
        cell.textContent = "";
        cell.dataset.seq = wanted;
        if (changed === null) {
          cell.appendChild(el("span", "never", "never changed"));
        } else {
          var b = el("button", null, "seq " + changed);
          b.type = "button";
          b.title = "jump to the event that last changed " + f;
          b.addEventListener("click", function () { self.pause(); self.seek(changed); });
          cell.appendChild(b);
        }
      }
    });
  };

  Player.prototype.renderContent = function () {
    var rec = this.rec, seq = this.seq, box = this.content;
    var upto = lastAtOrBefore(rec.attemptStarts, seq);
    var frag = document.createDocumentFragment();
    var currentNode = null;
    for (var i = 0; i <= upto; i++) {
      var a = rec.attempts[i];
      var current = i === upto;
      var endHere = Math.min(a.endSeq, seq);
      var block = el("div", current ? "attempt current" : "attempt");
      block.dataset.attempt = String(a.number);
      var head = el("div", "head");
      head.appendChild(el("span", "num", "attempt " + a.number));
      head.appendChild(el("span", "by", a.startedBy === "start" ? "from the start"
        : "after " + a.startedBy.toUpperCase() + " at seq " + a.startSeq));
      if (a.fallbackIndex) { head.appendChild(el("span", "by", "model #" + a.fallbackIndex)); }
      var outcome = a.outcome;
      if (current && seq < a.endSeq) {
        // As of the cursor: an outcome the attempt reaches later is not shown yet.
        outcome = "running";
        for (var k = lastAtOrBefore(rec.landmarks, a.startSeq - 1) + 1;
          k < rec.landmarks.length && rec.landmarks[k] <= seq; k++) {
          var t = rec.events[rec.landmarks[k]].type;
          if (t === "COMPLETE") { outcome = "completed"; }
          if (t === "ERROR") { outcome = "errored"; }
        }
      }
      head.appendChild(el("span", "outcome " + outcome, outcome.replace("_", " ")));
      if (a.reason && outcome === a.outcome) { head.appendChild(el("span", "reason", a.reason)); }
      head.appendChild(el("span", "by", "seqs " + a.startSeq + ".." + a.endSeq));
      block.appendChild(head);
      var pre = el("pre", "text");
      var resumedShown = a.resumedFrom;
      var own = rec.tokenText(a.startSeq, endHere + 1);
      var limit = current ? ATTEMPT_TAIL : EARLIER_TAIL;
      var continuationSeen = a.resumedFrom && this.resumedBy(a, seq);
      if (continuationSeen) {
        var resumedTail = resumedShown;
        if (own.length >= limit) { resumedTail = ""; }
        else if (resumedTail.length + own.length > limit) {
          resumedTail = resumedTail.slice(resumedTail.length - (limit - own.length));
        }
        if (resumedTail.length < resumedShown.length) {
          pre.appendChild(el("span", "elided", "… "));
        }
        if (resumedTail) {
          var rs = el("span", "resumed", resumedTail);
          rs.title = "resumed from the checkpoint (" + resumedShown.length + " chars)";
          pre.appendChild(rs);
        }
      }
      if (own.length > limit) {
        pre.appendChild(el("span", "elided", "… " + (own.length - limit).toLocaleString("en-US") +
          " chars before … "));
        own = own.slice(own.length - limit);
      }
      pre.appendChild(el("span", "own", own));
      if (current && !rec.valueAt("completed", seq) && rec.valueAt("error", seq) === null) {
        pre.appendChild(el("span", "caret"));
      }
      block.appendChild(pre);
      var count = rec.tokOrd[endHere + 1] - rec.tokOrd[a.startSeq];
      block.appendChild(el("div", "hint", count + " token(s) in this attempt" +
        (continuationSeen ? ", after " + a.resumedFrom.length + " chars of checkpoint" : "")));
      frag.appendChild(block);
      if (current) { currentNode = block; }
    }
    if (rec.valueAt("completed", seq)) {
      var fin = el("div", "final");
      fin.appendChild(el("div", "head", "COMPLETE: the final content"));
      var finalText = rec.valueAt("content", seq);
      fin.appendChild(el("pre", "text", finalText.length > ATTEMPT_TAIL
        ? "… " + finalText.slice(finalText.length - ATTEMPT_TAIL) : finalText));
      frag.appendChild(fin);
    }
    box.textContent = "";
    box.appendChild(frag);
    if (currentNode) {
      // Keep the end of the current attempt (where the cursor writes) in view.
      var bottom = currentNode.offsetTop + currentNode.offsetHeight;
      if (bottom > box.scrollTop + box.clientHeight || currentNode.offsetTop < box.scrollTop) {
        box.scrollTop = Math.max(0, bottom - box.clientHeight);
      }
    }
  };

  // Whether the CONTINUATION that set the attempt's resumed text is at or before seq.
  Player.prototype.resumedBy = function (a, seq) {
    var rec = this.rec;
    for (var k = lastAtOrBefore(rec.landmarks, a.startSeq - 1) + 1;
      k < rec.landmarks.length && rec.landmarks[k] <= Math.min(seq, a.endSeq); k++) {
      if (rec.events[rec.landmarks[k]].type === "CONTINUATION") { return true; }
    }
    return false;
  };

  Player.prototype.drawMinimap = function () {
    var rec = this.rec, canvas = this.canvas;
    var ratio = window.devicePixelRatio || 1;
    var w = Math.max(1, Math.floor(this.minimap.clientWidth * ratio));
    var h = Math.max(1, Math.floor(this.minimap.clientHeight * ratio));
    canvas.width = w;
    canvas.height = h;
    var ctx = canvas.getContext("2d");
    if (!ctx || rec.n === 0) { return; }
    ctx.clearRect(0, 0, w, h);
    var best = new Int16Array(w).fill(-1);
    var bestSeq = new Int32Array(w);
    for (var s = 0; s < rec.n; s++) {
      var x = Math.floor(s * w / rec.n);
      if (rec.rank[s] > best[x]) { best[x] = rec.rank[s]; bestSeq[x] = s; }
    }
    var cellW = w / rec.n;
    for (x = 0; x < w; x++) {
      if (best[x] < 0) { continue; }
      var kind = rec.kindAt(bestSeq[x]);
      ctx.fillStyle = COLOURS[kind] || "#888";
      if (kind === "TOKEN") { ctx.fillRect(x, h * 0.55, 1, h * 0.3); }
      else { ctx.fillRect(x, h * 0.12, Math.max(1, Math.min(3 * ratio, cellW)), h * 0.76); }
    }
    // Letters over the landmarks where there is room for them.
    ctx.font = "bold " + Math.round(10 * ratio) + "px ui-monospace, monospace";
    ctx.textBaseline = "top";
    // Where two would overlap, the more important kind keeps the place.
    var placed = [];
    for (var i = 0; i < rec.landmarks.length; i++) {
      var seq = rec.landmarks[i];
      var lx = Math.floor(seq * w / rec.n) + 3 * ratio;
      var prev = placed.length ? placed[placed.length - 1] : null;
      if (prev && lx - prev.x < 12 * ratio) {
        if (rec.rank[seq] > rec.rank[prev.seq]) { prev.seq = seq; }
        continue;
      }
      placed.push({ x: lx, seq: seq });
    }
    placed.forEach(function (p) {
      var k2 = rec.kindAt(p.seq);
      ctx.fillStyle = COLOURS[k2] || "#888";
      ctx.fillText(rec.letterOf[k2], p.x, 2 * ratio);
    });
  };

  function start() {
    var node = document.getElementById("l0-recording");
    var data = JSON.parse(node.textContent);
    var rec = buildIndex(data);
    var player = new Player(rec);
    player.drawMinimap();
    player.seek(0);
    // For scripts that drive the page (tests, benchmarks): read-only views and seek.
    window.l0player = {
      seek: function (seq) { player.seek(seq); },
      get seq() { return player.seq; },
      count: rec.n,
      stateAt: rec.stateAt,
      lastChanged: rec.lastChanged,
      attempts: function () { return rec.attempts.map(function (a) { return Object.assign({}, a); }); },
      attemptContent: function (i) {
        var a = rec.attempts[i];
        return rec.tokenText(a.startSeq, a.endSeq + 1);
      }
    };
    document.documentElement.dataset.ready = "1";
    window.l0ReadyAt = performance.now();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
