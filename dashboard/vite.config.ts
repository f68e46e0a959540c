import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// `npm run dev -w dashboard` serves the UI with hot reload and forwards the API to a running
// `jobplane start` on :8080; `npm run build` writes dist/, which the api role serves at /.
export default defineConfig({
  plugins: [react()],
  base: '/',
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true, chunkSizeWarningLimit: 600 },
  server: { proxy: { '/api': 'http://127.0.0.1:8080' } },
});
