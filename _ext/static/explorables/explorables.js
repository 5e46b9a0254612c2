/* Explorables: figures a reader can move (see _ext/explorables.py).
 *
 * Plain JavaScript drawing SVG; no library, nothing fetched. Each
 * <figure class="explorable" data-explorable="NAME"> is built by BUILDERS[NAME]: native
 * labelled controls (<input type="range">, <select>), an SVG plot, and a status
 * paragraph (aria-live) that states the current values in words, the text alternative
 * of the plot. Curves differ by line style and marker as well as colour (Okabe-Ito
 * palette, set in explorables.css). When every figure on the page is ready the script
 * sets data-ready on it and document.documentElement.dataset.explorablesReady (to the
 * time since navigation started, in ms).
 */
(function () {
  "use strict";

  const SVGNS = "http://www.w3.org/2000/svg";
  let uid = 0;

  function html(tag, attrs, parent, text) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    if (parent) parent.appendChild(node);
    return node;
  }

  function svg(tag, attrs, parent, text) {
    const node = document.createElementNS(SVGNS, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    if (parent) parent.appendChild(node);
    return node;
  }

  /** A number with `digits` decimals, a true minus sign, and words for infinity. */
  function fmt(value, digits) {
    if (value === Infinity) return "infinite";
    const text = value.toFixed(digits);
    return (/^-0\.?0*$/.test(text) ? text.slice(1) : text).replace("-", "\u2212");
  }

  /* ---------------------------------------------------------------- controls */

  /** A labelled range input; `show(value)` is its visible and spoken value. */
  function slider(box, { label, min, max, step, value, show, onInput }) {
    const id = `explorable-control-${++uid}`;
    const row = html("div", { class: "explorable-control" }, box);
    const lab = html("label", { for: id }, row, `${label}: `);
    const out = html("output", { for: id }, lab);
    const input = html(
      "input",
      { type: "range", id, min, max, step, value: String(value) },
      row,
    );
    const update = () => {
      const text = show(Number(input.value));
      out.textContent = text;
      input.setAttribute("aria-valuetext", text);
    };
    input.addEventListener("input", () => {
      update();
      onInput();
    });
    update();
    return input;
  }

  /** A labelled select; `options` are [value, text] pairs. */
  function choice(box, { label, options, value, onInput }) {
    const id = `explorable-control-${++uid}`;
    const row = html("div", { class: "explorable-control" }, box);
    html("label", { for: id }, row, label);
    const select = html("select", { id }, row);
    for (const [v, text] of options) html("option", { value: v }, select, text);
    select.value = value;
    select.addEventListener("change", onInput);
    return select;
  }

  /* -------------------------------------------------------------------- plot */

  const MARKERS = {
    circle: (g, x, y, cls) => svg("circle", { cx: x, cy: y, r: 3.5, class: cls }, g),
    square: (g, x, y, cls) =>
      svg("rect", { x: x - 3.5, y: y - 3.5, width: 7, height: 7, class: cls }, g),
    triangle: (g, x, y, cls) =>
      svg("path", { d: `M${x},${y - 4.5}L${x + 4.5},${y + 3.5}L${x - 4.5},${y + 3.5}Z`, class: cls }, g),
    cross: (g, x, y, cls) =>
      svg("path", { d: `M${x - 4},${y - 4}L${x + 4},${y + 4}M${x - 4},${y + 4}L${x + 4},${y - 4}`, class: `${cls} cross` }, g),
  };

  /** An SVG plot with linear axes that redraws its data on every `draw(spec)`. */
  class Plot {
    constructor(box, { label, describedBy, width = 560, height = 300 }) {
      this.w = width;
      this.h = height;
      this.m = { left: 58, right: 14, top: 12, bottom: 46 };
      this.svg = svg("svg", {
        class: "explorable-plot", viewBox: `0 0 ${width} ${height}`, role: "img",
        "aria-label": label, "aria-describedby": describedBy, focusable: "false",
      }, box);
      this.clipId = `explorable-clip-${++uid}`;
      const clip = svg("clipPath", { id: this.clipId }, svg("defs", {}, this.svg));
      svg("rect", {
        x: this.m.left, y: this.m.top,
        width: width - this.m.left - this.m.right, height: height - this.m.top - this.m.bottom,
      }, clip);
    }

    sx(x) {
      const [a, b] = this.xDomain;
      return this.m.left + ((x - a) / (b - a)) * (this.w - this.m.left - this.m.right);
    }

    sy(y) {
      const [a, b] = this.yDomain;
      return this.h - this.m.bottom - ((y - a) / (b - a)) * (this.h - this.m.top - this.m.bottom);
    }

    /** spec: x, y (domains), xLabel, yLabel, xTicks, yTicks ([value, text]),
     *  lines [{points, cls, dash, marker, every, label}], bars [{x, width, y, cls, text}],
     *  points [{x, y, cls, marker}], areas [{points, cls, label}]. */
    draw(spec) {
      this.xDomain = spec.x;
      this.yDomain = spec.y;
      if (this.layer) this.layer.remove();
      const g = (this.layer = svg("g", {}, this.svg));
      const axes = svg("g", { class: "axes" }, g);
      const [x0, x1] = [this.sx(spec.x[0]), this.sx(spec.x[1])];
      const [y0, y1] = [this.sy(spec.y[0]), this.sy(spec.y[1])];
      svg("path", { d: `M${x0},${y1}V${y0}H${x1}`, class: "axis" }, axes);
      for (const [v, text] of spec.xTicks) {
        const x = this.sx(v);
        svg("path", { d: `M${x},${y0}v5`, class: "axis" }, axes);
        svg("text", { x, y: y0 + 17, "text-anchor": "middle" }, axes, text);
      }
      for (const [v, text] of spec.yTicks) {
        const y = this.sy(v);
        svg("path", { d: `M${x0},${y}h-5`, class: "axis" }, axes);
        svg("path", { d: `M${x0},${y}H${x1}`, class: "grid" }, axes);
        svg("text", { x: x0 - 8, y: y + 4, "text-anchor": "end" }, axes, text);
      }
      svg("text", { x: (x0 + x1) / 2, y: this.h - 8, "text-anchor": "middle" }, axes, spec.xLabel);
      svg("text", {
        x: 0, y: 0, "text-anchor": "middle",
        transform: `translate(14,${(y0 + y1) / 2}) rotate(-90)`,
      }, axes, spec.yLabel);

      const data = svg("g", { "clip-path": `url(#${this.clipId})` }, g);
      for (const area of spec.areas || []) {
        const pts = area.points.map(([x, y]) => `${this.sx(x)},${this.sy(y)}`);
        const first = area.points[0][0];
        const last = area.points[area.points.length - 1][0];
        svg("path", {
          d: `M${this.sx(first)},${y0}L${pts.join("L")}L${this.sx(last)},${y0}Z`,
          class: `area ${area.cls}`,
        }, data);
      }
      for (const bar of spec.bars || []) {
        const top = this.sy(bar.y);
        const left = this.sx(bar.x - bar.width / 2);
        svg("rect", {
          x: left, y: top, width: this.sx(bar.x + bar.width / 2) - left,
          height: Math.max(0, y0 - top), class: `bar ${bar.cls}`,
        }, data);
        svg("text", { x: this.sx(bar.x), y: Math.max(top - 5, y1 + 11), "text-anchor": "middle", class: "value" }, g, bar.text);
      }
      for (const line of spec.lines || []) {
        const pts = line.points.filter(([, y]) => Number.isFinite(y));
        if (pts.length < 2) continue;
        const d = "M" + pts.map(([x, y]) => `${this.sx(x).toFixed(2)},${this.sy(y).toFixed(2)}`).join("L");
        const attrs = { d, class: `line ${line.cls}` };
        if (line.dash) attrs["stroke-dasharray"] = line.dash;
        svg("path", attrs, data);
        if (line.marker) {
          const every = line.every || 1;
          pts.forEach(([x, y], i) => {
            if (i % every === 0) MARKERS[line.marker](data, this.sx(x), this.sy(y), `mark ${line.cls}`);
          });
        }
      }
      for (const p of spec.points || []) MARKERS[p.marker](data, this.sx(p.x), this.sy(p.y), `mark ${p.cls}`);
      this.legend(g, spec.legend || []);
    }

    /** Legend entries [{label, cls, dash, marker, area}] in rows below the plot, so
     *  that they never hide data; the SVG grows by the rows it needs. */
    legend(g, entries) {
      let x = this.m.left;
      let row = 0;
      const placed = entries.map((e) => {
        const width = 40 + 7 * e.label.length;
        if (x + width > this.w && x > this.m.left) {
          x = this.m.left;
          row += 1;
        }
        const at = { e, x, y: this.h + 4 + 20 * row };
        x += width + 14;
        return at;
      });
      this.svg.setAttribute("viewBox", `0 0 ${this.w} ${this.h + (entries.length ? 20 * (row + 1) + 4 : 0)}`);
      const box = svg("g", { class: "legend" }, g);
      for (const { e, x, y } of placed) {
        if (e.area) svg("rect", { x, y: y - 5, width: 26, height: 10, class: `area ${e.cls}` }, box);
        else {
          const attrs = { d: `M${x},${y}h26`, class: `line ${e.cls}` };
          if (e.dash) attrs["stroke-dasharray"] = e.dash;
          svg("path", attrs, box);
        }
        if (e.marker) MARKERS[e.marker](box, x + 13, y, `mark ${e.cls}`);
        svg("text", { x: x + 32, y: y + 4 }, box, e.label);
      }
    }
  }

  function ticks(lo, hi, step, digits) {
    const out = [];
    for (let v = lo; v <= hi + 1e-9; v += step) out.push([v, fmt(v, digits)]);
    return out;
  }

  function sigmoid(z) {
    return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
  }

  /* ------------------------------------------------------------- explorables */

  /** Softmax of four logits divided by a temperature, with its entropy. */
  function softmaxTemperature(ctx) {
    const z = [3, 1, 0.2, -1];
    const temperature = (k) => Math.pow(2, k / 4);
    const plot = ctx.plot("Bar chart of the softmax probabilities of four classes");
    const redraw = () => {
      const t = temperature(Number(tInput.value));
      const scaled = z.map((v) => v / t);
      const top = Math.max(...scaled);
      const e = scaled.map((v) => Math.exp(v - top)); // the max shift: no overflow
      const total = e.reduce((a, b) => a + b, 0);
      const p = e.map((v) => v / total);
      const entropy = -p.reduce((acc, v) => acc + (v > 0 ? v * Math.log(v) : 0), 0);
      plot.draw({
        x: [0.4, 4.6], y: [0, 1.08], xLabel: "class (logit z)", yLabel: "probability",
        xTicks: z.map((v, i) => [i + 1, `class ${i + 1} (z = ${fmt(v, 1)})`]),
        yTicks: ticks(0, 1, 0.25, 2),
        bars: p.map((v, i) => ({ x: i + 1, width: 0.6, y: v, cls: "s1", text: fmt(v, 3) })),
      });
      ctx.status(
        `Temperature T = ${fmt(t, 2)}, logits (${z.map((v) => fmt(v, 1)).join(", ")}): ` +
        `probabilities ${p.map((v) => fmt(v, 3)).join(", ")}; entropy ${fmt(entropy, 3)} nats ` +
        `(0 for one certain class, at most ln 4 = ${fmt(Math.log(4), 3)} for four equal ones).`,
      );
    };
    const tInput = ctx.slider({
      label: "Temperature", min: -12, max: 16, step: 1, value: 0,
      show: (k) => `T = ${fmt(temperature(k), 2)}`, onInput: redraw,
    });
    const zInputs = z.map((v, i) => ctx.slider({
      label: `Logit of class ${i + 1}`, min: -5, max: 5, step: 0.1, value: v,
      show: (x) => `z${i + 1} = ${fmt(x, 1)}`,
      onInput: () => {
        z[i] = Number(zInputs[i].value);
        redraw();
      },
    }));
    redraw();
  }

  /** Nielsen's saturated neuron: one sigmoid unit, input 1, target 0, 300 steps. */
  function saturatedNeuron(ctx) {
    const etas = [0.01, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 1, 2];
    const steps = 300;
    const plot = ctx.plot("Line chart of the neuron's output over the gradient-descent steps");
    const run = (w, b, eta, quadratic) => {
      const out = [];
      for (let k = 0; k < steps; k++) {
        const a = sigmoid(w + b); // x = 1
        // dC/dz: the quadratic cost keeps the factor sigma'(z) = a(1 - a); CE cancels it.
        const dz = quadratic ? a * a * (1 - a) : a;
        w -= eta * dz;
        b -= eta * dz;
        out.push(sigmoid(w + b));
      }
      return out;
    };
    const firstBelow = (a) => {
      const k = a.findIndex((v) => v < 0.1);
      return k < 0 ? `not within ${steps} steps` : `at step ${k + 1}`;
    };
    const redraw = () => {
      const w = Number(wInput.value);
      const b = Number(bInput.value);
      const eta = etas[Number(etaInput.value)];
      const quad = run(w, b, eta, true);
      const ce = run(w, b, eta, false);
      const pts = (a) => [[0, sigmoid(w + b)], ...a.map((v, k) => [k + 1, v])];
      plot.draw({
        x: [0, steps], y: [0, 1], xLabel: "gradient-descent step", yLabel: "output a (target 0)",
        xTicks: ticks(0, steps, 50, 0), yTicks: ticks(0, 1, 0.25, 2),
        lines: [
          { points: pts(quad), cls: "s1", marker: "circle", every: 30 },
          { points: pts(ce), cls: "s2", dash: "7 4", marker: "square", every: 30 },
        ],
        legend: [
          { label: "quadratic cost", cls: "s1", marker: "circle" },
          { label: "cross-entropy", cls: "s2", dash: "7 4", marker: "square" },
        ],
      });
      ctx.status(
        `Start w = ${fmt(w, 2)}, b = ${fmt(b, 2)}, output ${fmt(sigmoid(w + b), 3)}, ` +
        `learning rate ${eta}. After ${steps} steps the output is ${fmt(quad[steps - 1], 3)} ` +
        `with the quadratic cost and ${fmt(ce[steps - 1], 3)} with cross-entropy. First below ` +
        `0.1: quadratic ${firstBelow(quad)}, cross-entropy ${firstBelow(ce)}.`,
      );
    };
    const wInput = ctx.slider({
      label: "Starting weight", min: -4, max: 4, step: 0.25, value: 2,
      show: (v) => `w = ${fmt(v, 2)}`, onInput: redraw,
    });
    const bInput = ctx.slider({
      label: "Starting bias", min: -4, max: 4, step: 0.25, value: 2,
      show: (v) => `b = ${fmt(v, 2)}`, onInput: redraw,
    });
    const etaInput = ctx.slider({
      label: "Learning rate", min: 0, max: etas.length - 1, step: 1, value: 4,
      show: (k) => `\u03b7 = ${etas[k]}`, onInput: redraw,
    });
    redraw();
  }

  /** One Gaussian fitted to two peaks both ways; the fits come from the build. */
  function klForwardReverse(ctx) {
    const { x: [lo, hi, n], width, fits } = ctx.data;
    const xs = Array.from({ length: n }, (_, i) => lo + ((hi - lo) * i) / (n - 1));
    const gaussian = (mu, sigma) => {
      const w = xs.map((x) => Math.exp(-0.5 * ((x - mu) / sigma) ** 2));
      const total = w.reduce((a, b) => a + b, 0);
      return w.map((v) => v / total); // discretised and normalised, as in the chapter
    };
    const target = (s) => {
      const a = gaussian(-s / 2, width);
      const b = gaussian(s / 2, width);
      return a.map((v, i) => 0.5 * (v + b[i]));
    };
    const top = 1.1 * Math.max(...fits.flatMap((f) => [
      ...target(f.s), ...gaussian(f.fwd[0], f.fwd[1]), ...gaussian(f.rev[0], f.rev[1]),
    ]));
    const plot = ctx.plot("Line chart of a two-peaked target and its forward and reverse KL fits");
    const start = Math.max(0, fits.findIndex((f) => f.s === 4));
    const redraw = () => {
      const f = fits[Number(sInput.value)];
      const zip = (ys) => xs.map((x, i) => [x, ys[i]]);
      plot.draw({
        x: [-6, 6], y: [0, top], xLabel: "x", yLabel: "probability",
        xTicks: ticks(-6, 6, 1, 0), yTicks: ticks(0, top, 0.01, 2),
        areas: [{ points: zip(target(f.s)), cls: "s0" }],
        lines: [
          { points: zip(gaussian(f.fwd[0], f.fwd[1])), cls: "s1", marker: "circle", every: 12 },
          { points: zip(gaussian(f.rev[0], f.rev[1])), cls: "s2", dash: "7 4", marker: "square", every: 12 },
        ],
        legend: [
          { label: "target p", cls: "s0", area: true },
          { label: "forward fit, min KL(p\u2016q)", cls: "s1", marker: "circle" },
          { label: "reverse fit, min KL(q\u2016p)", cls: "s2", dash: "7 4", marker: "square" },
        ],
      });
      ctx.status(
        `Peaks at \u00b1${fmt(f.s / 2, 2)}. Forward fit: mean ${fmt(f.fwd[0], 2)}, standard ` +
        `deviation ${fmt(f.fwd[1], 2)}, KL(p\u2016q) = ${fmt(f.fwd[2], 3)} nats. Reverse fit: ` +
        `mean ${fmt(f.rev[0], 2)}, standard deviation ${fmt(f.rev[1], 2)}, ` +
        `KL(q\u2016p) = ${fmt(f.rev[2], 3)} nats.`,
      );
    };
    const sInput = ctx.slider({
      label: "Distance between the peaks", min: 0, max: fits.length - 1, step: 1, value: start,
      show: (k) => `s = ${fmt(fits[k].s, 2)}`, onInput: redraw,
    });
    redraw();
  }

  /** Binary cross-entropy of one prediction, with and without clipping into [eps, 1-eps]. */
  function bceClipping(ctx) {
    const plot = ctx.plot("Line chart of the binary cross-entropy against the predicted probability");
    const loss = (p, y) => -(y === 1 ? Math.log(p) : Math.log1p(-p));
    const redraw = () => {
      const y = Number(yInput.value);
      const eps = Number(epsInput.value);
      const p = Number(pInput.value);
      const clip = (q) => Math.min(Math.max(q, eps), 1 - eps);
      const grid = Array.from({ length: 401 }, (_, i) => i / 400);
      const ymax = 6;
      const cut = (v) => Math.min(v, ymax * 2); // keeps infinite values drawable, clipped away
      plot.draw({
        x: [0, 1], y: [0, ymax], xLabel: "predicted probability p of class 1",
        yLabel: "loss (nats)", xTicks: ticks(0, 1, 0.2, 1), yTicks: ticks(0, ymax, 1, 0),
        lines: [
          { points: grid.map((q) => [q, cut(loss(q, y))]), cls: "s1", marker: "circle", every: 40 },
          { points: grid.map((q) => [q, cut(loss(clip(q), y))]), cls: "s2", dash: "7 4", marker: "square", every: 40 },
        ],
        points: [
          { x: p, y: Math.min(loss(p, y), ymax), cls: "s1 current", marker: "circle" },
          { x: p, y: Math.min(loss(clip(p), y), ymax), cls: "s2 current", marker: "square" },
        ],
        legend: [
          { label: "exact", cls: "s1", marker: "circle" },
          { label: `clipped, \u03b5 = ${epsInput.selectedOptions[0].text}`, cls: "s2", dash: "7 4", marker: "square" },
        ],
      });
      const clipped = p < eps || p > 1 - eps;
      ctx.status(
        `Label y = ${y}, prediction p = ${fmt(p, 2)}: exact loss ${fmt(loss(p, y), 3)} nats, ` +
        `clipped loss ${fmt(loss(clip(p), y), 3)} nats. Gradient with respect to the logit: ` +
        `exact ${fmt(p - y, 2)}, clipped ${clipped ? "0 (the clip is active: no signal)" : fmt(p - y, 2)}.`,
      );
    };
    const yInput = choice(ctx.controls, {
      label: "Label y", options: [["1", "1 (the example is class 1)"], ["0", "0"]],
      value: "1", onInput: redraw,
    });
    const epsInput = choice(ctx.controls, {
      label: "Clipping \u03b5",
      options: [["0", "none"], ["1e-7", "10\u207b\u2077"], ["0.001", "10\u207b\u00b3"],
        ["0.01", "0.01"], ["0.1", "0.1"]],
      value: "0.1", onInput: redraw,
    });
    const pInput = ctx.slider({
      label: "Predicted probability", min: 0, max: 1, step: 0.01, value: 0.05,
      show: (v) => `p = ${fmt(v, 2)}`, onInput: redraw,
    });
    redraw();
  }

  /** Weighted least squares of y on (x, 1): the step of IRLS. Returns [slope, intercept]. */
  function weightedLine(x, y, w) {
    let sw = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
    x.forEach((xi, i) => {
      sw += w[i]; sx += w[i] * xi; sy += w[i] * y[i];
      sxx += w[i] * xi * xi; sxy += w[i] * xi * y[i];
    });
    const slope = (sw * sxy - sx * sy) / (sw * sxx - sx * sx);
    return [slope, (sy - slope * sx) / sw];
  }

  /** Minimiser of sum rho(residual) by IRLS, given the weight psi(r)/r of the loss. */
  function irls(x, y, weight) {
    let line = weightedLine(x, y, x.map(() => 1));
    for (let k = 0; k < 500; k++) {
      const w = x.map((xi, i) => weight(Math.abs(y[i] - line[0] * xi - line[1])));
      const next = weightedLine(x, y, w);
      const moved = Math.abs(next[0] - line[0]) + Math.abs(next[1] - line[1]);
      line = next;
      if (moved < 1e-12) break;
    }
    return line;
  }

  /** The chapter's outlier line fit under L2, L1 and Huber(delta) = delta * smooth L1(beta = delta). */
  function regressionOutliers(ctx) {
    const { x, y, outlier } = ctx.data;
    const plot = ctx.plot("Scatter plot of 40 points with lines fitted under four losses");
    const l2 = weightedLine(x, y, x.map(() => 1));
    // L1: weight 1/|r|, floored so that a point on the line does not divide by zero.
    const l1 = irls(x, y, (r) => 1 / Math.max(r, 1e-9));
    const redraw = () => {
      const delta = Number(dInput.value);
      // Huber's psi(r)/r is min(1, delta/|r|); smooth L1 with beta = delta is Huber/delta,
      // so its weights are those divided by delta and its minimiser is the same line.
      const huber = irls(x, y, (r) => Math.min(1, delta / Math.max(r, 1e-300)));
      const seg = ([a, b]) => [[0, b], [1, a + b]];
      const capped = x.filter((xi, i) => Math.abs(y[i] - huber[0] * xi - huber[1]) > delta).length;
      plot.draw({
        x: [0, 1], y: [-3, 4.6], xLabel: "x", yLabel: "y",
        xTicks: ticks(0, 1, 0.2, 1), yTicks: ticks(-3, 4, 1, 0),
        lines: [
          { points: seg([3, 1]), cls: "s0", dash: "2 3" },
          { points: seg(l2), cls: "s1" },
          { points: seg(l1), cls: "s2", dash: "7 4" },
          { points: seg(huber), cls: "s3", dash: "12 3 3 3" },
        ],
        points: x.map((xi, i) => ({ x: xi, y: y[i], cls: outlier[i] ? "s4" : "s0", marker: outlier[i] ? "cross" : "circle" })),
        legend: [
          { label: "true line y = 3x + 1", cls: "s0", dash: "2 3" },
          { label: "L2 fit", cls: "s1" },
          { label: "L1 fit", cls: "s2", dash: "7 4" },
          { label: "Huber \u03b4 = smooth L1 \u03b2 fit", cls: "s3", dash: "12 3 3 3" },
          { label: "outlier", cls: "s4", marker: "cross" },
        ],
      });
      ctx.status(
        `\u03b4 = \u03b2 = ${fmt(delta, 2)}. Slopes (true 3): L2 ${fmt(l2[0], 2)}, L1 ${fmt(l1[0], 2)}, ` +
        `Huber and smooth L1 ${fmt(huber[0], 2)}; intercepts (true 1): L2 ${fmt(l2[1], 2)}, ` +
        `L1 ${fmt(l1[1], 2)}, Huber and smooth L1 ${fmt(huber[1], 2)}. ${capped} of the 40 ` +
        `points have a residual larger than \u03b4 and pull with a capped force.`,
      );
    };
    const dInput = ctx.slider({
      label: "Huber \u03b4, equal to smooth L1 \u03b2", min: 0.05, max: 4, step: 0.05, value: 0.5,
      show: (v) => `\u03b4 = ${fmt(v, 2)}`, onInput: redraw,
    });
    redraw();
  }

  /** Logistic regression on separable points, mean CE + (lambda/2)|w|^2, fitted by Newton. */
  function logisticBoundary(ctx) {
    const { x1, x2, label } = ctx.data;
    const n = label.length;
    const lambdas = [0, 1e-4, 3e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1];
    const newtonSteps = 30;
    const objective = (t, lam) => {
      let total = 0;
      for (let i = 0; i < n; i++) {
        const z = t[0] * x1[i] + t[1] * x2[i] + t[2];
        const m = label[i] ? z : -z; // loss log(1 + e^{-m}), computed without overflow
        total += m > 0 ? Math.log1p(Math.exp(-m)) : -m + Math.log1p(Math.exp(m));
      }
      return total / n + 0.5 * lam * (t[0] * t[0] + t[1] * t[1]);
    };
    const fit = (lam) => {
      let t = [0, 0, 0];
      const norms = [];
      for (let k = 0; k < newtonSteps; k++) {
        const g = [lam * t[0], lam * t[1], 0];
        const H = [[lam, 0, 0], [0, lam, 0], [0, 0, 0]];
        for (let i = 0; i < n; i++) {
          const v = [x1[i], x2[i], 1];
          const p = sigmoid(t[0] * v[0] + t[1] * v[1] + t[2]);
          for (let a = 0; a < 3; a++) {
            g[a] += ((p - label[i]) * v[a]) / n;
            for (let b = 0; b < 3; b++) H[a][b] += (p * (1 - p) * v[a] * v[b]) / n;
          }
        }
        for (let a = 0; a < 3; a++) H[a][a] += 1e-12; // keeps the solve defined at lambda = 0
        const step = solve3(H, g);
        // Halve the Newton step until the objective decreases (plain Newton can overshoot).
        let s = 1;
        const f0 = objective(t, lam);
        let next = t.map((v, a) => v - step[a]);
        while (objective(next, lam) > f0 && s > 1e-6) {
          s /= 2;
          next = t.map((v, a) => v - s * step[a]);
        }
        t = next;
        norms.push(Math.hypot(t[0], t[1]));
        if (Math.hypot(...g) < 1e-12) break;
      }
      return { t, norms };
    };
    const plot = ctx.plot("Scatter plot of two classes of points with the fitted decision boundary");
    const redraw = () => {
      const lam = lambdas[Number(lInput.value)];
      const { t, norms } = fit(lam);
      const norm = norms[norms.length - 1];
      // Points with w.x + b = c, for c = 0 (the boundary) and c = ±ln 9 (p = 0.9 and 0.1).
      const level = (c) => {
        if (Math.abs(t[1]) > Math.abs(t[0])) {
          return [-3.5, 3.5].map((u) => [u, (c - t[2] - t[0] * u) / t[1]]);
        }
        return [-3.5, 3.5].map((v) => [(c - t[2] - t[1] * v) / t[0], v]);
      };
      const right = label.filter((c, i) => (t[0] * x1[i] + t[1] * x2[i] + t[2] > 0) === (c === 1)).length;
      plot.draw({
        x: [-3, 3], y: [-3, 3], xLabel: "x\u2081", yLabel: "x\u2082",
        xTicks: ticks(-3, 3, 1, 0), yTicks: ticks(-3, 3, 1, 0),
        lines: [
          { points: level(0), cls: "s0" },
          { points: level(Math.log(9)), cls: "s0", dash: "4 4" },
          { points: level(-Math.log(9)), cls: "s0", dash: "4 4" },
        ],
        points: label.map((c, i) => ({ x: x1[i], y: x2[i], cls: c ? "s2" : "s1", marker: c ? "triangle" : "circle" })),
        legend: [
          { label: "class 0", cls: "s1", marker: "circle" },
          { label: "class 1", cls: "s2", marker: "triangle" },
          { label: "boundary, p = 0.5", cls: "s0" },
          { label: "p = 0.1 and p = 0.9", cls: "s0", dash: "4 4" },
        ],
      });
      const growing = norms.length === newtonSteps && norm > 1.01 * norms[norms.length - 2];
      ctx.status(
        `Weight decay \u03bb = ${lam}: w = (${fmt(t[0], 2)}, ${fmt(t[1], 2)}), b = ${fmt(t[2], 2)}, ` +
        `|w| = ${fmt(norm, 2)}${growing ? ` after ${newtonSteps} Newton steps and still growing: ` +
          "separable data have no minimiser without a penalty" : ""}. Training cross-entropy ` +
        `${fmt(objective(t, 0), 3)} nats; ${right} of ${n} points on the correct side; the band ` +
        `where 0.1 < p < 0.9 is ${fmt((2 * Math.log(9)) / norm, 2)} wide.`,
      );
    };
    const lInput = ctx.slider({
      label: "Weight decay", min: 0, max: lambdas.length - 1, step: 1, value: 5,
      show: (k) => `\u03bb = ${lambdas[k]}`, onInput: redraw,
    });
    redraw();
  }

  /** Solve the 3-by-3 system H s = g by Gaussian elimination with partial pivoting. */
  function solve3(H, g) {
    const A = H.map((row, i) => [...row, g[i]]);
    for (let c = 0; c < 3; c++) {
      let p = c;
      for (let r = c + 1; r < 3; r++) if (Math.abs(A[r][c]) > Math.abs(A[p][c])) p = r;
      [A[c], A[p]] = [A[p], A[c]];
      for (let r = c + 1; r < 3; r++) {
        const f = A[r][c] / A[c][c];
        for (let k = c; k < 4; k++) A[r][k] -= f * A[c][k];
      }
    }
    const s = [0, 0, 0];
    for (let r = 2; r >= 0; r--) {
      let v = A[r][3];
      for (let k = r + 1; k < 3; k++) v -= A[r][k] * s[k];
      s[r] = v / A[r][r];
    }
    return s;
  }

  const BUILDERS = {
    "softmax-temperature": softmaxTemperature,
    "saturated-neuron": saturatedNeuron,
    "kl-forward-reverse": klForwardReverse,
    "bce-clipping": bceClipping,
    "regression-outliers": regressionOutliers,
    "logistic-boundary": logisticBoundary,
  };

  function build(figure) {
    const builder = BUILDERS[figure.dataset.explorable];
    if (!builder) throw new Error(`explorables: unknown figure ${figure.dataset.explorable}`);
    const json = figure.querySelector("script.explorable-data");
    const fallback = figure.querySelector(".explorable-fallback");
    const controls = html("div", { class: "explorable-controls" });
    const area = html("div", { class: "explorable-area" });
    const status = html("p", { class: "explorable-status", "aria-live": "polite", id: `explorable-status-${++uid}` });
    const ctx = {
      data: json ? JSON.parse(json.textContent) : null,
      controls,
      slider: (options) => slider(controls, options),
      plot: (label) => new Plot(area, { label, describedBy: status.id }),
      status: (text) => { status.textContent = text; },
    };
    fallback.replaceWith(controls, area, status);
    builder(ctx);
    figure.dataset.ready = "true";
  }

  function start() {
    document.querySelectorAll("figure.explorable[data-explorable]").forEach(build);
    document.documentElement.dataset.explorablesReady = String(performance.now()); // ms, for benchmarks/site.py
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
