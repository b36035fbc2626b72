/* deeplasso path explorer: one inline script, no libraries, no requests.
   Reads the JSON in #explorer-data (written by deeplasso.explorer), draws on canvases.
   Read-only API for tests and scripts: window.explorer (ready, setPoint(i), state(), ...). */
(function () {
  'use strict';

  var D = JSON.parse(document.getElementById('explorer-data').textContent);
  var T = D.n_points, d = D.n_features;
  var $ = function (id) { return document.getElementById(id); };

  // ------------------------------------------------------------------ colours
  var COLORS = {
    kept: [245, 245, 245],      // in the model at this point
    gone: [40, 40, 46],         // not in the model
    left: [255, 140, 0],        // in at the previous point, out at this one
    back: [70, 170, 255],       // out at the previous point, in at this one
    never: [255, 255, 255]      // importance map: never left
  };
  // inferno, 9 stops (matplotlib), interpolated into a 256-entry table
  var INFERNO = [[0, 0, 4], [31, 12, 72], [85, 15, 109], [136, 34, 106], [186, 54, 85],
                 [227, 89, 51], [249, 140, 10], [249, 201, 50], [252, 255, 164]];
  var LUT = (function () {
    var out = new Uint8ClampedArray(256 * 3);
    for (var i = 0; i < 256; i++) {
      var u = i / 255 * (INFERNO.length - 1), k = Math.min(INFERNO.length - 2, Math.floor(u)), f = u - k;
      for (var c = 0; c < 3; c++) out[3 * i + c] = INFERNO[k][c] + f * (INFERNO[k + 1][c] - INFERNO[k][c]);
    }
    return out;
  })();
  function lut(u) {  // u in [0, 1] -> [r, g, b]
    var i = Math.max(0, Math.min(255, Math.round(u * 255))) * 3;
    return [LUT[i], LUT[i + 1], LUT[i + 2]];
  }
  function rgb(c, a) { return a === undefined ? 'rgb(' + c.join(',') + ')' : 'rgba(' + c.join(',') + ',' + a + ')'; }
  var SERIES = { train: '#8c8c8c', validation: '#1f77b4', test: '#e8710a', top: '#2ca02c', random: '#d62728' };

  // ------------------------------------------------------------------ helpers
  function num(v) { return v === null || v === undefined ? NaN : v === 'inf' ? Infinity : v === '-inf' ? -Infinity : v; }
  function fmtLam(x) {
    if (!isFinite(x)) return x > 0 ? 'never left' : '-';
    if (x === 0) return '0';
    var a = Math.abs(x);
    return a < 1e-3 || a >= 1e5 ? x.toExponential(2) : x.toPrecision(3);
  }
  function fmtTick(v) {  // axis labels: 0.01, 0.5, 200, 1e4, 1e-5
    if (v === 0) return '0';
    var a = Math.abs(v);
    if (a >= 1e-3 && a < 1e5) return String(+v.toPrecision(3));
    var e = v.toExponential(2).replace(/\.?0+e/, 'e').replace('e+', 'e');
    return e;
  }
  function fmtScore(x) { return isFinite(x) ? x.toFixed(3) : '-'; }
  function fmtNorm(x) { return x === 0 ? '0' : x.toPrecision(3); }
  function b64bytes(s) {
    var bin = atob(s), n = bin.length, out = new Uint8Array(n);
    for (var i = 0; i < n; i++) out[i] = bin.charCodeAt(i);
    return out;
  }
  var TYPES = { uint16: Uint16Array, float32: Float32Array, int32: Int32Array, uint8: Uint8Array };
  function decode(blob) {
    var bytes = b64bytes(blob.data), Type = TYPES[blob.dtype];
    var done = function (b) { return new Type(b.buffer, b.byteOffset, b.byteLength / Type.BYTES_PER_ELEMENT); };
    if (blob.enc === 'raw') return Promise.resolve(done(bytes));
    if (typeof DecompressionStream === 'undefined')
      return Promise.reject(new Error('this browser cannot inflate the embedded data (no DecompressionStream); ' +
                                      'write the page with compress=False'));
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('deflate'));
    return new Response(stream).arrayBuffer().then(function (buf) { return done(new Uint8Array(buf)); });
  }
  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    if (attrs) for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function showError(msg) {
    var e = $('error');
    e.hidden = false;
    e.textContent = 'The explorer failed: ' + msg;
  }

  // ------------------------------------------------------------------ data
  var lam = D.lambda.map(num);
  var scoreKeys = ['train', 'validation', 'test'].filter(function (k) { return D.scores[k]; });
  var scores = {};
  scoreKeys.forEach(function (k) { scores[k] = D.scores[k].map(num); });
  var shape = D.image_shape;  // [C, H, W] or null
  var norms, nv, imp, ranking, rankOf, nKept;
  var cur = 0, ready = false, highlight = [];

  function isKept(t, j) { return norms[t * d + j] > 0; }
  function normAt(t, j) { return nv[t * d + j]; }
  function featureName(j) {
    if (D.feature_names) return D.feature_names[j];
    if (!shape) return 'x' + j;
    var C = shape[0], H = shape[1], W = shape[2], c = Math.floor(j / (H * W)), r = Math.floor(j / W) % H, col = j % W;
    return (C > 1 ? D.channel_names[c] + ' ' : '') + 'pixel (row ' + r + ', col ' + col + ')';
  }

  // ------------------------------------------------------------------ tooltip
  var tip = $('tooltip');
  function showTip(ev, lines) {
    tip.textContent = '';
    lines.forEach(function (line, i) {
      var div = el('div');
      if (i === 0) div.appendChild(el('b', null, line)); else div.textContent = line;
      tip.appendChild(div);
    });
    tip.hidden = false;
    var x = ev.clientX + 14, y = ev.clientY + 14, w = tip.offsetWidth, h = tip.offsetHeight;
    if (x + w > window.innerWidth - 4) x = ev.clientX - w - 10;
    if (y + h > window.innerHeight - 4) y = ev.clientY - h - 10;
    tip.style.left = x + 'px';
    tip.style.top = y + 'px';
  }
  function hideTip() { tip.hidden = true; }
  function featureLines(j) {
    var here = isKept(cur, j) ? 'in the model at this point, ||theta_j|| = ' + fmtNorm(normAt(cur, j))
                              : 'not in the model at this point';
    return [featureName(j) + (D.feature_names || !shape ? '' : '  [feature ' + j + ']'),
            'importance: ' + (isFinite(imp[j]) ? 'left at lambda = ' + fmtLam(imp[j]) : 'never left (in the last model)'),
            'rank ' + rankOf[j] + ' of ' + d, here];
  }
  function setHighlight(list) {
    var same = list.length === highlight.length && list.every(function (v, i) { return v === highlight[i]; });
    if (same) return;
    highlight = list;
    redrawOverlays();
    if (tableRows) tableRows.forEach(function (row, j) { row.classList.toggle('hl', list.indexOf(j) >= 0); });
  }

  // ------------------------------------------------------------------ image panels
  var masks = [], impPanel = null, maskScale = 1;
  function panel(id, caption) {
    var fig = el('figure', { 'class': 'panel' }), cap = el('figcaption', null, caption);
    var c = el('canvas', { id: id });
    fig.appendChild(cap);
    fig.appendChild(c);
    $('masks').appendChild(fig);
    return { fig: fig, cap: cap, canvas: c, ctx: null };
  }
  function sizePanel(p) {
    var H = shape[1], W = shape[2];
    p.canvas.width = W * maskScale;
    p.canvas.height = H * maskScale;
    p.canvas.style.width = W * maskScale + 'px';
    p.canvas.style.height = H * maskScale + 'px';
    p.ctx = p.canvas.getContext('2d');
    p.small = document.createElement('canvas');
    p.small.width = W;
    p.small.height = H;
    p.sctx = p.small.getContext('2d');
    p.img = p.sctx.createImageData(W, H);
  }
  function blit(p) {
    p.sctx.putImageData(p.img, 0, 0);
    p.ctx.imageSmoothingEnabled = false;
    p.ctx.drawImage(p.small, 0, 0, p.canvas.width, p.canvas.height);
    var H = shape[1], W = shape[2], C = shape[0];
    highlight.forEach(function (j) {
      var c = Math.floor(j / (H * W));
      if (p.channel !== undefined && p.channel !== c) return;
      var r = Math.floor(j / W) % H, col = j % W;
      p.ctx.strokeStyle = '#1f6feb';
      p.ctx.lineWidth = 2;
      p.ctx.strokeRect(col * maskScale + 1, r * maskScale + 1, maskScale - 2, maskScale - 2);
    });
  }
  function setupImage() {
    var C = shape[0], H = shape[1], W = shape[2];
    maskScale = Math.max(1, Math.floor(200 / Math.max(H, W)));
    $('image-panel').hidden = false;
    for (var c = 0; c < C; c++) {
      var p = panel('mask-c' + c, C > 1 ? 'kept: ' + D.channel_names[c] : 'kept pixels');
      p.channel = c;
      sizePanel(p);
      masks.push(p);
    }
    if (C > 1) {
      var all = panel('mask-all', C === 3 ? 'kept: combined (colour = channels kept)' : 'kept: combined (share of channels kept)');
      sizePanel(all);
      all.combined = true;
      masks.push(all);
    }
    masks.forEach(function (p) { hoverImage(p); });
    // importance map (max over channels, or one channel)
    impPanel = panel('importance-map', 'importance (log lambda where it left)');
    sizePanel(impPanel);
    impPanel.combined = C > 1;
    if (C > 1) {
      var sel = el('select', { id: 'importance-channel', 'aria-label': 'importance map channel' });
      sel.appendChild(el('option', { value: '-1' }, 'max over channels'));
      for (var k = 0; k < C; k++) sel.appendChild(el('option', { value: String(k) }, D.channel_names[k]));
      sel.addEventListener('change', function () { drawImportance(+sel.value); });
      impPanel.cap.appendChild(sel);
    }
    impPanel.bar = el('canvas', { 'class': 'colorbar', id: 'importance-bar' });
    impPanel.fig.appendChild(impPanel.bar);
    hoverImage(impPanel);
    drawImportance(-1);
    var legend = $('mask-legend');
    [['kept', 'kept'], ['left', 'left at this point'], ['back', 'came (back) in at this point'],
     ['gone', 'not in the model']].forEach(function (s) {
      var span = el('span'), sw = el('span', { 'class': 'sw' });
      sw.style.background = rgb(COLORS[s[0]]);
      span.appendChild(sw);
      span.appendChild(document.createTextNode(s[1]));
      legend.appendChild(span);
    });
  }
  var impRange = null;
  function drawImportance(channel) {
    var C = shape[0], HW = shape[1] * shape[2];
    var lo = Infinity, hi = -Infinity;
    for (var j = 0; j < d; j++) if (isFinite(imp[j]) && imp[j] > 0) {
      var v = Math.log10(imp[j]);
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    if (!isFinite(lo)) { lo = 0; hi = 1; }
    if (hi - lo < 1e-9) { lo -= 0.5; hi += 0.5; }
    impRange = [lo, hi];
    impPanel.channel = channel < 0 ? undefined : channel;
    var data = impPanel.img.data;
    for (var q = 0; q < HW; q++) {
      var best = -Infinity;
      for (var c = 0; c < C; c++) {
        if (channel >= 0 && c !== channel) continue;
        var x = imp[c * HW + q];
        if (x > best) best = x;
      }
      var col = best === Infinity ? COLORS.never : lut(best > 0 ? (Math.log10(best) - lo) / (hi - lo) : 0);
      data[4 * q] = col[0]; data[4 * q + 1] = col[1]; data[4 * q + 2] = col[2]; data[4 * q + 3] = 255;
    }
    blit(impPanel);
    // colour bar
    var bar = impPanel.bar, w = impPanel.canvas.width, h = 34;
    bar.width = w; bar.height = h; bar.style.width = w + 'px'; bar.style.height = h + 'px';
    var g = bar.getContext('2d'), sw = 14, bw = w - sw - 4;
    for (var i = 0; i < bw; i++) { g.fillStyle = rgb(lut(i / (bw - 1))); g.fillRect(i, 0, 1, 10); }
    g.fillStyle = rgb(COLORS.never); g.fillRect(bw + 4, 0, sw, 10);
    g.strokeStyle = '#9aa1ad'; g.strokeRect(bw + 4.5, 0.5, sw - 1, 9);
    g.fillStyle = '#5c6577'; g.font = '11px system-ui, sans-serif'; g.textBaseline = 'top';
    g.textAlign = 'left'; g.fillText(fmtLam(Math.pow(10, lo)), 0, 13);
    g.textAlign = 'right'; g.fillText(fmtLam(Math.pow(10, hi)), bw, 13);
    g.fillText('never left', w, 24);
  }
  function drawMasks() {
    var C = shape[0], HW = shape[1] * shape[2], t = cur;
    masks.forEach(function (p) {
      var data = p.img.data;
      for (var q = 0; q < HW; q++) {
        var col;
        if (p.combined) {
          var n = 0, bits = [0, 0, 0];
          for (var c = 0; c < C; c++) if (isKept(t, c * HW + q)) { n++; if (c < 3) bits[c] = 1; }
          if (C === 3) col = [bits[0] ? 255 : COLORS.gone[0], bits[1] ? 255 : COLORS.gone[1], bits[2] ? 255 : COLORS.gone[2]];
          else { var u = COLORS.gone[0] + Math.round((245 - COLORS.gone[0]) * n / C); col = [u, u, u]; }
        } else {
          var j = p.channel * HW + q, now = isKept(t, j), before = t > 0 ? isKept(t - 1, j) : now;
          col = now ? (before ? COLORS.kept : COLORS.back) : (before ? COLORS.left : COLORS.gone);
        }
        data[4 * q] = col[0]; data[4 * q + 1] = col[1]; data[4 * q + 2] = col[2]; data[4 * q + 3] = 255;
      }
      blit(p);
    });
  }
  function hoverImage(p) {
    var H = shape[1], W = shape[2], HW = H * W, C = shape[0];
    p.canvas.addEventListener('mousemove', function (ev) {
      // offsetX/Y: from the canvas' padding edge (its border excluded), in CSS pixels
      var col = Math.floor(ev.offsetX / p.canvas.clientWidth * W), r = Math.floor(ev.offsetY / p.canvas.clientHeight * H);
      if (col < 0 || col >= W || r < 0 || r >= H) { hideTip(); return; }
      var q = r * W + col;
      if (p.channel !== undefined) {
        var j = p.channel * HW + q;
        setHighlight([j]);
        showTip(ev, featureLines(j));
      } else {
        var list = [], lines = ['pixel (row ' + r + ', col ' + col + ')'];
        for (var c = 0; c < C; c++) {
          var jj = c * HW + q;
          list.push(jj);
          var head = D.feature_names ? D.feature_names[jj] : (C > 1 ? D.channel_names[c] : 'feature ' + jj);
          lines.push(head + ': ' + (isFinite(imp[jj]) ? 'left at lambda = ' + fmtLam(imp[jj]) : 'never left') +
                     ', rank ' + rankOf[jj] + ' of ' + d + (isKept(cur, jj) ? ', kept here' : ', not kept here'));
        }
        setHighlight(list);
        showTip(ev, lines);
      }
    });
    p.canvas.addEventListener('mouseleave', function () { hideTip(); setHighlight([]); });
  }

  // ------------------------------------------------------------------ feature table (tabular data)
  var tableRows = null, tableCells = null, sortKey = 'rank', sortDir = 1;
  function setupTable() {
    $('table-panel').hidden = false;
    var body = document.querySelector('#feature-table tbody');
    tableRows = []; tableCells = [];
    var finite = [];
    for (var j = 0; j < d; j++) if (isFinite(imp[j]) && imp[j] > 0) finite.push(Math.log10(imp[j]));
    var lo = Math.min.apply(null, finite.length ? finite : [0]), hi = Math.max.apply(null, finite.length ? finite : [1]);
    for (j = 0; j < d; j++) {
      var tr = el('tr', { 'data-feature': String(j) });
      var impCell = el('td');
      var frac = !isFinite(imp[j]) ? 1 : imp[j] > 0 && hi > lo ? 0.08 + 0.82 * (Math.log10(imp[j]) - lo) / (hi - lo) : 0.08;
      var bar = el('span', { 'class': 'bar' });
      bar.style.width = Math.round(60 * frac) + 'px';
      impCell.appendChild(bar);
      impCell.appendChild(document.createTextNode(isFinite(imp[j]) ? fmtLam(imp[j]) : 'never left'));
      var cells = [el('td', null, String(rankOf[j])), el('td', null, featureName(j)), impCell, el('td'), el('td')];
      cells.forEach(function (c) { tr.appendChild(c); });
      (function (jj) {
        tr.addEventListener('mousemove', function (ev) { setHighlight([jj]); showTip(ev, featureLines(jj)); });
        tr.addEventListener('mouseleave', function () { hideTip(); setHighlight([]); });
      })(j);
      tableRows.push(tr); tableCells.push(cells);
    }
    document.querySelectorAll('#feature-table th').forEach(function (th) {
      th.addEventListener('click', function () {
        var key = th.getAttribute('data-key');
        if (key === sortKey) sortDir = -sortDir; else { sortKey = key; sortDir = key === 'name' || key === 'rank' ? 1 : -1; }
        sortTable();
      });
    });
    sortTable();
  }
  function sortTable() {
    var order = [];
    for (var j = 0; j < d; j++) order.push(j);
    var key = {
      rank: function (j) { return rankOf[j]; },
      importance: function (j) { return imp[j]; },
      norm: function (j) { return normAt(cur, j); },
      kept: function (j) { return isKept(cur, j) ? 1 : 0; },
      name: function (j) { return featureName(j); }
    }[sortKey];
    order.sort(function (a, b) {
      var x = key(a), y = key(b);
      var c = typeof x === 'string' ? x.localeCompare(y, undefined, { numeric: true }) : (x < y ? -1 : x > y ? 1 : 0);
      return c !== 0 ? sortDir * c : rankOf[a] - rankOf[b];
    });
    var body = document.querySelector('#feature-table tbody'), frag = document.createDocumentFragment();
    order.forEach(function (j) { frag.appendChild(tableRows[j]); });
    body.appendChild(frag);
    document.querySelectorAll('#feature-table th').forEach(function (th) {
      th.classList.toggle('asc', th.getAttribute('data-key') === sortKey && sortDir > 0);
      th.classList.toggle('desc', th.getAttribute('data-key') === sortKey && sortDir < 0);
    });
  }
  function drawTable() {
    var t = cur;
    for (var j = 0; j < d; j++) {
      var now = isKept(t, j), before = t > 0 ? isKept(t - 1, j) : now;
      var cls = now ? (before ? 'in' : 'back') : (before ? 'left' : 'out');
      var row = tableRows[j];
      row.className = cls + (highlight.indexOf(j) >= 0 ? ' hl' : '');
      tableCells[j][3].textContent = now ? fmtNorm(normAt(t, j)) : '0';
      tableCells[j][4].textContent = now ? (before ? 'yes' : 'yes (came back)') : (before ? 'left here' : 'no');
    }
    if (sortKey === 'norm' || sortKey === 'kept') sortTable();
  }

  // ------------------------------------------------------------------ plots
  function niceTicks(lo, hi, n) {
    var span = hi - lo;
    if (!(span > 0)) return [lo];
    var step = Math.pow(10, Math.floor(Math.log10(span / n))), err = span / n / step;
    if (err >= 7.5) step *= 10; else if (err >= 3.5) step *= 5; else if (err >= 1.5) step *= 2;
    var out = [];
    for (var v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
    return out;
  }
  function makePlot(id, margins) {
    var canvas = $(id);
    return { canvas: canvas, ctx: canvas.getContext('2d'), base: document.createElement('canvas'),
             m: margins || { l: 56, r: 18, t: 14, b: 40 }, w: 0, h: 0, dpr: 1 };
  }
  function layout(p) {
    var dpr = window.devicePixelRatio || 1, rect = p.canvas.getBoundingClientRect();
    p.w = Math.max(200, Math.round(rect.width)); p.h = Math.max(160, Math.round(rect.height));
    p.dpr = dpr;
    p.canvas.width = p.base.width = Math.round(p.w * dpr);
    p.canvas.height = p.base.height = Math.round(p.h * dpr);
    p.x0 = p.m.l; p.x1 = p.w - p.m.r; p.y0 = p.h - p.m.b; p.y1 = p.m.t;
  }
  function lin(d0, d1, r0, r1) {
    var f = function (v) { return r0 + (v - d0) / (d1 - d0 || 1) * (r1 - r0); };
    f.inv = function (r) { return d0 + (r - r0) / (r1 - r0 || 1) * (d1 - d0); };
    return f;
  }
  function ctxOf(p, base) {
    var g = (base ? p.base : p.canvas).getContext('2d');
    g.setTransform(p.dpr, 0, 0, p.dpr, 0, 0);
    return g;
  }
  function frame(g, p) {
    g.fillStyle = '#fff'; g.fillRect(0, 0, p.w, p.h);
    g.strokeStyle = '#9aa1ad'; g.lineWidth = 1;
    g.strokeRect(p.x0 + 0.5, p.y1 + 0.5, p.x1 - p.x0, p.y0 - p.y1);
    g.font = '11px system-ui, sans-serif'; g.fillStyle = '#5c6577';
  }
  function xTicks(g, p, ticks, sx, label) {
    g.textAlign = 'center'; g.textBaseline = 'top';
    var last = -1e9;
    ticks.forEach(function (t) {
      var x = sx(t[0]);
      if (x < p.x0 - 1 || x > p.x1 + 1) return;
      g.strokeStyle = '#eceef2'; g.beginPath(); g.moveTo(x + 0.5, p.y1); g.lineTo(x + 0.5, p.y0); g.stroke();
      g.strokeStyle = '#9aa1ad'; g.beginPath(); g.moveTo(x + 0.5, p.y0); g.lineTo(x + 0.5, p.y0 + 4); g.stroke();
      if (x - last >= 30) { g.fillStyle = '#5c6577'; g.fillText(t[1], x, p.y0 + 6); last = x; }
    });
    g.fillStyle = '#1d2330'; g.fillText(label, (p.x0 + p.x1) / 2, p.y0 + 22);
  }
  function yTicks(g, p, ticks, sy, label, right) {
    g.textAlign = right ? 'left' : 'right'; g.textBaseline = 'middle';
    ticks.forEach(function (t) {
      var y = sy(t[0]);
      if (y > p.y0 + 1 || y < p.y1 - 1) return;
      if (!right) { g.strokeStyle = '#eceef2'; g.beginPath(); g.moveTo(p.x0, y + 0.5); g.lineTo(p.x1, y + 0.5); g.stroke(); }
      g.fillStyle = right ? '#0f8a7e' : '#5c6577';
      g.fillText(t[1], right ? p.x1 + 6 : p.x0 - 6, y);
    });
    g.save(); g.translate(right ? p.w - 10 : 12, (p.y0 + p.y1) / 2); g.rotate(right ? Math.PI / 2 : -Math.PI / 2);
    g.textAlign = 'center'; g.textBaseline = 'middle'; g.fillStyle = right ? '#0f8a7e' : '#1d2330';
    g.fillText(label, 0, 0); g.restore();
  }
  function legend(g, p, items, atRight) {
    g.font = '11px system-ui, sans-serif'; g.textBaseline = 'middle';
    var wmax = 0;
    items.forEach(function (it) { wmax = Math.max(wmax, g.measureText(it[1]).width); });
    var bw = wmax + 34, x = atRight ? p.x1 - bw - 6 : p.x0 + 6, y = p.y1 + 6;
    g.fillStyle = 'rgba(255,255,255,.85)'; g.fillRect(x, y, bw, items.length * 15 + 6);
    items.forEach(function (it, i) {
      var yy = y + 10 + i * 15;
      g.strokeStyle = it[0]; g.lineWidth = 2; g.setLineDash(it[2] ? [4, 3] : []);
      g.beginPath(); g.moveTo(x + 6, yy); g.lineTo(x + 24, yy); g.stroke(); g.setLineDash([]);
      g.fillStyle = '#1d2330'; g.textAlign = 'left'; g.fillText(it[1], x + 29, yy);
    });
  }
  function cursorLine(g, p, x, color) {
    g.strokeStyle = color || '#1f6feb'; g.lineWidth = 1.5; g.setLineDash([]);
    g.beginPath(); g.moveTo(x, p.y1); g.lineTo(x, p.y0); g.stroke();
  }

  // lambda axis shared by the coefficient path and the CV curve: log10 lambda, lambda = 0 left of the rest
  var lamAxis = (function () {
    var pos = [];
    lam.forEach(function (l) { if (l > 0 && isFinite(l)) pos.push(Math.log10(l)); });
    var cvl = D.cv ? D.cv.lambdas.map(num).filter(function (l) { return l > 0 && isFinite(l); }).map(Math.log10) : [];
    var all = pos.concat(cvl);
    var lo = all.length ? Math.min.apply(null, all) : 0, hi = all.length ? Math.max.apply(null, all) : 1;
    if (hi - lo < 1e-9) { lo -= 0.5; hi += 0.5; }
    var steps = [];
    for (var i = 1; i < pos.length; i++) steps.push(Math.abs(pos[i] - pos[i - 1]));
    steps.sort(function (a, b) { return a - b; });
    var gap = Math.max((hi - lo) * 0.06, steps.length ? 2 * steps[steps.length >> 1] : 0.3);
    var hasZero = lam.some(function (l) { return l === 0; }) || (D.cv && D.cv.lambdas.some(function (l) { return l === 0; }));
    var zero = lo - gap;
    var u0 = hasZero ? zero : lo, pad = (hi - u0) * 0.02;
    return { u: function (l) { return l > 0 ? Math.log10(l) : zero; }, lo: u0 - pad, hi: hi + pad, zero: hasZero ? zero : null,
             ticks: function () {
               var out = [], a = Math.ceil(lo - 1e-9), b = Math.floor(hi + 1e-9), k;
               var sub = b - a < 2 ? [1, 2, 5] : [1];
               for (k = a - 1; k <= b; k++) sub.forEach(function (s) {
                 var v = k + Math.log10(s);
                 if (v >= lo - 1e-9 && v <= hi + 1e-9) out.push([v, fmtTick(Math.pow(10, v))]);
               });
               if (hasZero) out.unshift([zero, '0']);
               return out;
             } };
  })();

  // score against the number of features: x = log2(1 + n)
  var plotScore = makePlot('plot-score'), plotCoef = makePlot('plot-coef', { l: 62, r: 52, t: 14, b: 40 });
  var plotCv = D.cv ? makePlot('plot-cv') : null;
  var gN = function (n) { return Math.log2(1 + n); };
  var selRows = D.selection || [];
  var scoreSeries = [];  // {key, label, color, dashed, pts: [[n, score, pointIndex or null]]}
  function buildScoreSeries() {
    ['train', 'validation', 'test'].forEach(function (k) {
      if (!scores[k]) return;
      var pts = [];
      for (var t = 0; t < T; t++) if (isFinite(scores[k][t])) pts.push([nKept[t], scores[k][t], t]);
      if (pts.length) scoreSeries.push({ key: k, label: 'path, ' + k, color: SERIES[k], pts: pts, path: true });
    });
    [['top', 'retrained on the top-k'], ['random', 'retrained on k random']].forEach(function (s) {
      var pts = selRows.filter(function (r) { return r[s[0]] !== null && isFinite(r[s[0]]); })
                       .map(function (r) { return [r.k, r[s[0]], null]; });
      if (pts.length) scoreSeries.push({ key: s[0], label: s[1], color: SERIES[s[0]], pts: pts, dashed: s[0] === 'random' });
    });
  }
  function drawScoreBase() {
    var p = plotScore, g = ctxOf(p, true);
    frame(g, p);
    var vals = [];
    scoreSeries.forEach(function (s) { s.pts.forEach(function (q) { vals.push(q[1]); }); });
    var lo = vals.length ? Math.min.apply(null, vals) : 0, hi = vals.length ? Math.max.apply(null, vals) : 1;
    if (hi - lo < 0.02) { lo -= 0.05; hi += 0.05; }
    var pad = (hi - lo) * 0.06;
    p.sx = lin(0, gN(d) * 1.02, p.x0, p.x1);
    p.sy = lin(lo - pad, hi + pad, p.y0, p.y1);
    var ticks = [[0, '0']];
    for (var n = 1; n <= d; n *= 2) ticks.push([gN(n), String(n)]);
    if (ticks[ticks.length - 1][1] !== String(d)) ticks.push([gN(d), String(d)]);
    xTicks(g, p, ticks, p.sx, 'number of features kept (log scale)');
    yTicks(g, p, niceTicks(lo - pad, hi + pad, 6).map(function (v) { return [v, +v.toFixed(4) + '']; }), p.sy, D.metric);
    g.save(); g.beginPath(); g.rect(p.x0, p.y1, p.x1 - p.x0, p.y0 - p.y1); g.clip();
    scoreSeries.forEach(function (s) {
      g.strokeStyle = s.color; g.fillStyle = s.color; g.lineWidth = s.path ? 1.3 : 1.8;
      g.setLineDash(s.dashed ? [5, 4] : []);
      var pts = s.path ? s.pts : s.pts.slice().sort(function (a, b) { return a[0] - b[0]; });
      g.beginPath();
      pts.forEach(function (q, i) { var x = p.sx(gN(q[0])), y = p.sy(q[1]); if (i) g.lineTo(x, y); else g.moveTo(x, y); });
      g.stroke(); g.setLineDash([]);
      var r = s.path ? (T > 120 ? 1.4 : 2.4) : 3.6;
      pts.forEach(function (q) { g.beginPath(); g.arc(p.sx(gN(q[0])), p.sy(q[1]), r, 0, 2 * Math.PI); g.fill(); });
    });
    g.restore();
    legend(g, p, scoreSeries.map(function (s) { return [s.color, s.label, s.dashed]; }));
  }
  function drawScoreOverlay() {
    var p = plotScore, g = ctxOf(p, false);
    g.drawImage(p.base, 0, 0, p.w, p.h);
    var x = p.sx(gN(nKept[cur]));
    cursorLine(g, p, x);
    scoreSeries.forEach(function (s) {
      if (!s.path) return;
      var v = scores[s.key][cur];
      if (!isFinite(v)) return;
      g.fillStyle = '#fff'; g.strokeStyle = s.color; g.lineWidth = 2.2;
      g.beginPath(); g.arc(x, p.sy(v), 5, 0, 2 * Math.PI); g.fill(); g.stroke();
    });
    g.fillStyle = '#1f6feb'; g.font = '11px system-ui, sans-serif'; g.textAlign = x > p.x1 - 80 ? 'right' : 'left';
    g.textBaseline = 'bottom'; g.fillText(nKept[cur] + ' kept', x + (g.textAlign === 'right' ? -4 : 4), p.y0 - 3);
  }
  function nearestScorePoint(mx, my, pathOnly) {
    var p = plotScore, best = null, bd = Infinity;
    scoreSeries.forEach(function (s) {
      if (pathOnly && !s.path) return;
      s.pts.forEach(function (q) {
        var dx = p.sx(gN(q[0])) - mx, dy = p.sy(q[1]) - my, dd = dx * dx + dy * dy;
        if (dd < bd) { bd = dd; best = { s: s, q: q }; }
      });
    });
    return best ? { s: best.s, q: best.q, dist: Math.sqrt(bd) } : null;
  }

  // coefficient path
  var BUCKETS = 0, bucketOf = null;
  function drawCoefBase() {
    var p = plotCoef, g = ctxOf(p, true);
    frame(g, p);
    var top = 0, low = Infinity, logY = $('coef-log').checked;
    for (var i = 0; i < nv.length; i++) { var w = nv[i]; if (w > top) top = w; if (w > 0 && w < low) low = w; }
    if (!(top > 0)) { top = 1; low = 0.1; }
    p.sx = lin(lamAxis.lo, lamAxis.hi, p.x0, p.x1);
    p.sy2 = lin(0, d * 1.05, p.y0, p.y1);
    xTicks(g, p, lamAxis.ticks(), p.sx, 'lambda (log scale)');
    if (logY) {
      var l0 = Math.log10(Math.max(low, top * 1e-8)), l1 = Math.log10(top);
      if (l1 - l0 < 1) l0 = l1 - 1;
      l0 -= (l1 - l0) * 0.03; l1 += (l1 - l0) * 0.05;
      var ly = lin(l0, l1, p.y0, p.y1);
      p.sy = function (v) { return v > 0 ? Math.min(p.y0, ly(Math.log10(v))) : p.y0; };
      var yt = [];
      for (var e = Math.ceil(l0); e <= Math.floor(l1); e++) yt.push([Math.pow(10, e), fmtTick(Math.pow(10, e))]);
      if (yt.length > 7) yt = yt.filter(function (t, n) { return n % Math.ceil(yt.length / 7) === 0; });
      yTicks(g, p, yt, p.sy, '||theta_j|| (log; 0 at the bottom)');
    } else {
      p.sy = lin(0, top * 1.05, p.y0, p.y1);
      yTicks(g, p, niceTicks(0, top * 1.05, 6).map(function (v) { return [v, +v.toPrecision(3) + '']; }), p.sy, '||theta_j||');
    }
    yTicks(g, p, niceTicks(0, d * 1.05, 6).filter(function (v) { return v === Math.round(v); })
                   .map(function (v) { return [v, String(v)]; }), p.sy2, 'features kept', true);
    if (lamAxis.zero !== null) {  // the axis break between lambda = 0 and the rest
      var xb = (p.sx(lamAxis.zero) + p.sx(lamAxis.zero + (lamAxis.hi - lamAxis.zero) * 0.04)) / 2 + 6;
      g.strokeStyle = '#9aa1ad'; g.beginPath(); g.moveTo(xb - 3, p.y0 + 4); g.lineTo(xb + 1, p.y0 - 4);
      g.moveTo(xb + 1, p.y0 + 4); g.lineTo(xb + 5, p.y0 - 4); g.stroke();
    }
    var xs = lam.map(function (l) { return p.sx(lamAxis.u(l)); });
    BUCKETS = Math.min(24, d);
    g.save(); g.beginPath(); g.rect(p.x0, p.y1, p.x1 - p.x0, p.y0 - p.y1); g.clip();
    g.lineWidth = d > 400 ? 0.7 : d > 100 ? 1 : 1.4;
    g.globalAlpha = d > 400 ? 0.55 : 0.9;
    g.lineJoin = 'round';
    var sy = p.sy;
    // least important first, so that the features that stay longest are drawn on top
    for (var b = BUCKETS - 1; b >= 0; b--) {
      var u = 0.78 * (1 - b / Math.max(1, BUCKETS - 1));
      g.strokeStyle = rgb(lut(u));
      g.beginPath();
      for (var r = Math.floor(b * d / BUCKETS); r < Math.floor((b + 1) * d / BUCKETS); r++) {
        var j = ranking[r], prev = 0, open = false;
        for (var t = 0; t < T; t++) {
          var v = nv[t * d + j];
          if (v === 0 && prev === 0) { open = false; prev = v; continue; }
          var y = sy(v);
          if (!open) {
            if (t > 0) g.moveTo(xs[t - 1], sy(prev)); else g.moveTo(xs[t], y);
            open = true;
          }
          g.lineTo(xs[t], y);
          prev = v;
        }
      }
      g.stroke();
    }
    g.globalAlpha = 1;
    // features kept, right axis
    g.strokeStyle = '#0f8a7e'; g.lineWidth = 2; g.beginPath();
    for (var t2 = 0; t2 < T; t2++) { var yy = p.sy2(nKept[t2]); if (t2) g.lineTo(xs[t2], yy); else g.moveTo(xs[t2], yy); }
    g.stroke();
    g.restore();
    legend(g, p, [['rgb(249,140,10)', '||theta_j||, later to leave = brighter'], ['#0f8a7e', 'features kept (right axis)']], true);
    p.xs = xs;
  }
  function drawCoefOverlay() {
    var p = plotCoef, g = ctxOf(p, false);
    g.drawImage(p.base, 0, 0, p.w, p.h);
    var x = p.xs[cur];
    cursorLine(g, p, x);
    g.save(); g.beginPath(); g.rect(p.x0, p.y1 - 6, p.x1 - p.x0, p.y0 - p.y1 + 6); g.clip();
    highlight.slice(0, 8).forEach(function (j) {
      g.strokeStyle = '#1f6feb'; g.lineWidth = 2.5; g.beginPath();
      for (var t = 0; t < T; t++) { var y = p.sy(normAt(t, j)); if (t) g.lineTo(p.xs[t], y); else g.moveTo(p.xs[t], y); }
      g.stroke();
      g.fillStyle = '#1f6feb'; g.beginPath(); g.arc(x, p.sy(normAt(cur, j)), 4, 0, 2 * Math.PI); g.fill();
    });
    g.fillStyle = '#fff'; g.strokeStyle = '#0f8a7e'; g.lineWidth = 2;
    g.beginPath(); g.arc(x, p.sy2(nKept[cur]), 4.5, 0, 2 * Math.PI); g.fill(); g.stroke();
    g.restore();
  }
  function nearestIndexX(p, mx) {
    var best = 0, bd = Infinity;
    for (var t = 0; t < T; t++) { var dd = Math.abs(p.sx(lamAxis.u(lam[t])) - mx); if (dd < bd) { bd = dd; best = t; } }
    return best;
  }

  // cross-validation curve
  var cv = null;
  function drawCvBase() {
    var p = plotCv, g = ctxOf(p, true);
    frame(g, p);
    var lo = Infinity, hi = -Infinity;
    cv.mean.forEach(function (m, i) {
      if (!isFinite(m)) return;
      var s = isFinite(cv.se[i]) ? cv.se[i] : 0;
      lo = Math.min(lo, m - s); hi = Math.max(hi, m + s);
    });
    if (!isFinite(lo)) { lo = 0; hi = 1; }
    if (hi - lo < 1e-9) { lo -= 0.5; hi += 0.5; }
    var pad = (hi - lo) * 0.06;
    p.sx = lin(lamAxis.lo, lamAxis.hi, p.x0, p.x1);
    p.sy = lin(lo - pad, hi + pad, p.y0, p.y1);
    xTicks(g, p, lamAxis.ticks(), p.sx, 'lambda (log scale)');
    yTicks(g, p, niceTicks(lo - pad, hi + pad, 6).map(function (v) { return [v, +v.toPrecision(4) + '']; }), p.sy, cv.label);
    var order = cv.lambdas.map(function (l, i) { return i; }).filter(function (i) { return isFinite(cv.mean[i]); })
                  .sort(function (a, b) { return cv.lambdas[a] - cv.lambdas[b]; });
    g.save(); g.beginPath(); g.rect(p.x0, p.y1, p.x1 - p.x0, p.y0 - p.y1); g.clip();
    g.fillStyle = 'rgba(31,119,180,.15)'; g.beginPath();
    order.forEach(function (i, n) { var x = p.sx(lamAxis.u(cv.lambdas[i])), y = p.sy(cv.mean[i] + (cv.se[i] || 0)); if (n) g.lineTo(x, y); else g.moveTo(x, y); });
    order.slice().reverse().forEach(function (i) { g.lineTo(p.sx(lamAxis.u(cv.lambdas[i])), p.sy(cv.mean[i] - (cv.se[i] || 0))); });
    g.closePath(); g.fill();
    g.strokeStyle = '#1f77b4'; g.lineWidth = 1.6; g.beginPath();
    order.forEach(function (i, n) { var x = p.sx(lamAxis.u(cv.lambdas[i])), y = p.sy(cv.mean[i]); if (n) g.lineTo(x, y); else g.moveTo(x, y); });
    g.stroke();
    order.forEach(function (i) {
      var x = p.sx(lamAxis.u(cv.lambdas[i])), y = p.sy(cv.mean[i]), s = cv.se[i] || 0;
      g.strokeStyle = 'rgba(31,119,180,.7)'; g.lineWidth = 1; g.beginPath();
      g.moveTo(x, p.sy(cv.mean[i] - s)); g.lineTo(x, p.sy(cv.mean[i] + s)); g.stroke();
      g.fillStyle = '#1f77b4'; g.beginPath(); g.arc(x, y, 2.4, 0, 2 * Math.PI); g.fill();
    });
    var marks = [];
    if (cv.lambda_min !== null) marks.push([cv.lambda_min, '#2ca02c', [], 'lambda_min']);
    if (cv.lambda_1se !== null) marks.push([cv.lambda_1se, '#9467bd', [5, 4], 'lambda_1se']);
    marks.forEach(function (mk, i) {
      var x = p.sx(lamAxis.u(mk[0]));
      g.strokeStyle = mk[1]; g.lineWidth = 1.6; g.setLineDash(mk[2]);
      g.beginPath(); g.moveTo(x, p.y1); g.lineTo(x, p.y0); g.stroke(); g.setLineDash([]);
      g.fillStyle = mk[1]; g.font = '11px system-ui, sans-serif'; g.textBaseline = 'top';
      g.textAlign = x > (p.x0 + p.x1) / 2 ? 'right' : 'left';
      g.fillText(mk[3] + ' = ' + fmtLam(mk[0]), x + (g.textAlign === 'right' ? -4 : 4), p.y1 + 4 + 14 * i);
    });
    g.restore();
  }
  function nearestCv(l) {
    var u = lamAxis.u(l), best = -1, bd = Infinity;
    cv.lambdas.forEach(function (x, i) { var dd = Math.abs(lamAxis.u(x) - u); if (isFinite(cv.mean[i]) && dd < bd) { bd = dd; best = i; } });
    return best;
  }
  function drawCvOverlay() {
    var p = plotCv, g = ctxOf(p, false);
    g.drawImage(p.base, 0, 0, p.w, p.h);
    var x = p.sx(lamAxis.u(lam[cur]));
    cursorLine(g, p, x);
    var i = nearestCv(lam[cur]);
    if (i >= 0) {
      g.fillStyle = '#fff'; g.strokeStyle = '#1f6feb'; g.lineWidth = 2;
      g.beginPath(); g.arc(p.sx(lamAxis.u(cv.lambdas[i])), p.sy(cv.mean[i]), 5, 0, 2 * Math.PI); g.fill(); g.stroke();
    }
  }

  function plots() { return [plotScore, plotCoef].concat(plotCv ? [plotCv] : []); }
  function drawBases() {
    plots().forEach(layout);
    drawScoreBase(); drawCoefBase(); if (plotCv) drawCvBase();
  }
  function redrawOverlays() {
    if (!ready) return;
    drawScoreOverlay(); drawCoefOverlay(); if (plotCv) drawCvOverlay();
    if (shape) { masks.forEach(blit); blit(impPanel); }
  }

  function plotEvents() {
    function pos(p, ev) { var r = p.canvas.getBoundingClientRect(); return [ev.clientX - r.left, ev.clientY - r.top]; }
    var dragging = null;
    function pick(p, ev) {
      var m = pos(p, ev);
      if (p === plotScore) { var hit = nearestScorePoint(m[0], m[1], true); if (hit) setPoint(hit.q[2]); }
      else setPoint(nearestIndexX(p, m[0]));
    }
    plots().forEach(function (p) {
      p.canvas.addEventListener('mousedown', function (ev) { dragging = p; pick(p, ev); ev.preventDefault(); });
      p.canvas.addEventListener('mouseleave', function () { hideTip(); if (p === plotCoef) setHighlight([]); });
    });
    window.addEventListener('mouseup', function () { dragging = null; });
    window.addEventListener('mousemove', function (ev) { if (dragging) pick(dragging, ev); });
    plotScore.canvas.addEventListener('mousemove', function (ev) {
      var m = pos(plotScore, ev), hit = nearestScorePoint(m[0], m[1], false);
      if (!hit || hit.dist > 10) { hideTip(); return; }
      var q = hit.q;
      if (q[2] !== null) showTip(ev, ['point ' + q[2] + ': ' + hit.s.label, 'lambda = ' + fmtLam(lam[q[2]]),
                                      q[0] + ' features kept', D.metric + ' ' + fmtScore(q[1])]);
      else showTip(ev, [hit.s.label, 'k = ' + q[0] + ' features', 'test ' + D.metric + ' ' + fmtScore(q[1])]);
    });
    plotCoef.canvas.addEventListener('mousemove', function (ev) {
      var p = plotCoef, m = pos(p, ev);
      if (m[0] < p.x0 || m[0] > p.x1 || m[1] < p.y1 || m[1] > p.y0) { hideTip(); setHighlight([]); return; }
      var t = nearestIndexX(p, m[0]), best = -1, bd = Infinity;
      for (var j = 0; j < d; j++) {
        var v = nv[t * d + j];
        if (v === 0) continue;
        var dd = Math.abs(p.sy(v) - m[1]);
        if (dd < bd) { bd = dd; best = j; }
      }
      var dn = Math.abs(p.sy2(nKept[t]) - m[1]);
      if (best >= 0 && bd <= 6 && bd <= dn) {
        setHighlight([best]);
        var lines = featureLines(best);
        lines.splice(3, 1, 'at lambda = ' + fmtLam(lam[t]) + ': ||theta_j|| = ' + fmtNorm(normAt(t, best)));
        showTip(ev, lines);
      } else {
        setHighlight([]);
        showTip(ev, ['point ' + t, 'lambda = ' + fmtLam(lam[t]), nKept[t] + ' of ' + d + ' features kept']);
      }
    });
    if (plotCv) plotCv.canvas.addEventListener('mousemove', function (ev) {
      var m = pos(plotCv, ev), l = null, bd = Infinity, bi = -1;
      cv.lambdas.forEach(function (x, i) { var dd = Math.abs(plotCv.sx(lamAxis.u(x)) - m[0]); if (dd < bd) { bd = dd; bi = i; } });
      if (bi < 0 || bd > 12) { hideTip(); return; }
      l = cv.lambdas[bi];
      showTip(ev, ['lambda = ' + fmtLam(l), cv.label + ': ' + fmtScore(cv.mean[bi]) + ' +- ' + fmtScore(cv.se[bi])]);
    });
  }

  // ------------------------------------------------------------------ the point
  var slider = $('slider');
  function setPoint(i) {
    i = Math.max(0, Math.min(T - 1, Math.round(+i)));
    if (!isFinite(i)) return;
    cur = i;
    if (+slider.value !== i) slider.value = String(i);
    $('r-point').textContent = i + ' of ' + (T - 1) + (D.best_index === i ? '  (fitted model)' : '');
    $('r-lambda').textContent = fmtLam(lam[i]);
    $('r-kept').textContent = nKept[i] + ' of ' + d + ' (' + (100 * nKept[i] / d).toFixed(nKept[i] * 1000 < d ? 2 : 1) + '%)';
    var left = 0, back = 0;
    if (i > 0) for (var j = 0; j < d; j++) {
      var a = isKept(i - 1, j), b = isKept(i, j);
      if (a && !b) left++; else if (b && !a) back++;
    }
    $('r-change').textContent = i === 0 ? '-' : (left ? left + ' left' : '') + (left && back ? ', ' : '') +
      (back ? back + ' came back' : '') + (left || back ? '' : 'no change');
    scoreKeys.forEach(function (k) { $('r-' + k).textContent = fmtScore(scores[k][i]); });
    if (D.epochs) $('r-epochs').textContent = String(D.epochs[i]);
    if (cv) {
      var ci = nearestCv(lam[i]);
      $('r-cv').textContent = ci < 0 ? '-' : fmtScore(cv.mean[ci]) + ' +- ' + fmtScore(cv.se[ci]);
    }
    if (shape) drawMasks(); else drawTable();
    drawScoreOverlay(); drawCoefOverlay(); if (plotCv) drawCvOverlay();
  }
  function state() {
    var mask = new Array(d);
    for (var j = 0; j < d; j++) mask[j] = isKept(cur, j) ? 1 : 0;
    var s = {};
    scoreKeys.forEach(function (k) { var v = scores[k][cur]; s[k] = isFinite(v) ? v : null; });
    return { index: cur, lambda: lam[cur], n_kept: nKept[cur], n_features: d, mask: mask, scores: s,
             slider: +slider.value };
  }

  function setupControls() {
    slider.max = String(T - 1);
    slider.addEventListener('input', function () { setPoint(+slider.value); });
    $('prev').addEventListener('click', function () { setPoint(cur - 1); });
    $('next').addEventListener('click', function () { setPoint(cur + 1); });
    var timer = null, play = $('play');
    function stop() { if (timer) clearInterval(timer); timer = null; play.textContent = 'play'; }
    play.addEventListener('click', function () {
      if (timer) { stop(); return; }
      if (cur >= T - 1) setPoint(0);
      play.textContent = 'pause';
      timer = setInterval(function () { if (cur >= T - 1) stop(); else setPoint(cur + 1); }, T > 150 ? 60 : 160);
    });
    document.addEventListener('keydown', function (ev) {
      var tag = ev.target && ev.target.tagName;
      if (ev.target === slider || tag === 'SELECT' || tag === 'TEXTAREA' || (tag === 'INPUT' && ev.target !== slider)) return;
      var step = { ArrowLeft: -1, ArrowDown: -1, ArrowRight: 1, ArrowUp: 1, PageDown: -10, PageUp: 10 }[ev.key];
      if (step !== undefined) { setPoint(cur + step); ev.preventDefault(); }
      else if (ev.key === 'Home') { setPoint(0); ev.preventDefault(); }
      else if (ev.key === 'End') { setPoint(T - 1); ev.preventDefault(); }
    });
    $('coef-log').addEventListener('change', function () { layout(plotCoef); drawCoefBase(); drawCoefOverlay(); });
    var pending = null;
    window.addEventListener('resize', function () {
      clearTimeout(pending);
      pending = setTimeout(function () { drawBases(); redrawOverlays(); }, 120);
    });
  }

  function setupText() {
    $('title').textContent = D.title;
    $('info').textContent = D.info.join(' | ');
    $('cap-score').textContent = D.metric + ' against the number of features kept' +
      (selRows.length ? ': the path\'s own models and networks retrained on k features' : ': the path\'s own models');
    ['train', 'validation', 'test'].forEach(function (k) {
      $('k-' + k).textContent = k + ' ' + D.metric;
      if (!scores[k]) $('c-' + k).hidden = true;
    });
    if (!D.epochs) $('c-epochs').hidden = true;
    if (D.cv) {
      cv = { lambdas: D.cv.lambdas.map(num), mean: D.cv.mean.map(num), se: D.cv.se.map(num), label: D.cv.label,
             lambda_min: D.cv.lambda_min, lambda_1se: D.cv.lambda_1se };
      $('fig-cv').hidden = false;
      $('c-cv').hidden = false;
      $('k-cv').textContent = D.cv.label + ' (nearest lambda)';
      $('cap-cv').textContent = 'Cross-validation' + (D.cv.n_folds ? ' (' + D.cv.n_folds + ' folds)' : '') +
        ': ' + D.cv.label + ' against lambda, +- one standard error; lambda_min and lambda_1se';
    }
  }

  var api = {
    get ready() { return ready; },
    loadMs: null,
    nPoints: T,
    nFeatures: d,
    imageShape: shape,
    colors: COLORS,
    maskScale: function () { return maskScale; },
    setPoint: function (i) { setPoint(i); return state(); },
    state: state,
    feature: function (j) { return { name: featureName(j), importance: imp[j], rank: rankOf[j] }; }
  };
  window.explorer = api;

  Promise.all([decode(D.norms), decode(D.importance), decode(D.ranking)]).then(function (arrs) {
    norms = arrs[0]; imp = arrs[1]; ranking = arrs[2];
    nv = new Float32Array(norms.length);
    if (D.norm_log10) {
      var lo = D.norm_log10[0], step = (D.norm_log10[1] - lo) / 65534;
      for (var q = 0; q < norms.length; q++) if (norms[q] > 0) nv[q] = Math.pow(10, lo + (norms[q] - 1) * step);
    }
    if (norms.length !== T * d || imp.length !== d || ranking.length !== d) throw new Error('the embedded arrays have the wrong size');
    rankOf = new Int32Array(d);
    for (var r = 0; r < d; r++) rankOf[ranking[r]] = r + 1;
    nKept = new Int32Array(T);
    for (var t = 0; t < T; t++) { var n = 0; for (var j = 0; j < d; j++) if (norms[t * d + j] > 0) n++; nKept[t] = n; }
    setupText();
    buildScoreSeries();
    if (shape) setupImage(); else setupTable();
    setupControls();
    drawBases();
    plotEvents();
    ready = true;
    setPoint(D.best_index === null || D.best_index === undefined ? 0 : D.best_index);
    api.loadMs = performance.now();
    document.body.setAttribute('data-ready', '1');
  }).catch(function (err) {
    showError(err && err.message ? err.message : String(err));
    console.error(err);
  });
})();
