// Copies the front-end packages' built files into static/vendor/, which the gateway serves.
// Run by `make ui-assets` after `npm ci`; static/vendor/ is git-ignored and rebuilt from the lock file.
import { copyFileSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const vendor = join(here, "static", "vendor");

const assets = [
  ["htmx.org", "dist/htmx.min.js", "htmx.min.js"],
  ["cytoscape", "dist/cytoscape.min.js", "cytoscape.min.js"],
  ["chart.js", "dist/chart.umd.min.js", "chart.umd.min.js"],
];

mkdirSync(vendor, { recursive: true });
const versions = {};
for (const [pkg, from, to] of assets) {
  const root = join(here, "node_modules", pkg);
  copyFileSync(join(root, from), join(vendor, to));
  versions[pkg] = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).version;
}
console.log(`copied ${assets.length} assets into ${vendor}: ${JSON.stringify(versions)}`);
