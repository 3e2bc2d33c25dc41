import { useEffect, useState } from 'react';
import { apiFetch } from './api.js';

/** Settings the server passes to the dashboard (GET /api/client-config); all optional. */
export interface ClientConfig {
  tileUrl: string | null;
  publicUrl: string | null;
}

let cached: Promise<ClientConfig> | null = null;

export function loadClientConfig(): Promise<ClientConfig> {
  cached ??= apiFetch<Partial<ClientConfig>>('/api/client-config')
    .then((c) => ({ tileUrl: c.tileUrl ?? null, publicUrl: c.publicUrl ?? null }))
    .catch(() => ({ tileUrl: null, publicUrl: null }));
  return cached;
}

export function useClientConfig(): ClientConfig {
  const [c, setC] = useState<ClientConfig>({ tileUrl: null, publicUrl: null });
  useEffect(() => {
    void loadClientConfig().then(setC);
  }, []);
  return c;
}
