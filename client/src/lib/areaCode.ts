/** Level of a Kemendagri code as the API writes it: 00 national, 62, 6201, 620101, 6201011013. */
export function levelOf(code: string): number {
  if (code === '00') return 0;
  return ({ 2: 1, 4: 2, 6: 3, 10: 4 } as Record<number, number>)[code.length] ?? -1;
}

export function isAreaCode(code: string): boolean {
  return /^(00|\d{2}|\d{4}|\d{6}|\d{10})$/.test(code);
}

/** A 13-digit TPS code (desa + 3-digit number). */
export function isTpsCode(code: string): boolean {
  return /^\d{13}$/.test(code);
}
