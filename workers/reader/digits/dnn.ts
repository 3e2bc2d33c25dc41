/**
 * Fast batched inference: the same trained network run through OpenCV's dnn module.
 *
 * Why: the hand-written forward pass in cnn.ts is scalar JavaScript (~1–2 ms per box per member);
 * OpenCV's convolution kernels are vectorised and take a whole form's boxes as one 4-D blob, which is
 * an order of magnitude cheaper. cnn.ts stays the reference (and the training code): this module only
 * re-expresses its weights as a Darknet cfg + weights file, a format OpenCV 4.6 reads with no extra
 * dependency, and `rekap digits` / tests keep working where OpenCV is missing (see DigitModel.logitsBatch).
 *
 * The Darknet files are derived from the committed .bin at load time (one source of truth for the
 * weights; the sha256 check in loadDigitModel covers both paths) and deleted once OpenCV has read them.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Cnn, CnnShape } from './cnn.js';

/** The OpenCV surface this module uses (typed loosely so that tests can run without the addon). */
export interface DnnNet {
  setInput(blob: unknown): void;
  forward(): { sizes: number[]; dims: number; copy(): { getData(): Buffer }; flattenFloat(rows: number, cols: number): { getData(): Buffer } };
}

interface CvLike {
  readNetFromDarknet(cfg: string, weights: string): DnnNet;
  blobFromImages(images: unknown[], scale: number, size: unknown, mean: unknown, swapRB: boolean, crop: boolean): unknown;
  Mat: new (data: Buffer, rows: number, cols: number, type: number) => unknown;
  Size: new (w: number, h: number) => unknown;
  Vec3: new (a: number, b: number, c: number) => unknown;
  CV_32F: number;
}

/** Darknet cfg of the cnn.ts architecture (28×28 grey in, logits out; no softmax: calibration is ours). */
export function darknetCfg(s: CnnShape): string {
  const conv = (filters: number, size: number, pad: number, act: string) =>
    `[convolutional]\nfilters=${filters}\nsize=${size}\nstride=1\npad=${pad}\nactivation=${act}\n`;
  // padding=0 on maxpool: Darknet's default pads (size-1), which OpenCV honours and would shift the grid.
  const pool = '[maxpool]\nsize=2\nstride=2\npadding=0\n';
  return [
    '[net]\nbatch=1\nwidth=28\nheight=28\nchannels=1\n',
    conv(s.c1, 3, 1, 'relu'),
    pool,
    conv(s.c2, 3, 1, 'relu'),
    pool,
    // Darknet flattens the 7×7 maps in (channel, row, column) order, as cnn.ts does.
    `[connected]\noutput=${s.hidden}\nactivation=relu\n`,
    `[connected]\noutput=${s.classes}\nactivation=linear\n`,
  ].join('\n');
}

/** Darknet weights file (header + per layer: biases, then weights in OIHW order) of one member. */
export function darknetWeights(net: Cnn): Buffer {
  const { c1, c2, hidden, classes } = net.shape;
  const P = net.params;
  const L = net.L;
  const header = Buffer.alloc(20);
  header.writeInt32LE(0, 0); // major
  header.writeInt32LE(2, 4); // minor (≥ 0.2: "seen" is 64-bit)
  header.writeInt32LE(0, 8); // revision
  header.writeBigUInt64LE(0n, 12); // images seen
  const part = (at: number, n: number) => Buffer.from(P.buffer, P.byteOffset + at * 4, n * 4);
  return Buffer.concat([
    header,
    part(L.b1, c1),
    part(L.w1, c1 * 9),
    part(L.b2, c2),
    part(L.w2, c2 * c1 * 9),
    part(L.b3, hidden),
    part(L.w3, hidden * c2 * 49),
    part(L.b4, classes),
    part(L.w4, classes * hidden),
  ]);
}

/** One OpenCV network per ensemble member. */
export class DnnEnsemble {
  private constructor(
    private readonly cv: CvLike,
    private readonly nets: DnnNet[],
    private readonly classes: number,
  ) {}

  static build(cv: unknown, members: Cnn[]): DnnEnsemble {
    const c = cv as CvLike;
    const dir = mkdtempSync(join(tmpdir(), 'rekap-digits-dnn-'));
    try {
      const cfg = join(dir, 'digits.cfg');
      writeFileSync(cfg, darknetCfg(members[0].shape));
      const nets = members.map((m, i) => {
        const w = join(dir, `member-${i}.weights`);
        writeFileSync(w, darknetWeights(m));
        return c.readNetFromDarknet(cfg, w);
      });
      return new DnnEnsemble(c, nets, members[0].shape.classes);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  /** Mean logits of the ensemble for a batch of normalised 28×28 images; one Float32Array per image. */
  logits(images: Float32Array[]): Float32Array[] {
    const n = images.length;
    const K = this.classes;
    const out = Array.from({ length: n }, () => new Float32Array(K));
    if (n === 0) return out;
    const cv = this.cv;
    const mats = images.map((px) => new cv.Mat(Buffer.from(px.buffer, px.byteOffset, px.byteLength), 28, 28, cv.CV_32F));
    const blob = cv.blobFromImages(mats, 1, new cv.Size(28, 28), new cv.Vec3(0, 0, 0), false, false);
    const inv = 1 / this.nets.length;
    for (const net of this.nets) {
      net.setInput(blob);
      const o = net.forward();
      // Output is N×K (flattened if a future layer leaves it 4-D: a 4-D Mat cannot hand out its data).
      const buf = (o.dims > 2 ? o.flattenFloat(n, K) : o.copy()).getData();
      const f = new Float32Array(buf.buffer, buf.byteOffset, n * K);
      for (let i = 0; i < n; i++) {
        const row = out[i];
        for (let k = 0; k < K; k++) row[k] += f[i * K + k] * inv;
      }
    }
    return out;
  }
}
