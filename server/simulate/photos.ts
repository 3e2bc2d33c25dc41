/**
 * Photographed forms for the simulator's photo mode. Every photo is rendered for its own TPS and race
 * (the real header: province … desa, TPS number, the race's candidates) with the numbers the simulator
 * expects to see published, handwritten with the synth glyph library and damaged like a phone photo.
 * Nothing is stored: at national scale (~1.7 M photos) a pool of reused images could not carry each
 * TPS's own numbers, and re-stamping a few hundred photos would test the reader on the same pixels
 * over and over. Rendering happens in child processes (the canvas and JPEG encoding are CPU-bound and
 * the simulator's event loop must keep the clock of the night).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { FormHeader } from '../../workers/reader/render/index.js';
import { generateTpsValues, Rng } from '../../workers/reader/synth/index.js';
import { splitValidVotes, type ShareTable, type SimContest, type SimTps } from './night.js';

export type PageName = 'administrasi' | 'perolehan';

export interface PhotoJob {
  /** Distinct per photo: the handwriting, pen and camera damage follow from it. */
  seed: string;
  page: PageName;
  header: FormHeader;
  /** Paslon rows on the form (the kolom kosong row is not a candidate). */
  candidateCount: number;
  values: Record<string, number>;
  /** A photo no reader should accept (cut by the frame or hopelessly blurred): a retake follows. */
  unreadable: boolean;
}


/**
 * A consistent C.Hasil (both pages) for one TPS and race: registers, users, ballots and disability rows
 * from the synth generator (its identities hold), the valid votes split by the kecamatan's real shares.
 */
export function photoFormValues(t: SimTps, contest: SimContest, shares: ShareTable, seed: string): Record<string, number> {
  const paslon = contest.candidates.filter((c) => !c.isEmptyColumn);
  const v = { ...generateTpsValues(new Rng(`${seed}:values`), paslon.length, { votersL: t.votersL, votersP: t.votersP }) };
  const r = new Rng(`${seed}:split`);
  return { ...v, ...splitValidVotes(v.suara_sah, t, contest, shares, () => r.next()) };
}

type Pending = { resolve: (b: Buffer) => void; reject: (e: Error) => void };

/** A small pool of render processes; `render` queues to the least busy one. */
export class PhotoFactory {
  private children: { proc: ChildProcess; pending: Map<number, Pending> }[] = [];
  private nextId = 1;
  rendered = 0;
  cpuMs = 0;

  constructor(size: number) {
    const script = fileURLToPath(new URL('./photo-worker.ts', import.meta.url));
    for (let i = 0; i < Math.max(1, size); i++) {
      const proc = fork(script, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
      const pending = new Map<number, Pending>();
      proc.on('message', (m: { id: number; jpeg?: string; error?: string; cpuMs?: number }) => {
        const p = pending.get(m.id);
        if (!p) return;
        pending.delete(m.id);
        if (m.jpeg) {
          this.rendered++;
          this.cpuMs += m.cpuMs ?? 0;
          p.resolve(Buffer.from(m.jpeg, 'base64'));
        } else p.reject(new Error(m.error ?? 'photo render failed'));
      });
      proc.on('exit', (code) => {
        for (const p of pending.values()) p.reject(new Error(`photo renderer exited with ${code}`));
        pending.clear();
      });
      this.children.push({ proc, pending });
    }
  }

  render(job: PhotoJob): Promise<Buffer> {
    const child = this.children.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      child.pending.set(id, { resolve, reject });
      child.proc.send({ id, job });
    });
  }

  close() {
    for (const c of this.children) c.proc.kill();
  }
}
