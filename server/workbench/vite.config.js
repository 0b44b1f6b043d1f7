// The workbench is built once by scripts/setup.sh (npx vite build --config server/workbench/vite.config.js)
// into server/workbench/dist, which the app serves under /workbench/. Nothing is fetched at run
// time from anywhere but the app itself: Vue, the router and Leaflet are bundled from node_modules.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";
import vue from "@vitejs/plugin-vue";

const here = (p) => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  root: here("./app"),
  base: "/workbench/",
  plugins: [vue()],
  build: {
    outDir: here("./dist"),
    emptyOutDir: true,
    // the strict Content-Security-Policy forbids inline scripts: keep every asset a file
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    chunkSizeWarningLimit: 1200,
  },
  logLevel: "warn",
});
