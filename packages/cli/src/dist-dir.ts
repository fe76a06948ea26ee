/**
 * The directory the build's files sit in (dist/, src/ when run from the sources), from the URL of a module in it:
 * scripts/bundle.mjs bundles the bin into dist/bundle/, and what the bundle reads (help.json, the help's
 * sources, package.json above) stays where tsc's output is.
 */
export const distDir = (moduleUrl: string): URL =>
  new URL(/\/dist\/bundle\/[^/]+$/.test(moduleUrl) ? "../" : "./", moduleUrl);
