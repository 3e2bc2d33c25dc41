/**
 * The few distribution functions the detectors need, written out so that no statistics package is
 * pulled in for five formulas. Accuracy ~1e-10 relative in the tails we use (p down to 1e-300).
 */

const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  x -= 1;
  let a = LANCZOS[0];
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += LANCZOS[i] / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Regularised lower incomplete gamma P(a, x). */
export function gammaP(a: number, x: number): number {
  if (x <= 0) return 0;
  if (x < a + 1) {
    let sum = 1 / a;
    let term = sum;
    for (let n = 1; n < 1000; n++) {
      term *= x / (a + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * 1e-15) break;
    }
    return Math.min(1, sum * Math.exp(-x + a * Math.log(x) - logGamma(a)));
  }
  return 1 - gammaQ(a, x);
}

/** Regularised upper incomplete gamma Q(a, x), by continued fraction where it converges well. */
export function gammaQ(a: number, x: number): number {
  if (x <= 0) return 1;
  if (x < a + 1) return 1 - gammaP(a, x);
  let b = x + 1 - a;
  let c = 1 / 1e-300;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 1000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < 1e-300) d = 1e-300;
    c = b + an / c;
    if (Math.abs(c) < 1e-300) c = 1e-300;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-15) break;
  }
  return Math.max(0, Math.exp(-x + a * Math.log(x) - logGamma(a)) * h);
}

/** P(χ²_k ≥ x). */
export function chi2Sf(x: number, k: number): number {
  if (!(x > 0)) return 1;
  return gammaQ(k / 2, x / 2);
}

/** P(Z ≥ z) for a standard normal, via the complementary error function (Numerical Recipes erfc). */
export function normalSf(z: number): number {
  const x = z / Math.SQRT2;
  const t = 1 / (1 + 0.5 * Math.abs(x));
  const y = t * Math.exp(-x * x - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 +
    t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  const erfc = x >= 0 ? y : 2 - y;
  return 0.5 * erfc;
}

/** P(X ≥ k) for X ~ Poisson(mu). */
export function poissonSf(k: number, mu: number): number {
  if (k <= 0) return 1;
  if (mu <= 0) return 0;
  return gammaP(k, mu);
}

/** Regularised incomplete beta I_x(a, b) (continued fraction, Numerical Recipes betacf). */
export function betaI(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const bt = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  const cf = (xx: number, aa: number, bb: number) => {
    const qab = aa + bb, qap = aa + 1, qam = aa - 1;
    let c = 1, d = 1 - (qab * xx) / qap;
    if (Math.abs(d) < 1e-300) d = 1e-300;
    d = 1 / d;
    let h = d;
    for (let m = 1; m <= 1000; m++) {
      const m2 = 2 * m;
      let aa2 = (m * (bb - m) * xx) / ((qam + m2) * (aa + m2));
      d = 1 + aa2 * d; if (Math.abs(d) < 1e-300) d = 1e-300;
      c = 1 + aa2 / c; if (Math.abs(c) < 1e-300) c = 1e-300;
      d = 1 / d; h *= d * c;
      aa2 = (-(aa + m) * (qab + m) * xx) / ((aa + m2) * (qap + m2));
      d = 1 + aa2 * d; if (Math.abs(d) < 1e-300) d = 1e-300;
      c = 1 + aa2 / c; if (Math.abs(c) < 1e-300) c = 1e-300;
      d = 1 / d;
      const del = d * c;
      h *= del;
      if (Math.abs(del - 1) < 1e-15) break;
    }
    return h;
  };
  return x < (a + 1) / (a + b + 2) ? (bt * cf(x, a, b)) / a : 1 - (bt * cf(1 - x, b, a)) / b;
}

/** P(X ≥ k) for X ~ Binomial(n, p). */
export function binomialSf(k: number, n: number, p: number): number {
  if (k <= 0) return 1;
  if (k > n) return 0;
  return betaI(p, k, n - k + 1);
}

/**
 * Benjamini–Hochberg: for p-values, the adjusted q-values (monotone, ≤ 1), in input order.
 * A test is a discovery at level q when its adjusted value is ≤ q.
 */
export function bhAdjust(pValues: readonly number[]): number[] {
  const m = pValues.length;
  const order = pValues.map((p, i) => [p, i] as const).sort((a, b) => a[0] - b[0]);
  const out = new Array<number>(m);
  let running = 1;
  for (let r = m - 1; r >= 0; r--) {
    const [p, i] = order[r];
    running = Math.min(running, (p * m) / (r + 1));
    out[i] = Math.min(1, running);
  }
  return out;
}

/** Median and MAD of an integer histogram (bin index = value). Exact, O(bins). */
export function histogramMedianMad(hist: Int32Array, n: number): { median: number; mad: number } {
  if (n <= 0) return { median: NaN, mad: NaN };
  const median = histogramQuantile(hist, n, 0.5);
  // Deviations are taken in half-units (2x − 2·median is an integer even for a half-integer median).
  const dev = new Int32Array(2 * hist.length + 1);
  const m2 = Math.round(2 * median);
  for (let v = 0; v < hist.length; v++) if (hist[v]) dev[Math.abs(2 * v - m2)] += hist[v];
  return { median, mad: histogramQuantile(dev, n, 0.5) / 2 };
}

/** The q-quantile (lower median convention averaged for even n at q = 0.5) of an integer histogram. */
export function histogramQuantile(hist: Int32Array, n: number, q: number): number {
  if (q === 0.5) {
    const k1 = Math.floor((n - 1) / 2), k2 = Math.floor(n / 2);
    return (nthValue(hist, k1) + nthValue(hist, k2)) / 2;
  }
  return nthValue(hist, Math.min(n - 1, Math.max(0, Math.floor(q * (n - 1)))));
}

function nthValue(hist: Int32Array, k: number): number {
  let c = 0;
  for (let v = 0; v < hist.length; v++) {
    c += hist[v];
    if (c > k) return v;
  }
  return hist.length - 1;
}
