/**
 * `rekap digits <crop...> [--json]`: classify single digit-box images.
 *
 * One line per input, in input order: with --json `{"file","class","p":{...12 probabilities}}`, else a
 * short human line. A file that cannot be read or decoded gets one error line on stderr naming it and
 * the reason; the other files are still classified, and the exit code is 2.
 */
import { readFile } from 'node:fs/promises';
import { CliError, parseCliArgs } from '../../../server/cli/context.js';
import { BOX_CLASSES } from '../types.js';
import { decodeImage } from '../digits/data.js';
import { classifyBoxesDetailed, loadDigitModel, type BoxResult } from '../digits/model.js';
import type { RawImage } from '../digits/preprocess.js';

const USAGE = 'usage: rekap digits <crop image...> [--json]';

/** Box crops are small; anything bigger than this is not a single box and is refused before decoding. */
const MAX_FILE_BYTES = 20 * 1024 * 1024;

async function readCrop(file: string): Promise<RawImage> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(code === 'ENOENT' ? 'file not found' : code === 'EISDIR' ? 'is a directory' : `cannot read (${code ?? (err as Error).message})`);
  }
  if (bytes.length === 0) throw new Error('empty file');
  if (bytes.length > MAX_FILE_BYTES) throw new Error(`file too large for one box (${bytes.length} bytes)`);
  try {
    return await decodeImage(bytes);
  } catch (err) {
    throw new Error(`not a readable image (${(err as Error).message.split('\n')[0]})`);
  }
}

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCliArgs(args, { json: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h' } }, true);
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (positionals.length === 0) throw new CliError(`no crop images given\n${USAGE}`);

  let model;
  try {
    model = loadDigitModel();
  } catch (err) {
    throw new CliError((err as Error).message);
  }

  // Decode every file first, then classify the readable ones in one batch (one forward pass for all).
  let failed = 0;
  const readable: { file: string; image: RawImage }[] = [];
  for (const file of positionals) {
    try {
      readable.push({ file, image: await readCrop(file) });
    } catch (err) {
      failed++;
      process.stderr.write(`rekap digits: ${file}: ${(err as Error).message}\n`);
    }
  }
  let results: (BoxResult | Error)[];
  try {
    results = classifyBoxesDetailed(readable.map((r) => r.image), model);
  } catch {
    // One unusable image (e.g. smaller than 4×4) fails the batch: classify one by one to name it.
    results = readable.map((r) => {
      try {
        return classifyBoxesDetailed([r.image], model)[0];
      } catch (err) {
        return err as Error;
      }
    });
  }
  readable.forEach(({ file }, i) => {
    const result = results[i];
    if (result instanceof Error) {
      failed++;
      process.stderr.write(`rekap digits: ${file}: ${result.message}\n`);
      return;
    }
    const p = Object.fromEntries(BOX_CLASSES.map((c, k) => [c, Number(result.probs[k].toPrecision(6))]));
    if (values.json) {
      process.stdout.write(`${JSON.stringify({ file, class: result.class, p })}\n`);
    } else {
      const best = result.probs[BOX_CLASSES.indexOf(result.class)];
      process.stdout.write(`${file}\t${result.class}\tp=${best.toFixed(4)}${result.empty ? '\t(kotak kosong / empty box)' : ''}\n`);
    }
  });
  return failed > 0 ? 2 : 0;
}
