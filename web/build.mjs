// Copies Leaflet's release build into api/dashboard/vendor/, where the API serves it.
// The output is committed, so running the service never needs Node or the npm registry.
import { cpSync, mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, "node_modules", "leaflet", "dist");
const vendor = join(here, "..", "api", "dashboard", "vendor", "leaflet");

rmSync(vendor, { recursive: true, force: true });
mkdirSync(vendor, { recursive: true });
for (const file of ["leaflet.js", "leaflet.css", "images"]) {
  cpSync(join(dist, file), join(vendor, file), { recursive: true });
}
cpSync(join(here, "node_modules", "leaflet", "LICENSE"), join(vendor, "LICENSE"));
console.log(`leaflet copied to ${vendor}`);
