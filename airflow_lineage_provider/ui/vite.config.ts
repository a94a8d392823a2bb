// Builds the Lineage view into ./dist, which ships inside the Python package and is served by the
// plugin's FastAPI app at /lineage/ui/. Relative asset paths keep it working under any [api] base_url.
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

export default defineConfig({
  plugins: [react()],
  base: "./",
  build: { outDir: "dist", emptyOutDir: true, chunkSizeWarningLimit: 1500 },
});
