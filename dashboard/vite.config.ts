// The dashboard's build: a static site (index.html + hashed assets) that any static host serves.
// VITE_SUPABASE_URL and VITE_SUPABASE_ANON_KEY, when set at build time, name the hosted project;
// without them the page asks its own server for /config.json (what `npm start` serves locally).
import { defineConfig } from 'vite';

export default defineConfig({
  root: import.meta.dirname,
  // Relative asset URLs: the built files work from any folder of any host.
  base: './',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // 3Dmol.js is loaded on demand by the detail view; its chunk is larger than Vite's default warning.
    chunkSizeWarningLimit: 700,
    rolldownOptions: {
      onLog(level, log, handler) {
        // 3Dmol.js evaluates callbacks given as strings, a feature the dashboard does not use.
        if (log.code === 'EVAL' && log.id?.includes('3dmol')) return;
        handler(level, log);
      },
    },
  },
});
