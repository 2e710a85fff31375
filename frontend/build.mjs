// Builds the banner's committed files from frontend/banner/src:
//   static/cookies/banner.js   one minified IIFE (esbuild bundles the ES modules from main.js)
//   static/cookies/banner.css  the minified stylesheet
// `node frontend/build.mjs` writes them; `node frontend/build.mjs --check` builds in memory and
// fails if the committed files differ (make check). The output depends only on the sources and
// the pinned esbuild version: no timestamps, no absolute paths.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const source = 'frontend/banner/src';
const notice = 'Built from frontend/banner/src by npm run build: do not edit.';

// ES2020 (Chrome/Edge 80, Firefox 74, Safari 13.1): optional chaining and `??` stay native.
const common = { absWorkingDir: repo, bundle: true, minify: true, write: false, charset: 'utf8', legalComments: 'none', logLevel: 'warning' };
const builds = [
  { ...common, entryPoints: [`${source}/main.js`], outfile: 'static/cookies/banner.js', format: 'iife', target: 'es2020', banner: { js: `/* ${notice} */` } },
  // No CSS target: esbuild only minifies, it rewrites no property for older browsers.
  { ...common, entryPoints: [`${source}/banner.css`], outfile: 'static/cookies/banner.css', banner: { css: `/* ${notice} */` } },
];

async function main() {
  const check = process.argv.includes('--check');
  const stale = [];
  for (const options of builds) {
    const { outputFiles } = await esbuild.build(options);
    for (const file of outputFiles) {
      const relative = path.relative(repo, file.path);
      if (!check) {
        await writeFile(file.path, file.contents);
        console.log(`wrote ${relative} (${file.contents.length} bytes)`);
        continue;
      }
      const committed = await readFile(file.path).catch(() => Buffer.alloc(0));
      if (!Buffer.from(file.contents).equals(committed)) stale.push(relative);
    }
  }
  if (stale.length) {
    console.error(`Out of date with frontend/banner/src: ${stale.join(', ')}. Run \`make banner\` (npm run build) and commit the result.`);
    process.exit(1);
  }
  if (check) console.log('static/cookies/banner.{js,css} match a fresh build of frontend/banner/src');
}

await main();
