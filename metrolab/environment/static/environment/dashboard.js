// A room's live dashboard (R6.11 "Real time"). The page is rendered complete on the server;
// this script keeps it current without reloading:
//  - every few seconds it reads GET /api/v1/environment/rooms/{id}/status (the browser's
//    session) and updates the values, their ages and colours, the requirement verdicts, the
//    alarms (new ones appear, acknowledged / cleared ones change, gone ones leave) and the
//    actuators' states in place, and says when the connection is lost;
//  - every minute it redraws the 24 h and 7 d trend plots (SVG) of each sensor from
//    GET /api/v1/environment/sensors/{code}/series, with the requirement band and the
//    min / max / mean of each window.
// Data comes from the json_script block "environment-config" (the CSP forbids inline scripts).
(function () {
  "use strict";
  var configEl = document.getElementById("environment-config");
  if (!configEl) return;
  var cfg = JSON.parse(configEl.textContent);
  var L = cfg.labels;
  var SVG = "http://www.w3.org/2000/svg";
  var WINDOWS = { "24h": 24 * 3600e3, "7d": 7 * 24 * 3600e3 };
  var lastOk = new Date(cfg.at); // the server's time of the last good status
  var lastOkLocal = Date.now(); // this browser's clock then (the watchdog's reference)
  var lastStatus = null;
  var live = document.getElementById("live");

  // --- formatting (the same rules as views.number / views.age_text) -----------------------

  function number(v) {
    if (v === null || v === undefined || !isFinite(v)) return "—";
    var text = Number(v).toFixed(3).replace(/0+$/, "").replace(/\.$/, "");
    return text === "-0" || text === "" ? "0" : text;
  }

  function ageText(seconds) {
    if (seconds === null || seconds === undefined) return L.never;
    seconds = Math.max(seconds, 0);
    var pick = seconds < 90 ? [L.ageS, seconds]
      : seconds < 5400 ? [L.ageMin, seconds / 60]
      : seconds < 129600 ? [L.ageH, seconds / 3600]
      : [L.ageD, seconds / 86400];
    return pick[0].replace("%(n)d", String(Math.round(pick[1])));
  }

  var timeParts = null;
  try {
    timeParts = new Intl.DateTimeFormat("en-US", {
      timeZone: cfg.timeZone, year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
    });
  } catch (e) {
    timeParts = null;
  }

  function parts(date) {
    var out = {};
    if (timeParts) {
      timeParts.formatToParts(date).forEach(function (p) { out[p.type] = p.value; });
    } else {
      var pad = function (n) { return (n < 10 ? "0" : "") + n; };
      out = { year: String(date.getFullYear()), month: pad(date.getMonth() + 1), day: pad(date.getDate()),
        hour: pad(date.getHours()), minute: pad(date.getMinutes()), second: pad(date.getSeconds()) };
    }
    if (out.hour === "24") out.hour = "00";
    return out;
  }
  function clock(date) { var p = parts(date); return p.hour + ":" + p.minute + ":" + p.second; }
  function stamp(date) { var p = parts(date); return p.year + "-" + p.month + "-" + p.day + " " + clock(date); }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function timeEl(iso) {
    var node = el("time", null, stamp(new Date(iso)));
    node.setAttribute("datetime", iso);
    return node;
  }

  function flash(node) {
    node.classList.remove("flash");
    void node.offsetWidth; // restart the animation
    node.classList.add("flash");
  }

  function setState(node, state) {
    ["within", "outside", "stale", "none"].forEach(function (s) { node.classList.remove("state-" + s); });
    node.classList.add("state-" + state);
    node.setAttribute("data-state", state);
  }

  function byCode(selector, code) {
    var found = null;
    document.querySelectorAll(selector).forEach(function (node) {
      if (node.getAttribute("data-sensor") === code || node.getAttribute("data-actuator") === code) found = node;
    });
    return found;
  }

  function within(value, req) {
    return (req.low === null || value >= req.low) && (req.high === null || value <= req.high);
  }

  function requirementById(id) {
    for (var i = 0; i < cfg.requirements.length; i++) if (cfg.requirements[i].id === id) return cfg.requirements[i];
    return null;
  }

  // --- the live indicator ----------------------------------------------------------------

  function showLive(ok) {
    if (!live) return;
    var text = live.querySelector(".live-text");
    var state = ok ? "ok" : "lost";
    // Screen readers hear the changes of state only, not every poll.
    var announce = live.querySelector("[role=status]");
    if (announce && live.getAttribute("data-live") !== state) announce.textContent = ok ? L.live : L.lost;
    live.setAttribute("data-live", state);
    text.textContent = "";
    if (ok) {
      text.appendChild(document.createTextNode(L.live + " · " + L.updated + " "));
    } else {
      text.appendChild(document.createTextNode(L.lost + " · " + L.lastUpdated + " "));
    }
    var when = el("time", null, clock(lastOk));
    when.setAttribute("datetime", lastOk.toISOString());
    text.appendChild(when);
    if (!ok) text.appendChild(document.createTextNode(" · " + L.retrying));
  }

  // --- values, requirements and the room's state ------------------------------------------

  function updateSensors(status) {
    status.sensors.forEach(function (s) {
      var card = byCode(".sensor-card[data-sensor]", s.code);
      if (!card) return;
      var fresh = !s.stale && s.value !== null;
      var valueNode = card.querySelector(".value");
      var text = number(s.value);
      if (valueNode.textContent !== text) {
        valueNode.textContent = text;
        flash(valueNode);
      }
      var age = card.querySelector(".age");
      age.textContent = "";
      if (s.time) {
        var t = el("time", null, ageText(s.age_seconds));
        t.setAttribute("datetime", s.time);
        t.setAttribute("title", stamp(new Date(s.time)));
        age.appendChild(t);
      } else {
        age.textContent = L.never;
      }
      var states = [];
      card.querySelectorAll(".check[data-requirement]").forEach(function (chip) {
        var req = requirementById(Number(chip.getAttribute("data-requirement")));
        if (!req) return;
        var state = !fresh ? "stale" : within(s.value, req) ? "within" : "outside";
        setState(chip, state);
        states.push(state);
      });
      var cardState = !fresh ? "stale" : states.indexOf("outside") >= 0 ? "outside" : states.length ? "within" : "none";
      setState(card, cardState);
    });
  }

  function verdicts(status) {
    var result = {};
    cfg.requirements.forEach(function (req) {
      var values = status.sensors.filter(function (s) {
        return s.quantity === req.quantity && !s.stale && s.value !== null;
      }).map(function (s) { return s.value; });
      result[req.id] = !values.length ? "no_data"
        : values.every(function (v) { return within(v, req); }) ? "within" : "outside";
    });
    return result;
  }

  var VERDICT_LABELS = { within: L.within, outside: L.outside, no_data: L.noData };

  function updateRequirements(judged) {
    document.querySelectorAll("tr[data-requirement]").forEach(function (row) {
      var verdict = judged[Number(row.getAttribute("data-requirement"))];
      var badge = row.querySelector(".verdict");
      if (!verdict || !badge) return;
      badge.className = "badge verdict verdict-" + verdict;
      badge.setAttribute("data-verdict", verdict);
      badge.textContent = VERDICT_LABELS[verdict];
    });
  }

  function updateRoomState(status, judged) {
    var head = document.getElementById("room-head");
    var badge = document.querySelector("[data-testid=room-state]");
    var openAlarms = document.querySelectorAll(".alarm-list .alarm.open").length;
    var list = Object.keys(judged).map(function (k) { return judged[k]; });
    var hasFresh = status.sensors.some(function (s) { return !s.stale && s.value !== null; });
    var state = openAlarms || list.indexOf("outside") >= 0 ? "outside"
      : !hasFresh || list.indexOf("no_data") >= 0 ? "stale" : "within";
    if (head) setState(head, state);
    if (badge) {
      setState(badge, state);
      badge.textContent = state === "within" ? L.stateWithin : state === "outside" ? L.stateOutside : L.stateStale;
    }
  }

  // --- alarms ----------------------------------------------------------------------------

  function csrfToken() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function acknowledgeForm(alarm) {
    var details = el("details", "ack");
    var summary = el("summary", null, L.acknowledge);
    summary.setAttribute("data-testid", "acknowledge-" + alarm.id);
    details.appendChild(summary);
    var form = el("form", "ack-form");
    form.method = "post";
    form.action = cfg.acknowledgeUrl.replace(/\/0\/acknowledge\/$/, "/" + alarm.id + "/acknowledge/");
    form.setAttribute("data-testid", "acknowledge-form-" + alarm.id);
    var hidden = function (name, value) {
      var input = el("input");
      input.type = "hidden";
      input.name = name;
      input.value = value;
      form.appendChild(input);
    };
    hidden("csrfmiddlewaretoken", csrfToken());
    hidden("next", window.location.pathname);
    var id = "ack-comment-" + alarm.id;
    var label = el("label", null, L.comment + " ");
    label.setAttribute("for", id);
    var req = el("span", "req", "*");
    req.setAttribute("aria-hidden", "true");
    label.appendChild(req);
    var area = el("textarea");
    area.id = id;
    area.name = "comment";
    area.rows = 2;
    area.maxLength = 2000;
    area.required = true;
    area.placeholder = L.commentHelp;
    var button = el("button", "primary small", L.acknowledge);
    button.type = "submit";
    form.appendChild(label);
    form.appendChild(area);
    form.appendChild(button);
    details.appendChild(form);
    return details;
  }

  function alarmMeta(alarm) {
    var unit = cfg.units[alarm.sensor] || "";
    var meta = el("p", "alarm-meta muted");
    var raised = el("span", null, L.raised + " ");
    raised.appendChild(timeEl(alarm.raised_at));
    meta.appendChild(raised);
    if (alarm.value !== null && alarm.value !== undefined) {
      meta.appendChild(document.createTextNode(" "));
      meta.appendChild(el("span", null, "· " + L.value + " " + number(alarm.value) + " " + unit));
    }
    if (alarm.limit !== null && alarm.limit !== undefined) {
      meta.appendChild(document.createTextNode(" "));
      meta.appendChild(el("span", null, "· " + L.limit + " " + number(Number(alarm.limit)) + " " + unit));
    }
    var ack = el("span", "alarm-ack");
    if (alarm.acknowledged_at) {
      ack.appendChild(document.createTextNode("· " + L.acknowledgedBy + " " + (alarm.acknowledged_by || "") + " "));
      ack.appendChild(timeEl(alarm.acknowledged_at));
      if (alarm.comment) ack.appendChild(document.createTextNode(": “" + alarm.comment + "”"));
    }
    meta.appendChild(document.createTextNode(" "));
    meta.appendChild(ack);
    var cleared = el("span", "alarm-cleared");
    if (alarm.cleared_at) {
      cleared.appendChild(document.createTextNode("· " + L.cleared + " "));
      cleared.appendChild(timeEl(alarm.cleared_at));
    }
    meta.appendChild(document.createTextNode(" "));
    meta.appendChild(cleared);
    return meta;
  }

  var STATUS_BADGE = { raised: "yellow", acknowledged: "blue", cleared: "green" };

  function renderAlarm(li, alarm) {
    li.className = "alarm kind-" + alarm.kind + " status-" + alarm.status + (alarm.open ? " open" : "") +
      (li.classList.contains("alarm-new") ? " alarm-new" : "");
    li.setAttribute("data-status", alarm.status);
    var head = li.querySelector(".alarm-head");
    if (!head) {
      head = el("div", "alarm-head");
      head.appendChild(el("span", "alarm-kind"));
      head.appendChild(document.createTextNode(" "));
      head.appendChild(el("span", "alarm-status"));
      head.appendChild(document.createTextNode(" "));
      head.appendChild(el("strong", "alarm-message"));
      li.appendChild(head);
    }
    var kind = head.querySelector(".alarm-kind");
    kind.className = "badge " + (alarm.open ? "red" : "grey") + " alarm-kind";
    kind.textContent = alarm.kind_label;
    var status = head.querySelector(".alarm-status");
    status.className = "badge " + (STATUS_BADGE[alarm.status] || "") + " alarm-status";
    status.textContent = alarm.status_label;
    head.querySelector(".alarm-message").textContent = alarm.message;
    var oldMeta = li.querySelector(".alarm-meta");
    var meta = alarmMeta(alarm);
    if (oldMeta) li.replaceChild(meta, oldMeta); else head.after(meta);
    var form = li.querySelector("details.ack");
    if (alarm.acknowledged_at && form) form.remove();
    if (!alarm.acknowledged_at && !form && cfg.canAcknowledge) li.appendChild(acknowledgeForm(alarm));
  }

  function updateAlarms(alarms) {
    var list = document.querySelector(".alarm-list");
    if (!list) return;
    var existing = {};
    list.querySelectorAll("li[data-alarm-id]").forEach(function (li) { existing[li.getAttribute("data-alarm-id")] = li; });
    var keep = {};
    alarms.forEach(function (alarm, index) {
      var key = String(alarm.id);
      keep[key] = true;
      var li = existing[key];
      if (!li) {
        li = el("li", "alarm-new");
        li.setAttribute("data-alarm-id", key);
        li.setAttribute("data-testid", "alarm-" + key);
      }
      renderAlarm(li, alarm);
      // Move only when out of place, so a comment being typed keeps its focus.
      if (list.children[index] !== li) list.insertBefore(li, list.children[index] || null);
    });
    Object.keys(existing).forEach(function (key) { if (!keep[key]) existing[key].remove(); });
    var open = alarms.filter(function (a) { return a.open; }).length;
    var count = document.querySelector(".alarm-count");
    if (count) {
      count.textContent = String(open);
      count.classList.toggle("hidden", !open);
    }
    var none = document.querySelector(".no-alarms");
    if (none) none.classList.toggle("hidden", alarms.length > 0);
  }

  // --- actuators -------------------------------------------------------------------------

  function updateActuators(actuators) {
    actuators.forEach(function (a) {
      var row = byCode("tr[data-actuator]", a.code);
      if (!row) return;
      var badge = row.querySelector(".act-state");
      var on = a.on ? "true" : "false";
      if (badge.getAttribute("data-on") !== on) flash(badge.closest("td"));
      badge.className = "badge act-state " + (a.on ? "green" : "grey");
      badge.setAttribute("data-on", on);
      badge.textContent = a.on ? L.on : L.off;
      var sp = row.querySelector(".act-setpoint");
      var spText = a.setpoint === null || a.setpoint === undefined ? "—" : number(Number(a.setpoint)) + " " + (a.unit || "");
      if (sp.textContent.trim() !== spText.trim()) {
        sp.textContent = spText;
        flash(sp);
      }
      var cell = row.querySelector(".act-last");
      var c = a.last_command;
      var stampText = c ? c.issued_at + c.status : "";
      if (cell.getAttribute("data-last") === stampText) return;
      cell.setAttribute("data-last", stampText);
      cell.textContent = "";
      if (!c) {
        cell.appendChild(el("span", "muted", L.noCommand));
        return;
      }
      var what = (cfg.actions[c.action] || c.action) +
        (c.value !== null && c.value !== undefined ? " " + number(Number(c.value)) + " " + (a.unit || "") : "");
      var who = c.source === "rule" ? L.rule : (c.issued_by || "");
      cell.appendChild(document.createTextNode(what + " · " + who + " · "));
      cell.appendChild(timeEl(c.issued_at));
      cell.appendChild(document.createTextNode(" · "));
      cell.appendChild(el("span", "cmd-status cmd-" + c.status, cfg.commandStatuses[c.status] || c.status));
      if (c.reason) {
        cell.appendChild(el("br"));
        cell.appendChild(el("small", "muted", c.reason));
      }
    });
  }

  // --- polling ---------------------------------------------------------------------------

  function apply(status) {
    lastStatus = status;
    if (Array.isArray(status.sensors)) updateSensors(status);
    if (Array.isArray(status.alarms)) updateAlarms(status.alarms);
    if (Array.isArray(status.actuators)) updateActuators(status.actuators);
    if (Array.isArray(status.sensors)) {
      plotNewReadings(status);
      var judged = verdicts(status);
      updateRequirements(judged);
      updateRoomState(status, judged);
    }
  }

  function getJSON(url, timeoutMs) {
    var controller = window.AbortController ? new AbortController() : null;
    var timer = controller ? setTimeout(function () { controller.abort(); }, timeoutMs) : null;
    return fetch(url, {
      credentials: "same-origin",
      headers: { Accept: "application/json", "X-Requested-With": "fetch" },
      signal: controller ? controller.signal : undefined,
    }).then(function (r) {
      if (timer) clearTimeout(timer);
      if (!r.ok || (r.headers.get("content-type") || "").indexOf("json") < 0) return Promise.reject(r.status);
      return r.json();
    }, function (err) {
      if (timer) clearTimeout(timer);
      return Promise.reject(err);
    });
  }

  function poll() {
    getJSON(cfg.statusUrl, Math.max(cfg.pollSeconds * 2000, 4000))
      .then(function (status) {
        lastOk = status.at ? new Date(status.at) : new Date();
        lastOkLocal = Date.now();
        apply(status);
        showLive(true);
      })
      .catch(function () { showLive(false); })
      .then(function () { setTimeout(poll, cfg.pollSeconds * 1000); });
  }

  // --- trend plots -----------------------------------------------------------------------

  function svg(tag, attrs, text) {
    var node = document.createElementNS(SVG, tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function niceStep(span, count) {
    var raw = span / Math.max(count, 1);
    var mag = Math.pow(10, Math.floor(Math.log10(raw)));
    var norm = raw / mag;
    return (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 2.5 ? 2.5 : norm <= 5 ? 5 : 10) * mag;
  }

  function draw(area, data, reqs, start, end, windowKey) {
    // Drawn at the size shown, so that the labels keep their size on a phone.
    var W = Math.max(Math.round(area.clientWidth) || 600, 260);
    var H = W < 480 ? 180 : 210, left = 44, right = 12, top = 10, bottom = 24;
    var plotW = W - left - right, plotH = H - top - bottom;
    var root = svg("svg", { viewBox: "0 0 " + W + " " + H, role: "img", preserveAspectRatio: "xMidYMid meet" });
    var points = data.points || [];
    var title = svg("title", {}, data.sensor + " " + (windowKey === "24h" ? "24 h" : "7 d"));
    root.appendChild(title);
    var lows = [], highs = [];
    points.forEach(function (p) { lows.push(p.min); highs.push(p.max); });
    reqs.forEach(function (r) {
      if (r.low !== null) lows.push(r.low);
      if (r.high !== null) highs.push(r.high);
    });
    if (!points.length) {
      root.appendChild(svg("rect", { x: left, y: top, width: plotW, height: plotH, fill: "none", class: "grid" }));
      root.appendChild(svg("text", { x: left + plotW / 2, y: top + plotH / 2, class: "empty" }, L.noPoints));
      area.replaceChildren(root);
      return;
    }
    var yMin = Math.min.apply(null, lows), yMax = Math.max.apply(null, highs);
    if (yMax - yMin < 1e-9) { yMin -= 1; yMax += 1; }
    var pad = (yMax - yMin) * 0.08;
    yMin -= pad; yMax += pad;
    var t0 = start.getTime(), t1 = end.getTime();
    var x = function (t) { return left + ((t - t0) / (t1 - t0)) * plotW; };
    var y = function (v) { return top + (1 - (v - yMin) / (yMax - yMin)) * plotH; };
    var clampY = function (v) { return Math.min(Math.max(v, top), top + plotH); };

    // Grid and y ticks.
    var step = niceStep(yMax - yMin, 5);
    for (var v = Math.ceil(yMin / step) * step; v <= yMax + 1e-9; v += step) {
      root.appendChild(svg("line", { x1: left, x2: left + plotW, y1: y(v), y2: y(v), class: "grid" }));
      root.appendChild(svg("text", { x: left - 4, y: y(v) + 4, class: "tick y" }, number(Math.round(v / step) * step)));
    }
    // x ticks: five, labelled in the lab's time zone.
    for (var i = 0; i <= 4; i++) {
      var t = t0 + ((t1 - t0) * i) / 4;
      var p = parts(new Date(t));
      var label = windowKey === "24h" ? p.hour + ":" + p.minute : p.month + "-" + p.day;
      var anchor = i === 0 ? "start" : i === 4 ? "end" : "middle";
      root.appendChild(svg("line", { x1: x(t), x2: x(t), y1: top, y2: top + plotH, class: "grid" }));
      var tick = svg("text", { x: x(t), y: H - 6, class: "tick x" }, label);
      tick.setAttribute("text-anchor", anchor);
      root.appendChild(tick);
    }
    // Requirement bands and their limits.
    reqs.forEach(function (r) {
      var yTop = clampY(r.high === null ? top : y(r.high));
      var yBottom = clampY(r.low === null ? top + plotH : y(r.low));
      var band = svg("rect", { x: left, y: yTop, width: plotW, height: Math.max(yBottom - yTop, 0), class: "band" });
      band.setAttribute("fill-opacity", reqs.length > 1 ? "0.6" : "1");
      root.appendChild(band);
      [r.low, r.high].forEach(function (limit) {
        if (limit === null) return;
        root.appendChild(svg("line", { x1: left, x2: left + plotW, y1: y(limit), y2: y(limit), class: "limit" }));
      });
    });
    // Gaps: a pause longer than three typical intervals breaks the line.
    var gaps = [];
    for (var k = 1; k < points.length; k++) gaps.push(Date.parse(points[k].time) - Date.parse(points[k - 1].time));
    var sorted = gaps.slice().sort(function (a, b) { return a - b; });
    var typical = sorted.length ? sorted[Math.floor(sorted.length / 2)] : 0;
    var segments = [[]];
    points.forEach(function (pt, idx) {
      if (idx > 0 && typical && gaps[idx - 1] > 3 * typical) segments.push([]);
      segments[segments.length - 1].push(pt);
    });
    // Min / max envelope of buckets.
    segments.forEach(function (seg) {
      if (!seg.some(function (pt) { return pt.count > 1 && pt.max > pt.min; })) return;
      var upper = seg.map(function (pt) { return x(Date.parse(pt.time)) + "," + y(pt.max); });
      var lower = seg.slice().reverse().map(function (pt) { return x(Date.parse(pt.time)) + "," + y(pt.min); });
      root.appendChild(svg("polygon", { points: upper.concat(lower).join(" "), class: "envelope" }));
    });
    segments.forEach(function (seg) {
      if (seg.length === 1) {
        var px = x(Date.parse(seg[0].time));
        if (seg[0].max > seg[0].min) {
          root.appendChild(svg("line", { x1: px, x2: px, y1: y(seg[0].max), y2: y(seg[0].min), class: "line" }));
        }
        root.appendChild(svg("circle", { cx: px, cy: y(seg[0].value), r: 2.5, class: "dot" }));
        return;
      }
      var d = seg.map(function (pt, idx) {
        return (idx ? "L" : "M") + x(Date.parse(pt.time)).toFixed(1) + " " + y(pt.value).toFixed(1);
      }).join(" ");
      root.appendChild(svg("path", { d: d, class: "line" }));
    });
    // Values outside a requirement, marked (at most a few hundred).
    var marked = 0;
    points.forEach(function (pt) {
      if (marked > 300) return;
      if (reqs.some(function (r) { return !within(pt.value, r); })) {
        marked++;
        root.appendChild(svg("circle", { cx: x(Date.parse(pt.time)), cy: y(pt.value), r: 2.2, class: "outside" }));
      }
    });
    root.appendChild(svg("rect", { x: left, y: top, width: plotW, height: plotH, fill: "none", stroke: "#c4ccd6" }));
    area.replaceChildren(root);
  }

  function stats(figure, points) {
    var count = 0, sum = 0, lo = Infinity, hi = -Infinity;
    points.forEach(function (p) {
      count += p.count;
      sum += p.value * p.count;
      lo = Math.min(lo, p.min);
      hi = Math.max(hi, p.max);
    });
    figure.querySelector(".stat-min").textContent = count ? number(lo) : "—";
    figure.querySelector(".stat-max").textContent = count ? number(hi) : "—";
    figure.querySelector(".stat-mean").textContent = count ? number(sum / count) : "—";
    figure.querySelector(".stat-count").textContent = String(count);
  }

  var plottedAt = {}; // sensor code -> when its plots were last requested (ms)
  var seenTimes = {}; // sensor code -> the time of its newest reading seen

  function plotSensor(card) {
    var end = new Date();
    var code = card.getAttribute("data-sensor");
    plottedAt[code] = end.getTime();
    card.querySelectorAll(".trend-window[data-window]").forEach(function (figure) {
      var key = figure.getAttribute("data-window");
      var start = new Date(end.getTime() - WINDOWS[key]);
      var url = cfg.seriesUrl.replace("__code__", encodeURIComponent(code)) +
        "?start=" + encodeURIComponent(start.toISOString()) + "&end=" + encodeURIComponent(end.toISOString());
      getJSON(url, 20000).then(function (data) {
        var reqs = cfg.requirements.filter(function (r) { return r.quantity === data.quantity; });
        draw(figure.querySelector(".plot-area"), data, reqs, start, end, key);
        stats(figure, data.points || []);
        figure.setAttribute("data-drawn", end.toISOString());
        figure.setAttribute("data-points", String((data.points || []).length));
      }).catch(function () { /* the live indicator tells about the connection */ });
    });
  }

  function plots() {
    document.querySelectorAll(".trend[data-sensor]").forEach(plotSensor);
  }

  // A sensor with a new reading is redrawn at once, but not more often than every 15 s.
  function plotNewReadings(status) {
    status.sensors.forEach(function (s) {
      var before = seenTimes[s.code];
      seenTimes[s.code] = s.time;
      if (before === undefined || before === s.time) return;
      if (Date.now() - (plottedAt[s.code] || 0) < 15000) return;
      var card = byCode(".trend[data-sensor]", s.code);
      if (card) plotSensor(card);
    });
  }

  // A hung request must not leave "live" showing.
  setInterval(function () {
    if (live && Date.now() - lastOkLocal > cfg.pollSeconds * 3000 + 5000) showLive(false);
  }, 1000);

  window.environmentDashboard = { apply: apply, last: function () { return lastStatus; } };
  poll();
  plots();
  setInterval(plots, cfg.plotSeconds * 1000);
})();
