// Build the Enketo harness for tests/browser/test_enketo.py: one browser bundle (enketo-core's
// Form and enketo-transformer's web build, which transforms in the page with the browser's own
// XSLTProcessor) and the formhub theme's stylesheet. Usage: node build.mjs OUTDIR
// The packages come from the repository's node_modules (package.json devDependencies, installed
// by scripts/setup.sh); nothing is fetched.
import { mkdirSync, writeFileSync, copyFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import * as esbuild from 'esbuild';
import * as sass from 'sass';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..', '..');
const nodeModules = join(root, 'node_modules');
const outdir = resolve(process.argv[2] || '');
if (!process.argv[2]) {
    console.error('usage: node build.mjs OUTDIR');
    process.exit(2);
}
mkdirSync(outdir, { recursive: true });

const appConfig = {
    name: 'enketo-app-config',
    setup(build) {
        build.onResolve({ filter: /^enketo\/config$/ }, () => ({ path: join(here, 'config.js') }));
    },
};

await esbuild.build({
    entryPoints: [join(here, 'harness.js')],
    outfile: join(outdir, 'harness.js'),
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'chrome110',
    // enketo-core's package.json maps its 'enketo/config', 'enketo/widgets', ... imports to
    // its defaults through the "browser" field, which esbuild follows on this platform; the
    // app's configuration is ours (config.js).
    mainFields: ['browser', 'module', 'main'],
    plugins: [appConfig],
    // Only the transformer's `preprocess` option (Node only, unused here) imports libxslt.
    external: ['libxslt'],
    sourcemap: 'linked',
    logLevel: 'warning',
    absWorkingDir: root,
    nodePaths: [nodeModules],
});

// The theme imports bootstrap-datepicker's CSS by its path in Enketo's monorepo; here the
// package sits in our node_modules.
const MONOREPO_MODULES = '/packages/enketo-core/node_modules/';
const css = sass.compile(join(nodeModules, 'enketo-core/src/sass/formhub/formhub.scss'), {
    style: 'expanded',
    quietDeps: true,
    logger: sass.Logger.silent,
    importers: [{
        findFileUrl(url) {
            if (!url.startsWith(MONOREPO_MODULES)) return null;
            return pathToFileURL(join(nodeModules, url.slice(MONOREPO_MODULES.length) + '.css'));
        },
    }],
});
writeFileSync(join(outdir, 'formhub.css'), css.css);
copyFileSync(join(here, 'harness.html'), join(outdir, 'index.html'));
console.log(`built the Enketo harness in ${outdir}`);
