/** Fields whose value the decoder changed, whatever shape a change entry has ({field}, {key}, [field, …]). */
export function changedFields(changes: unknown[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const c of changes ?? []) {
    if (c && typeof c === 'object') {
      const o = c as Record<string, unknown>;
      const f = (o.field ?? o.key ?? o.name) as string | undefined;
      if (typeof f === 'string') {
        const from = o.from ?? o.before ?? o.read;
        const to = o.to ?? o.after ?? o.value;
        out.set(f, from !== undefined && to !== undefined ? `${String(from)} → ${String(to)}` : JSON.stringify(o));
      }
    }
  }
  return out;
}
