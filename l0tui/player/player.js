// The recording player of `l0tui export --format html`.
//
// It reads the recording from the page's JSON block, folds it once with the rules
// of the Python fold (l0core.fold.apply_event, described in docs/format.md) into
// per-field change arrays, then answers any seq with binary searches: a seek costs
// O(log n) plus drawing what is visible. Stream text is hostile: it only ever
// reaches the page as text nodes (textContent, createTextNode, a text node's
// data), never as markup.
(function () {
  "use strict";

  var ROW = 20;                      // event list row height, px (matches --row)
  var OVERSCAN = 2;                  // rows drawn above and below the visible ones
  var SPEEDS = [0.25, 0.5, 1, 2, 4, 8, 16, 32, 64];
  var UNIFORM_EVENTS_PER_SECOND = 20;
  var CONTENT_TAIL = 2000;           // a state value up to this long is shown whole; a
  var STATE_TAIL = 600;              // longer one as the last chars its box shows, at most this
  var ATTEMPT_TAIL = 4000;           // chars of the current attempt shown, at most
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
    // The content's length and its last `limit` chars at seq, without building the
    // whole string (slicing a joined string would copy all of it, on every seek).
    function contentLengthAt(seq) {
      var v = versions[lastAtOrBefore(versionSeqs, seq)];
      return v.base.length + tokOff[tokOrd[seq + 1]] - tokOff[v.from];
    }
    function contentTailAt(seq, limit) {
      var v = versions[lastAtOrBefore(versionSeqs, seq)];
      var from = tokOff[v.from], end = tokOff[tokOrd[seq + 1]];
      if (end - from >= limit) { return text.substring(end - limit, end); }
      var keep = limit - (end - from);
      return v.base.substring(Math.max(0, v.base.length - keep)) + text.substring(from, end);
    }
    // Which recorded value a field (other than content) holds at seq: equal keys
    // mean equal values, so a redraw can skip fields that did not change.
    function valueKey(field, seq) {
      if (field === "violations") { return lastAtOrBefore(violationSeqs, seq); }
      return lastAtOrBefore(field === "tokenCount" ? tokenCount.seqs : hist[field].seqs, seq);
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
    // Per attempt, what its drawing needs at a cursor inside it: the seqs of its
    // COMPLETE / ERROR events (the outcome so far) and of its first CONTINUATION.
    var attemptMarks = attempts.map(function (a) {
      var marks = { endSeqs: [], endOutcomes: [], continuationSeq: Infinity };
      for (var k = lastAtOrBefore(landmarks, a.startSeq - 1) + 1;
        k < landmarks.length && landmarks[k] <= a.endSeq; k++) {
        var type = events[landmarks[k]].type;
        if (type === "COMPLETE" || type === "ERROR") {
          marks.endSeqs.push(landmarks[k]);
          marks.endOutcomes.push(type === "COMPLETE" ? "completed" : "errored");
        } else if (type === "CONTINUATION" && marks.continuationSeq === Infinity) {
          marks.continuationSeq = landmarks[k];
        }
      }
      return marks;
    });

    return {
      n: n, streamId: data.streamId, source: data.source, legend: legend,
      typeOf: typeOf, letterOf: letterOf, kinds: kinds, rank: rank, ts: ts,
      events: events, tokens: values, tokIndex: tokIndex, tokOrd: tokOrd,
      landmarks: landmarks, attempts: attempts, attemptStarts: attemptStarts,
      attemptMarks: attemptMarks, tokenText: tokenText, valueAt: valueAt, valueKey: valueKey,
      contentLengthAt: contentLengthAt, contentTailAt: contentTailAt,
      lastChanged: lastChanged, stateAt: stateAt,
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

  // One formatter for every count: Number#toLocaleString builds one per call.
  var INT_FORMAT = new Intl.NumberFormat("en-US");

  function fmtInt(value) { return INT_FORMAT.format(value); }

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
    this.rowsAt = -1;
    this.rowPool = [];
    this.drawnSeq = -1;
    this.framePending = false;
    this.listTop = 0;          // the event list's scrollTop and height, cached
    this.listHeight = 0;
    this.contentTop = 0;       // the same for the content pane
    this.contentHeight = 0;
    this.attemptTail = ATTEMPT_TAIL;
    this.stateTail = STATE_TAIL;
    this.attemptViews = [];
    this.attemptsShown = 0;
    this.build();
  }

  Player.prototype.build = function () {
    var self = this, rec = this.rec;
    var body = document.body;

    var top = el("header", "top");
    top.appendChild(el("h1", null, rec.streamId));
    top.appendChild(el("span", "meta", fmtInt(rec.n) + " events · " +
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
    this.where.appendChild(document.createTextNode("seq "));
    var seqNow = textEl("b", "seq-now");
    this.whereSeq = seqNow.firstChild;
    this.where.appendChild(seqNow);
    this.where.appendChild(document.createTextNode(" of 0.." + (rec.n - 1) + " · "));
    this.whereKind = textEl("span");
    this.where.appendChild(this.whereKind);
    controls.appendChild(this.where);
    this.when = textEl("span", "when");
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
    // Dragging the thumb coalesces to one redraw a frame; keys redraw at once.
    var sliderDrag = false;
    this.slider.addEventListener("pointerdown", function () { sliderDrag = true; });
    function sliderDone() {
      if (sliderDrag) { sliderDrag = false; self.flush(); }
    }
    window.addEventListener("pointerup", sliderDone);
    window.addEventListener("pointercancel", sliderDone);
    this.slider.addEventListener("change", function () { self.flush(); });
    this.slider.addEventListener("input", function () {
      self.seek(parseInt(self.slider.value, 10), sliderDrag);
    });
    scrub.appendChild(this.slider);
    this.minimap = el("div", "minimap");
    this.minimap.title = "drag to seek";
    this.canvas = el("canvas");
    this.minimap.appendChild(this.canvas);
    this.mark = el("div", "mark");
    this.minimap.appendChild(this.mark);
    var dragging = false;
    var minimapBox = null;  // read once per drag: a layout read per move would force layout
    function seekFromPointer(e, coalesce) {
      var x = Math.min(Math.max(0, e.clientX - minimapBox.left), minimapBox.width - 1);
      self.seek(Math.floor(x / minimapBox.width * rec.n), coalesce);
    }
    this.minimap.addEventListener("pointerdown", function (e) {
      dragging = true;
      minimapBox = self.minimap.getBoundingClientRect();
      self.minimap.setPointerCapture(e.pointerId);
      seekFromPointer(e, false);
    });
    this.minimap.addEventListener("pointermove", function (e) {
      if (dragging) { seekFromPointer(e, true); }
    });
    function minimapDone() { if (dragging) { dragging = false; self.flush(); } }
    this.minimap.addEventListener("pointerup", minimapDone);
    this.minimap.addEventListener("pointercancel", minimapDone);
    scrub.appendChild(this.minimap);
    body.appendChild(scrub);

    var main = el("div", "main");
    // events
    var evPane = el("section", "pane events-pane");
    var evHead = el("h2", null, "events");
    this.evCount = textEl("span", "count");
    evHead.appendChild(this.evCount);
    evPane.appendChild(evHead);
    this.list = el("div", "events");
    this.list.tabIndex = 0;
    this.spacer = el("div", "spacer");
    this.spacer.style.height = (rec.n * ROW) + "px";
    this.rowWindow = el("div", "window");
    this.spacer.appendChild(this.rowWindow);
    this.list.appendChild(this.spacer);
    this.list.addEventListener("scroll", function () {
      self.listTop = self.list.scrollTop;
      self.renderRows(false);
    });
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
      var more = textEl("span", "more");
      var v = textEl("span", "v");
      var note = textEl("span", "note");
      td.appendChild(more);
      td.appendChild(v);
      td.appendChild(note);
      tr.appendChild(td);
      var ch = el("td", "changed");
      tr.appendChild(ch);
      tbody.appendChild(tr);
      self.stateRows[f] = { tr: tr, v: v, note: note, more: more, changed: ch, key: null,
        length: -1 };
    });
    table.appendChild(tbody);
    stScroll.appendChild(table);
    stPane.appendChild(stScroll);
    stPane.appendChild(el("div", "detail-title", "event at the cursor"));
    this.detail = textEl("pre", "detail");
    stPane.appendChild(this.detail);
    main.appendChild(stPane);
    // content
    var ctPane = el("section", "pane content-pane");
    var ctHead = el("h2", null, "content by attempt");
    ctHead.appendChild(el("span", "count", "resumed checkpoint text is underlined"));
    ctPane.appendChild(ctHead);
    this.content = el("div", "scroll attempts");
    this.attemptHolder = el("div", "attempt-list");
    this.content.appendChild(this.attemptHolder);
    this.final = el("div", "final");
    this.final.hidden = true;
    this.final.appendChild(el("div", "head", "COMPLETE: the final content"));
    var finalPre = textEl("pre", "text");
    this.finalText = finalPre.firstChild;
    this.final.appendChild(finalPre);
    this.content.appendChild(this.final);
    this.probe = el("pre", "text probe", new Array(65).join("0"));
    this.probe.setAttribute("aria-hidden", "true");
    this.content.appendChild(this.probe);
    this.content.addEventListener("scroll", function () {
      self.contentTop = self.content.scrollTop;
    });
    ctPane.appendChild(this.content);
    main.appendChild(ctPane);
    body.appendChild(main);

    document.addEventListener("keydown", function (e) { self.onKey(e); });
    window.addEventListener("resize", function () { self.drawMinimap(); });
    this.measure();
    if (typeof ResizeObserver === "function") {
      var panes = new ResizeObserver(function () { self.measure(); });
      [this.list, this.content, this.stateRows.content.v].forEach(function (node) {
        panes.observe(node);
      });
    }
  };

  // Read the panes' sizes (on start and on resize only: a seek uses these), and
  // from them how much of a long text can be on screen: only that is drawn.
  Player.prototype.measure = function () {
    this.listHeight = this.list.clientHeight;
    this.listTop = this.list.scrollTop;
    this.contentHeight = this.content.clientHeight;
    this.contentTop = this.content.scrollTop;
    // The probe is 64 characters of the attempts' monospace text: one column and
    // one line of it. A tail of (columns + 1) x (lines + 1) characters fills the
    // box, since a wrapped line holds at most one row of columns.
    var probe = this.probe.getBoundingClientRect();
    var column = Math.max(4, probe.width / 64), line = Math.max(8, probe.height);
    var columns = Math.ceil((this.content.clientWidth - 20) / column) + 1;
    var lines = Math.ceil(this.contentHeight / line) + 1;
    var attemptTail = Math.max(EARLIER_TAIL, Math.min(ATTEMPT_TAIL, columns * lines));
    // A state value's box: 12px text (the probe's is 12.5px), at most 9.5em high.
    var valueColumns = Math.ceil(this.stateRows.content.v.clientWidth / (column * 12 / 12.5)) + 1;
    var stateTail = Math.max(160, Math.min(STATE_TAIL, valueColumns * 8));
    if (attemptTail === this.attemptTail && stateTail === this.stateTail) {
      if (this.drawnSeq >= 0) { this.renderRows(true); }
      return;
    }
    this.attemptTail = attemptTail;
    this.stateTail = stateTail;
    // Redraw what was cut to the old sizes.
    this.attemptViews.forEach(function (view) { view.key = null; });
    FIELDS.forEach(function (f) { this.stateRows[f].key = null; }, this);
    if (this.drawnSeq >= 0) { this.render(); }
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
  //
  // A seek must fit in one frame on a 100,000-event recording, so drawing follows
  // three rules. Nothing is rebuilt: every view keeps its nodes and text nodes and
  // writes only what differs from what it last drew (earlier attempts, whose text
  // is final, are drawn once). Layout is never read between writes: sizes and
  // scroll offsets are cached (ResizeObserver, scroll events), scroll offsets are
  // written first, while layout is still clean, and the one read that needs the
  // new layout (where the current attempt ends) comes last. Long text is cut to
  // the tail that can be on screen before it reaches the page.

  // Set a text node's data only when it differs (hostile text stays text).
  function setText(node, value) {
    if (node.data !== value) { node.data = value; }
  }

  // An element holding one text node, which later writes replace the data of.
  function textEl(tag, cls, value) {
    var node = el(tag, cls);
    node.appendChild(document.createTextNode(value === undefined ? "" : String(value)));
    return node;
  }

  function padStart(value, width) {
    return value.length >= width ? value : "            ".slice(0, width - value.length) + value;
  }

  function padEnd(value, width) {
    return value.length >= width ? value : value + "            ".slice(0, width - value.length);
  }

  function setClass(node, cls) {
    if (node.className !== cls) { node.className = cls; }
  }

  function setHidden(node, hidden) {
    if (node.hidden !== hidden) { node.hidden = hidden; }
  }

  Player.prototype.seek = function (seq, coalesce, fromPlayback) {
    var self = this, rec = this.rec;
    if (rec.n === 0) { return; }
    seq = Math.max(0, Math.min(rec.n - 1, seq | 0));
    if (this.playing && !fromPlayback) { this.anchor(seq); }
    this.seq = seq;
    if (!coalesce) { this.render(); return; }
    // A drag: however many events arrive, one redraw per animation frame.
    if (!this.framePending) {
      this.framePending = true;
      requestAnimationFrame(function () { self.flush(); });
    }
  };

  // Draw a seek a drag left waiting for its frame (at once when the drag ends).
  Player.prototype.flush = function () {
    this.framePending = false;
    if (this.drawnSeq !== this.seq) { this.render(); }
  };

  Player.prototype.render = function () {
    var rec = this.rec, seq = this.seq;
    this.scrollToCursor();  // first: a scroll offset written after other writes forces layout
    if (String(seq) !== this.slider.value) { this.slider.value = String(seq); }
    var kind = rec.kindAt(seq);
    setText(this.whereSeq, String(seq));
    setText(this.whereKind.firstChild, kind);
    setClass(this.whereKind, "k-" + kind);
    setText(this.when.firstChild, fmtMs(rec.relMs(seq)) + "  " + fmtTs(rec.ts[seq]));
    this.mark.style.left = ((seq + 0.5) / rec.n * 100) + "%";
    setText(this.evCount.firstChild, fmtInt(seq + 1) + " / " + fmtInt(rec.n));
    this.renderRows(false);
    this.renderState();
    setText(this.detail.firstChild, JSON.stringify(rec.eventAt(seq), function (key, v) {
      return typeof v === "string" && v.length > 2 * CONTENT_TAIL
        ? v.slice(0, CONTENT_TAIL) + "… (" + fmtInt(v.length) + " chars)" : v;
    }, 2));
    this.renderContent();  // last: it reads the new layout once
    this.drawnSeq = seq;
  };

  // Scroll the event list so the cursor's row is in view (from cached offsets).
  Player.prototype.scrollToCursor = function () {
    var top = this.seq * ROW, h = this.listHeight;
    if (top < this.listTop || top + ROW > this.listTop + h) {
      var wanted = Math.max(0, Math.min(this.rec.n * ROW - h, top - Math.floor(h / 2) + ROW));
      this.list.scrollTop = wanted;
      this.listTop = wanted;
    }
  };

  Player.prototype.makeRow = function () {
    var row = el("div", "row");
    row.hidden = true;
    var cells = [textEl("span", "seq"), textEl("span", "letter"), textEl("span", "kind"),
      textEl("span", "ms"), textEl("span", "sum")];
    cells.forEach(function (c) { row.appendChild(c); });
    this.rowWindow.appendChild(row);
    return { node: row, cells: cells, seq: -1, kind: "", at: false };
  };

  // The visible rows (and a few either side), in order, in one window moved to
  // the first of them. A scroll by a few rows moves that many row nodes from one
  // end to the other, so the rows still in view keep their text.
  Player.prototype.renderRows = function (force) {
    var rec = this.rec, pool = this.rowPool, win = this.rowWindow;
    var first = Math.max(0, Math.floor(this.listTop / ROW) - OVERSCAN);
    var last = Math.min(rec.n - 1, Math.ceil((this.listTop + this.listHeight) / ROW) + OVERSCAN);
    if (!force && first === this.shownFirst && last === this.shownLast &&
      this.rowsAt === this.seq) { return; }
    var shift = first - this.shownFirst, r, k;
    if (this.shownFirst >= 0 && shift > 0 && shift < pool.length) {
      for (k = 0; k < shift; k++) { r = pool.shift(); win.appendChild(r.node); pool.push(r); }
    } else if (this.shownFirst >= 0 && shift < 0 && -shift < pool.length) {
      for (k = 0; k < -shift; k++) {
        r = pool.pop(); win.insertBefore(r.node, win.firstChild); pool.unshift(r);
      }
    }
    if (first !== this.shownFirst) { win.style.top = (first * ROW) + "px"; }
    this.shownFirst = first;
    this.shownLast = last;
    this.rowsAt = this.seq;
    while (pool.length < last - first + 1) { pool.push(this.makeRow()); }
    for (var i = 0; i < pool.length; i++) {
      r = pool[i];
      var s = first + i;
      if (s > last) { setHidden(r.node, true); continue; }
      if (r.seq !== s) {
        var kind = rec.kindAt(s), cells = r.cells;
        r.seq = s;
        r.node.dataset.seq = String(s);
        setText(cells[0].firstChild, padStart(String(s), 6));
        if (r.kind !== kind) {
          r.kind = kind;
          setText(cells[1].firstChild, rec.letterOf[kind]);
          cells[1].className = "letter k-" + kind;
          setText(cells[2].firstChild, padEnd(kind, 12));
          cells[2].className = "kind k-" + kind;
        }
        setText(cells[3].firstChild, padStart(fmtMs(rec.relMs(s)), 8));
        setText(cells[4].firstChild, clip(summary(rec.eventAt(s)), 240));
      }
      var at = s === this.seq;
      if (r.at !== at) { r.at = at; r.node.className = at ? "row at" : "row"; }
      setHidden(r.node, false);
    }
  };

  Player.prototype.renderState = function () {
    var rec = this.rec, seq = this.seq, self = this;
    FIELDS.forEach(function (f) {
      var row = self.stateRows[f];
      var changed = rec.lastChanged(f, seq);
      setClass(row.tr, changed === seq ? "fresh" : "");
      if (f === "content") {
        setClass(row.v, "v tail");
        var length = rec.contentLengthAt(seq);
        var tail = length > CONTENT_TAIL ? self.stateTail : CONTENT_TAIL;
        setText(row.more.firstChild, length > tail
          ? "… " + fmtInt(length - tail) + " chars before\n" : "");
        setText(row.v.firstChild, rec.contentTailAt(seq, tail));
        if (row.length !== length) {
          row.length = length;
          row.v.dataset.length = String(length);
          setText(row.note.firstChild, fmtInt(length) + " chars");
        }
      } else {
        var key = rec.valueKey(f, seq);
        if (key !== row.key) {
          row.key = key;
          self.drawStateValue(f, row, rec.valueAt(f, seq));
        }
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

  Player.prototype.drawStateValue = function (f, row, value) {
    if (typeof value === "string" && value.length > CONTENT_TAIL) {
      // A long checkpoint: its tail, as JSON, like the content (a huge text is slow to lay out).
      setText(row.more.firstChild, "… " + fmtInt(value.length - this.stateTail) +
        " chars before\n");
      setText(row.v.firstChild, JSON.stringify(value.slice(value.length - this.stateTail)));
      row.v.dataset.length = String(value.length);
      setText(row.note.firstChild, fmtInt(value.length) + " chars");
      setClass(row.v, "v tail");
      return;
    }
    setClass(row.v, "v");
    setText(row.more.firstChild, "");
    delete row.v.dataset.length;
    setText(row.v.firstChild, JSON.stringify(value));
    setText(row.note.firstChild, (f === "startTs" || f === "endTs") ? fmtTs(value)
      : (f === "violations" ? value.length + " violation(s)" : ""));
  };

  // One attempt's block, built once and kept (see drawAttempt for what changes).
  Player.prototype.attemptView = function (i) {
    if (this.attemptViews[i]) { return this.attemptViews[i]; }
    var a = this.rec.attempts[i];
    var block = el("div", "attempt");
    block.dataset.attempt = String(a.number);
    var head = el("div", "head");
    head.appendChild(el("span", "num", "attempt " + a.number));
    head.appendChild(el("span", "by", a.startedBy === "start" ? "from the start"
      : "after " + a.startedBy.toUpperCase() + " at seq " + a.startSeq));
    if (a.fallbackIndex) { head.appendChild(el("span", "by", "model #" + a.fallbackIndex)); }
    var outcome = textEl("span", "outcome");
    head.appendChild(outcome);
    var reason = el("span", "reason", a.reason);
    reason.hidden = true;
    head.appendChild(reason);
    head.appendChild(el("span", "by", "seqs " + a.startSeq + ".." + a.endSeq));
    block.appendChild(head);
    var pre = el("pre", "text");
    var view = { block: block, outcome: outcome, reason: reason, resumed: null, key: null };
    if (a.resumedFrom) {
      view.resumedElided = el("span", "elided", "… ");
      view.resumed = textEl("span", "resumed");
      view.resumed.title = "resumed from the checkpoint (" + a.resumedFrom.length + " chars)";
      pre.appendChild(view.resumedElided);
      pre.appendChild(view.resumed);
    }
    view.ownElided = textEl("span", "elided");
    view.own = textEl("span", "own");
    view.caret = el("span", "caret");
    pre.appendChild(view.ownElided);
    pre.appendChild(view.own);
    pre.appendChild(view.caret);
    block.appendChild(pre);
    view.hint = textEl("div", "hint");
    block.appendChild(view.hint);
    this.attemptViews[i] = view;
    return view;
  };

  // Draw attempt i as of the cursor (current) or whole (an earlier attempt);
  // true when anything was written.
  Player.prototype.drawAttempt = function (i, current) {
    var rec = this.rec, seq = this.seq, view = this.attemptView(i);
    var key = current ? "at " + seq : "whole";
    if (view.key === key) { return false; }
    view.key = key;
    var a = rec.attempts[i], marks = rec.attemptMarks[i];
    var endHere = current ? Math.min(a.endSeq, seq) : a.endSeq;
    setClass(view.block, current ? "attempt current" : "attempt");
    var outcome = a.outcome;
    if (current && seq < a.endSeq) {
      // As of the cursor: an outcome the attempt reaches later is not shown yet.
      var j = lastAtOrBefore(marks.endSeqs, seq);
      outcome = j < 0 ? "running" : marks.endOutcomes[j];
    }
    setClass(view.outcome, "outcome " + outcome);
    setText(view.outcome.firstChild, outcome.replace("_", " "));
    setHidden(view.reason, !(a.reason && outcome === a.outcome));
    var own = rec.tokenText(a.startSeq, endHere + 1);
    var limit = current ? this.attemptTail : EARLIER_TAIL;
    var continuationSeen = !!a.resumedFrom && marks.continuationSeq <= endHere;
    if (view.resumed) {
      var resumedTail = "";
      if (continuationSeen && own.length < limit) {
        resumedTail = a.resumedFrom.slice(Math.max(0, a.resumedFrom.length - (limit - own.length)));
      }
      setHidden(view.resumedElided,
        !continuationSeen || resumedTail.length >= a.resumedFrom.length);
      setHidden(view.resumed, !resumedTail);
      setText(view.resumed.firstChild, resumedTail);
    }
    var cut = own.length > limit;
    setHidden(view.ownElided, !cut);
    if (cut) {
      setText(view.ownElided.firstChild, "… " + fmtInt(own.length - limit) + " chars before … ");
      own = own.slice(own.length - limit);
    }
    setText(view.own.firstChild, own);
    setHidden(view.caret, !(current && !rec.valueAt("completed", seq) &&
      rec.valueAt("error", seq) === null));
    var count = rec.tokOrd[endHere + 1] - rec.tokOrd[a.startSeq];
    setText(view.hint.firstChild, count + " token(s) in this attempt" +
      (continuationSeen ? ", after " + a.resumedFrom.length + " chars of checkpoint" : ""));
    return true;
  };

  Player.prototype.renderContent = function () {
    var rec = this.rec, seq = this.seq, holder = this.attemptHolder;
    var upto = lastAtOrBefore(rec.attemptStarts, seq);
    var wrote = false;
    // Attempts after the cursor's leave the page; earlier ones keep their nodes.
    while (this.attemptsShown > upto + 1) {
      this.attemptsShown--;
      holder.removeChild(this.attemptViews[this.attemptsShown].block);
      wrote = true;
    }
    for (var i = 0; i <= upto; i++) {
      if (this.drawAttempt(i, i === upto)) { wrote = true; }
      if (i >= this.attemptsShown) {
        holder.appendChild(this.attemptViews[i].block);
        this.attemptsShown = i + 1;
      }
    }
    var completed = upto >= 0 && rec.valueAt("completed", seq);
    setHidden(this.final, !completed);
    if (completed) {
      var length = rec.contentLengthAt(seq), limit = this.attemptTail;
      setText(this.finalText, (length > limit ? "… " : "") + rec.contentTailAt(seq, limit));
    }
    if (!wrote || upto < 0) { return; }
    // Keep the end of the current attempt (where the cursor writes) in view: the
    // one layout read of a seek, after every write.
    var node = this.attemptViews[upto].block, box = this.content;
    var top = node.offsetTop, bottom = top + node.offsetHeight;
    if (bottom > this.contentTop + this.contentHeight || top < this.contentTop) {
      var wanted = Math.max(0, bottom - this.contentHeight);
      box.scrollTop = wanted;
      this.contentTop = box.scrollTop;
    }
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
