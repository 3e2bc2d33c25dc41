import { cliDatabase } from '../context.js';

export async function run(): Promise<number> {
  const started = Date.now();
  const { close } = await cliDatabase();
  await close();
  console.error(`migrations applied in ${Date.now() - started} ms`);
  return 0;
}
