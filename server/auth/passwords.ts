import type * as Argon2 from 'argon2';

/**
 * Password hashing: argon2id with OWASP's minimum profile (19 MiB, 2 passes, 1 lane). The cost is
 * deliberate: it bounds offline guessing from a stolen database, and the sign-in throttle bounds
 * online guessing.
 */
// Loaded on first use, not at import: a broken native build (scripts/setup.sh checks it) then fails
// sign-in only, not every process that imports the HTTP app.
let loaded: Promise<typeof Argon2> | null = null;
const argon2 = () => (loaded ??= import('argon2').then((m) => ((m as unknown as { default?: typeof Argon2 }).default ?? m) as typeof Argon2));
const options = async () => ({ type: (await argon2()).argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 }) as const;

export const PASSWORD_MIN = 12;
export const PASSWORD_MAX = 256;

/** Why a new password is refused, or null when it is acceptable (length only: ASVS 6.2 advises no composition rules). */
export function passwordProblem(password: string): string | null {
  if (password.length < PASSWORD_MIN) return `the password needs at least ${PASSWORD_MIN} characters`;
  if (password.length > PASSWORD_MAX) return `the password may have at most ${PASSWORD_MAX} characters`;
  return null;
}

export async function hashPassword(password: string): Promise<string> {
  return (await argon2()).hash(password, await options());
}

// A hash of a random secret, verified against when the username is unknown, so that an unknown
// username costs the same time as a wrong password (no username enumeration by timing).
let dummy: Promise<string> | null = null;
const dummyHash = () => (dummy ??= hashPassword(`no-such-user-${Math.random()}`));

/** Constant-work check: always runs one argon2 verification, whether or not the user exists. */
export async function verifyPassword(hash: string | null, password: string): Promise<boolean> {
  const target = hash ?? (await dummyHash());
  let ok = false;
  try {
    ok = await (await argon2()).verify(target, password.slice(0, PASSWORD_MAX));
  } catch {
    ok = false;
  }
  return ok && hash !== null;
}

/** Warm the dummy hash so that an unknown-username sign-in is not slower than the rest (called on the first sign-in). */
export function warmPasswordCheck(): Promise<unknown> {
  return dummyHash();
}
