import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

// The dashboard is built into <repo>/dist/client, which server/http/app.ts serves with an
// index.html fallback for client routes. `npm run dev:client` proxies the API and Socket.IO to a
// running `rekap start` (PORT 3000 by default).
export default defineConfig({
  root: here('.'),
  publicDir: here('public'),
  plugins: [react()],
  build: {
    outDir: here('../dist/client'),
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 1200,
    rollupOptions: {
      output: {
        // Leaflet changes rarely: its own chunk stays cached across deploys. Recharts is left to
        // the dynamic import of the chart so it never delays the first map paint.
        manualChunks(id: string) {
          if (id.includes('node_modules/leaflet/')) return 'leaflet';
          return undefined;
        },
      },
    },
  },
  server: {
    proxy: {
      '/api': 'http://127.0.0.1:3000',
      '/socket.io': { target: 'ws://127.0.0.1:3000', ws: true },
    },
  },
});
