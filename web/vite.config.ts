import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// The gateway serves dist/ and the API from one origin; `npm run dev` proxies the API to a
// running gateway (TEL_API_URL) so the session cookie stays same-origin there too.
export default defineConfig({
  plugins: [react()],
  build: { outDir: "dist", assetsDir: "assets", sourcemap: false, target: "es2020" },
  server: {
    proxy: { "/v1": process.env.TEL_API_URL ?? "http://127.0.0.1:17080" },
  },
});
