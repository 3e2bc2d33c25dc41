import argon2 from 'argon2';

/**
 * Password hashing: argon2id with OWASP's minimum profile (19 MiB, 2 passes, 1 lane). The cost is
 * deliberate: it bounds offline guessing from a stolen database, and the sign-in throttle bounds
 * online guessing.
 */
const OPTIONS = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export const PASSWORD_MIN = 12;
export const PASSWORD_MAX = 256;

/** Why a new password is refused, or null when it is acceptable (length only: ASVS 6.2 advises no composition rules). */
export function passwordProblem(password: string): string | null {
  if (password.length < PASSWORD_MIN) return `the password needs at least ${PASSWORD_MIN} characters`;
  if (password.length > PASSWORD_MAX) return `the password may have at most ${PASSWORD_MAX} characters`;
  return null;
}

export function hashPassword(password: string): Promise<string> {
  return argon2.hash(password, OPTIONS);
}

// A hash of a random secret, verified against when the username is unknown, so that an unknown
// username costs the same time as a wrong password (no username enumeration by timing).
let dummy: Promise<string> | null = null;
const dummyHash = () => (dummy ??= argon2.hash(`no-such-user-${Math.random()}`, OPTIONS));

/** Constant-work check: always runs one argon2 verification, whether or not the user exists. */
export async function verifyPassword(hash: string | null, password: string): Promise<boolean> {
  const target = hash ?? (await dummyHash());
  let ok = false;
  try {
    ok = await argon2.verify(target, password.slice(0, PASSWORD_MAX));
  } catch {
    ok = false;
  }
  return ok && hash !== null;
}

/** Warm the dummy hash at start-up so the first unknown-username sign-in is not slower than the rest. */
export function warmPasswordCheck(): void {
  void dummyHash();
}
