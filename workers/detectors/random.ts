/** A small seeded PRNG and the distributions the synthetic election needs; same seed, same election. */

export class Rng {
  private s: Uint32Array;
  constructor(seed: number) {
    // splitmix32 to spread the seed over xoshiro128** state
    this.s = new Uint32Array(4);
    let x = seed >>> 0;
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      this.s[i] = (z ^ (z >>> 16)) >>> 0;
    }
  }

  /** Uniform in [0, 1). */
  next(): number {
    const s = this.s;
    const r = Math.imul(((Math.imul(s[1], 5) << 7) | (Math.imul(s[1], 5) >>> 25)) >>> 0, 9) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3];
    s[2] = (s[2] ^ t) >>> 0;
    s[3] = ((s[3] << 11) | (s[3] >>> 21)) >>> 0;
    return r / 4294967296;
  }

  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  uniform(a: number, b: number): number {
    return a + (b - a) * this.next();
  }

  normal(mean = 0, sd = 1): number {
    let u = 0;
    while (u === 0) u = this.next();
    return mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }

  /** Marsaglia–Tsang gamma(shape, 1). */
  gamma(shape: number): number {
    if (shape < 1) return this.gamma(shape + 1) * Math.pow(this.next() || 1e-12, 1 / shape);
    const d = shape - 1 / 3, c = 1 / Math.sqrt(9 * d);
    for (;;) {
      let x: number, v: number;
      do { x = this.normal(); v = 1 + c * x; } while (v <= 0);
      v = v * v * v;
      const u = this.next();
      if (u < 1 - 0.0331 * x * x * x * x || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
    }
  }

  beta(a: number, b: number): number {
    const x = this.gamma(a), y = this.gamma(b);
    return x / (x + y);
  }

  dirichlet(alpha: number[]): number[] {
    const g = alpha.map((a) => this.gamma(Math.max(a, 1e-3)));
    const s = g.reduce((p, q) => p + q, 0);
    return g.map((x) => x / s);
  }

  /** Exact binomial by inversion for small mean, normal approximation (rounded, clamped) otherwise. */
  binomial(n: number, p: number): number {
    if (n <= 0 || p <= 0) return 0;
    if (p >= 1) return n;
    if (n * Math.min(p, 1 - p) < 25) {
      const flip = p > 0.5;
      const q = flip ? 1 - p : p;
      let k = 0, pk = Math.pow(1 - q, n), cdf = pk;
      const u = this.next();
      while (u > cdf && k < n) {
        pk *= ((n - k) / (k + 1)) * (q / (1 - q));
        k++;
        cdf += pk;
      }
      return flip ? n - k : k;
    }
    const x = Math.round(this.normal(n * p, Math.sqrt(n * p * (1 - p))));
    return Math.max(0, Math.min(n, x));
  }

  multinomial(n: number, p: number[]): number[] {
    const out = new Array(p.length).fill(0);
    let left = n, mass = 1;
    for (let i = 0; i < p.length - 1; i++) {
      const k = mass > 0 ? this.binomial(left, Math.min(1, p[i] / mass)) : 0;
      out[i] = k;
      left -= k;
      mass -= p[i];
    }
    out[p.length - 1] = left;
    return out;
  }

  hex(bytes: number): string {
    let s = '';
    for (let i = 0; i < bytes; i++) s += this.int(256).toString(16).padStart(2, '0');
    return s;
  }

  pick<T>(a: readonly T[]): T {
    return a[this.int(a.length)];
  }
}
