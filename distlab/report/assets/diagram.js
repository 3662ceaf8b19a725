// messages.html: a Lamport diagram drawn on a canvas, only what is on screen.
// Data: the JSON in #distlab-data (distlab/report/diagram.py says what each column holds).
// Time runs downwards, linear in simulated nanoseconds; a lane per node, service and client.
// Page text is built with DOM calls and textContent only: bodies are node output.
// For browser tests, window.distlabDiagram: ready, errors (any thrown while drawing),
// arrows and drops (as embedded), messages, lanes, select(i) (arrow i in send order: shows
// its body, returns {src, dest, type, kind, body}), chain(i) (follows arrow i's causal
// chain, returns its size), fit(), zoomTo(t1, t2) (seconds), visibleCount(), point(i) (where
// arrow i is drawn on the canvas now, and its send/arrival seconds, for a real click).
(function () {
  'use strict';
  var api = { ready: false, errors: [] };
  window.distlabDiagram = api;
  var statusEl = document.getElementById('status');
  var D;
  try {
    D = JSON.parse(document.getElementById('distlab-data').textContent);
  } catch (e) {
    api.errors.push(String(e));
    statusEl.textContent = 'The embedded trace could not be read: ' + e;
    return;
  }

  var KIND_COLORS = ['#2b6cb0', '#2f855a', '#805ad5', '#c53030'];
  var KIND_NAMES = ['client', 'server', 'service', 'error'];
  var LANE_COLORS = ['#52606d', '#805ad5', '#9aa5b1'];
  var BAND_COLORS = { partition: '229,62,62', kill: '221,107,32', pause: '214,158,46', clock: '49,130,206', loss: '128,90,213' };
  var HEAD = 30, GUT = 74, MIN_LANE = 64, STUB = 14, DENSE = 8000;
  var LANE_RGB = ['43,108,176', '128,90,213', '82,96,109'];

  var M = D.msg, A = D.arr;
  var nA = A.s.length, nM = M.id.length, lanes = D.lanes, nL = lanes.length, types = D.types, whys = D.whys;
  var S = Float64Array.from(A.s), E = Float64Array.from(A.e);
  var AM = Int32Array.from(A.m), AW = Int32Array.from(A.w);
  var MSRC = Int32Array.from(M.src), MDST = Int32Array.from(M.dst), MTY = Int32Array.from(M.ty);
  var MK = Int8Array.from(M.k), MP = Int32Array.from(M.p), MQ = Int32Array.from(M.q);
  var LOST = whys.indexOf('lost');
  var END = Math.max(D.end || 0, 1000);
  var maxDur = 0;
  for (var i0 = 0; i0 < nA; i0++) { if (E[i0] - S[i0] > maxDur) maxDur = E[i0] - S[i0]; }

  var typeOn = new Uint8Array(types.length).fill(1);
  var laneOn = new Uint8Array(nL).fill(1);
  var kindOn = new Uint8Array(4).fill(1);
  var involving = -1;
  var view = { t0: 0, nsPerPx: 1, xOff: 0 };
  var laneX = new Float64Array(nL), colOf = new Int32Array(nL);
  var laneW = MIN_LANE, columns = [];  // columns on screen: {x, kind, label}
  var clientLanes = 0;
  for (var l0 = 0; l0 < nL; l0++) { if (D.laneKind[l0] === 2) clientLanes++; }
  // clients (one more per timed-out operation) share a lane unless few: nodes stay in view
  var mergeClients = clientLanes > 8;
  var W = 0, H = 0, dpr = 1;
  var selected = -1, hovered = -1;
  var chain = null;  // {on: Uint8Array(nM), count, root, first, last}
  var firstArrow = null, children = null, replies = null;
  var vis = new Int32Array(Math.max(nA, 1));
  var visCount = 0;
  // segments drawn in the last frame, for hit testing
  var hx1 = new Float32Array(Math.max(nA, 1)), hy1 = new Float32Array(Math.max(nA, 1));
  var hx2 = new Float32Array(Math.max(nA, 1)), hy2 = new Float32Array(Math.max(nA, 1));
  var hi = new Int32Array(Math.max(nA, 1)), hn = 0;

  var canvas = document.getElementById('c');
  var ctx = canvas.getContext('2d');
  var wrap = document.getElementById('wrap');
  var tip = document.getElementById('tip');
  var detail = document.getElementById('detail');

  function el(tag, text, attrs) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = text;
    if (attrs) { for (var k in attrs) { if (Object.prototype.hasOwnProperty.call(attrs, k)) node.setAttribute(k, attrs[k]); } }
    return node;
  }

  function fmtT(ns, step) {
    var decimals = 6;
    if (step) decimals = Math.max(0, Math.min(9, Math.ceil(-Math.log10(step / 1e9))));
    return (ns / 1e9).toFixed(decimals) + ' s';
  }

  function fmtDur(ns) {
    if (ns >= 1e9) return (ns / 1e9).toFixed(3) + ' s';
    if (ns >= 1e6) return (ns / 1e6).toFixed(3) + ' ms';
    if (ns >= 1e3) return (ns / 1e3).toFixed(1) + ' µs';
    return Math.round(ns) + ' ns';
  }

  function yOf(t) { return HEAD + (t - view.t0) / view.nsPerPx; }
  function tOf(y) { return view.t0 + (y - HEAD) * view.nsPerPx; }

  function lowerBound(arr, n, value) {
    var lo = 0, hi2 = n;
    while (lo < hi2) { var mid = (lo + hi2) >> 1; if (arr[mid] < value) lo = mid + 1; else hi2 = mid; }
    return lo;
  }

  function layout() {
    var rect = wrap.getBoundingClientRect();
    W = Math.max(100, rect.width); H = Math.max(100, rect.height);
    dpr = window.devicePixelRatio || 1;
    var cw = Math.round(W * dpr), ch = Math.round(H * dpr);
    if (canvas.width !== cw || canvas.height !== ch) { canvas.width = cw; canvas.height = ch; }  // a resize reallocates
    columns = [];
    colOf.fill(-1);
    var clientCol = -1, merged = 0, l, k;
    for (l = 0; l < nL; l++) {
      if (!laneOn[l]) continue;
      if (mergeClients && D.laneKind[l] === 2) {
        if (clientCol < 0) { clientCol = columns.length; columns.push({ x: 0, kind: 2, label: 'clients' }); }
        colOf[l] = clientCol;
        merged++;
      } else {
        colOf[l] = columns.length;
        columns.push({ x: 0, kind: D.laneKind[l], label: lanes[l] });
      }
    }
    if (clientCol >= 0) columns[clientCol].label = 'clients (' + merged + ')';
    laneW = Math.max(MIN_LANE, (W - GUT - 12) / Math.max(1, columns.length));
    var maxOff = Math.max(0, laneW * columns.length - (W - GUT - 12));
    view.xOff = Math.min(Math.max(0, view.xOff), maxOff);
    for (k = 0; k < columns.length; k++) columns[k].x = GUT + laneW * (k + 0.5) - view.xOff;
    laneX.fill(NaN);
    for (l = 0; l < nL; l++) { if (colOf[l] >= 0) laneX[l] = columns[colOf[l]].x; }
  }

  function fit() {
    view.t0 = -0.02 * END;
    view.nsPerPx = END * 1.04 / Math.max(50, H - HEAD - 8);
    view.xOff = 0;
    schedule();
  }

  function clampZoom(v) { return Math.min(Math.max(v, 0.05), END * 50 / Math.max(50, H)); }

  function zoomAt(y, factor) {
    var t = tOf(y);
    view.nsPerPx = clampZoom(view.nsPerPx * factor);
    view.t0 = t - (y - HEAD) * view.nsPerPx;
    schedule();
  }

  function passes(m) {
    return typeOn[MTY[m]] && kindOn[MK[m]] && laneOn[MSRC[m]] && laneOn[MDST[m]] &&
      (involving < 0 || MSRC[m] === involving || MDST[m] === involving);
  }

  var pending = false;
  function schedule() {
    if (pending) return;
    pending = true;
    window.requestAnimationFrame(function () {
      pending = false;
      try { draw(); } catch (e) { api.errors.push(String(e)); throw e; }
    });
  }

  // Where arrow i starts and ends on screen: [x1, y1, x2, y2], and whether its end is a drop mark.
  var geo = new Float64Array(4);
  function geometry(i) {
    var m = AM[i], x1 = laneX[MSRC[m]], x2 = laneX[MDST[m]], y1 = yOf(S[i]), w = AW[i];
    var y2;
    if (w < 0) { geo[0] = x1; geo[1] = y1; geo[2] = x2; geo[3] = yOf(E[i]); return; }
    if (w === LOST) {
      y2 = y1 + STUB;
      geo[0] = x1; geo[1] = y1; geo[2] = x1 === x2 ? x1 + STUB : x1 + (x2 - x1) * 0.3; geo[3] = y2;
      return;
    }
    // a drop: the stub stops just short of the lane it never reached
    y2 = yOf(E[i]);
    var dx = Math.abs(x2 - x1), frac = dx > 64 ? 1 - 28 / dx : 0.55;
    geo[0] = x1; geo[1] = y1; geo[2] = x1 + (x2 - x1) * frac; geo[3] = y1 + (y2 - y1) * frac;
    if (x1 === x2) geo[2] = x1 + STUB;
  }

  function addArrow(path, x1, y1, x2, y2) {
    path.moveTo(x1, y1);
    if (x1 === x2) { path.lineTo(x1 + 18, (y1 + y2) / 2 + 4); path.lineTo(x2, y2); } else path.lineTo(x2, y2);
  }

  function addHead(path, x1, y1, x2, y2) {
    var fromX = x1 === x2 ? x1 + 18 : x1, fromY = x1 === x2 ? (y1 + y2) / 2 + 4 : y1;
    var a = Math.atan2(y2 - fromY, x2 - fromX), s = 7;
    path.moveTo(x2, y2);
    path.lineTo(x2 - s * Math.cos(a - 0.4), y2 - s * Math.sin(a - 0.4));
    path.lineTo(x2 - s * Math.cos(a + 0.4), y2 - s * Math.sin(a + 0.4));
    path.closePath();
  }

  function addCross(path, x, y) {
    path.moveTo(x - 4, y - 4); path.lineTo(x + 4, y + 4);
    path.moveTo(x + 4, y - 4); path.lineTo(x - 4, y + 4);
  }

  function draw() {
    layout();
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, W, H);
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, W, H);
    var tTop = view.t0, tBot = tOf(H);
    ctx.font = '11px system-ui, sans-serif';
    ctx.textBaseline = 'alphabetic';

    // time grid
    var step = niceStep(80 * view.nsPerPx);
    ctx.strokeStyle = '#eef0f3'; ctx.lineWidth = 1;
    ctx.beginPath();
    var tick;
    for (tick = Math.ceil(tTop / step) * step; tick <= tBot; tick += step) {
      var gy = Math.round(yOf(tick)) + 0.5;
      ctx.moveTo(GUT, gy); ctx.lineTo(W, gy);
    }
    ctx.stroke();

    // nemesis bands
    var b, band;
    for (b = 0; b < D.bands.length; b++) {
      band = D.bands[b];
      if (band.stop < tTop || band.start > tBot) continue;
      var rgb = BAND_COLORS[band.kind] || '113,128,150';
      var by1 = Math.max(HEAD, yOf(band.start)), by2 = Math.min(H, yOf(band.stop));
      ctx.fillStyle = 'rgba(' + rgb + ',0.10)';
      ctx.fillRect(GUT, by1, W - GUT, Math.max(1, by2 - by1));
      ctx.fillStyle = 'rgba(' + rgb + ',0.9)';
      ctx.fillRect(GUT, by1, 3, Math.max(1, by2 - by1));
      ctx.fillText(band.label, GUT + 6, by1 + 12);
    }

    // lanes
    ctx.lineWidth = 1;
    var k, col;
    for (k = 0; k < columns.length; k++) {
      col = columns[k];
      var x = Math.round(col.x) + 0.5;
      if (x < GUT || x > W) continue;
      ctx.strokeStyle = LANE_COLORS[col.kind] || '#9aa5b1';
      ctx.beginPath(); ctx.moveTo(x, HEAD); ctx.lineTo(x, H); ctx.stroke();
    }

    // the arrows on screen
    var margin = STUB * view.nsPerPx;
    var i = lowerBound(S, nA, tTop - maxDur - margin);
    visCount = 0;
    for (; i < nA; i++) {
      if (S[i] > tBot) break;
      if (E[i] < tTop - margin) continue;
      if (!passes(AM[i])) continue;
      vis[visCount++] = i;
    }
    hn = 0;
    if (visCount > DENSE) drawDense(); else drawArrows();

    // hover and selection on top
    highlight(hovered, '#1f2933', 2.5);
    highlight(selected, '#dd6b20', 3.5);

    // lane names
    ctx.fillStyle = '#f4f5f7';
    ctx.fillRect(0, 0, W, HEAD);
    ctx.strokeStyle = '#d5d9e0';
    ctx.beginPath(); ctx.moveTo(0, HEAD - 0.5); ctx.lineTo(W, HEAD - 0.5); ctx.stroke();
    ctx.font = '600 12px system-ui, sans-serif';
    ctx.textAlign = 'center';
    for (k = 0; k < columns.length; k++) {
      col = columns[k];
      if (col.x < GUT || col.x > W) continue;
      ctx.fillStyle = LANE_COLORS[col.kind] || '#52606d';
      ctx.fillText(col.label, col.x, HEAD - 10, laneW - 6);
    }
    ctx.textAlign = 'left';

    // time gutter
    ctx.fillStyle = '#fbfbfc';
    ctx.fillRect(0, HEAD, GUT, H - HEAD);
    ctx.strokeStyle = '#d5d9e0';
    ctx.beginPath(); ctx.moveTo(GUT - 0.5, HEAD); ctx.lineTo(GUT - 0.5, H); ctx.stroke();
    ctx.font = '11px system-ui, sans-serif';
    ctx.fillStyle = '#616e7c';
    ctx.textAlign = 'right';
    for (tick = Math.ceil(tTop / step) * step; tick <= tBot; tick += step) {
      var ty = yOf(tick);
      if (ty < HEAD + 6) continue;
      ctx.fillText(fmtT(tick, step), GUT - 6, ty + 4);
    }
    ctx.textAlign = 'left';
    ctx.fillStyle = '#f4f5f7';
    ctx.fillRect(0, 0, GUT, HEAD);
    ctx.fillStyle = '#616e7c';
    ctx.fillText('time ↓', 8, HEAD - 10);

    if (nA === 0) {
      ctx.fillStyle = '#616e7c';
      ctx.font = '14px system-ui, sans-serif';
      ctx.fillText('This run recorded no messages.', GUT + 20, HEAD + 40);
    }
    statusEl.textContent = D.counts.arrows.toLocaleString() + ' arrows, ' + D.counts.drops.toLocaleString() +
      ' dropped or lost; ' + visCount.toLocaleString() + ' in view; ' + fmtDur(100 * view.nsPerPx) + ' per 100 px' +
      (chain ? '; chain of ' + chain.count + ' messages' : '') + (visCount > DENSE ? ' (too dense for arrows: messages sent and received per lane; zoom in to see them)' : '');
  }

  // Arrows, heads and labels of the arrows in `vis` (few enough to tell apart).
  function drawArrows() {
    var heads = visCount <= 3000, labels = visCount <= 300;
    var seen = visCount > 3000 ? new Set() : null;  // one line per pixel row and lane pair
    var lines = [], drops = [], headPaths = [];
    for (var g = 0; g < 4; g++) { lines.push(new Path2D()); drops.push(new Path2D()); headPaths.push(new Path2D()); }
    var dim = new Path2D(), crosses = new Path2D(), bold = [new Path2D(), new Path2D(), new Path2D(), new Path2D()];
    var labelQueue = [];
    for (var v = 0; v < visCount; v++) {
      var a = vis[v], m = AM[a];
      geometry(a);
      var x1 = geo[0], y1 = geo[1], x2 = geo[2], y2 = geo[3];
      if (x1 !== x1 || x2 !== x2) continue;  // NaN: a hidden lane
      if (Math.max(x1, x2) < GUT - 20 || Math.min(x1, x2) > W + 20) continue;
      var w = AW[a];
      if (seen) {
        var key = ((MSRC[m] * nL + MDST[m]) * 2 + (w >= 0 ? 1 : 0)) * 262144 +
          Math.min(4095, Math.max(0, Math.round(y1))) * 64 + Math.min(63, Math.max(0, Math.round(y2 - y1)));
        if (seen.has(key)) continue;
        seen.add(key);
      }
      var kind = MK[m];
      var target = chain ? (chain.on[m] ? bold[kind] : dim) : (w >= 0 ? drops[kind] : lines[kind]);
      addArrow(target, x1, y1, x2, y2);
      if (w >= 0) addCross(crosses, x2, y2);
      else if (heads && (!chain || chain.on[m])) addHead(headPaths[kind], x1, y1, x2, y2);
      hx1[hn] = x1; hy1[hn] = y1; hx2[hn] = x2; hy2[hn] = y2; hi[hn] = a; hn++;
      if (labels) labelQueue.push(a);
    }
    ctx.lineWidth = 1;
    ctx.strokeStyle = 'rgba(154,165,177,0.45)';
    ctx.stroke(dim);
    for (g = 0; g < 4; g++) {
      ctx.strokeStyle = KIND_COLORS[g];
      ctx.setLineDash([]);
      ctx.lineWidth = 1;
      ctx.stroke(lines[g]);
      ctx.setLineDash([4, 3]);
      ctx.stroke(drops[g]);
      ctx.setLineDash([]);
      ctx.lineWidth = 2.2;
      ctx.stroke(bold[g]);
      ctx.fillStyle = KIND_COLORS[g];
      ctx.fill(headPaths[g]);
    }
    ctx.setLineDash([]);
    ctx.lineWidth = 1.6;
    ctx.strokeStyle = '#c53030';
    ctx.stroke(crosses);

    if (labels) {
      // a label only where it overlaps no label already drawn (at most 300: quadratic is fine)
      var boxes = [];
      for (v = 0; v < labelQueue.length; v++) {
        a = labelQueue[v]; m = AM[a];
        geometry(a);
        if (geo[0] !== geo[0] || geo[2] !== geo[2]) continue;
        var text = types[MTY[m]];
        if (AW[a] >= 0) text += AW[a] === LOST ? ' (lost)' : ' (dropped: ' + whys[AW[a]] + ')';
        var lx = (geo[0] + geo[2]) / 2 + 4, ly = (geo[1] + geo[3]) / 2 - 3, lw = text.length * 6, clash = false;
        for (var bx = 0; bx < boxes.length && !clash; bx += 3) {
          clash = lx < boxes[bx] + boxes[bx + 2] && boxes[bx] < lx + lw && Math.abs(ly - boxes[bx + 1]) < 12;
        }
        if (clash) continue;
        boxes.push(lx, ly, lw);
        ctx.fillStyle = KIND_COLORS[MK[m]];
        ctx.fillText(text, lx, ly);
      }
    }

  }

  // Too many to tell apart: each lane as a strip whose shade is how many messages it sent
  // or received per pixel row (drops in red beside it); zooming in brings the arrows back.
  function drawDense() {
    var rows = Math.ceil(H), counts = new Float32Array(columns.length * rows), lost = new Float32Array(columns.length * rows);
    var a, m, c, r, v, top = 0, topLost = 0;
    for (v = 0; v < visCount; v++) {
      a = vis[v]; m = AM[a];
      c = colOf[MSRC[m]]; r = Math.floor(yOf(S[a]));
      if (c >= 0 && r >= HEAD && r < rows) { if (++counts[c * rows + r] > top) top = counts[c * rows + r]; }
      c = colOf[MDST[m]]; r = Math.floor(yOf(E[a]));
      if (c < 0 || r < HEAD || r >= rows) continue;
      if (AW[a] >= 0) { if (++lost[c * rows + r] > topLost) topLost = lost[c * rows + r]; }
      else if (++counts[c * rows + r] > top) top = counts[c * rows + r];
    }
    for (c = 0; c < columns.length; c++) {
      var x = columns[c].x;
      if (x < GUT - 10 || x > W + 10) continue;
      var base = LANE_RGB[columns[c].kind] || LANE_RGB[0];
      for (r = HEAD; r < rows; r++) {
        var n = counts[c * rows + r];
        if (n > 0) {
          ctx.fillStyle = 'rgba(' + base + ',' + (0.15 + 0.85 * Math.sqrt(n / top)).toFixed(3) + ')';
          ctx.fillRect(x - 6, r, 12, 1);
        }
        n = lost[c * rows + r];
        if (n > 0) {
          ctx.fillStyle = 'rgba(197,48,48,' + (0.35 + 0.65 * Math.sqrt(n / topLost)).toFixed(3) + ')';
          ctx.fillRect(x + 8, r, 6, 1);
        }
      }
    }
  }

  function highlight(a, color, width) {
    if (a < 0 || a >= nA) return;
    geometry(a);
    if (geo[0] !== geo[0] || geo[2] !== geo[2]) return;
    var p = new Path2D();
    addArrow(p, geo[0], geo[1], geo[2], geo[3]);
    ctx.strokeStyle = color; ctx.lineWidth = width; ctx.setLineDash([]);
    ctx.stroke(p);
    if (AW[a] < 0) { var h = new Path2D(); addHead(h, geo[0], geo[1], geo[2], geo[3]); ctx.fillStyle = color; ctx.fill(h); }
    ctx.lineWidth = 1;
  }

  function niceStep(ns) {
    var p = Math.pow(10, Math.floor(Math.log10(Math.max(ns, 1e-3))));
    var f = ns / p;
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
  }

  // ---- hit testing, tooltip, details -------------------------------------------------
  function pick(x, y) {
    var best = -1, bestD = 36;  // within 6 px
    for (var j = 0; j < hn; j++) {
      var ax = hx1[j], ay = hy1[j], dx = hx2[j] - ax, dy = hy2[j] - ay;
      var len = dx * dx + dy * dy, t = len > 0 ? ((x - ax) * dx + (y - ay) * dy) / len : 0;
      t = t < 0 ? 0 : t > 1 ? 1 : t;
      var ex = ax + t * dx - x, ey = ay + t * dy - y, d2 = ex * ex + ey * ey;
      if (d2 < bestD) { bestD = d2; best = hi[j]; }
    }
    return best;
  }

  function bodyText(m, limit) {
    var text;
    try { text = JSON.stringify(M.body[m], null, limit ? 0 : 2); } catch (e) { text = String(M.body[m]); }
    if (text === undefined) text = 'null';
    if (limit && text.length > limit) text = text.slice(0, limit) + '…';
    return text;
  }

  function fate(a) {
    var w = AW[a];
    if (w < 0) return 'received ' + fmtT(E[a]) + ' (after ' + fmtDur(E[a] - S[a]) + ')';
    if (w === LOST) return 'never delivered (lost, or still in flight when the run ended)';
    return 'dropped at ' + fmtT(E[a]) + ': ' + whys[w];
  }

  function summary(a) {
    var m = AM[a];
    return lanes[MSRC[m]] + ' → ' + lanes[MDST[m]] + '  ' + types[MTY[m]] + '  (' + KIND_NAMES[MK[m]] + ')\n' +
      'sent ' + fmtT(S[a]) + '; ' + fate(a);
  }

  function showTip(a, x, y) {
    if (a < 0) { tip.style.display = 'none'; return; }
    tip.textContent = summary(a) + '\n' + bodyText(AM[a], 400);
    tip.style.display = 'block';
    var left = Math.min(x + 14, W - 300), top = y + 14;
    if (top + tip.offsetHeight > H) top = Math.max(0, y - tip.offsetHeight - 8);
    tip.style.left = Math.max(0, left) + 'px';
    tip.style.top = top + 'px';
  }

  function ensureLinks() {
    if (firstArrow) return;
    firstArrow = new Int32Array(nM).fill(-1);
    for (var a = 0; a < nA; a++) { if (firstArrow[AM[a]] < 0) firstArrow[AM[a]] = a; }
    var counts = new Int32Array(nM + 1), m, p;
    for (m = 0; m < nM; m++) {
      if (MP[m] >= 0) counts[MP[m] + 1]++;
      if (MQ[m] >= 0 && MQ[m] !== MP[m]) counts[MQ[m] + 1]++;
    }
    for (m = 0; m < nM; m++) counts[m + 1] += counts[m];
    var fill = counts.slice(0, nM), edges = new Int32Array(counts[nM]);
    for (m = 0; m < nM; m++) {
      p = MP[m];
      if (p >= 0) edges[fill[p]++] = m;
      if (MQ[m] >= 0 && MQ[m] !== p) edges[fill[MQ[m]]++] = m;
    }
    children = { start: counts, edges: edges };
    replies = {};
    for (m = 0; m < nM; m++) { if (MQ[m] >= 0) (replies[MQ[m]] = replies[MQ[m]] || []).push(m); }
  }

  // The causal chain of message m: up through causes (else the request a reply answers)
  // to its root, then everything the root led to. Bounded, for gossip that never ends.
  function chainOf(m) {
    ensureLinks();
    var on = new Uint8Array(nM), root = m, steps = 0;
    on[m] = 1;
    while (steps++ < nM) {
      var up = MP[root] >= 0 ? MP[root] : MQ[root];
      if (up < 0 || on[up]) break;
      on[up] = 1;
      root = up;
    }
    on.fill(0);
    var queue = [root], count = 0, limit = 50000;
    on[root] = 1;
    for (var q = 0; q < queue.length && count < limit; q++) {
      var x = queue[q];
      count++;
      for (var e = children.start[x]; e < children.start[x + 1]; e++) {
        var c = children.edges[e];
        if (!on[c]) { on[c] = 1; queue.push(c); }
      }
    }
    var lo = Infinity, hi3 = -Infinity;
    for (q = 0; q < queue.length; q++) {
      var fa = firstArrow[queue[q]];
      if (fa >= 0) { lo = Math.min(lo, S[fa]); hi3 = Math.max(hi3, E[fa]); }
    }
    queue.sort(function (p1, p2) { return (firstArrow[p1] - firstArrow[p2]); });
    return { on: on, count: queue.length, root: root, list: queue, first: lo, last: hi3 };
  }

  function zoomTo(t1, t2) {
    if (!(t2 >= t1)) return;
    var span = Math.max(t2 - t1, 2000);
    view.nsPerPx = clampZoom(span * 1.3 / Math.max(50, H - HEAD));
    view.t0 = t1 - span * 0.15;
    schedule();
  }

  function messageLink(m, label) {
    var link = el('a', label);
    link.addEventListener('click', function () { ensureLinks(); if (firstArrow[m] >= 0) select(firstArrow[m], true); });
    return link;
  }

  function select(a, reveal) {
    if (typeof a !== 'number' || a < 0 || a >= nA || a !== Math.floor(a)) {
      selected = -1;
      schedule();
      return null;
    }
    ensureLinks();
    selected = a;
    var m = AM[a];
    if (reveal) {
      var y = yOf(S[a]);
      if (y < HEAD + 4 || y > H - 4) { view.t0 = S[a] - (H - HEAD) * 0.3 * view.nsPerPx; }
      var x = laneX[MSRC[m]];
      if (x === x && (x < GUT || x > W)) view.xOff += x - (GUT + (W - GUT) / 2);
    }
    detail.textContent = '';
    detail.classList.remove('muted');
    detail.appendChild(el('div', summary(a)));
    var facts = el('div', null, { 'class': 'muted' });
    facts.appendChild(document.createTextNode('trace id ' + M.id[m] + '. '));
    if (MQ[m] >= 0) { facts.appendChild(document.createTextNode('Answers ')); facts.appendChild(messageLink(MQ[m], types[MTY[MQ[m]]] + ' from ' + lanes[MSRC[MQ[m]]])); facts.appendChild(document.createTextNode('. ')); }
    if (MP[m] >= 0 && MP[m] !== MQ[m]) { facts.appendChild(document.createTextNode('Sent on receiving ')); facts.appendChild(messageLink(MP[m], types[MTY[MP[m]]] + ' from ' + lanes[MSRC[MP[m]]])); facts.appendChild(document.createTextNode('. ')); }
    var rs = replies[m] || [];
    for (var r = 0; r < rs.length; r++) { facts.appendChild(document.createTextNode('Answered by ')); facts.appendChild(messageLink(rs[r], types[MTY[rs[r]]])); facts.appendChild(document.createTextNode('. ')); }
    detail.appendChild(facts);
    var actions = el('div', null, { 'class': 'actions' });
    var follow = el('button', 'Follow causal chain');
    follow.addEventListener('click', function () { followChain(a); });
    var zoom = el('button', 'Zoom to it');
    zoom.addEventListener('click', function () { zoomTo(S[a], E[a]); });
    var clear = el('button', 'Clear');
    clear.addEventListener('click', clearAll);
    actions.appendChild(follow); actions.appendChild(zoom); actions.appendChild(clear);
    detail.appendChild(actions);
    detail.appendChild(el('pre', bodyText(m, 20000)));
    if (chain) renderChain();
    schedule();
    return { src: lanes[MSRC[m]], dest: lanes[MDST[m]], type: types[MTY[m]], kind: KIND_NAMES[MK[m]], body: M.body[m] };
  }

  function renderChain() {
    var box = el('div');
    box.appendChild(el('h2', 'Causal chain: ' + chain.count + ' message' + (chain.count === 1 ? '' : 's')));
    box.appendChild(el('div', 'from ' + fmtT(chain.first) + ' to ' + fmtT(chain.last) +
      ' (a message\'s cause is what its sender had just received, at the same instant; a reply\'s is its request)', { 'class': 'muted' }));
    var zoom = el('button', 'Zoom to chain');
    zoom.addEventListener('click', function () { zoomTo(chain.first, chain.last); });
    box.appendChild(zoom);
    var list = el('ol');
    for (var j = 0; j < Math.min(chain.list.length, 300); j++) {
      var m = chain.list[j], li = el('li');
      li.appendChild(messageLink(m, lanes[MSRC[m]] + ' → ' + lanes[MDST[m]] + ' ' + types[MTY[m]]));
      list.appendChild(li);
    }
    box.appendChild(list);
    if (chain.list.length > 300) box.appendChild(el('div', '… and ' + (chain.list.length - 300) + ' more', { 'class': 'muted' }));
    detail.appendChild(box);
  }

  function followChain(a) {
    if (typeof a !== 'number' || a < 0 || a >= nA) return 0;
    chain = chainOf(AM[a]);
    select(a, false);
    return chain.count;
  }

  function clearAll() {
    selected = -1; chain = null; hovered = -1;
    detail.textContent = 'Nothing selected.';
    detail.classList.add('muted');
    tip.style.display = 'none';
    schedule();
  }

  // ---- controls --------------------------------------------------------------------
  var drag = null;
  canvas.addEventListener('mousedown', function (ev) {
    drag = { x: ev.clientX, y: ev.clientY, t0: view.t0, xOff: view.xOff, moved: false };
    canvas.classList.add('dragging');
  });
  window.addEventListener('mouseup', function (ev) {
    if (!drag) return;
    var wasClick = !drag.moved;
    drag = null;
    canvas.classList.remove('dragging');
    if (wasClick && ev.target === canvas) {
      var r = canvas.getBoundingClientRect();
      var a = pick(ev.clientX - r.left, ev.clientY - r.top);
      if (a >= 0) select(a, false); else if (!chain) clearAll();
    }
  });
  canvas.addEventListener('mousemove', function (ev) {
    var r = canvas.getBoundingClientRect(), x = ev.clientX - r.left, y = ev.clientY - r.top;
    if (drag) {
      var dx = ev.clientX - drag.x, dy = ev.clientY - drag.y;
      if (Math.abs(dx) + Math.abs(dy) > 3) drag.moved = true;
      if (drag.moved) {
        view.t0 = drag.t0 - dy * view.nsPerPx;
        view.xOff = drag.xOff - dx;
        tip.style.display = 'none';
        schedule();
      }
      return;
    }
    var a = pick(x, y);
    if (a !== hovered) { hovered = a; schedule(); }
    showTip(a, x, y);
  });
  canvas.addEventListener('mouseleave', function () {
    tip.style.display = 'none';
    if (hovered >= 0) { hovered = -1; schedule(); }
  });
  canvas.addEventListener('wheel', function (ev) {
    ev.preventDefault();
    var unit = ev.deltaMode === 1 ? 16 : ev.deltaMode === 2 ? H : 1;
    var r = canvas.getBoundingClientRect();
    if (ev.ctrlKey || ev.metaKey) {
      zoomAt(ev.clientY - r.top, Math.exp(ev.deltaY * unit * 0.002));
      return;
    }
    if (ev.shiftKey) { view.xOff += ev.deltaY * unit; } else {
      view.t0 += ev.deltaY * unit * view.nsPerPx;
      view.xOff += ev.deltaX * unit;
    }
    tip.style.display = 'none';
    schedule();
  }, { passive: false });
  window.addEventListener('keydown', function (ev) {
    if (ev.target && (ev.target.tagName === 'INPUT' || ev.target.tagName === 'SELECT')) return;
    if (ev.key === '+' || ev.key === '=') zoomAt((H + HEAD) / 2, 0.5);
    else if (ev.key === '-' || ev.key === '_') zoomAt((H + HEAD) / 2, 2);
    else if (ev.key === '0') fit();
    else if (ev.key === 'Escape') clearAll();
    else if (ev.key === 'ArrowDown') { view.t0 += 60 * view.nsPerPx; schedule(); }
    else if (ev.key === 'ArrowUp') { view.t0 -= 60 * view.nsPerPx; schedule(); }
    else if (ev.key === 'ArrowRight') { view.xOff += 60; schedule(); }
    else if (ev.key === 'ArrowLeft') { view.xOff -= 60; schedule(); }
    else return;
    ev.preventDefault();
  });
  document.getElementById('fit').addEventListener('click', fit);
  document.getElementById('zin').addEventListener('click', function () { zoomAt((H + HEAD) / 2, 0.5); });
  document.getElementById('zout').addEventListener('click', function () { zoomAt((H + HEAD) / 2, 2); });
  document.getElementById('goto').addEventListener('change', function (ev) {
    var s = parseFloat(ev.target.value);
    if (isFinite(s)) { view.t0 = s * 1e9 - (H - HEAD) * 0.1 * view.nsPerPx; schedule(); }
  });
  if (window.ResizeObserver) new ResizeObserver(schedule).observe(wrap);
  else window.addEventListener('resize', schedule);

  // ---- filters and legend ----------------------------------------------------------
  function checkbox(label, checked, onChange) {
    var box = el('input', null, { type: 'checkbox' });
    box.checked = checked;
    box.addEventListener('change', function () { onChange(box.checked); schedule(); });
    var wrapLabel = el('label');
    wrapLabel.appendChild(box);
    wrapLabel.appendChild(document.createTextNode(' ' + label));
    return { label: wrapLabel, box: box };
  }

  function menu(container, names, counts, flags, extra) {
    var boxes = [];
    var all = el('button', 'all'), none = el('button', 'none');
    all.addEventListener('click', function () { flags.fill(1); boxes.forEach(function (b) { b.checked = true; }); schedule(); });
    none.addEventListener('click', function () { flags.fill(0); boxes.forEach(function (b) { b.checked = false; }); schedule(); });
    var row = el('div');
    row.appendChild(all); row.appendChild(none);
    if (extra) row.appendChild(extra(boxes));
    container.appendChild(row);
    names.forEach(function (name, j) {
      var c = checkbox(name + (counts ? ' (' + counts[j].toLocaleString() + ')' : ''), true, function (on) { flags[j] = on ? 1 : 0; });
      boxes.push(c.box);
      container.appendChild(c.label);
    });
  }

  var typeCounts = new Array(types.length).fill(0);
  for (var m0 = 0; m0 < nM; m0++) typeCounts[MTY[m0]]++;
  menu(document.getElementById('types'), types, typeCounts, typeOn);
  menu(document.getElementById('lanes'), lanes, null, laneOn, function (boxes) {
    var extra = el('span');
    var hide = el('button', 'no clients');
    hide.addEventListener('click', function () {
      for (var l = 0; l < nL; l++) { if (D.laneKind[l] === 2) { laneOn[l] = 0; boxes[l].checked = false; } }
      schedule();
    });
    extra.appendChild(hide);
    var merge = checkbox('one lane for all clients', mergeClients, function (on) { mergeClients = on; });
    extra.appendChild(merge.label);
    return extra;
  });
  var inv = document.getElementById('involving');
  lanes.forEach(function (name, l) { inv.appendChild(el('option', name, { value: String(l) })); });
  inv.addEventListener('change', function () { involving = parseInt(inv.value, 10); if (!(involving >= 0)) involving = -1; schedule(); });
  var legend = document.getElementById('legend');
  KIND_NAMES.forEach(function (name, k) {
    var c = checkbox(name, true, function (on) { kindOn[k] = on ? 1 : 0; });
    var sw = el('span', null, { 'class': 'swatch' });
    sw.style.background = KIND_COLORS[k];
    c.label.insertBefore(sw, c.label.lastChild);
    legend.appendChild(c.label);
  });
  legend.appendChild(el('span', '- - × dropped', { 'class': 'muted' }));

  layout();
  fit();
  draw();
  api.arrows = D.counts.arrows;
  api.drops = D.counts.drops;
  api.messages = nM;
  api.lanes = lanes.slice();
  api.select = function (a) { return select(a, true); };
  api.chain = followChain;
  api.fit = fit;
  api.zoomTo = function (t1s, t2s) { zoomTo(t1s * 1e9, t2s * 1e9); };
  api.visibleCount = function () { return visCount; };
  api.point = function (a) {  // where arrow a is drawn now (canvas pixels): for a test's real click
    if (typeof a !== 'number' || a < 0 || a >= nA) return null;
    geometry(a);
    return { x: (geo[0] + geo[2]) / 2, y: (geo[1] + geo[3]) / 2, sent: S[a] / 1e9, until: E[a] / 1e9 };
  };
  api.ready = true;
})();
